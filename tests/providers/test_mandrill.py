"""Mandrill over real HTTP: the HEAD probe, the self-computed vector (URL + sorted params), rejections, dedup."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from ._contract import (accepted, duplicate_recorded, garbage_is_refused_not_crashed,
                          hostile_inputs_never_raise, rejected, replaced,
                          send, signed, tampered, without)
from .helpers import add_listener, deliver, last_event

KEY = "test_secret"
URL = "https://example.com/mandrill"
BODY = urlencode({"mandrill_events": '[{"event":"send","_id":"abc","ts":1700000000}]'})
VECTOR = "4FF8in6kONVAz1J+pk+4Qgh9KEI="
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture
def listener(server):
    return add_listener(server, "mandrill", {"secret": KEY, "public_url": URL})


def test_head_probe_answered_200(server, listener):
    d = deliver(server, listener, b"", {}, method="HEAD")
    assert d.status == 200
    assert last_event(server, listener).status == "handshake"


def test_self_computed_vector_and_our_signer(server, listener):
    event = accepted(server, deliver(server, listener, BODY, {**FORM, "X-Mandrill-Signature": VECTOR}))
    assert event.delivery_id == "abc"
    assert signed(server, listener, BODY, content_type=FORM["Content-Type"]).header("X-Mandrill-Signature") == VECTOR


def test_sample_signed_for_the_arrival_url_is_accepted(server):
    listener = add_listener(server, "mandrill", {"secret": KEY}, "local")
    accepted(server, send(signed(server, listener)))


@pytest.mark.parametrize("case, reason", [
    ("tampered", "signature in X-Mandrill-Signature does not match"),
    ("wrong_secret", "signature in X-Mandrill-Signature does not match"),
    ("missing", "missing header X-Mandrill-Signature"),
    ("bad_base64", "does not match"),
])
def test_rejected_with_reason(server, listener, case, reason):
    request = signed(server, listener)
    if case == "tampered":
        request = tampered(request)
    elif case == "wrong_secret":
        other = add_listener(server, "mandrill", {"secret": "other", "public_url": URL}, "other")
        request = replaced(request, X_Mandrill_Signature=signed(server, other, request.body,
                                                                content_type=FORM["Content-Type"]).header("X-Mandrill-Signature"))
    elif case == "missing":
        request = without(request, "X-Mandrill-Signature")
    elif case == "bad_base64":
        request = replaced(request, X_Mandrill_Signature="====")
    rejected(server, listener, send(request), reason)


def test_rotation_any_key_matches(server):
    listener = add_listener(server, "mandrill", {"secret": ["new", KEY], "public_url": URL})
    accepted(server, deliver(server, listener, BODY, {**FORM, "X-Mandrill-Signature": VECTOR}))


def test_redelivered_batch_is_duplicate(server, listener):
    duplicate_recorded(server, signed(server, listener))


def test_hostile_input_never_raises(server):
    assert hostile_inputs_never_raise("mandrill", {"secret": "s"}) > 100
    garbage_is_refused_not_crashed(server, add_listener(server, "mandrill", {"secret": "s"}, "hostile"))
