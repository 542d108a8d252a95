"""The citizen's side of the Zalo OA: one inbox event (already verified and acknowledged) becomes one service call,
its outcome goes through the presenter and out as consultation messages.

* `user_send_text`: typed answers and short codes, and button taps, which arrive as text carrying the button's
  payload ("#" + the presenter action; a payload we never sent gets the stale-button notice). A staff command
  ("/...") goes to the `staff_command` hook first.
* `follow`, `user_click_chatnow`: the greeting that asks for the code on the receipt (Telegram's bare /start).
* `unfollow`: the survey in progress is dropped, quietly.
* images, stickers, files...: a polite note and the question again.
* `user_feedback` (a ZNS rating): parsed and handed to the `on_feedback` hook.

The event key ("zalo-oa:" + the inbox key) makes a reprocessed event change nothing: it shows where the survey
stands again. Sending stops at a closed interaction window (-230...): the session is marked waiting, and the
citizen's next event, whatever it is, first shows them the question they missed. A rate limit or a transport
failure raises, so the inbox tries the event again later.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Sequence

from adapters.zalo_oa.api import RateLimited, WindowClosed, ZaloAPIError
from adapters.zalo_oa.events import GREETINGS, UNSUPPORTED, Feedback, event_key, parse_feedback, text_of
from adapters.zalo_oa.render import OAMessage, action_of, render
from bot.logs import chat_ref
from bot.survey import waiting
from bot.survey.conversation import SurveyService
from bot.survey.presenter import Message, Presentation, event_for, present
from bot.survey.step import Outcome
from bot.texts import say
from surveys import events as ev

log = logging.getLogger(__name__)
PLATFORM = "zalo-oa"
# Not Zalo's: the webhook keeps this event, once, for a user who sends too many (their events are then dropped).
FLOODING = "sipas_flooding"
FLOODING_EVENT = f'{{"event_name": "{FLOODING}"}}'
Send = Callable[[str, OAMessage], Awaitable[None]]
StaffCommand = Callable[[str, str], Awaitable[Sequence[str] | None]]
OnFeedback = Callable[[Feedback], Awaitable[None]]


class OACitizen:
    """Processes the OA's inbox events: ``handle(user_id, body)`` is the InboxWorker's step."""

    def __init__(self, service: SurveyService, send: Send, *, staff_command: StaffCommand, on_feedback: OnFeedback,
                 on_completed: Callable[[], None] = lambda: None) -> None:
        self.service, self.send = service, send
        self.staff_command, self.on_feedback, self.on_completed = staff_command, on_feedback, on_completed

    async def handle(self, user: str | None, raw: str) -> None:
        body = json.loads(raw)
        name = body.get("event_name")
        if name == FLOODING:
            await self.deliver(user, [OAMessage(say("citizen.flooding", await self.service.chat_language(
                PLATFORM, user)))])
            return
        key = f"{PLATFORM}:{event_key(body)}"
        if name == "user_feedback":
            await self.on_feedback(parse_feedback(body))
            return
        if user is None:
            return  # the webhook keeps no other event without a user
        if name == "unfollow":
            await self.service.abandon(PLATFORM, user)
            return
        text = text_of(body) if name == "user_send_text" else ""
        if text.startswith("/") and (answer := await self.staff_command(user, text)) is not None:
            await self.deliver(user, [OAMessage(part) for part in answer])
            return
        if await waiting.clear(self.service, PLATFORM, user):
            await self._resume(user, key)
            return
        notice = None
        if name in GREETINGS:
            event: ev.Event = ev.Start()
        elif name in UNSUPPORTED:
            event = ev.Unsupported(UNSUPPORTED[name])
        elif (action := action_of(text)) is not None:
            found = event_for(action)
            if found is None:  # a payload we never sent (forged, or of an older version): where we stand
                notice = say("citizen.stale_button", await self.service.chat_language(PLATFORM, user))
            event = found or ev.Resume()
        else:
            event = ev.Text(text)
        await self.show(user, await self.service.handle(PLATFORM, user, event, event_key=key), notice)

    async def _resume(self, user: str, key: str) -> None:
        """The citizen is back after their window closed: the question they missed, whatever they wrote."""
        outcome = await self.service.handle(PLATFORM, user, ev.Resume(), event_key=key)
        await self.show(user, outcome, say("citizen.resumed", outcome.language) if outcome.status == "survey"
                        else None)

    async def show(self, user: str, outcome: Outcome, notice: str | None = None) -> None:
        shown = present(outcome)
        if notice:
            shown = Presentation((Message(notice), *shown.messages), closing=shown.closing,
                                 accepted=shown.accepted, completed=shown.completed)
        if shown.completed:
            self.on_completed()  # an alert may be waiting in the outbox
        await self.deliver(user, render(shown, outcome.language))

    async def deliver(self, user: str, messages: Sequence[OAMessage]) -> None:
        """Send ``messages`` in order; stop at a closed window (the session then waits for the citizen)."""
        for message in messages:
            try:
                await self.send(user, message)
            except WindowClosed as error:
                marked = await waiting.mark(self.service, PLATFORM, user)
                log.warning("zalo-oa: user %s cannot be messaged now (Zalo error %s); %s", chat_ref(PLATFORM, user),
                            error.code, "their survey waits for them" if marked else "no survey in progress")
                return
            except RateLimited:
                raise  # the inbox tries the event again later; its key makes the retry repeat only the question
            except ZaloAPIError as error:
                if error.code == 0:
                    raise  # transport or Zalo's server: transient, the same retry
                log.error("zalo-oa: a message to user %s was refused (Zalo error %s: %s); the survey goes on",
                          chat_ref(PLATFORM, user), error.code, error.message)
