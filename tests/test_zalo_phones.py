"""Vietnamese mobile numbers: every accepted form normalised to 84…, everything else refused by name."""

import pytest

from bot.errors import UserError
from bot.zalo.phones import mask_phone, normalise_phone


@pytest.mark.parametrize("raw", ["0912345678", "0912 345 678", "0912.345.678", "0912-345-678", "84912345678",
                                 "+84912345678", "+84 912 345 678", "+84-912.345.678", " 0912345678 "])
def test_accepted_forms_become_84(raw):
    assert normalise_phone(raw) == "84912345678"


@pytest.mark.parametrize("raw", ["0321234567", "0523456789", "0701234567", "0812345678", "0987654321"])
def test_every_network_prefix(raw):
    assert normalise_phone(raw) == "84" + raw[1:]


@pytest.mark.parametrize(("raw", "name", "says"), [
    ("", "admin.phone_empty", "no phone number given"),
    ("  ", "admin.phone_empty", "no phone number given"),
    ("0912a45678", "admin.phone_characters", "characters other than digits"),
    ("09١2345678", "admin.phone_characters", "characters other than digits"),  # an Arabic-Indic digit
    ("+1 415 555 0100", "admin.phone_country", "is not Vietnamese"),
    ("+85512345678", "admin.phone_country", "is not Vietnamese"),
    ("912345678", "admin.phone_start", "must start with 0, 84 or +84"),
    ("091234567", "admin.phone_length", "has 9 digits"),
    ("09123456789", "admin.phone_length", "has 11 digits"),
    ("+849123456789", "admin.phone_length", "has 11 digits"),
    ("02343822123", "admin.phone_landline", "is a landline"),
    ("0112345678", "admin.phone_prefix", "starts with 011"),
    ("0951234567", "admin.phone_prefix", "starts with 095"),
])
def test_refused_with_the_problem_named(raw, name, says):
    with pytest.raises(UserError) as caught:
        normalise_phone(raw)
    assert caught.value.name == name
    assert says in str(caught.value)


def test_mask():
    assert mask_phone("84912345678") == "84912***678"
