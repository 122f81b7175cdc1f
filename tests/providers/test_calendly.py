"""Calendly over real HTTP: t=,v1= signature over t.body, 3 minute window, event+uri dedup."""

from __future__ import annotations

import hashlib
import hmac
import time

import pytest

import webhook_kit as wk
from webhook_kit.client import post, sign_delivery

from .helpers import add_listener, deliver, last_event, stored, url_of

SECRET = "calendly-signing-key"
BODY = wk.plugins.providers.get("calendly").sample().body
URI = "https://api.calendly.com/scheduled_events/GBGBDCAADAEDCRZ2/invitees/AAAAAAAAAAAAAAAA"


def headers(secret: str | None, body: bytes = BODY, t: int | None = None) -> dict:
    h = {"Content-Type": "application/json"}
    if secret is not None:
        t = int(time.time()) if t is None else t
        sig = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
        h["Calendly-Webhook-Signature"] = f"t={t},v1={sig}"
    return h


@pytest.fixture
def listener(server):
    return add_listener(server, "calendly", {"secret": SECRET})


def test_accepted(server, listener):
    d = deliver(server, listener, BODY, headers(SECRET))
    assert d.status == 200, d.text
    event = stored(server, d)
    assert event.status == "accepted" and event.delivery_id == f"invitee.created:{URI}"


@pytest.mark.parametrize("case, expected", [
    ("tampered", "signature in Calendly-Webhook-Signature does not match"),
    ("wrong_secret", "signature in Calendly-Webhook-Signature does not match"),
    ("missing", "missing header Calendly-Webhook-Signature"),
    ("stale", "timestamp too old"),
    ("future", "timestamp too new"),
    ("bad_t", "is not a t= unix timestamp"),
])
def test_rejected_with_reason(server, listener, case, expected):
    body, h = BODY, headers(SECRET)
    if case == "tampered":
        body = BODY.replace(b"John Doe", b"Jane Roe")
    elif case == "wrong_secret":
        h = headers("other")
    elif case == "missing":
        h = headers(None)
    elif case == "stale":
        h = headers(SECRET, t=int(time.time()) - 181 - 5)
    elif case == "future":
        h = headers(SECRET, t=int(time.time()) + 600)
    elif case == "bad_t":
        h["Calendly-Webhook-Signature"] = "t=yesterday,v1=00"
    d = deliver(server, listener, body, h)
    assert d.status == 401 and d.json() == {"error": "verification failed"}
    event = last_event(server, listener)
    assert event.status == "rejected" and expected in event.reason
    if case in ("stale", "future"):
        assert abs(event.details["skew_seconds"]) > 180 and event.details["tolerance"] == 180


def test_rotation(server):
    listener = add_listener(server, "calendly", {"secret": ["new", SECRET]})
    assert deliver(server, listener, BODY, headers(SECRET)).status == 200


def test_published_vector():
    listener = wk.Listener("c", provider="calendly", verification={"secret": "test_secret"})
    signed = sign_delivery(listener, b'{"id":"evt_1","type":"ping"}', now=1700000000)
    assert signed.header("Calendly-Webhook-Signature") == (
        "t=1700000000,v1=d9dae4e7c032210a313099d09d382add1ad07aa895882a265fd57cffbc976d41")


def test_sign_output_accepted_and_redelivery_is_duplicate(server, listener):
    request = sign_delivery(listener, url=url_of(server, listener))
    first, second = post(request), post(request)
    assert stored(server, first).status == "accepted"
    assert second.status == 200 and stored(server, second).status == "duplicate"
    # the same invitee's cancellation is a different event, not a duplicate
    cancel = BODY.replace(b"invitee.created", b"invitee.canceled")
    assert stored(server, post(sign_delivery(listener, cancel, url=url_of(server, listener)))).status == "accepted"


HOSTILE_VALUES = ["", ";;,,", "sha256=", "ts=;h1=,t=,v1=zz", "9" * 40 + ",00", "\u00e9\u00e8",
                  "x" * 4000]


@pytest.mark.parametrize("name", ['Calendly-Webhook-Signature'])
@pytest.mark.parametrize("value", HOSTILE_VALUES)
def test_hostile_header_values_get_a_4xx_never_a_500(server, listener, name, value):
    body = BODY
    for bad_body in (body, b"\xff\xfe\x00"):
        d = deliver(server, listener, bad_body, {"Content-Type": "application/json", name: value})
        assert 400 <= d.status < 500, (d.status, d.text)
        assert last_event(server, listener).reason
