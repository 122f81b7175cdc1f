"""Paddle Billing over real HTTP: our verifier, our signer, the paddle-python-sdk, Paddle's vectors."""

from __future__ import annotations

import time

import pytest

import webhook_kit as wk
from webhook_kit.client import post, sign_delivery

from .helpers import add_listener, deliver, last_event, stored, url_of

SECRET = "pdl_ntfset_01hs0t3tw21j988db1pam5xg8m_test"
BODY = wk.plugins.providers.get("paddle").sample().body
JSON = {"Content-Type": "application/json"}


def header(secret: str, body: bytes, ts: int | None = None) -> str:
    import hmac, hashlib
    ts = int(time.time()) if ts is None else ts
    return f"ts={ts};h1=" + hmac.new(secret.encode(), f"{ts}:".encode() + body, hashlib.sha256).hexdigest()


@pytest.fixture
def listener(server):
    return add_listener(server, "paddle", {"secret": SECRET})


def test_accepted_and_stored(server, listener):
    d = deliver(server, listener, BODY, {**JSON, "Paddle-Signature": header(SECRET, BODY)})
    assert d.status == 200, d.text
    event = stored(server, d)
    assert event.status == "accepted"
    assert event.delivery_id == "ntf_01hv8x2af1ne3frd7ev6v5cdn2"


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
    request = sign_delivery(listener, url=url_of(server, listener))
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


def test_sdk_computed_vector_with_pinned_clock(listener):
    request = sign_delivery(add_listener_settings(listener, "test_secret"),
                            b'{"id":"evt_1","type":"ping"}', now=1700000000)
    assert request.header("Paddle-Signature") == (
        "ts=1700000000;h1=b769c7c674fd4b511ed6c008360b5ec6557d2c87582982fb66d6f772addf4082")


def add_listener_settings(listener, secret):
    copy = listener.copy()
    copy.verification = {"secret": secret}
    return copy
