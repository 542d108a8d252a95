"""Alerts to a centre's staff chat about one completed response: any criterion rated 1-2, or a comment.

The alert is anonymous like the response: centre, service, the low items and the comment with phone numbers, ID
numbers and e-mail addresses masked; nothing about the chat it came from.
"""

from __future__ import annotations

from collections.abc import Mapping

from bot.texts import say
from surveys.instrument import AnswerValue, Instrument
from surveys.redact import redact

LOW = (1, 2)


def alert_text(instrument: Instrument, answers: Mapping[str, AnswerValue], centre_name: str,
               service_name: str | None) -> str | None:
    """The alert for one response, in Vietnamese (staff read it), or None when nothing calls for one."""
    low = []
    for code in instrument.criteria():
        value = answers.get(code)
        if isinstance(value, int) and value in LOW:
            question = instrument.question(code)
            name = (question.short or question.text).get("vi")
            low.append(say("staff.alert_item", name=name, value=value, label=question.label_for(value, "vi")))
    comments = [redact(str(value)) for code, value in answers.items()
                if isinstance(value, str) and instrument.question(code).type == "text"]
    if not low and not comments:
        return None
    lines = [say("staff.alert_title", centre=centre_name)]
    if service_name:
        lines.append(say("staff.alert_service", service=service_name))
    if low:
        lines += [say("staff.alert_low"), *low]
    for comment in comments:
        lines.append(say("staff.alert_comment", comment=comment))
    return "\n".join(lines)
