"""Stripe over real HTTP: the stripe SDK signs and verifies, the SDK-computed vector, rejections, dedup."""

from __future__ import annotations

import json
import time

import pytest

from ._contract import (accepted, duplicate_recorded, garbage_is_refused_not_crashed,
                          hostile_inputs_never_raise, provider, rejected, replaced, send, signed,
                          tampered, without)
from .helpers import add_listener, deliver

stripe = pytest.importorskip("stripe", reason="stripe SDK not importable")

SECRET = "whsec_test_secret"
BODY = '{"id":"evt_1","type":"ping"}'
VECTOR = "t=1700000000,v1=74a11abdd08483d064a2a1571e7881b084c522f9f3ccd0b800ec8c74aba47fc2"
JSON = {"Content-Type": "application/json"}


@pytest.fixture
def listener(server):
    return add_listener(server, "stripe", {"secret": SECRET})


def test_sdk_signs_and_our_server_accepts(server, listener):
    header = stripe.WebhookSignature.generate_signature_header(BODY, SECRET)
    event = accepted(server, deliver(server, listener, BODY, {**JSON, "Stripe-Signature": header}))
    assert event.delivery_id == "evt_1"


def test_our_signer_and_the_sdk_verifier_agree(server, listener):
    request = signed(server, listener)
    event = stripe.Webhook.construct_event(request.body.decode(), request.header("Stripe-Signature"), SECRET)
    assert event["id"] == json.loads(request.body)["id"]
    accepted(server, send(request))


def test_sdk_computed_vector_with_pinned_clock(server, listener):
    p, settings = provider("stripe"), listener.settings()
    request = signed(server, listener, BODY, now=1700000000)
    assert request.header("Stripe-Signature") == VECTOR
    assert p.verify(request, settings, now=1700000100).ok
    assert "too old" in p.verify(request, settings, now=1700000301).reason
    # the vector itself is stale today, so over HTTP it is refused for age, not signature
    d = deliver(server, listener, BODY, {**JSON, "Stripe-Signature": VECTOR})
    assert rejected(server, listener, d, "timestamp too old").details["skew_seconds"] > 300


@pytest.mark.parametrize("case, reason", [
    ("tampered", "no v1 signature in Stripe-Signature matches"),
    ("wrong_secret", "no v1 signature in Stripe-Signature matches"),
    ("missing", "missing header Stripe-Signature"),
    ("stale", "timestamp too old"),
    ("no_t", "has no t= timestamp"),
    ("bad_t", "not a unix timestamp"),
    ("v0_only", "has no v1= signature"),
])
def test_rejected_with_reason(server, listener, case, reason):
    request = signed(server, listener)
    t = int(time.time())
    if case == "tampered":
        request = tampered(request)
    elif case == "wrong_secret":
        request = replaced(request, Stripe_Signature=stripe.WebhookSignature.generate_signature_header(
            request.body.decode(), "whsec_other"))
    elif case == "missing":
        request = without(request, "Stripe-Signature")
    elif case == "stale":
        request = signed(server, listener, now=t - 301)
    elif case == "no_t":
        request = replaced(request, Stripe_Signature=request.header("Stripe-Signature").split(",", 1)[1])
    elif case == "bad_t":
        request = replaced(request, Stripe_Signature="t=12ab," + request.header("Stripe-Signature").split(",", 1)[1])
    elif case == "v0_only":  # a downgrade to the fake test-mode scheme is not a signature
        request = replaced(request, Stripe_Signature=request.header("Stripe-Signature").replace("v1=", "v0="))
    event = rejected(server, listener, send(request), reason)
    if case == "stale":
        assert event.details["skew_seconds"] >= 300


def test_future_timestamps_pass_as_in_stripe_python(server, listener):
    accepted(server, send(signed(server, listener, now=time.time() + 3600)))


def test_rotation_any_secret_matches_and_signer_sends_one_v1_per_secret(server):
    listener = add_listener(server, "stripe", {"secret": ["whsec_new", SECRET]})
    header = stripe.WebhookSignature.generate_signature_header(BODY, SECRET)
    accepted(server, deliver(server, listener, BODY, {**JSON, "Stripe-Signature": header}))
    request = signed(server, listener)
    assert request.header("Stripe-Signature").count(",v1=") == 2


def test_redelivery_of_the_same_event_is_duplicate(server, listener):
    duplicate_recorded(server, signed(server, listener))


def test_hostile_input_never_raises(server):
    assert hostile_inputs_never_raise("stripe", {"secret": "whsec_x"}) > 100
    garbage_is_refused_not_crashed(server, add_listener(server, "stripe", {"secret": "whsec_x"}, "hostile"))
