"""Zoom over real HTTP: the CRC vector (elastic/beats), endpoint.url_validation, rejections, dedup."""

from __future__ import annotations

import json
import time

import pytest

from ._contract import (accepted, duplicate_recorded, garbage_is_refused_not_crashed,
                          hostile_inputs_never_raise, provider, rejected, replaced, send, signed,
                          tampered, without)
from .helpers import add_listener, last_event

CRC_SECRET = "secretValueTest"
PLAIN = "qgg8vlvZRS6UYooatFL8Aw"
ENCRYPTED = "70c1f2e2e6ca2d39297490d1f9142c7d701415ea8e6151f6562a08fa657a40ff"
VALIDATION = json.dumps({"payload": {"plainToken": PLAIN}, "event_ts": 1654503849680,
                         "event": "endpoint.url_validation"})


@pytest.fixture
def listener(server):
    return add_listener(server, "zoom", {"secret": CRC_SECRET})


def test_url_validation_answers_the_published_crc_vector(server, listener):
    d = send(signed(server, listener, VALIDATION))
    assert d.status == 200 and d.json() == {"plainToken": PLAIN, "encryptedToken": ENCRYPTED}
    assert last_event(server, listener).status == "handshake"


def test_url_validation_with_a_rotated_secret_uses_the_matching_one(server):
    listener = add_listener(server, "zoom", {"secret": ["new-token", CRC_SECRET]})
    request = signed(server, listener, VALIDATION)
    request = provider("zoom").sign(request, {"secret": CRC_SECRET})  # Zoom still signs with the old one
    assert send(request).json()["encryptedToken"] == ENCRYPTED


def test_unsigned_url_validation_is_not_answered(server, listener):
    forged = replaced(signed(server, listener, VALIDATION), x_zm_signature="v0=" + "0" * 64)
    d = send(forged)
    assert ENCRYPTED not in d.text
    rejected(server, listener, d, "signature in x-zm-signature does not match")


def test_self_computed_signature_vector(listener):
    from webhook_kit.model import Headers, Request
    request = Request("POST", "http://x/", Headers(), '{"id":"evt_1","type":"ping"}')
    out = provider("zoom").sign(request, {"secret": "test_secret"}, now=1700000000)
    assert out.header("x-zm-signature") == "v0=16464320cd663994973d78eb61ef00d7de125d6e7894a9160fe25b04d30867ef"


def test_sample_signed_and_accepted(server, listener):
    accepted(server, send(signed(server, listener)))


@pytest.mark.parametrize("case, reason", [
    ("tampered", "signature in x-zm-signature does not match"),
    ("wrong_secret", "signature in x-zm-signature does not match"),
    ("missing", "missing header x-zm-signature"),
    ("missing_ts", "missing header x-zm-request-timestamp"),
    ("bad_ts", "is not a unix timestamp"),
    ("stale", "timestamp too old"),
])
def test_rejected_with_reason(server, listener, case, reason):
    request = signed(server, listener)
    if case == "tampered":
        request = tampered(request)
    elif case == "wrong_secret":
        other = provider("zoom").sign(request, {"secret": "other"})
        request = replaced(request, x_zm_signature=other.header("x-zm-signature"))
    elif case == "missing":
        request = without(request, "x-zm-signature")
    elif case == "missing_ts":
        request = without(request, "x-zm-request-timestamp")
    elif case == "bad_ts":
        request = replaced(request, x_zm_request_timestamp="\u00bd")
    elif case == "stale":
        request = signed(server, listener, now=time.time() - 301)
    rejected(server, listener, send(request), reason)


def test_rotation_any_secret_matches(server):
    listener = add_listener(server, "zoom", {"secret": ["new-token", CRC_SECRET]})
    accepted(server, send(provider("zoom").sign(signed(server, listener), {"secret": CRC_SECRET})))


def test_redelivery_is_duplicate(server, listener):
    event = duplicate_recorded(server, signed(server, listener))
    assert event.delivery_id.startswith("meeting.started:")


def test_hostile_input_never_raises(server):
    assert hostile_inputs_never_raise("zoom", {"secret": "s"}) > 100
    garbage_is_refused_not_crashed(server, add_listener(server, "zoom", {"secret": "s"}, "hostile"))
