"""Vietnamese mobile numbers for ZNS: accepted as typed (``0912 345 678``, ``84912345678``, ``+84 912.345.678``,
``0912-345-678``) and normalised to Zalo's form, ``84`` + the national number without its leading 0
(../shared/docs/platforms.md §B.1). Anything else is refused with a message naming what is wrong with it.

Mobile prefixes since the 2018 renumbering: 03[2-9] (Viettel), 05[2589] (Vietnamobile, Gmobile, Reddi),
07[06-9] (Mobifone), 08[1-9] (all networks), 09[0-46-9]. 02x numbers are landlines: ZNS cannot reach them.
"""

from __future__ import annotations

import re

from bot.errors import UserError

_SEPARATORS = re.compile(r"[\s.\-()]+")
_MOBILE = re.compile(r"^(3[2-9]|5[2589]|7[06-9]|8[1-9]|9[0-46-9])\d{7}$")
NATIONAL_DIGITS = 9  # after the leading 0 or the country code 84


def normalise_phone(raw: str) -> str:
    """The number as ``84XXXXXXXXX``; raises `UserError` naming the problem (nothing else is done with it)."""
    text = _SEPARATORS.sub("", raw or "")
    if not text:
        raise UserError.say("admin.phone_empty")
    plus = text.startswith("+")
    digits = text[1:] if plus else text
    if not digits.isdigit() or not digits.isascii():
        raise UserError.say("admin.phone_characters", phone=raw)
    if plus and not digits.startswith("84"):
        raise UserError.say("admin.phone_country", phone=raw)
    if digits.startswith("84") and (plus or len(digits) == NATIONAL_DIGITS + 2):
        national = digits[2:]
    elif digits.startswith("0"):
        national = digits[1:]
    elif len(digits) == NATIONAL_DIGITS + 2 or plus:
        raise UserError.say("admin.phone_country", phone=raw)
    else:
        raise UserError.say("admin.phone_start", phone=raw)
    if national.startswith("2"):  # landlines have 11 digits: say what it is, not that it is too long
        raise UserError.say("admin.phone_landline", phone=raw)
    if len(national) != NATIONAL_DIGITS:
        raise UserError.say("admin.phone_length", phone=raw, digits=len(national) + 1)
    if not _MOBILE.match(national):
        raise UserError.say("admin.phone_prefix", phone=raw, prefix="0" + national[:2])
    return "84" + national


def mask_phone(phone: str) -> str:
    """``84912345678`` → ``84912***678``: enough for an admin to recognise it, not to dial it."""
    if len(phone) <= 8:
        return phone[:2] + "***"
    return f"{phone[:5]}***{phone[-3:]}"
