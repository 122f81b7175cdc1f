"""PagerDuty v3 over real HTTP: v1= signature list, rotation, X-Webhook-Id dedup."""

from __future__ import annotations

import hashlib
import hmac

import pytest

import webhook_kit as wk
from webhook_kit.client import sign_delivery

from ._contract import HOSTILE_HEADER_VALUES, accepted, hostile_header_refused, redelivered, refused, signed
from .helpers import add_listener, deliver

SECRET = "pd-webhook-secret"
BODY = wk.plugins.providers.get("pagerduty").sample().body


def v1(secret: str, body: bytes) -> str:
    return "v1=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def headers(signature: str | None) -> dict:
    h = {"Content-Type": "application/json", "X-Webhook-Id": "a1b2c3d4-0000-4000-8000-000000000001",
         "User-Agent": "PagerDuty-Webhook/V3.0"}
    if signature is not None:
        h["X-PagerDuty-Signature"] = signature
    return h


@pytest.fixture
def listener(server):
    return add_listener(server, "pagerduty", {"secret": SECRET})


def test_accepted_with_one_of_several_signatures(server, listener):
    delivery = deliver(server, listener, BODY, headers(f"{v1('old', BODY)},{v1(SECRET, BODY)}"))
    assert accepted(server, delivery).delivery_id == "a1b2c3d4-0000-4000-8000-000000000001"


@pytest.mark.parametrize("case, expected", [
    ("tampered", "signature in X-PagerDuty-Signature does not match"),
    ("wrong_secret", "signature in X-PagerDuty-Signature does not match"),
    ("missing", "missing header X-PagerDuty-Signature"),
    ("no_v1", "has no v1= signature"),
])
def test_rejected_with_reason(server, listener, case, expected):
    body, signature = BODY, v1(SECRET, BODY)
    if case == "tampered":
        body = BODY.replace(b"triggered", b"resolved", 1)
    elif case == "wrong_secret":
        signature = v1("other", BODY)
    elif case == "missing":
        signature = None
    elif case == "no_v1":
        signature = signature.replace("v1=", "v0=")
    refused(server, listener, deliver(server, listener, body, headers(signature)), expected)


def test_rotation_and_signer_emits_one_signature_per_secret(server):
    listener = add_listener(server, "pagerduty", {"secret": ["new", SECRET]})
    assert deliver(server, listener, BODY, headers(v1(SECRET, BODY))).status == 200
    signed = sign_delivery(listener, BODY)
    assert signed.header("X-PagerDuty-Signature") == f"{v1('new', BODY)},{v1(SECRET, BODY)}"


def test_published_vector():
    listener = wk.Listener("pd", provider="pagerduty", verification={"secret": "test_secret"})
    assert sign_delivery(listener, b'{"id":"evt_1","type":"ping"}').header("X-PagerDuty-Signature") == (
        "v1=c8981352ceabcd9046e9f31c2c4e1e413ba5726b554ba23d29f0562b37cfcc5f")


def test_sign_output_accepted_and_redelivery_is_duplicate(server, listener):
    redelivered(server, signed(server, listener))


@pytest.mark.parametrize("name", ['X-PagerDuty-Signature'])
@pytest.mark.parametrize("value", HOSTILE_HEADER_VALUES)
def test_hostile_header_values_get_a_4xx_never_a_500(server, listener, name, value):
    hostile_header_refused(server, listener, BODY, name, value)
