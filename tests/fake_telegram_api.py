"""Bot API method handlers of the fake Telegram server (a mixin of ``FakeTelegram`` in ``tests/fake_telegram.py``).

Each handler takes the decoded params and uploaded files and returns the ``result`` or raises ``ApiError``.
Handlers use the state that ``FakeTelegram.__init__`` sets up.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Callable
from typing import Any

from fake_telegram_model import (
    NOT_MODIFIED,
    POLL_CONFLICT,
    QUERY_INVALID,
    WEBHOOK_CONFLICT,
    ApiError,
    Delivery,
    Entry,
    UploadedFile,
    bad_request,
    check_markup,
    check_text,
    render,
    update_chat_id,
    update_type,
)

METHODS: dict[str, tuple[str, Callable[..., Any]]] = {}  # lower-case name -> (canonical name, handler)
CHAT_ACTIONS = frozenset({"typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice",
                          "upload_document", "choose_sticker", "find_location", "record_video_note",
                          "upload_video_note"})


def api(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a handler for Bot API method ``name`` (matched case-insensitively)."""
    def register(handler: Callable[..., Any]) -> Callable[..., Any]:
        METHODS[name.lower()] = (name, handler)
        return handler
    return register


class BotApi:
    """The Bot API methods the fake implements."""

    @api("getMe")
    def _get_me(self, p, files):
        return self.bot

    @api("getUpdates")
    async def _get_updates(self, p, files):
        if "allowed_updates" in p:
            self.allowed_updates = p["allowed_updates"] or None
        offset, limit = int(p.get("offset") or 0), min(int(p.get("limit") or 100), 100)
        deadline = time.monotonic() + float(p.get("timeout") or 0)
        self._poll_generation += 1
        generation = self._poll_generation
        self._notify()  # wakes an older long poll, which then answers 409 like Telegram
        while True:
            if self.webhook:
                raise ApiError(409, WEBHOOK_CONFLICT)
            if offset > 0:
                self._pending = [u for u in self._pending if u["update_id"] >= offset]
            elif offset < 0:
                self._pending = self._pending[offset:]
            self._drop_disallowed()
            ready = self._pending[:limit]
            remaining = deadline - time.monotonic()
            if ready or self._closing or remaining <= 0:
                break
            await self._changed(remaining)
            if generation != self._poll_generation:
                raise ApiError(409, POLL_CONFLICT)
        now = time.monotonic()
        for update in ready:
            self._record_delivery(Delivery(update["update_id"], update_chat_id(update), "poll", now, status=200))
        return ready

    @api("setWebhook")
    def _set_webhook(self, p, files):
        url, secret = p.get("url") or "", p.get("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
            raise bad_request("secret token contains unallowed characters")
        if url and not url.startswith(("http://", "https://")):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        if p.get("drop_pending_updates"):
            self._pending.clear()
        if "allowed_updates" in p:
            self.allowed_updates = p["allowed_updates"] or None
        self.webhook = {"url": url, "secret_token": secret, "max_connections": p.get("max_connections", 40)} if url \
            else None
        self.webhook_paused, self.webhook_last_error = False, None
        self._kick_webhook()
        return True

    @api("deleteWebhook")
    def _delete_webhook(self, p, files):
        if p.get("drop_pending_updates"):
            self._pending.clear()
        self.webhook = None
        return True

    @api("getWebhookInfo")
    def _get_webhook_info(self, p, files):
        info: dict[str, Any] = {"url": (self.webhook or {}).get("url", ""), "has_custom_certificate": False,
                                "pending_update_count": len(self._pending)}
        if self.webhook:
            info["max_connections"] = self.webhook["max_connections"]
        if self.allowed_updates:
            info["allowed_updates"] = self.allowed_updates
        if self.webhook_last_error:
            info["last_error_date"], info["last_error_message"] = self.webhook_last_error
        return info

    @api("sendMessage")
    def _send_message(self, p, files):
        chat_id = self._target_chat(p)
        text = check_text(render(str(p.get("text") or ""), p.get("parse_mode")))
        message = self._post_bot_message(chat_id, {"text": text}, check_markup(p.get("reply_markup")))
        self._mark_reply(chat_id, "sendMessage")
        return message

    @api("sendPhoto")
    def _send_photo(self, p, files):
        return self._send_media(p, files, "photo", "sendPhoto")

    @api("sendDocument")
    def _send_document(self, p, files):
        return self._send_media(p, files, "document", "sendDocument")

    @api("editMessageText")
    def _edit_message_text(self, p, files):
        entry = self._editable(p)
        if "text" not in entry.message:
            raise bad_request("there is no text in the message to edit")
        text = check_text(render(str(p.get("text") or ""), p.get("parse_mode")))
        return self._edit(entry, {"text": text}, check_markup(p.get("reply_markup")), "editMessageText")

    @api("editMessageReplyMarkup")
    def _edit_message_reply_markup(self, p, files):
        entry = self._editable(p)
        return self._edit(entry, {}, check_markup(p.get("reply_markup")), "editMessageReplyMarkup")

    @api("answerCallbackQuery")
    def _answer_callback_query(self, p, files):
        entry = self._queries.get(str(p.get("callback_query_id")))
        if entry is None or entry.answer is not None:
            raise ApiError(400, QUERY_INVALID)
        entry.answer = {k: v for k, v in p.items() if k != "callback_query_id"}
        self._mark_reply(entry.chat_id, "answerCallbackQuery")
        return True

    @api("deleteMessage")
    def _delete_message(self, p, files):
        entry = self._messages.get((p.get("chat_id"), p.get("message_id")))
        if entry is None or entry.deleted:
            raise bad_request("message to delete not found")
        entry.deleted = True
        return True

    @api("sendChatAction")
    def _send_chat_action(self, p, files):
        self._target_chat(p)
        if p.get("action") not in CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        return True

    @api("setMyCommands")
    def _set_my_commands(self, p, files):
        commands = p.get("commands") or []
        for command in commands:
            if not re.fullmatch(r"[a-z0-9_]{1,32}", str(command.get("command", ""))):
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise bad_request("command description must be non-empty")
        self.commands[self._commands_key(p)] = commands
        return True

    @api("getMyCommands")
    def _get_my_commands(self, p, files):
        return self.commands.get(self._commands_key(p), [])

    @api("deleteMyCommands")
    def _delete_my_commands(self, p, files):
        self.commands.pop(self._commands_key(p), None)
        return True

    @api("getFile")
    def _get_file(self, p, files):
        stored = self.files.get(str(p.get("file_id")))
        if stored is None:
            raise bad_request("invalid file_id")
        return {k: stored[0][k] for k in ("file_id", "file_unique_id", "file_size", "file_path")}

    # -- helpers ------------------------------------------------------------------------------------------------

    @staticmethod
    def _commands_key(p):
        return json.dumps(p.get("scope") or {"type": "default"}, sort_keys=True), p.get("language_code") or ""

    def _target_chat(self, p) -> int:
        chat_id = p.get("chat_id")
        if chat_id is None or chat_id == "":
            raise bad_request("chat_id is empty")
        if not isinstance(chat_id, int):
            raise bad_request("chat not found")
        if chat_id in self.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        return chat_id

    def _editable(self, p) -> Entry:
        if p.get("inline_message_id"):
            raise bad_request("inline messages are not supported by the fake")
        entry = self._messages.get((p.get("chat_id"), p.get("message_id")))
        if entry is None or entry.deleted:
            raise bad_request("message to edit not found")
        if entry.kind != "bot":
            raise bad_request("message can't be edited")
        return entry

    def _edit(self, entry: Entry, content: dict, markup: dict | None, method: str) -> dict:
        new = {k: v for k, v in entry.message.items() if k not in ("reply_markup", "edit_date")} | content
        if markup:
            new["reply_markup"] = markup
        old = {k: v for k, v in entry.message.items() if k != "edit_date"}
        if new == old:
            raise ApiError(400, NOT_MODIFIED)
        new["edit_date"] = int(time.time())
        entry.history.append(entry.message)
        entry.message = new
        self._mark_reply(entry.chat_id, method)
        return new

    def _send_media(self, p, files, kind: str, method: str) -> dict:
        chat_id = self._target_chat(p)
        caption = check_text(render(str(p.get("caption") or ""), p.get("parse_mode")), caption=True)
        markup = check_markup(p.get("reply_markup"))
        upload: UploadedFile | None = files.get(kind)
        if upload is not None:
            if not upload.data:
                raise bad_request("file must be non-empty")
            meta = self._new_file(upload.data, kind, upload.filename, upload.content_type)
            upload.method, upload.chat_id, upload.caption = method, chat_id, caption or None
            upload.file_id = meta["file_id"]
            self.uploads.append(upload)
        elif isinstance(p.get(kind), str) and p[kind] in self.files:
            meta = self.files[p[kind]][0]
        elif p.get(kind):  # an HTTP URL Telegram would fetch: nothing to fetch here
            meta = self._new_file(b"", kind, str(p[kind]).rsplit("/", 1)[-1], None)
        else:
            raise bad_request(f"there is no {kind} in the request")
        content: dict[str, Any] = {kind: self._media_json(kind, meta)}
        if caption:
            content["caption"] = caption
        message = self._post_bot_message(chat_id, content, markup)
        self._mark_reply(chat_id, method)
        return message

    @staticmethod
    def _media_json(kind: str, meta: dict) -> Any:
        base = {"file_id": meta["file_id"], "file_unique_id": meta["file_unique_id"], "file_size": meta["file_size"]}
        if kind == "photo":
            return [base | {"width": 320, "height": 320}]
        if kind == "document":
            return base | {"file_name": meta["file_name"], "mime_type": meta["mime_type"]}
        if kind == "voice":
            return base | {"duration": 3, "mime_type": "audio/ogg"}
        return base | {"type": "regular", "width": 512, "height": 512, "is_animated": False, "is_video": False,
                       "emoji": "\N{THUMBS UP SIGN}"}

    def _new_file(self, data: bytes, kind: str, filename: str | None, mime: str | None) -> dict:
        number = len(self.files) + 1
        name = filename or f"{kind}_{number}"
        suffix = "." + name.rsplit(".", 1)[-1] if "." in name else ""
        meta = {"file_id": f"{kind}-{number}", "file_unique_id": f"uniq{number}", "file_size": len(data),
                "file_path": f"{kind}s/file_{number}{suffix}", "file_name": name,
                "mime_type": mime or "application/octet-stream"}
        self.files[meta["file_id"]] = (meta, data)
        return meta

    def _drop_disallowed(self) -> None:
        if self.allowed_updates:
            self._pending = [u for u in self._pending if update_type(u) in self.allowed_updates]

    async def _changed(self, timeout: float) -> None:
        future = asyncio.get_running_loop().create_future()
        self._waiters.add(future)
        try:
            await asyncio.wait_for(future, timeout)
        except TimeoutError:
            pass
        finally:
            self._waiters.discard(future)

    def _notify(self) -> None:
        for future in self._waiters:
            if not future.done():
                future.set_result(None)
        self._waiters.clear()
