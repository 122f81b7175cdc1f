"""Dropbox over real HTTP: the GET challenge echo, the self-computed vector, rejections."""

from __future__ import annotations

import pytest

from ._contract import (accepted, garbage_is_refused_not_crashed, hostile_inputs_never_raise,
                          rejected, replaced, send, signed, tampered,
                          without)
from .helpers import add_listener, deliver, last_event

SECRET = "test_secret"
BODY = '{"id":"evt_1","type":"ping"}'
VECTOR = "c8981352ceabcd9046e9f31c2c4e1e413ba5726b554ba23d29f0562b37cfcc5f"


@pytest.fixture
def listener(server):
    return add_listener(server, "dropbox", {"secret": SECRET})


def test_challenge_echoed_as_plain_text(server, listener):
    d = deliver(server, listener, b"", {}, method="GET", query="challenge=8fbd2c2b-<b>x</b>")
    assert d.status == 200 and d.text == "8fbd2c2b-<b>x</b>"
    assert d.headers.get("Content-Type").startswith("text/plain")
    assert d.headers.get("X-Content-Type-Options") == "nosniff"
    assert last_event(server, listener).status == "handshake"


def test_get_without_challenge_is_not_allowed(server, listener):
    d = deliver(server, listener, b"", {}, method="GET")
    assert d.status == 405


def test_self_computed_vector_and_our_signer(server, listener):
    accepted(server, deliver(server, listener, BODY, {"Content-Type": "application/json", "X-Dropbox-Signature": VECTOR}))
    assert signed(server, listener, BODY).header("X-Dropbox-Signature") == VECTOR
    accepted(server, send(signed(server, listener)))


@pytest.mark.parametrize("case, reason", [
    ("tampered", "signature in X-Dropbox-Signature does not match"),
    ("wrong_secret", "signature in X-Dropbox-Signature does not match"),
    ("missing", "missing header X-Dropbox-Signature"),
])
def test_rejected_with_reason(server, listener, case, reason):
    request = signed(server, listener)
    if case == "tampered":
        request = tampered(request)
    elif case == "wrong_secret":
        request = replaced(request, X_Dropbox_Signature="ab" * 32)
    elif case == "missing":
        request = without(request, "X-Dropbox-Signature")
    rejected(server, listener, send(request), reason)


def test_rotation_any_secret_matches(server):
    listener = add_listener(server, "dropbox", {"secret": ["new_secret", SECRET]})
    accepted(server, deliver(server, listener, BODY, {"Content-Type": "application/json", "X-Dropbox-Signature": VECTOR}))


def test_hostile_input_never_raises(server):
    assert hostile_inputs_never_raise("dropbox", {"secret": "s"}) > 100
    garbage_is_refused_not_crashed(server, add_listener(server, "dropbox", {"secret": "s"}, "hostile"))
