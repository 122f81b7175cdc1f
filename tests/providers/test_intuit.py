"""QuickBooks Online (Intuit) over real HTTP: intuit-signature base64; CloudEvents id dedup."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest

import webhook_kit as wk
from webhook_kit.client import sign_delivery

from ._contract import HOSTILE_HEADER_VALUES, accepted, hostile_header_refused, redelivered, refused, signed
from .helpers import add_listener, deliver, stored

SECRET = "intuit-verifier-token"
BODY = wk.plugins.providers.get("intuit").sample().body


def headers(secret: str | None, body: bytes = BODY) -> dict:
    h = {"Content-Type": "application/json"}
    if secret is not None:
        digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
        h["intuit-signature"] = base64.b64encode(digest).decode()
    return h


@pytest.fixture
def listener(server):
    return add_listener(server, "intuit", {"secret": SECRET})


def test_accepted(server, listener):
    assert accepted(server, deliver(server, listener, BODY, headers(SECRET))).delivery_id == (
        "88cd52ec-1b2a-4a65-9f6c-7c0e2a4c91d3")


def test_batch_gets_one_stable_dedup_id(server, listener):
    events = json.loads(BODY) + [dict(json.loads(BODY)[0], id="second-id")]
    body = json.dumps(events).encode()
    first = stored(server, deliver(server, listener, body, headers(SECRET, body)))
    second = stored(server, deliver(server, listener, body, headers(SECRET, body)))
    assert first.delivery_id.startswith("batch:") and first.delivery_id == second.delivery_id
    assert second.status == "duplicate"


def test_legacy_body_accepted_without_dedup_id(server, listener):
    body = (b'{"eventNotifications":[{"realmId":"1185883450","dataChangeEvent":{"entities":'
            b'[{"name":"Customer","id":"1","operation":"Create","lastUpdated":"2024-01-01T12:00:00.000Z"}]}}]}')
    event = stored(server, deliver(server, listener, body, headers(SECRET, body)))
    assert event.status == "accepted" and event.delivery_id is None


@pytest.mark.parametrize("case, expected", [
    ("tampered", "signature in intuit-signature does not match"),
    ("wrong_secret", "signature in intuit-signature does not match"),
    ("missing", "missing header intuit-signature"),
])
def test_rejected_with_reason(server, listener, case, expected):
    body, h = BODY, headers(SECRET)
    if case == "tampered":
        body = BODY.replace(b"1234", b"9999")
    elif case == "wrong_secret":
        h = headers("other")
    elif case == "missing":
        h = headers(None)
    refused(server, listener, deliver(server, listener, body, h), expected, exact=True)


def test_rotation(server):
    listener = add_listener(server, "intuit", {"secret": ["new", SECRET]})
    assert deliver(server, listener, BODY, headers(SECRET)).status == 200


def test_published_vector():
    listener = wk.Listener("qbo", provider="intuit", verification={"secret": "test_secret"})
    assert sign_delivery(listener, b'{"id":"evt_1","type":"ping"}').header("intuit-signature") == (
        "yJgTUs6rzZBG6fMcLE4eQTulcmtVS6I9KfBWKzfPzF8=")


def test_sign_output_accepted_and_redelivery_is_duplicate(server, listener):
    redelivered(server, signed(server, listener))


@pytest.mark.parametrize("name", ['intuit-signature'])
@pytest.mark.parametrize("value", HOSTILE_HEADER_VALUES)
def test_hostile_header_values_get_a_4xx_never_a_500(server, listener, name, value):
    hostile_header_refused(server, listener, BODY, name, value)
