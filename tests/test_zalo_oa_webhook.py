"""The OA webhook's checks (adapters/zalo_oa/webhook.py) on bodies signed by tests/zalo_signing.py: such a signature
verifies, a one-byte change does not; the replay window, the shapes, and the events we never act on.

How Zalo signs, as read in (details in tests/zalo_signing.py): zaloplatform/ZaloDotNetSDK
`src/sdk/utils/MacUtils.cs#buildMac` (the official SDK: plain SHA-256 of the UTF-8 string, lowercase hex) and
chatwoot/chatwoot `app/jobs/webhooks/zalo_events_job.rb#validate_signature` (the string is app id + raw body + the
body's timestamp + OA secret key; the header is "mac=<hex>")."""

import json

import pytest
from zalo_signing import APP_ID, OA_SECRET, event, now_ms, signature_header, zalo_mac

from adapters.zalo_oa import webhook
from adapters.zalo_oa.events import event_key, parse_feedback, user_of


def check(raw: bytes, header: str | None = "sign", *, now: int | None = None, max_age: int = 300):
    header = signature_header(raw) if header == "sign" else header
    return webhook.check(raw, header, app_id=APP_ID, oa_secret=OA_SECRET, max_age_seconds=max_age,
                         now_ms=now if now is not None else now_ms())


def test_a_body_signed_as_zalo_signs_verifies_with_and_without_mac_and_in_any_case():
    raw = event("user_send_text", "6142494823", text="Chào Trung tâm", msg_id="cb31dff1c39642cc1b83")
    mac = zalo_mac(raw)
    assert len(mac) == 64 and mac == mac.lower()
    # Our adapter's own computation gives the same value as the helper written from the SDKs.
    assert webhook.expected_mac(APP_ID, raw, json.loads(raw)["timestamp"], OA_SECRET) == mac
    for header in (f"mac={mac}", mac, f"mac={mac.upper()}", f" mac={mac} "):
        verdict = check(raw, header)
        assert (verdict.status, verdict.keep, verdict.key, verdict.user) == (
            200, True, "cb31dff1c39642cc1b83", "6142494823"), header


@pytest.mark.parametrize("position", [0, 40, -30, -2])
def test_a_one_byte_change_of_a_signed_body_is_refused(position):
    raw = event("user_send_text", "6142494823", text="5")
    header = signature_header(raw)
    changed = bytearray(raw)
    changed[position] = ord("X") if changed[position] != ord("X") else ord("Y")
    assert check(bytes(changed), header).status == 401


@pytest.mark.parametrize("header", [None, "", "mac=", "mac=" + "0" * 64, "sha256=abc", "mac=ü"])
def test_a_missing_or_forged_signature_is_refused(header):
    assert check(event("user_send_text", "1", text="hi"), header).status == 401


def test_signed_with_another_app_id_or_secret_is_refused():
    raw = event("user_send_text", "1", text="hi")
    assert check(raw, signature_header(raw, app_id="other-app")).status == 401
    assert check(raw, signature_header(raw, oa_secret="the-app-secret")).status == 401


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", b'"text"', b'{"event_name": "follow"}',
                                  b'{"timestamp": true}', "{\"timestamp\": \"1\"}".encode("utf-16")])
def test_a_body_whose_signature_cannot_be_computed_is_refused_as_unsigned(body):
    assert check(body, "mac=" + "0" * 64).status == 401


def test_stale_and_future_events_are_refused():
    now = now_ms()
    old = event("user_send_text", "1", text="hi", timestamp=now - 301_000)
    assert check(old, now=now).status == 400 and "stale" in check(old, now=now).reason
    assert check(event("follow", "1", timestamp=now + 301_000), now=now).status == 400
    assert check(event("follow", "1", timestamp=now - 299_000), now=now).status == 200
    assert check(old, now=now, max_age=600).status == 200


@pytest.mark.parametrize("kind", ["user_received_message", "oa_send_text"])
def test_receipts_and_echoes_are_acknowledged_and_not_kept(kind):
    verdict = check(event(kind, "1", text="Câu 1/20"))
    assert verdict.status == 200 and not verdict.keep


def test_an_unknown_event_is_acknowledged_and_not_kept():
    body = json.dumps({"event_name": "change_oa_daily_quota", "app_id": APP_ID, "timestamp": str(now_ms())})
    verdict = check(body.encode())
    assert verdict.status == 200 and not verdict.keep


@pytest.mark.parametrize("body", [
    {"event_name": "user_send_text", "message": {"text": "hi", "msg_id": "m"}},  # no sender
    {"event_name": "user_send_text", "sender": {"id": "1"}, "message": "hi"},
    {"event_name": "user_send_text", "sender": {"id": "1"}, "message": {"msg_id": "m"}},
    {"event_name": 5, "sender": {"id": "1"}},
    {"event_name": "follow", "follower": {}},
])
def test_signed_but_malformed_events_get_400(body):
    raw = json.dumps({**body, "app_id": APP_ID, "timestamp": str(now_ms())}).encode()
    assert check(raw).status == 400


def test_who_sent_each_event_and_its_key():
    users = {kind: user_of(json.loads(event(kind, "42", msg_id="m1"))) for kind in (
        "user_send_text", "user_send_image", "user_send_sticker", "follow", "unfollow", "user_click_chatnow")}
    assert set(users.values()) == {"42"}, users
    follow = json.loads(event("follow", "42", timestamp=1700000000000))
    assert event_key(follow) == "follow:42:1700000000000"  # no msg_id: name + user + timestamp
    assert event_key(json.loads(event("user_send_text", "42", msg_id="abc"))) == "abc"


def test_a_rating_is_parsed():
    body = json.loads(event("user_feedback", msg_id="3367db02643ff967a028", tracking_id="17",
                            timestamp=1659750276218))
    feedback = parse_feedback(body)
    assert (feedback.msg_id, feedback.tracking_id, feedback.rate, feedback.note, feedback.submitted_ms) == (
        "3367db02643ff967a028", "17", 4, "Cán bộ hướng dẫn tận tình", 1659750276218)
    assert feedback.feedbacks == ("Nhân viên nhiệt tình", "Thủ tục nhanh")
    flat = parse_feedback({"event_name": "user_feedback", "msg_id": "x", "rate": "9", "feedbacks": "no"})
    assert (flat.msg_id, flat.rate, flat.feedbacks, flat.note) == ("x", None, (), "")
    verdict = check(json.dumps(body).encode(), now=1659750276218 + 1000)
    assert verdict.keep and verdict.user is None and verdict.key == "3367db02643ff967a028"
