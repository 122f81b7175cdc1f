"""Segment over real HTTP: X-Signature HMAC-SHA1 hex; messageId dedup."""

from __future__ import annotations

import hashlib
import hmac

import pytest

import webhook_kit as wk
from webhook_kit.client import sign_delivery

from ._contract import HOSTILE_HEADER_VALUES, accepted, hostile_header_refused, redelivered, refused, signed
from .helpers import add_listener, deliver

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
    assert accepted(server, deliver(server, listener, BODY, headers(SECRET))).delivery_id == (
        "ajs-next-7f4e2a1c9b8d4e6fa0b1c2d3e4f5a6b7")


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
    refused(server, listener, deliver(server, listener, body, h), expected, exact=True)


def test_rotation(server):
    listener = add_listener(server, "segment", {"secret": ["new", SECRET]})
    assert deliver(server, listener, BODY, headers(SECRET)).status == 200


def test_published_vector():
    listener = wk.Listener("seg", provider="segment", verification={"secret": "test_secret"})
    assert sign_delivery(listener, b'{"id":"evt_1","type":"ping"}').header("X-Signature") == (
        "9dd5322b18a546d70d3e78bfac2d16da307799c8")


def test_sign_output_accepted_and_redelivery_is_duplicate(server, listener):
    redelivered(server, signed(server, listener))


@pytest.mark.parametrize("name", ['X-Signature'])
@pytest.mark.parametrize("value", HOSTILE_HEADER_VALUES)
def test_hostile_header_values_get_a_4xx_never_a_500(server, listener, name, value):
    hostile_header_refused(server, listener, BODY, name, value)
