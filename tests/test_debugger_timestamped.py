"""The signature debugger on timestamped schemes (Stripe, Slack): signed bytes and expected values."""

from __future__ import annotations

import hashlib
import hmac
import time

import webhook_kit as wk
from webhook_kit.debugger import explain, reverify
from tests.providers.helpers import add_listener, deliver, last_event

BODY = b'{"id":"evt_1","type":"ping"}'


def test_stripe_wrong_secret_shows_signed_bytes_and_expected(server):
    listener = add_listener(server, "stripe", {"secret": "whsec_right"})
    t = str(int(time.time()))
    wrong = hmac.new(b"whsec_wrong", f"{t}.".encode() + BODY, hashlib.sha256).hexdigest()
    reply = deliver(server, listener, BODY, {"Content-Type": "application/json",
                                            "Stripe-Signature": f"t={t},v1={wrong}"})
    assert reply.status == 401
    why = explain(last_event(server, listener), listener)
    assert why.ok is False
    assert why.signed_bytes == f"{t}.".encode() + BODY
    right = hmac.new(b"whsec_right", why.signed_bytes, hashlib.sha256).hexdigest()
    assert right in why.expected
    assert wrong in why.to_text()
    assert reverify(last_event(server, listener), listener, {"secret": "whsec_wrong"}).ok


def test_slack_stale_timestamp_shows_skew_and_signed_bytes(server):
    listener = add_listener(server, "slack", {"secret": "slack-secret"})
    t = str(int(time.time()) - 3600)
    sig = "v0=" + hmac.new(b"slack-secret", f"v0:{t}:".encode() + BODY, hashlib.sha256).hexdigest()
    reply = deliver(server, listener, BODY, {"Content-Type": "application/json",
                                            "X-Slack-Request-Timestamp": t, "X-Slack-Signature": sig})
    assert reply.status == 401
    why = explain(last_event(server, listener), listener)
    assert why.signed_bytes == f"v0:{t}:".encode() + BODY
    assert "clock_skew" in [h["code"] for h in why.hints]
