"""Shopify over real HTTP: the self-computed vector (no official one exists), our signer, rejections, dedup."""

from __future__ import annotations

import pytest

from ._contract_a import (accepted, duplicate_recorded, garbage_is_refused_not_crashed,
                          hostile_inputs_never_raise, provider, rejected, replaced, send, signed,
                          tampered, without)
from .helpers import add_listener, deliver

SECRET = "test_secret"
BODY = '{"id":"evt_1","type":"ping"}'
VECTOR = "yJgTUs6rzZBG6fMcLE4eQTulcmtVS6I9KfBWKzfPzF8="
HEADER = "X-Shopify-Hmac-Sha256"
JSON = {"Content-Type": "application/json"}


@pytest.fixture
def listener(server):
    return add_listener(server, "shopify", {"secret": SECRET})


def test_vector_accepted_and_reproduced_by_our_signer(server, listener):
    accepted(server, deliver(server, listener, BODY, {**JSON, HEADER: VECTOR}))
    assert signed(server, listener, BODY).header(HEADER) == VECTOR


def test_sample_signed_and_accepted(server, listener):
    accepted(server, send(signed(server, listener)))


@pytest.mark.parametrize("case, reason", [
    ("tampered", f"signature in {HEADER} does not match"),
    ("wrong_secret", f"signature in {HEADER} does not match"),
    ("missing", f"missing header {HEADER}"),
    ("not_base64", "does not match"),
])
def test_rejected_with_reason(server, listener, case, reason):
    request = signed(server, listener)
    if case == "tampered":
        request = tampered(request)
    elif case == "wrong_secret":
        request = replaced(request, **{HEADER.replace("-", "_"): provider("shopify").sign(
            request, {"secret": "other"}).header(HEADER)})
    elif case == "missing":
        request = without(request, HEADER)
    elif case == "not_base64":
        request = replaced(request, **{HEADER.replace("-", "_"): "not base64!"})
    rejected(server, listener, send(request), reason)


def test_rotation_any_secret_matches(server):
    listener = add_listener(server, "shopify", {"secret": ["new-secret", SECRET]})
    accepted(server, deliver(server, listener, BODY, {**JSON, HEADER: VECTOR}))


def test_redelivery_is_duplicate_by_event_id(server, listener):
    request = signed(server, listener)
    assert duplicate_recorded(server, request).delivery_id == request.header("X-Shopify-Event-Id")


def test_webhook_id_is_the_dedup_id_for_older_api_versions(server, listener):
    request = without(signed(server, listener), "X-Shopify-Event-Id")
    assert duplicate_recorded(server, request).delivery_id == request.header("X-Shopify-Webhook-Id")


def test_xml_body_signed_the_same_way(server, listener):
    xml = '<?xml version="1.0" encoding="UTF-8"?><order><id type="integer">450789469</id></order>'
    event = accepted(server, send(signed(server, listener, xml, content_type="application/xml")))
    assert event.payload["order"]["id"]


def test_hostile_input_never_raises(server):
    assert hostile_inputs_never_raise("shopify", {"secret": "s"}) > 100
    garbage_is_refused_not_crashed(server, add_listener(server, "shopify", {"secret": "s"}, "hostile"))
