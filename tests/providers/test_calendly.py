"""Calendly over real HTTP: t=,v1= signature over t.body, 3 minute window, event+uri dedup."""

from __future__ import annotations

import hashlib
import hmac
import time

import pytest

import webhook_kit as wk
from webhook_kit.client import post, sign_delivery

from ._contract import HOSTILE_HEADER_VALUES, accepted, hostile_header_refused, redelivered, refused, signed
from .helpers import add_listener, deliver, stored, url_of

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
    assert accepted(server, deliver(server, listener, BODY, headers(SECRET))).delivery_id == (
        f"invitee.created:{URI}")


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
    event = refused(server, listener, deliver(server, listener, body, h), expected)
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
    redelivered(server, signed(server, listener))
    # the same invitee's cancellation is a different event, not a duplicate
    cancel = BODY.replace(b"invitee.created", b"invitee.canceled")
    assert stored(server, post(sign_delivery(listener, cancel, url=url_of(server, listener)))).status == "accepted"


@pytest.mark.parametrize("name", ['Calendly-Webhook-Signature'])
@pytest.mark.parametrize("value", HOSTILE_HEADER_VALUES)
def test_hostile_header_values_get_a_4xx_never_a_500(server, listener, name, value):
    hostile_header_refused(server, listener, BODY, name, value)
