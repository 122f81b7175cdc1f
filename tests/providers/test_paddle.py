"""Paddle Billing over real HTTP: our verifier, our signer, the paddle-python-sdk, Paddle's vectors."""

from __future__ import annotations

import hashlib
import hmac
import time

import pytest

import webhook_kit as wk
from webhook_kit.client import post, sign_delivery

from ._contract import HOSTILE_HEADER_VALUES, accepted, hostile_header_refused, signed
from .helpers import add_listener, deliver, last_event, stored, url_of

SECRET = "pdl_ntfset_01hs0t3tw21j988db1pam5xg8m_test"
BODY = wk.plugins.providers.get("paddle").sample().body
JSON = {"Content-Type": "application/json"}


def header(secret: str, body: bytes, ts: int | None = None) -> str:
    ts = int(time.time()) if ts is None else ts
    return f"ts={ts};h1=" + hmac.new(secret.encode(), f"{ts}:".encode() + body, hashlib.sha256).hexdigest()


@pytest.fixture
def listener(server):
    return add_listener(server, "paddle", {"secret": SECRET})


def test_accepted_and_stored(server, listener):
    delivery = deliver(server, listener, BODY, {**JSON, "Paddle-Signature": header(SECRET, BODY)})
    assert accepted(server, delivery).delivery_id == "ntf_01hv8x2af1ne3frd7ev6v5cdn2"


@pytest.mark.parametrize("case", ["tampered", "wrong_secret", "missing", "stale", "no_h1"])
def test_rejected_with_reason(server, listener, case):
    headers = {**JSON, "Paddle-Signature": header(SECRET, BODY)}
    body = BODY
    expected = "does not match"
    if case == "tampered":
        body = BODY.replace(b"2880", b"1")
    elif case == "wrong_secret":
        headers["Paddle-Signature"] = header("pdl_other", BODY)
    elif case == "missing":
        del headers["Paddle-Signature"]
        expected = "missing header Paddle-Signature"
    elif case == "stale":
        headers["Paddle-Signature"] = header(SECRET, BODY, int(time.time()) - 60)
        expected = "timestamp too old"
    elif case == "no_h1":
        headers["Paddle-Signature"] = f"ts={int(time.time())}"
        expected = "no h1="
    d = deliver(server, listener, body, headers)
    assert d.status == 401
    assert "Paddle" not in d.text and "timestamp" not in d.text  # the answer names no check
    event = last_event(server, listener)
    assert event.status == "rejected" and expected in event.reason
    if case == "stale":
        assert event.details["skew_seconds"] >= 59


def test_rotation_any_secret_matches(server):
    listener = add_listener(server, "paddle", {"secret": ["pdl_new", SECRET]})
    d = deliver(server, listener, BODY, {**JSON, "Paddle-Signature": header(SECRET, BODY)})
    assert d.status == 200
    # and our signer emits one h1 per active secret, as Paddle does during a rotation
    signed = sign_delivery(listener, url=url_of(server, listener))
    assert signed.header("Paddle-Signature").count(";h1=") == 2


def test_sign_output_accepted_and_redelivery_is_duplicate(server, listener):
    request = signed(server, listener)
    first, second = post(request), post(request)
    assert first.status == 200 and second.status == 200
    assert second.json().get("duplicate") is True
    assert stored(server, second).status == "duplicate"


def test_paddle_sdk_signs_and_our_server_accepts(server, listener):
    from paddle_billing.Notifications import PaddleSignature
    ts = int(time.time())
    h1 = PaddleSignature.calculate_hmac(SECRET, f"{ts}:{BODY.decode()}".encode()).hexdigest()
    d = deliver(server, listener, BODY, {**JSON, "Paddle-Signature": f"ts={ts};h1={h1}"})
    assert d.status == 200, d.text


def test_paddle_sdk_verifies_our_signature(listener):
    from paddle_billing.Notifications import PaddleSignature, Secret
    request = sign_delivery(listener, BODY)
    assert PaddleSignature().verify(request.header("Paddle-Signature"), BODY.decode(), Secret(SECRET))
    with pytest.raises(ConnectionRefusedError):
        PaddleSignature().verify(request.header("Paddle-Signature"), BODY.decode(), [Secret("nope")])


PUBLISHED_HEADER = ("ts=1696195954;h1=dummy;"
                    "h1=d96299976a6eb066f484d7fde011ac56fc32b38fc9940bc419d6e537fdc6ef02")
PUBLISHED_SECRET = "pdl_ntf_01hbpjmytsa32fhr36nqgc3kgb_WvRO0eL4Bj9rgYYIBZY6wZhG4EHy9jzh"


def test_published_vector_from_the_sdk_tests(server):
    # the vector's timestamp is from 2023, so the window is switched off for it
    good = add_listener(server, "paddle", {"secret": PUBLISHED_SECRET, "tolerance": 0}, "paddle-vec")
    d = deliver(server, good, "hello-world", {"Content-Type": "text/plain",
                                              "Paddle-Signature": PUBLISHED_HEADER})
    assert d.status == 200, d.text
    bad = add_listener(server, "paddle", {"secret": "pdl_ntf_01hbpjmytsa32fhr36nqgc3kgb_other",
                                          "tolerance": 0}, "paddle-vec-bad")
    assert deliver(server, bad, "hello-world", {"Content-Type": "text/plain",
                                                "Paddle-Signature": PUBLISHED_HEADER}).status == 401


