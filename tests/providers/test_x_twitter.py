"""X (Twitter) over real HTTP: GET crc_token answer, x-twitter-webhooks-signature on events."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

import webhook_kit as wk
from webhook_kit.client import post, sign_delivery

from ._contract import HOSTILE_HEADER_VALUES, hostile_header_refused, refused
from .helpers import add_listener, deliver, last_event, stored, url_of

SECRET = "x-consumer-secret"
BODY = wk.plugins.providers.get("x-twitter").sample().body


def b64_hmac(secret: str, data: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), data, hashlib.sha256).digest()).decode()


def headers(secret: str | None, body: bytes = BODY) -> dict:
    h = {"Content-Type": "application/json"}
    if secret is not None:
        h["x-twitter-webhooks-signature"] = "sha256=" + b64_hmac(secret, body)
    return h


@pytest.fixture
def listener(server):
    return add_listener(server, "x-twitter", {"secret": SECRET})


def test_crc_answered(server, listener):
    d = deliver(server, listener, b"", {}, method="GET", query="crc_token=abc123&nonce=n1")
    assert d.status == 200
    assert d.json() == {"response_token": "sha256=" + b64_hmac(SECRET, b"abc123")}
    assert last_event(server, listener).status == "handshake"


def test_crc_published_vector(server):
    listener = add_listener(server, "x-twitter", {"secret": "test_secret"}, "x-vec")
    d = deliver(server, listener, b"", {}, method="GET", query="crc_token=crc_token_example")
    assert d.json() == {"response_token": "sha256=VqEfSZ+/CoowldV5G3Wq8hPOMD08Ve4GAoR3O8DuVjU="}


def test_empty_crc_token_is_400(server, listener):
    d = deliver(server, listener, b"", {}, method="GET", query="crc_token=")
    assert d.status == 400
    assert last_event(server, listener).status == "rejected"


def test_plain_get_is_405(server, listener):
    assert deliver(server, listener, b"", {}, method="GET").status == 405


def test_accepted(server, listener):
    d = deliver(server, listener, BODY, headers(SECRET))
    assert d.status == 200, d.text
    assert stored(server, d).payload["for_user_id"] == "2244994945"


@pytest.mark.parametrize("case, expected", [
    ("tampered", "signature in x-twitter-webhooks-signature does not match"),
    ("wrong_secret", "signature in x-twitter-webhooks-signature does not match"),
    ("missing", "missing header x-twitter-webhooks-signature"),
    ("no_prefix", "lacks the prefix 'sha256='"),
])
def test_rejected_with_reason(server, listener, case, expected):
    body, h = BODY, headers(SECRET)
    if case == "tampered":
        body = BODY.replace(b"hello", b"bye")
    elif case == "wrong_secret":
        h = headers("other")
    elif case == "missing":
        h = headers(None)
    elif case == "no_prefix":
        h["x-twitter-webhooks-signature"] = b64_hmac(SECRET, BODY)
    refused(server, listener, deliver(server, listener, body, h), expected)


def test_rotation(server):
    listener = add_listener(server, "x-twitter", {"secret": ["new", SECRET]})
    assert deliver(server, listener, BODY, headers(SECRET)).status == 200


def test_sign_output_accepted(server, listener):
    assert post(sign_delivery(listener, url=url_of(server, listener))).status == 200


@pytest.mark.parametrize("name", ['x-twitter-webhooks-signature'])
@pytest.mark.parametrize("value", HOSTILE_HEADER_VALUES)
def test_hostile_header_values_get_a_4xx_never_a_500(server, listener, name, value):
    hostile_header_refused(server, listener, BODY, name, value)
