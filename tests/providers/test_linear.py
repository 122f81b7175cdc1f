"""Linear over real HTTP: the self-computed vector, webhookTimestamp freshness, rejections, dedup."""

from __future__ import annotations

import json
import time

import pytest

from ._contract import (accepted, duplicate_recorded, garbage_is_refused_not_crashed,
                          hostile_inputs_never_raise, provider, rejected, replaced, send, signed,
                          tampered, without)
from .helpers import add_listener, deliver

SECRET = "test_secret"
BODY = '{"id":"evt_1","type":"ping"}'
VECTOR = "c8981352ceabcd9046e9f31c2c4e1e413ba5726b554ba23d29f0562b37cfcc5f"
HEADER = "Linear-Signature"


def fresh_body(offset_seconds: float = 0) -> str:
    return json.dumps({"action": "create", "type": "Issue", "data": {"id": "i1"},
                       "webhookTimestamp": int((time.time() + offset_seconds) * 1000)})


@pytest.fixture
def listener(server):
    return add_listener(server, "linear", {"secret": SECRET})


def test_vector_reproduced_and_accepted_without_the_timestamp_check(server):
    listener = add_listener(server, "linear", {"secret": SECRET, "tolerance": 0}, "no-window")
    accepted(server, deliver(server, listener, BODY, {"Content-Type": "application/json", HEADER: VECTOR}))
    assert signed(server, listener, BODY).header(HEADER) == VECTOR


def test_sample_signed_and_accepted(server, listener):
    request = signed(server, listener)
    assert request.header("Linear-Event") == "Issue" and request.header("Linear-Delivery")
    accepted(server, send(request))


@pytest.mark.parametrize("case, reason", [
    ("tampered", f"signature in {HEADER} does not match"),
    ("wrong_secret", f"signature in {HEADER} does not match"),
    ("missing", f"missing header {HEADER}"),
    ("stale", "timestamp too old"),
    ("no_timestamp", "body has no numeric webhookTimestamp"),
])
def test_rejected_with_reason(server, listener, case, reason):
    request = signed(server, listener, fresh_body())
    if case == "tampered":
        request = tampered(request)
    elif case == "wrong_secret":
        request = replaced(request, Linear_Signature=provider("linear").sign(request, {"secret": "x"}).header(HEADER))
    elif case == "missing":
        request = without(request, HEADER)
    elif case == "stale":
        request = signed(server, listener, fresh_body(-61))
    elif case == "no_timestamp":
        request = signed(server, listener, BODY)
    event = rejected(server, listener, send(request), reason)
    if case == "stale":
        assert event.details["skew_seconds"] >= 60


def test_rotation_any_secret_matches(server):
    listener = add_listener(server, "linear", {"secret": ["new", SECRET]})
    request = signed(server, add_listener(server, "linear", {"secret": SECRET}, "signer"), fresh_body())
    accepted(server, deliver(server, listener, request.body, dict(request.headers.items())))


def test_redelivery_is_duplicate_by_linear_delivery(server, listener):
    request = signed(server, listener)
    assert duplicate_recorded(server, request).delivery_id == request.header("Linear-Delivery")


def test_hostile_input_never_raises(server):
    assert hostile_inputs_never_raise("linear", {"secret": "s"}) > 100
    garbage_is_refused_not_crashed(server, add_listener(server, "linear", {"secret": "s"}, "hostile"))
