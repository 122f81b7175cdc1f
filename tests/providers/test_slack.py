"""Slack over real HTTP: Slack's published vector, slack_sdk both ways, url_verification, rejections, dedup."""

from __future__ import annotations

import json
import time

import pytest

from webhook_kit.model import Headers, Request

from ._contract import (accepted, duplicate_recorded, garbage_is_refused_not_crashed,
                          hostile_inputs_never_raise, provider, rejected, replaced, send, signed,
                          tampered, without)
from .helpers import add_listener, deliver, last_event

signature = pytest.importorskip("slack_sdk.signature", reason="slack_sdk not importable")

DOCS_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
DOCS_TS = "1531420618"
DOCS_BODY = ("token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V"
             "&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text="
             "&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN"
             "&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c")
DOCS_SIGNATURE = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
FORM = "application/x-www-form-urlencoded"


@pytest.fixture
def listener(server):
    return add_listener(server, "slack", {"secret": DOCS_SECRET})


def sdk_headers(body: str, ts: str | None = None) -> dict:
    ts = ts or str(int(time.time()))
    sig = signature.SignatureVerifier(DOCS_SECRET).generate_signature(timestamp=ts, body=body)
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": sig}


def test_docs_vector_with_pinned_clock(server, listener):
    p = provider("slack")
    request = Request("POST", "http://127.0.0.1/hooks/slack",
                      Headers({"Content-Type": FORM, "X-Slack-Request-Timestamp": DOCS_TS,
                               "X-Slack-Signature": DOCS_SIGNATURE}), DOCS_BODY)
    assert p.verify(request, listener.settings(), now=int(DOCS_TS) + 10).ok
    assert p.sign(request, listener.settings(), now=int(DOCS_TS)).header("X-Slack-Signature") == DOCS_SIGNATURE
    # over HTTP the 2018 timestamp is refused for age only: the signature itself matched
    d = deliver(server, listener, DOCS_BODY, {"Content-Type": FORM, "X-Slack-Request-Timestamp": DOCS_TS,
                                              "X-Slack-Signature": DOCS_SIGNATURE})
    assert rejected(server, listener, d, "timestamp too old").details["skew_seconds"] > 300


def test_sdk_signs_and_our_server_accepts(server, listener):
    accepted(server, deliver(server, listener, DOCS_BODY, {"Content-Type": FORM, **sdk_headers(DOCS_BODY)}))


def test_our_signer_and_the_sdk_verifier_agree(server, listener):
    request = signed(server, listener)
    assert signature.SignatureVerifier(DOCS_SECRET).is_valid_request(request.body, dict(request.headers.items()))
    accepted(server, send(request))


def test_url_verification_answered_only_when_signed(server, listener):
    body = json.dumps({"token": "Jhj5dZrVaK7ZwHHjRyZWjbDl", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
                       "type": "url_verification"})
    d = deliver(server, listener, body, {"Content-Type": "application/json", **sdk_headers(body)})
    assert d.status == 200 and d.json() == {"challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}
    assert last_event(server, listener).status == "handshake"
    forged = deliver(server, listener, body, {"Content-Type": "application/json", "X-Slack-Request-Timestamp":
                                              str(int(time.time())), "X-Slack-Signature": "v0=" + "0" * 64})
    assert "3eZbrw" not in forged.text
    rejected(server, listener, forged, "signature in X-Slack-Signature does not match")


@pytest.mark.parametrize("case, reason", [
    ("tampered", "signature in X-Slack-Signature does not match"),
    ("wrong_secret", "signature in X-Slack-Signature does not match"),
    ("missing", "missing header X-Slack-Signature"),
    ("missing_ts", "missing header X-Slack-Request-Timestamp"),
    ("bad_ts", "header X-Slack-Request-Timestamp is not a unix timestamp"),
    ("stale", "timestamp too old"),
    ("future", "timestamp too new"),
])
def test_rejected_with_reason(server, listener, case, reason):
    request = signed(server, listener)
    if case == "tampered":
        request = tampered(request)
    elif case == "wrong_secret":
        other = signature.SignatureVerifier("another-secret").generate_signature(
            timestamp=request.header("X-Slack-Request-Timestamp"), body=request.body)
        request = replaced(request, X_Slack_Signature=other)
    elif case == "missing":
        request = without(request, "X-Slack-Signature")
    elif case == "missing_ts":
        request = without(request, "X-Slack-Request-Timestamp")
    elif case == "bad_ts":
        request = replaced(request, X_Slack_Request_Timestamp="yesterday")
    elif case == "stale":
        request = signed(server, listener, now=time.time() - 301)
    elif case == "future":
        request = signed(server, listener, now=time.time() + 400)
    event = rejected(server, listener, send(request), reason)
    if case in ("stale", "future"):
        assert abs(event.details["skew_seconds"]) >= 300


def test_rotation_any_secret_matches(server):
    listener = add_listener(server, "slack", {"secret": ["new-signing-secret", DOCS_SECRET]})
    accepted(server, deliver(server, listener, DOCS_BODY, {"Content-Type": FORM, **sdk_headers(DOCS_BODY)}))


def test_retried_event_is_duplicate(server, listener):
    event = duplicate_recorded(server, signed(server, listener))
    assert event.delivery_id.startswith("Ev")


def test_hostile_input_never_raises(server):
    assert hostile_inputs_never_raise("slack", {"secret": "s"}) > 100
    garbage_is_refused_not_crashed(server, add_listener(server, "slack", {"secret": "s"}, "hostile"))
