"""Standard Webhooks / Svix over real HTTP: the spec's vector, standardwebhooks and svix both ways."""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone

import pytest

from webhook_kit.model import Headers, Request

from ._contract import (accepted, duplicate_recorded, garbage_is_refused_not_crashed,
                          hostile_inputs_never_raise, provider, rejected, replaced, send, signed,
                          tampered, without)
from .helpers import add_listener, deliver

standardwebhooks = pytest.importorskip("standardwebhooks", reason="standardwebhooks not importable")

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
MSG_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
TS = 1614265330
PAYLOAD = '{"test": 2432232314}'
EXPECTED = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
NEAR_MISS = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OA="


@pytest.fixture
def listener(server):
    return add_listener(server, "standard-webhooks", {"secret": SECRET})


def vector_request(sig: str = EXPECTED) -> Request:
    return Request("POST", "http://127.0.0.1/hooks/x", Headers({
        "Content-Type": "application/json", "webhook-id": MSG_ID, "webhook-timestamp": str(TS),
        "webhook-signature": sig}), PAYLOAD)


def test_spec_vector_with_pinned_clock(listener):
    p, settings = provider("standard-webhooks"), listener.settings()
    assert p.verify(vector_request(), settings, now=TS).ok
    assert not p.verify(vector_request(NEAR_MISS), settings, now=TS).ok
    wrong = "Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc="
    multi = f"v1,{wrong} v2,{wrong} {EXPECTED} v1,{wrong}"
    assert p.verify(vector_request(multi), settings, now=TS).ok
    ours = p.sign(Request("POST", "http://x/", Headers({"webhook-id": MSG_ID}), PAYLOAD), settings, now=TS)
    assert ours.header("webhook-signature") == EXPECTED


@pytest.mark.parametrize("sdk", ["standardwebhooks", "svix"])
def test_sdk_signs_and_our_server_accepts(server, sdk):
    module = pytest.importorskip(f"{sdk}.webhooks", reason=f"{sdk} not importable")
    listener = add_listener(server, "svix" if sdk == "svix" else "standard-webhooks", {"secret": SECRET}, sdk)
    now = datetime.now(timezone.utc)
    sig = module.Webhook(SECRET).sign("msg_loopback", now, PAYLOAD)
    prefix = "svix" if sdk == "svix" else "webhook"
    event = accepted(server, deliver(server, listener, PAYLOAD, {
        "Content-Type": "application/json", f"{prefix}-id": "msg_loopback",
        f"{prefix}-timestamp": str(int(now.timestamp())), f"{prefix}-signature": sig}))
    assert event.delivery_id == "msg_loopback"


@pytest.mark.parametrize("sdk, style", [("standardwebhooks", "webhook"), ("svix", "svix")])
def test_our_signer_and_the_sdk_verifier_agree(server, sdk, style):
    module = pytest.importorskip(f"{sdk}.webhooks", reason=f"{sdk} not importable")
    listener = add_listener(server, "standard-webhooks", {"secret": SECRET, "header_style": style}, style)
    request = signed(server, listener)
    assert request.header(f"{style}-signature").startswith("v1,")
    module.Webhook(SECRET).verify(request.body.decode(), dict(request.headers.items()))  # raises if invalid
    accepted(server, send(request))


@pytest.mark.parametrize("case, reason", [
    ("tampered", "no v1 signature in webhook-signature matches"),
    ("wrong_secret", "no v1 signature in webhook-signature matches"),
    ("missing", "missing header webhook-signature"),
    ("missing_id", "missing header webhook-id"),
    ("bad_ts", "header webhook-timestamp is not a unix timestamp"),
    ("stale", "timestamp too old"),
    ("future", "timestamp too new"),
    ("only_v2", "has no v1 signature"),
])
def test_rejected_with_reason(server, listener, case, reason):
    request = signed(server, listener)
    if case == "tampered":
        request = tampered(request)
    elif case == "wrong_secret":
        other = standardwebhooks.webhooks.Webhook("whsec_" + "QUJDREVGR0hJSktMTU5PUA==").sign(
            request.header("webhook-id"), datetime.now(timezone.utc), request.body.decode())
        request = replaced(request, webhook_signature=other)
    elif case == "missing":
        request = without(request, "webhook-signature")
    elif case == "missing_id":
        request = without(request, "webhook-id")
    elif case == "bad_ts":
        request = replaced(request, webhook_timestamp="1.5e9")
    elif case == "stale":
        request = signed(server, listener, now=time.time() - 301)
    elif case == "future":
        request = signed(server, listener, now=time.time() + 301)
    elif case == "only_v2":
        request = replaced(request, webhook_signature=request.header("webhook-signature").replace("v1,", "v2,"))
    rejected(server, listener, send(request), reason)


def test_rotation_any_secret_matches(server):
    listener = add_listener(server, "standard-webhooks", {"secret": ["whsec_QUJDREVGR0hJSktMTU5PUA==", SECRET]})
    now = datetime.now(timezone.utc)
    sig = standardwebhooks.webhooks.Webhook(SECRET).sign("msg_rot", now, PAYLOAD)
    accepted(server, deliver(server, listener, PAYLOAD, {
        "Content-Type": "application/json", "webhook-id": "msg_rot",
        "webhook-timestamp": str(int(now.timestamp())), "webhook-signature": sig}))
    assert len(signed(server, listener).header("webhook-signature").split()) == 2


def test_unusable_secret_is_a_configuration_error(server):
    listener = add_listener(server, "standard-webhooks", {"secret": "whsec_not*base64!"}, "bad")
    request = signed(server, add_listener(server, "standard-webhooks", {"secret": SECRET}, "good"))
    d = deliver(server, listener, request.body, dict(request.headers.items()))
    event = rejected(server, listener, d, "must be base64", status=503)
    assert "whsec_not" not in json.dumps(event.to_dict())


def test_retried_message_is_duplicate(server, listener):
    duplicate_recorded(server, signed(server, listener))


def test_hostile_input_never_raises(server):
    assert hostile_inputs_never_raise("standard-webhooks", {"secret": SECRET}) > 100
    garbage_is_refused_not_crashed(server, add_listener(server, "standard-webhooks", {"secret": SECRET}, "hostile"))
