"""Segment over real HTTP: X-Signature HMAC-SHA1 hex; messageId dedup."""

from __future__ import annotations

import hashlib
import hmac

import pytest

import webhook_kit as wk
from webhook_kit.client import post, sign_delivery

from .helpers import add_listener, deliver, last_event, stored, url_of

SECRET = "segment-shared-secret"
BODY = wk.plugins.providers.get("segment").sample().body


def headers(secret: str | None, body: bytes = BODY) -> dict:
    h = {"Content-Type": "application/json"}
    if secret is not None:
        h["X-Signature"] = hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()
    return h


@pytest.fixture
def listener(server):
    return add_listener(server, "segment", {"secret": SECRET})


def test_accepted(server, listener):
    d = deliver(server, listener, BODY, headers(SECRET))
    assert d.status == 200, d.text
    event = stored(server, d)
    assert event.status == "accepted"
    assert event.delivery_id == "ajs-next-7f4e2a1c9b8d4e6fa0b1c2d3e4f5a6b7"


@pytest.mark.parametrize("case, expected", [
    ("tampered", "signature in X-Signature does not match"),
    ("wrong_secret", "signature in X-Signature does not match"),
    ("missing", "missing header X-Signature"),
    ("garbage", "signature in X-Signature does not match"),
])
def test_rejected_with_reason(server, listener, case, expected):
    body, h = BODY, headers(SECRET)
    if case == "tampered":
        body = BODY.replace(b"27.5", b"0.5")
    elif case == "wrong_secret":
        h = headers("other")
    elif case == "missing":
        h = headers(None)
    elif case == "garbage":
        h["X-Signature"] = "not-hex-\u00e9"
    d = deliver(server, listener, body, h)
    assert d.status == 401 and d.json() == {"error": "verification failed"}
    event = last_event(server, listener)
    assert event.status == "rejected" and event.reason == expected


def test_rotation(server):
    listener = add_listener(server, "segment", {"secret": ["new", SECRET]})
    assert deliver(server, listener, BODY, headers(SECRET)).status == 200


def test_published_vector():
    listener = wk.Listener("seg", provider="segment", verification={"secret": "test_secret"})
    assert sign_delivery(listener, b'{"id":"evt_1","type":"ping"}').header("X-Signature") == (
        "9dd5322b18a546d70d3e78bfac2d16da307799c8")


def test_sign_output_accepted_and_redelivery_is_duplicate(server, listener):
    request = sign_delivery(listener, url=url_of(server, listener))
    first, second = post(request), post(request)
    assert stored(server, first).status == "accepted"
    assert second.status == 200 and stored(server, second).status == "duplicate"


HOSTILE_VALUES = ["", ";;,,", "sha256=", "ts=;h1=,t=,v1=zz", "9" * 40 + ",00", "\u00e9\u00e8",
                  "x" * 4000]


@pytest.mark.parametrize("name", ['X-Signature'])
@pytest.mark.parametrize("value", HOSTILE_VALUES)
def test_hostile_header_values_get_a_4xx_never_a_500(server, listener, name, value):
    body = BODY
    for bad_body in (body, b"\xff\xfe\x00"):
        d = deliver(server, listener, bad_body, {"Content-Type": "application/json", name: value})
        assert 400 <= d.status < 500, (d.status, d.text)
        assert last_event(server, listener).reason
