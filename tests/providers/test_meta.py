"""Meta over real HTTP: X-Hub-Signature-256; GET hub.challenge with hub.verify_token (redacted)."""

from __future__ import annotations

import hashlib
import hmac

import pytest

import webhook_kit as wk
from webhook_kit.client import post, sign_delivery

from ._contract import HOSTILE_HEADER_VALUES, hostile_header_refused, refused
from .helpers import add_listener, deliver, last_event, stored, url_of

SECRET = "meta-app-secret"
VERIFY = "my-verify-token-42"
BODY = wk.plugins.providers.get("meta").sample().body


def headers(secret: str | None, body: bytes = BODY) -> dict:
    h = {"Content-Type": "application/json"}
    if secret is not None:
        h["X-Hub-Signature-256"] = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return h


@pytest.fixture
def listener(server):
    return add_listener(server, "meta", {"secret": SECRET, "verify_token": VERIFY})


def test_accepted(server, listener):
    d = deliver(server, listener, BODY, headers(SECRET))
    assert d.status == 200, d.text
    assert stored(server, d).payload["object"] == "whatsapp_business_account"


def test_non_ascii_escaped_body_verified_over_raw_bytes(server, listener):
    body = b'{"object":"page","entry":[{"id":"1","messaging":[{"message":{"text":"caf\\u00e9"}}]}]}'
    d = deliver(server, listener, body, headers(SECRET, body))
    assert d.status == 200 and stored(server, d).payload["entry"][0]["messaging"][0]["message"]["text"] == "café"


@pytest.mark.parametrize("case, expected", [
    ("tampered", "signature in X-Hub-Signature-256 does not match"),
    ("wrong_secret", "signature in X-Hub-Signature-256 does not match"),
    ("missing", "missing header X-Hub-Signature-256"),
])
def test_rejected_with_reason(server, listener, case, expected):
    body, h = BODY, headers(SECRET)
    if case == "tampered":
        body = BODY.replace(b"color", b"colour")
    elif case == "wrong_secret":
        h = headers("other")
    elif case == "missing":
        h = headers(None)
    refused(server, listener, deliver(server, listener, body, h), expected, exact=True)


def test_handshake_echoes_challenge_and_redacts_token(server, listener):
    query = f"hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token={VERIFY}"
    d = deliver(server, listener, b"", {}, method="GET", query=query)
    assert d.status == 200 and d.text == "1158201444"
    assert d.headers.get("Content-Type").startswith("text/plain")
    assert d.headers.get("X-Content-Type-Options") == "nosniff"  # the echo is attacker-chosen text
    event = last_event(server, listener)
    assert event.status == "handshake"
    assert VERIFY not in event.url and VERIFY not in event.query
    assert "query:hub.verify_token" in event.redactions


@pytest.mark.parametrize("query", [
    "hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=wrong",
    "hub.mode=subscribe&hub.challenge=1158201444",
    "hub.mode=unsubscribe&hub.challenge=1158201444&hub.verify_token=" + VERIFY,
])
def test_handshake_refused_403(server, listener, query):
    d = deliver(server, listener, b"", {}, method="GET", query=query)
    assert d.status == 403 and "1158201444" not in d.text
    event = last_event(server, listener)
    assert event.status == "rejected" and "wrong" not in event.url


def test_rotation(server):
    listener = add_listener(server, "meta", {"secret": ["new", SECRET], "verify_token": VERIFY})
    assert deliver(server, listener, BODY, headers(SECRET)).status == 200


def test_published_vector():
    listener = wk.Listener("m", provider="meta", verification={"secret": "test_secret", "verify_token": "v"})
    assert sign_delivery(listener, b'{"id":"evt_1","type":"ping"}').header("X-Hub-Signature-256") == (
        "sha256=c8981352ceabcd9046e9f31c2c4e1e413ba5726b554ba23d29f0562b37cfcc5f")


def test_sign_output_accepted(server, listener):
    assert post(sign_delivery(listener, url=url_of(server, listener))).status == 200


@pytest.mark.parametrize("name", ['X-Hub-Signature-256'])
@pytest.mark.parametrize("value", HOSTILE_HEADER_VALUES)
def test_hostile_header_values_get_a_4xx_never_a_500(server, listener, name, value):
    hostile_header_refused(server, listener, BODY, name, value)
