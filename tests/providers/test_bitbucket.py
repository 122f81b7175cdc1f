"""Bitbucket over real HTTP: X-Hub-Signature sha256= of the body; X-Request-UUID dedup."""

from __future__ import annotations

import hashlib
import hmac

import pytest

import webhook_kit as wk
from webhook_kit.client import post, sign_delivery

from .helpers import add_listener, deliver, last_event, stored, url_of

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
    d = deliver(server, listener, BODY, headers(SECRET, BODY))
    assert d.status == 200, d.text
    event = stored(server, d)
    assert event.status == "accepted" and event.delivery_id == "7ba3ae4c-0b1b-4c7a-a1c5-2e3c1f0a9d11"


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
    d = deliver(server, listener, body, h)
    assert d.status == 401 and d.json() == {"error": "verification failed"}
    event = last_event(server, listener)
    assert event.status == "rejected" and expected in event.reason


def test_rotation(server):
    listener = add_listener(server, "bitbucket", {"secret": ["new", SECRET]})
    assert deliver(server, listener, BODY, headers(SECRET, BODY)).status == 200


def test_published_vector():
    listener = wk.Listener("bb", provider="bitbucket", verification={"secret": "test_secret"})
    request = sign_delivery(listener, b'{"id":"evt_1","type":"ping"}')
    assert request.header("X-Hub-Signature") == (
        "sha256=c8981352ceabcd9046e9f31c2c4e1e413ba5726b554ba23d29f0562b37cfcc5f")


def test_sign_output_accepted_and_redelivery_is_duplicate(server, listener):
    request = sign_delivery(listener, url=url_of(server, listener))
    assert request.header("X-Event-Key") == "repo:push" and request.header("X-Attempt-Number") == "1"
    first, second = post(request), post(request)
    assert stored(server, first).status == "accepted"
    assert second.status == 200 and stored(server, second).status == "duplicate"


HOSTILE_VALUES = ["", ";;,,", "sha256=", "ts=;h1=,t=,v1=zz", "9" * 40 + ",00", "\u00e9\u00e8",
                  "x" * 4000]


@pytest.mark.parametrize("name", ['X-Hub-Signature'])
@pytest.mark.parametrize("value", HOSTILE_VALUES)
def test_hostile_header_values_get_a_4xx_never_a_500(server, listener, name, value):
    body = BODY
    for bad_body in (body, b"\xff\xfe\x00"):
        d = deliver(server, listener, bad_body, {"Content-Type": "application/json", name: value})
        assert 400 <= d.status < 500, (d.status, d.text)
        assert last_event(server, listener).reason
