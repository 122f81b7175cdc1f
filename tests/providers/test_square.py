"""Square over real HTTP: the SDK's published vectors, squareup's verifier accepts our signer, dedup."""

from __future__ import annotations

import pytest

from ._contract import (accepted, duplicate_recorded, garbage_is_refused_not_crashed,
                          hostile_inputs_never_raise, rejected, replaced,
                          send, signed, tampered, without)
from .helpers import add_listener, deliver, url_of

webhooks_helper = pytest.importorskip("square.utils.webhooks_helper", reason="squareup not importable")

KEY = "Ibxx_5AKakO-3qeNVR61Dw"
URL = "https://webhook.site/679a4f3a-dcfa-49ee-bac5-9d0edad886b9"
BODY = ('{"merchant_id":"MLEFBHHSJGVHD","type":"webhooks.test_notification","event_id":'
        '"ac3ac95b-f97d-458c-a6e6-18981597e05f","created_at":"2022-07-13T20:30:59.037339943Z",'
        '"data":{"type":"webhooks","id":"bc368e64-01aa-407e-b46e-3231809b1129"}}')
SIG = "GF4YkrJgGBDZ9NIYbNXBnMzqb2HoL4RW/S6vkZ9/2N4="
HEADER = "x-square-hmacsha256-signature"
JSON = {"Content-Type": "application/json"}


@pytest.fixture
def listener(server):
    return add_listener(server, "square", {"secret": KEY, "public_url": URL})


def test_published_vectors(server, listener):
    event = accepted(server, deliver(server, listener, BODY, {**JSON, HEADER: SIG}))
    assert event.delivery_id == "ac3ac95b-f97d-458c-a6e6-18981597e05f"
    escaped = add_listener(server, "square", {"secret": "signature-key", "public_url": "https://webhook.site/webhooks"},
                           "escaped")
    accepted(server, deliver(server, escaped, '{"data":{"type":"webhooks","id":">id<"}}',
                             {**JSON, HEADER: "Cxt7+aTi4rKgcA0bC4g9EHdVtLSDWdqccmL5MvihU4U="}))


def test_published_negative_cases(server, listener):
    pretty = BODY.replace(",", ", ")
    rejected(server, listener, deliver(server, listener, pretty, {**JSON, HEADER: SIG}), "does not match")
    moved = add_listener(server, "square", {"secret": KEY, "public_url": URL + "/x"}, "moved")
    rejected(server, moved, deliver(server, moved, BODY, {**JSON, HEADER: SIG}), "does not match")


def test_our_signer_and_the_sdk_verifier_agree(server, listener):
    request = signed(server, listener)
    assert webhooks_helper.verify_signature(request_body=request.body.decode(), signature_header=request.header(HEADER),
                                            signature_key=KEY, notification_url=URL)
    accepted(server, send(request))


def test_default_url_is_the_one_the_request_arrived_on(server):
    listener = add_listener(server, "square", {"secret": KEY}, "local")
    request = signed(server, listener)
    assert webhooks_helper.verify_signature(request_body=request.body.decode(), signature_header=request.header(HEADER),
                                            signature_key=KEY, notification_url=url_of(server, listener))
    accepted(server, send(request))


@pytest.mark.parametrize("case, reason", [
    ("tampered", f"signature in {HEADER} does not match"),
    ("wrong_secret", f"signature in {HEADER} does not match"),
    ("missing", f"missing header {HEADER}"),
    ("legacy_wrong", "signature in x-square-signature does not match"),
])
def test_rejected_with_reason(server, listener, case, reason):
    request = signed(server, listener)
    if case == "tampered":
        request = tampered(request)
    elif case == "wrong_secret":
        other = add_listener(server, "square", {"secret": "other-key", "public_url": URL}, "other")
        request = replaced(request, **{HEADER.replace("-", "_"): signed(server, other, request.body).header(HEADER)})
    elif case == "missing":
        request = without(request, HEADER)
    elif case == "legacy_wrong":
        request = replaced(without(request, HEADER), x_square_signature="AAAA")
    event = rejected(server, listener, send(request), reason)
    if case == "tampered":
        assert event.details["url"] == URL


def test_rotation_any_key_matches(server):
    listener = add_listener(server, "square", {"secret": ["new-key", KEY], "public_url": URL})
    accepted(server, deliver(server, listener, BODY, {**JSON, HEADER: SIG}))


def test_redelivery_is_duplicate(server, listener):
    duplicate_recorded(server, signed(server, listener))


def test_hostile_input_never_raises(server):
    assert hostile_inputs_never_raise("square", {"secret": "s"}) > 100
    garbage_is_refused_not_crashed(server, add_listener(server, "square", {"secret": "s"}, "hostile"))
