"""Typeform over real HTTP: the self-computed vector (no official one exists), our signer, rejections, dedup."""

from __future__ import annotations

import pytest

from ._contract_a import (accepted, duplicate_recorded, garbage_is_refused_not_crashed,
                          hostile_inputs_never_raise, provider, rejected, replaced, send, signed,
                          tampered, without)
from .helpers import add_listener, deliver

SECRET = "test_secret"
BODY = '{"id":"evt_1","type":"ping"}'
VECTOR = "sha256=yJgTUs6rzZBG6fMcLE4eQTulcmtVS6I9KfBWKzfPzF8="
HEADER = "Typeform-Signature"
JSON = {"Content-Type": "application/json"}


@pytest.fixture
def listener(server):
    return add_listener(server, "typeform", {"secret": SECRET})


def test_vector_accepted_and_reproduced_by_our_signer(server, listener):
    accepted(server, deliver(server, listener, BODY, {**JSON, HEADER: VECTOR}))
    assert signed(server, listener, BODY).header(HEADER) == VECTOR


def test_sample_signed_and_accepted(server, listener):
    accepted(server, send(signed(server, listener)))


@pytest.mark.parametrize("case, reason", [
    ("tampered", f"signature in {HEADER} does not match"),
    ("wrong_secret", f"signature in {HEADER} does not match"),
    ("missing", f"missing header {HEADER}"),
    ("no_prefix", "lacks the prefix"),
])
def test_rejected_with_reason(server, listener, case, reason):
    request = signed(server, listener)
    if case == "tampered":
        request = tampered(request)
    elif case == "wrong_secret":
        request = replaced(request, **{HEADER.replace("-", "_"): provider("typeform").sign(
            request, {"secret": "other"}).header(HEADER)})
    elif case == "missing":
        request = without(request, HEADER)
    elif case == "no_prefix":
        request = replaced(request, **{HEADER.replace("-", "_"): request.header(HEADER).split("=", 1)[-1]})
    rejected(server, listener, send(request), reason)


def test_rotation_any_secret_matches(server):
    listener = add_listener(server, "typeform", {"secret": ["new-secret", SECRET]})
    accepted(server, deliver(server, listener, BODY, {**JSON, HEADER: VECTOR}))


def test_redelivery_is_duplicate(server, listener):
    duplicate_recorded(server, signed(server, listener))


def test_hostile_input_never_raises(server):
    assert hostile_inputs_never_raise("typeform", {"secret": "s"}) > 100
    garbage_is_refused_not_crashed(server, add_listener(server, "typeform", {"secret": "s"}, "hostile"))
