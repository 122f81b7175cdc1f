"""Postmark over real HTTP: Basic credentials from the webhook URL, redacted; event dedup."""

from __future__ import annotations

import base64

import pytest

import webhook_kit as wk
from webhook_kit.client import post, sign_delivery

from ._contract import HOSTILE_HEADER_VALUES, accepted, hostile_header_refused, redelivered, signed
from .helpers import add_listener, deliver, last_event, stored, url_of

BODY = wk.plugins.providers.get("postmark").sample().body


def basic(user: str, password: str) -> dict:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Content-Type": "application/json", "Authorization": f"Basic {token}"}


@pytest.fixture
def listener(server):
    return add_listener(server, "postmark", {"username": "pm", "password": "s3cret-pass"})


def test_accepted_credentials_redacted(server, listener):
    event = accepted(server, deliver(server, listener, BODY, basic("pm", "s3cret-pass")))
    assert event.delivery_id == "Delivery:883953f4-6105-42a2-a16a-77a8eac79483:2024-01-01T12:00:00Z"
    assert event.header_map.get("Authorization") == "[redacted]"


@pytest.mark.parametrize("headers, expected", [
    (basic("pm", "wrong"), "Basic credentials do not match"),
    (basic("other", "s3cret-pass"), "Basic credentials do not match"),
    ({"Content-Type": "application/json"}, "missing header Authorization"),
    ({"Authorization": "Bearer abc"}, "not Basic"),
])
def test_rejected_with_reason(server, listener, headers, expected):
    d = deliver(server, listener, BODY, headers)
    assert d.status == 401 and d.json() == {"error": "verification failed"}
    assert d.headers.get("WWW-Authenticate", "").startswith("Basic")
    event = last_event(server, listener)
    assert event.status == "rejected" and expected in event.reason
    assert "wrong" not in repr(event.headers)


def test_rotation(server):
    listener = add_listener(server, "postmark", {"username": "pm", "password": ["new", "s3cret-pass"]})
    assert deliver(server, listener, BODY, basic("pm", "s3cret-pass")).status == 200


def test_sign_output_accepted_and_redelivery_is_duplicate(server, listener):
    redelivered(server, signed(server, listener))
    bounce = (b'{"RecordType":"Bounce","ID":4323372036854775807,"Type":"HardBounce","MessageID":'
              b'"883953f4-6105-42a2-a16a-77a8eac79483","BouncedAt":"2024-01-01T12:05:00Z"}')
    assert stored(server, post(sign_delivery(listener, bounce, url=url_of(server, listener)))).status == "accepted"


@pytest.mark.parametrize("name", ['Authorization'])
@pytest.mark.parametrize("value", HOSTILE_HEADER_VALUES)
def test_hostile_header_values_get_a_4xx_never_a_500(server, listener, name, value):
    hostile_header_refused(server, listener, BODY, name, value)
