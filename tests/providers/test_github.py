"""GitHub over real HTTP: GitHub's published vector, our signer, rejections, dedup on X-GitHub-Delivery."""

from __future__ import annotations

import pytest

from ._contract import (accepted, duplicate_recorded, garbage_is_refused_not_crashed,
                          hostile_inputs_never_raise, rejected, replaced,
                          send, signed, tampered, without)
from .helpers import add_listener, deliver

DOCS_SECRET = "It's a Secret to Everybody"
DOCS_SIGNATURE = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
DOCS_LEGACY = "sha1=01dc10d0c83e72ed246219cdd91669667fe2ca59"


@pytest.fixture
def listener(server):
    return add_listener(server, "github", {"secret": DOCS_SECRET})


def test_docs_vector_accepted(server, listener):
    d = deliver(server, listener, "Hello, World!", {"Content-Type": "text/plain",
                                                   "X-Hub-Signature-256": DOCS_SIGNATURE,
                                                   "X-GitHub-Delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958"})
    event = accepted(server, d)
    assert event.delivery_id == "72d3162e-cc78-11e3-81ab-4c9367dc0958"


def test_legacy_sha1_vector_accepted_when_alone(server, listener):
    accepted(server, deliver(server, listener, "Hello, World!",
                             {"Content-Type": "text/plain", "X-Hub-Signature": DOCS_LEGACY}))


def test_our_signer_matches_the_docs_vector(server, listener):
    request = signed(server, listener, "Hello, World!", content_type="text/plain")
    assert request.header("X-Hub-Signature-256") == DOCS_SIGNATURE
    assert request.header("X-Hub-Signature") == DOCS_LEGACY
    accepted(server, send(request))


@pytest.mark.parametrize("case, reason", [
    ("tampered", "signature in X-Hub-Signature-256 does not match"),
    ("wrong_secret", "signature in X-Hub-Signature-256 does not match"),
    ("missing", "missing header X-Hub-Signature-256"),
    ("no_prefix", "lacks the prefix"),
    ("bad_hex", "does not match"),
])
def test_rejected_with_reason(server, listener, case, reason):
    request = signed(server, listener)
    if case == "tampered":
        request = tampered(request)
    elif case == "wrong_secret":
        other = add_listener(server, "github", {"secret": "not the secret"}, "other")
        request = replaced(request, X_Hub_Signature_256=signed(server, other, request.body).header(
            "X-Hub-Signature-256"))
    elif case == "missing":
        request = without(request, "X-Hub-Signature-256", "X-Hub-Signature")
    elif case == "no_prefix":
        request = replaced(request, X_Hub_Signature_256=request.header("X-Hub-Signature-256")[7:])
    elif case == "bad_hex":
        request = replaced(request, X_Hub_Signature_256="sha256=zz\u00e9not-hex")
    rejected(server, listener, send(request), reason)


def test_rotation_any_secret_matches(server):
    listener = add_listener(server, "github", {"secret": ["new secret", DOCS_SECRET]})
    accepted(server, deliver(server, listener, "Hello, World!",
                             {"Content-Type": "text/plain", "X-Hub-Signature-256": DOCS_SIGNATURE}))


def test_sample_signed_and_redelivery_is_duplicate(server, listener):
    request = signed(server, listener)
    assert request.header("X-GitHub-Event") == "push"
    duplicate_recorded(server, request)


def test_hostile_input_never_raises(server):
    assert hostile_inputs_never_raise("github", {"secret": "s"}) > 100
    garbage_is_refused_not_crashed(server, add_listener(server, "github", {"secret": "s"}, "hostile"))


def test_secret_read_from_the_environment(server, monkeypatch):
    monkeypatch.setenv("WK_TEST_GITHUB_SECRET", DOCS_SECRET)
    listener = add_listener(server, "github", {"secret": [{"env": "WK_TEST_GITHUB_SECRET"}]}, "from-env")
    accepted(server, deliver(server, listener, "Hello, World!",
                             {"Content-Type": "text/plain", "X-Hub-Signature-256": DOCS_SIGNATURE}))
    monkeypatch.delenv("WK_TEST_GITHUB_SECRET")
    d = deliver(server, listener, "Hello, World!", {"Content-Type": "text/plain", "X-Hub-Signature-256": DOCS_SIGNATURE})
    rejected(server, listener, d, "WK_TEST_GITHUB_SECRET is not set", status=503)
