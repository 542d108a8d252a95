"""Masking personal data in free text before anyone else reads it: phone numbers, ID numbers, e-mail addresses."""

from __future__ import annotations

import re

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# Vietnamese phone numbers: 0 or +84/84 then 9-10 digits, with optional spaces, dots or dashes between groups.
_PHONE = re.compile(r"(?<!\d)(?:\+?84|0)(?:[\s.-]?\d){8,10}(?!\d)")
# Citizen ID (CCCD, 12 digits), old ID card (CMND, 9 digits), and other long digit runs such as dossier numbers.
_ID = re.compile(r"(?<!\d)\d{9,}(?!\d)")
_DOSSIER = re.compile(r"(?<![\w])[A-Z0-9]{2,}(?:[-./][A-Z0-9]+){2,}(?![\w])")


def redact(text: str) -> str:
    """Replace e-mail addresses, phone numbers, ID numbers and dossier-like codes with a mask.

    >>> redact("Gọi tôi 0912 345 678 hoặc a.b@gmail.com, CCCD 001203004567")
    'Gọi tôi [số điện thoại] hoặc [email], CCCD [số giấy tờ]'
    """
    text = _EMAIL.sub("[email]", text)
    text = _PHONE.sub("[số điện thoại]", text)
    text = _ID.sub("[số giấy tờ]", text)
    return _DOSSIER.sub("[mã hồ sơ]", text)