def test_sdk_computed_vector_with_pinned_clock():
    listener = wk.Listener("p", provider="paddle", verification={"secret": "test_secret"})
    request = sign_delivery(listener, b'{"id":"evt_1","type":"ping"}', now=1700000000)
    assert request.header("Paddle-Signature") == (
        "ts=1700000000;h1=b769c7c674fd4b511ed6c008360b5ec6557d2c87582982fb66d6f772addf4082")


# Paddle's SDK tests (paddle-python-sdk tests/Unit/Notification, fixtures shared with
# paddle-php-sdk tests/Unit/Notifications/_fixtures), bodies as the tests read them (.strip())
FIXTURE_SECRET = "pdl_ntfset_01hs0t3tw21j988db1pam5xg8m_GrOWLNef+vmtjJYq4mSnHNzvc8uWoJ1I"
STANDARD_PAYLOAD = (
    b'{"data":{"id":"ctm_01hs0tqf76sxmp7ba5e4mw1sc8","name":"John Doe","email":'
    b'"blackhole+verification2@paddle.com","locale":"en","status":"active","created_at":'
    b'"2024-03-15T10:32:37.862Z","updated_at":"2024-03-15T10:32:37.862Z","custom_data":null,'
    b'"import_meta":null,"marketing_consent":false},"event_id":"evt_01hs0tqfme2xwb2hvwv87p8y3w",'
    b'"event_type":"customer.created","occurred_at":"2024-03-15T10:32:38.286848Z","notification_id":'
    b'"ntf_01hs0tqfrhgkyp39x4wyvy7h6n"}')
SPECIAL_CHARS_PAYLOAD = (
    b'{"data":{"id":"ctm_01hs0t94g83hs5jdw282ztqa4z","name":'
    b'"\\u00dc\\u00c4\\u00c5\\u00e5\\u00d6\\u00dc\\u00c4\\u00c5\\u00e5\\u00d6","email":'
    b'"blackhole+verification1@paddle.com","locale":"en","status":"active","created_at":'
    b'"2024-03-15T10:24:48.136Z","updated_at":"2024-03-15T10:24:48.136Z","custom_data":null,'
    b'"import_meta":null,"marketing_consent":false},"event_id":"evt_01hs0t94tjvtv62azjmkbeysz7",'
    b'"event_type":"customer.created","occurred_at":"2024-03-15T10:24:48.466759Z","notification_id":'
    b'"ntf_01hs0t94ws0ay8keh5t4rq70ht"}')


@pytest.mark.parametrize("body, signature, notification", [
    (STANDARD_PAYLOAD,
     "ts=1710498758;h1=558bf93944dbeb4790c7a8af6cb2ea435c8ca9c8396aafc1a4e37424ac132744",
     "ntf_01hs0tqfrhgkyp39x4wyvy7h6n"),
    (SPECIAL_CHARS_PAYLOAD,
     "ts=1710498288;h1=38219b3ba1578184e625c29d201a27cd25bd69e2ec9c3ab87dcb90d87ff73a41",
     "ntf_01hs0t94ws0ay8keh5t4rq70ht"),
])
def test_published_fixture_vectors(server, body, signature, notification):
    listener = add_listener(server, "paddle", {"secret": FIXTURE_SECRET, "tolerance": 0}, "paddle-fx")
    d = deliver(server, listener, body, {"Content-Type": "application/json", "Paddle-Signature": signature})
    assert d.status == 200, d.text
    assert stored(server, d).delivery_id == notification
    assert deliver(server, listener, body + b" ", {"Content-Type": "application/json",
                                                     "Paddle-Signature": signature}).status == 401


def test_published_three_secret_rotation_list(server):
    failing = ["pdl_ntf_01hbpjmytsa32fhr36nqgc3kgb_TjIG2BXbm83HPXqNfziwe506sBEdqL/4",
               "pdl_ntf_01hbpjmytsa32fhr36nqgc3kgb_vB/yIOnTOCWIvpBadM5jzBZPHc7OmdSo"]
    headers = {"Content-Type": "text/plain", "Paddle-Signature": PUBLISHED_HEADER}
    listener = add_listener(server, "paddle", {"secret": failing + [PUBLISHED_SECRET], "tolerance": 0},
                            "paddle-rot")
    assert deliver(server, listener, "hello-world", headers).status == 200
    for i, secret in enumerate(failing):
        alone = add_listener(server, "paddle", {"secret": secret, "tolerance": 0}, f"paddle-fail{i}")
        assert deliver(server, alone, "hello-world", headers).status == 401


@pytest.mark.parametrize("name", ['Paddle-Signature'])
@pytest.mark.parametrize("value", HOSTILE_HEADER_VALUES)
def test_hostile_header_values_get_a_4xx_never_a_500(server, listener, name, value):
    hostile_header_refused(server, listener, BODY, name, value)
