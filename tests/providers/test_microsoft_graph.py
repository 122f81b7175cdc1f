"""Microsoft Graph over real HTTP: POST ?validationToken= echo; clientState checked and redacted."""

from __future__ import annotations

import json

import pytest

import webhook_kit as wk
from webhook_kit.client import post

from ._contract import signed
from .helpers import add_listener, deliver, last_event, stored

STATE = "secretClientValue"
BODY = wk.plugins.providers.get("microsoft-graph").sample().body
JSON = {"Content-Type": "application/json"}


@pytest.fixture
def listener(server):
    return add_listener(server, "microsoft-graph", {"secret": STATE})


def test_validation_token_echoed_as_text(server, listener):
    token = "Validation: Testing client application reachability for subscription Request-Id: 2b5c"
    from urllib.parse import quote
    d = deliver(server, listener, b"", {"Content-Type": "text/plain"}, query="validationToken=" + quote(token))
    assert d.status == 200 and d.text == token
    assert d.headers.get("Content-Type").startswith("text/plain")
    assert d.headers.get("X-Content-Type-Options") == "nosniff"
    assert last_event(server, listener).status == "handshake"


def test_accepted_and_client_state_redacted(server, listener):
    d = deliver(server, listener, BODY, JSON)
    assert d.status == 200, d.text
    event = stored(server, d)
    assert event.status == "accepted"
    assert STATE.encode() not in event.body and event.payload["value"][0]["clientState"] == "[redacted]"
    assert event.payload["value"][0]["changeType"] == "created"
    assert "body:clientState" in event.redactions


def batch(*states) -> bytes:
    items = json.loads(BODY)["value"] * len(states)
    return json.dumps({"value": [dict(item, clientState=s) if s is not None else
                                 {k: v for k, v in item.items() if k != "clientState"}
                                 for item, s in zip(items, states)]}).encode()


@pytest.mark.parametrize("body, expected", [
    (batch("wrong"), "clientState of notification 0 does not match"),
    (batch(STATE, "wrong"), "clientState of notification 1 does not match"),
    (batch(None), "notification 0 has no clientState"),
    (b'{"something":"else"}', 'body has no "value" list'),
    (b"not json", 'body has no "value" list'),
])
def test_rejected_with_reason(server, listener, body, expected):
    d = deliver(server, listener, body, JSON)
    assert d.status == 401 and d.json() == {"error": "verification failed"}
    event = last_event(server, listener)
    assert event.status == "rejected" and event.reason.startswith(expected)
    assert b"wrong" not in event.body


def test_rotation(server):
    listener = add_listener(server, "microsoft-graph", {"secret": ["newState", STATE]})
    assert deliver(server, listener, batch(STATE, "newState"), JSON).status == 200


def test_sign_output_accepted(server):
    listener = add_listener(server, "microsoft-graph", {"secret": "another-state-value"}, "graph2")
    request = signed(server, listener)
    assert json.loads(request.body)["value"][0]["clientState"] == "another-state-value"
    assert post(request).status == 200


HOSTILE_VALUES = ["", ";;,,", "sha256=", "ts=;h1=,t=,v1=zz", "9" * 40 + ",00", "\u00e9\u00e8",
                  "x" * 4000]


@pytest.mark.parametrize("value", HOSTILE_VALUES)
def test_hostile_bodies_get_a_4xx_never_a_500(server, listener, value):
    # Graph signs nothing: what an attacker controls is the body
    for bad_body in (value.encode("utf-8"), b"\xff\xfe\x00",
                     b'{"value":[{"clientState":' + value.encode("utf-8") + b"}]}"):
        d = deliver(server, listener, bad_body, {"Content-Type": "application/json"})
        assert 400 <= d.status < 500, (d.status, d.text)
        assert last_event(server, listener).reason
