"""Xero over real HTTP: x-xero-signature; intent to receive (200 EMPTY body vs 401)."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

import webhook_kit as wk
from webhook_kit.client import post, sign_delivery

from ._contract import HOSTILE_HEADER_VALUES, hostile_header_refused
from .helpers import add_listener, deliver, last_event, url_of

SECRET = "xero-webhook-key"
BODY = wk.plugins.providers.get("xero").sample().body
ITR = b'{"events":[],"firstEventSequence":0,"lastEventSequence":0,"entropy":"YSXCMKAQBJOEMGUZEPFZ"}'


def headers(secret: str | None, body: bytes) -> dict:
    h = {"Content-Type": "application/json"}
    if secret is not None:
        h["x-xero-signature"] = base64.b64encode(
            hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
    return h


@pytest.fixture
def listener(server):
    return add_listener(server, "xero", {"secret": SECRET})


def test_event_accepted_with_empty_body(server, listener):
    d = deliver(server, listener, BODY, headers(SECRET, BODY))
    assert d.status == 200 and d.body == b""
    event = last_event(server, listener)
    assert event.status == "accepted" and event.payload["events"][0]["eventCategory"] == "CONTACT"


def test_intent_to_receive_good_signature_is_200_empty_handshake(server, listener):
    d = deliver(server, listener, ITR, headers(SECRET, ITR))
    assert d.status == 200 and d.body == b""
    assert last_event(server, listener).status == "handshake"


@pytest.mark.parametrize("case", ["wrong_secret", "tampered", "missing"])
def test_intent_to_receive_bad_signature_is_401(server, listener, case):
    body, h = ITR, headers(SECRET, ITR)
    if case == "wrong_secret":
        h = headers("not-the-key", ITR)
    elif case == "tampered":
        body = ITR.replace(b"YSX", b"ZZZ")
    elif case == "missing":
        h = headers(None, ITR)
    d = deliver(server, listener, body, h)
    assert d.status == 401 and d.json() == {"error": "verification failed"}
    event = last_event(server, listener)
    assert event.status == "rejected"
    expected = "missing header x-xero-signature" if case == "missing" else \
        "signature in x-xero-signature does not match"
    assert event.reason == expected


def test_rejected_event_delivery(server, listener):
    d = deliver(server, listener, BODY.replace(b"CREATE", b"DELETE"), headers(SECRET, BODY))
    assert d.status == 401
    assert last_event(server, listener).reason == "signature in x-xero-signature does not match"


def test_rotation(server):
    listener = add_listener(server, "xero", {"secret": ["new", SECRET]})
    assert deliver(server, listener, BODY, headers(SECRET, BODY)).status == 200


def test_published_vector():
    listener = wk.Listener("x", provider="xero", verification={"secret": "test_secret"})
    assert sign_delivery(listener, b'{"id":"evt_1","type":"ping"}').header("x-xero-signature") == (
        "yJgTUs6rzZBG6fMcLE4eQTulcmtVS6I9KfBWKzfPzF8=")


def test_sign_output_accepted(server, listener):
    d = post(sign_delivery(listener, url=url_of(server, listener)))
    assert d.status == 200 and d.body == b""
    assert post(sign_delivery(listener, ITR, url=url_of(server, listener))).status == 200


@pytest.mark.parametrize("name", ['x-xero-signature'])
@pytest.mark.parametrize("value", HOSTILE_HEADER_VALUES)
def test_hostile_header_values_get_a_4xx_never_a_500(server, listener, name, value):
    hostile_header_refused(server, listener, BODY, name, value)
