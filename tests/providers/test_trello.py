"""Trello over real HTTP: the HEAD probe, the self-computed vector (body + callback URL), rejections, dedup."""

from __future__ import annotations

import pytest

from ._contract import (accepted, duplicate_recorded, garbage_is_refused_not_crashed,
                          hostile_inputs_never_raise, rejected, replaced,
                          send, signed, tampered, without)
from .helpers import add_listener, deliver, last_event

SECRET = "test_secret"
CALLBACK = "https://example.com/trello"
BODY = '{"id":"evt_1","type":"ping"}'
VECTOR = "q/U0wtNQqD4dMZhaqYLq8fElWcg="


@pytest.fixture
def listener(server):
    return add_listener(server, "trello", {"secret": SECRET, "public_url": CALLBACK})


def test_head_probe_answered_200(server, listener):
    d = deliver(server, listener, b"", {}, method="HEAD")
    assert d.status == 200
    assert last_event(server, listener).status == "handshake"


def test_self_computed_vector_and_our_signer(server, listener):
    accepted(server, deliver(server, listener, BODY, {"Content-Type": "application/json", "X-Trello-Webhook": VECTOR}))
    assert signed(server, listener, BODY).header("X-Trello-Webhook") == VECTOR


def test_default_callback_is_the_url_the_request_arrived_on(server):
    listener = add_listener(server, "trello", {"secret": SECRET}, "local")
    accepted(server, send(signed(server, listener)))


@pytest.mark.parametrize("case, reason", [
    ("tampered", "signature in X-Trello-Webhook does not match"),
    ("wrong_secret", "signature in X-Trello-Webhook does not match"),
    ("missing", "missing header X-Trello-Webhook"),
    ("other_callback", "signature in X-Trello-Webhook does not match"),
])
def test_rejected_with_reason(server, listener, case, reason):
    request = signed(server, listener)
    if case == "tampered":
        request = tampered(request)
    elif case == "wrong_secret":
        other = add_listener(server, "trello", {"secret": "other", "public_url": CALLBACK}, "other")
        request = replaced(request, X_Trello_Webhook=signed(server, other, request.body).header("X-Trello-Webhook"))
    elif case == "missing":
        request = without(request, "X-Trello-Webhook")
    elif case == "other_callback":
        other = add_listener(server, "trello", {"secret": SECRET, "public_url": CALLBACK + "2"}, "other")
        request = replaced(request, X_Trello_Webhook=signed(server, other, request.body).header("X-Trello-Webhook"))
    rejected(server, listener, send(request), reason)


def test_rotation_any_secret_matches(server):
    listener = add_listener(server, "trello", {"secret": ["new", SECRET], "public_url": CALLBACK})
    accepted(server, deliver(server, listener, BODY, {"Content-Type": "application/json", "X-Trello-Webhook": VECTOR}))


def test_redelivered_action_is_duplicate(server, listener):
    assert len(duplicate_recorded(server, signed(server, listener)).delivery_id) == 24


def test_hostile_input_never_raises(server):
    assert hostile_inputs_never_raise("trello", {"secret": "s"}) > 100
    garbage_is_refused_not_crashed(server, add_listener(server, "trello", {"secret": "s"}, "hostile"))
