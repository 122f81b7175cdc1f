"""Bitbucket over real HTTP: X-Hub-Signature sha256= of the body; X-Request-UUID dedup."""

from __future__ import annotations

import hashlib
import hmac

import pytest

import webhook_kit as wk
from webhook_kit.client import sign_delivery

from ._contract import HOSTILE_HEADER_VALUES, accepted, hostile_header_refused, redelivered, refused, signed
from .helpers import add_listener, deliver, stored

SECRET = "bb-webhook-secret"
BODY = wk.plugins.providers.get("bitbucket").sample().body


def headers(secret: str, body: bytes, **extra) -> dict:
    sig = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {"Content-Type": "application/json", "X-Event-Key": "repo:push",
            "X-Request-UUID": "7ba3ae4c-0b1b-4c7a-a1c5-2e3c1f0a9d11", "X-Hub-Signature": sig, **extra}


@pytest.fixture
def listener(server):
    return add_listener(server, "bitbucket", {"secret": SECRET})


def test_accepted(server, listener):
    assert accepted(server, deliver(server, listener, BODY, headers(SECRET, BODY))).delivery_id == (
        "7ba3ae4c-0b1b-4c7a-a1c5-2e3c1f0a9d11")


def test_data_center_request_id_is_the_dedup_id(server, listener):
    h = headers(SECRET, BODY)
    del h["X-Request-UUID"]
    h["X-Request-Id"] = "dc-req-1"
    assert stored(server, deliver(server, listener, BODY, h)).delivery_id == "dc-req-1"


@pytest.mark.parametrize("case, expected", [
    ("tampered", "signature in X-Hub-Signature does not match"),
    ("wrong_secret", "signature in X-Hub-Signature does not match"),
    ("missing", "missing header X-Hub-Signature"),
    ("sha1", "lacks the prefix 'sha256='"),
])
def test_rejected_with_reason(server, listener, case, expected):
    h, body = headers(SECRET, BODY), BODY
    if case == "tampered":
        body = BODY.replace(b"main", b"evil", 1)
    elif case == "wrong_secret":
        h = headers("other", BODY)
    elif case == "missing":
        del h["X-Hub-Signature"]
    elif case == "sha1":
        h["X-Hub-Signature"] = "sha1=" + hmac.new(SECRET.encode(), BODY, hashlib.sha1).hexdigest()
    refused(server, listener, deliver(server, listener, body, h), expected)


def test_rotation(server):
    listener = add_listener(server, "bitbucket", {"secret": ["new", SECRET]})
    assert deliver(server, listener, BODY, headers(SECRET, BODY)).status == 200


def test_published_vector():
    listener = wk.Listener("bb", provider="bitbucket", verification={"secret": "test_secret"})
    request = sign_delivery(listener, b'{"id":"evt_1","type":"ping"}')
    assert request.header("X-Hub-Signature") == (
        "sha256=c8981352ceabcd9046e9f31c2c4e1e413ba5726b554ba23d29f0562b37cfcc5f")


def test_sign_output_accepted_and_redelivery_is_duplicate(server, listener):
    request = signed(server, listener)
    assert request.header("X-Event-Key") == "repo:push" and request.header("X-Attempt-Number") == "1"
    redelivered(server, request)


@pytest.mark.parametrize("name", ['X-Hub-Signature'])
@pytest.mark.parametrize("value", HOSTILE_HEADER_VALUES)
def test_hostile_header_values_get_a_4xx_never_a_500(server, listener, name, value):
    hostile_header_refused(server, listener, BODY, name, value)
