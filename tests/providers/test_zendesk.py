"""Zendesk over real HTTP: the documented test secret's vector, our signer, rejections incl. stale, dedup."""

from __future__ import annotations

import time

import pytest

from webhook_kit.model import Headers, Request

from ._contract import (accepted, duplicate_recorded, garbage_is_refused_not_crashed,
                          hostile_inputs_never_raise, provider, rejected, replaced, send, signed,
                          tampered, without)
from .helpers import add_listener, deliver

TEST_SECRET = "dGhpc19zZWNyZXRfaXNfZm9yX3Rlc3Rpbmdfb25seQ=="
STAMP = "2021-01-01T00:00:00Z"
BODY = '{"id":"evt_1","type":"ping"}'
VECTOR = "YNE1wFVz3ZO0brrBwqJUZOjB8htkVWvGL34SkG8cMH0="
SIG, TS = "X-Zendesk-Webhook-Signature", "X-Zendesk-Webhook-Signature-Timestamp"


@pytest.fixture
def listener(server):
    return add_listener(server, "zendesk", {"secret": TEST_SECRET})


def test_test_secret_vector_with_pinned_clock(server, listener):
    p, settings = provider("zendesk"), listener.settings()
    request = Request("POST", "http://x/", Headers({SIG: VECTOR, TS: STAMP}), BODY)
    assert p.verify(request, settings, now=1609459200 + 5).ok
    assert p.sign(request, settings, now=1609459200).header(SIG) == VECTOR
    d = deliver(server, listener, BODY, {"Content-Type": "application/json", SIG: VECTOR, TS: STAMP})
    rejected(server, listener, d, "timestamp too old")


def test_sample_signed_and_accepted(server, listener):
    accepted(server, send(signed(server, listener)))


@pytest.mark.parametrize("case, reason", [
    ("tampered", f"signature in {SIG} does not match"),
    ("wrong_secret", f"signature in {SIG} does not match"),
    ("missing", f"missing header {SIG}"),
    ("missing_ts", f"missing header {TS}"),
    ("bad_ts", f"header {TS} is not an ISO-8601 timestamp"),
    ("stale", "timestamp too old"),
])
def test_rejected_with_reason(server, listener, case, reason):
    request = signed(server, listener)
    if case == "tampered":
        request = tampered(request)
    elif case == "wrong_secret":
        request = replaced(request, **{SIG.replace("-", "_"): provider("zendesk").sign(
            request, {"secret": "other"}).header(SIG)})
    elif case == "missing":
        request = without(request, SIG)
    elif case == "missing_ts":
        request = without(request, TS)
    elif case == "bad_ts":
        request = replaced(request, **{TS.replace("-", "_"): "2021-13-45T99:00:00Z"})
    elif case == "stale":
        request = signed(server, listener, now=time.time() - 301)
    event = rejected(server, listener, send(request), reason)
    if case == "stale":
        assert event.details["skew_seconds"] >= 300


def test_rotation_any_secret_matches(server):
    listener = add_listener(server, "zendesk", {"secret": ["new-secret", TEST_SECRET]})
    request = signed(server, add_listener(server, "zendesk", {"secret": TEST_SECRET}, "signer"))
    accepted(server, deliver(server, listener, request.body, dict(request.headers.items())))


def test_redelivery_is_duplicate(server, listener):
    duplicate_recorded(server, signed(server, listener))


def test_hostile_input_never_raises(server):
    assert hostile_inputs_never_raise("zendesk", {"secret": "s"}) > 100
    garbage_is_refused_not_crashed(server, add_listener(server, "zendesk", {"secret": "s"}, "hostile"))
