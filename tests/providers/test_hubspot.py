"""HubSpot over real HTTP: the SDK's published v1/v2/v3 vectors, hubspot-api-client both ways, rejections."""

from __future__ import annotations

import time

import pytest

from webhook_kit.model import Headers, Request

from ._contract import (accepted, duplicate_recorded, garbage_is_refused_not_crashed,
                          hostile_inputs_never_raise, provider, rejected, replaced, send, signed,
                          tampered, without)
from .helpers import add_listener, deliver, url_of

signature = pytest.importorskip("hubspot.utils.signature", reason="hubspot-api-client not importable")
Signature = signature.Signature

SECRET = "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy"
BODY = "{'example_field':'example_value'}"
URI = "https://www.example.com/webhook_uri"
TEXT = {"Content-Type": "text/plain"}
V1 = "69fc6631a867edd4f9e9e627fc5c1148e3fbdd8b21837b6d2b8901c1fa57f750"
V2_POST = "4fe4e3a7d3cf09db53be39d0a58130e2aaba074ec123a9e355b876a689a1c383"
V2_GET = "eee2dddcc73c94d699f5e395f4b9d454a069a6855fbfa152e91e88823087200e"
V3 = "HPW73RUtKmcYoEDADG0s6MmGFWUzWJKAW07r8RDgcQw="


@pytest.fixture
def listener(server):
    return add_listener(server, "hubspot", {"secret": SECRET, "public_url": URI})


def test_v1_and_v2_vectors_over_http(server, listener):
    accepted(server, deliver(server, listener, BODY, {**TEXT, "X-HubSpot-Signature": V1}))
    accepted(server, deliver(server, listener, BODY, {**TEXT, "X-HubSpot-Signature": V1,
                                                      "X-HubSpot-Signature-Version": "v1"}))
    accepted(server, deliver(server, listener, BODY, {**TEXT, "X-HubSpot-Signature": V2_POST,
                                                      "X-HubSpot-Signature-Version": "v2"}))


def test_v2_get_and_v3_vectors_with_pinned_clock(listener):
    p, settings = provider("hubspot"), listener.settings()
    get = Request("GET", "http://127.0.0.1/hooks/hubspot", Headers({
        "X-HubSpot-Signature": V2_GET, "X-HubSpot-Signature-Version": "v2"}), b"")
    assert p.verify(get, settings).ok
    v3 = Request("POST", "http://127.0.0.1/hooks/hubspot", Headers({
        "X-HubSpot-Signature-v3": V3, "X-HubSpot-Request-Timestamp": "15000000"}), BODY)
    assert p.verify(v3, settings, now=15000 + 60).ok
    assert "timestamp too old" in p.verify(v3, settings, now=15000 + 301).reason
    assert p.sign(v3, settings, now=15000).header("X-HubSpot-Signature-v3") == V3


def test_v3_vector_over_http_is_refused_for_age_only(server, listener):
    d = deliver(server, listener, BODY, {**TEXT, "X-HubSpot-Signature-v3": V3, "X-HubSpot-Request-Timestamp": "15000000"})
    rejected(server, listener, d, "timestamp too old")


@pytest.mark.parametrize("version", ["v1", "v2", "v3"])
def test_sdk_signs_and_our_server_accepts(server, version):
    listener = add_listener(server, "hubspot", {"secret": SECRET}, f"hs-{version}")
    body = '[{"eventId": 100, "subscriptionType": "contact.creation", "objectId": 1}]'
    url = url_of(server, listener)
    stamp = str(int(time.time() * 1000))
    sig = Signature.get_signature(SECRET, body, version, http_uri=url, timestamp=stamp)
    headers = {"Content-Type": "application/json"}
    if version == "v3":
        headers.update({"X-HubSpot-Signature-v3": sig, "X-HubSpot-Request-Timestamp": stamp})
    else:
        headers.update({"X-HubSpot-Signature": sig, "X-HubSpot-Signature-Version": version})
    assert accepted(server, deliver(server, listener, body, headers)).delivery_id == "100"


@pytest.mark.parametrize("version", ["v1", "v2", "v3"])
def test_our_signer_and_the_sdk_verifier_agree(server, version):
    listener = add_listener(server, "hubspot", {"secret": SECRET, "version": version}, f"hs-{version}")
    request = signed(server, listener)
    if version == "v3":
        assert Signature.is_valid(request.header("X-HubSpot-Signature-v3"), SECRET, request.body.decode(),
                                  request.url, "POST", "v3", request.header("X-HubSpot-Request-Timestamp"))
    else:
        assert Signature.is_valid(request.header("X-HubSpot-Signature"), SECRET, request.body.decode(),
                                  request.url, "POST", version)
    accepted(server, send(request))


@pytest.mark.parametrize("case, reason", [
    ("tampered", "v3 signature in X-HubSpot-Signature-v3 does not match"),
    ("wrong_secret", "v3 signature in X-HubSpot-Signature-v3 does not match"),
    ("missing", "missing header X-HubSpot-Signature"),
    ("missing_ts", "missing header X-HubSpot-Request-Timestamp"),
    ("bad_ts", "is not a unix timestamp in milliseconds"),
    ("stale", "timestamp too old"),
    ("unknown_version", "names an unknown version"),
])
def test_rejected_with_reason(server, case, reason):
    listener = add_listener(server, "hubspot", {"secret": SECRET})
    request = signed(server, listener)
    if case == "tampered":
        request = tampered(request)
    elif case == "wrong_secret":
        request = replaced(request, X_HubSpot_Signature_v3=Signature.get_signature(
            "other-secret", request.body.decode(), "v3", request.url, "POST",
            request.header("X-HubSpot-Request-Timestamp")))
    elif case == "missing":
        request = without(request, "X-HubSpot-Signature-v3")
    elif case == "missing_ts":
        request = without(request, "X-HubSpot-Request-Timestamp")
    elif case == "bad_ts":
        request = replaced(request, X_HubSpot_Request_Timestamp="-1")
    elif case == "stale":
        request = signed(server, listener, now=time.time() - 301)
    elif case == "unknown_version":
        request = replaced(without(request, "X-HubSpot-Signature-v3"), X_HubSpot_Signature="00",
                           X_HubSpot_Signature_Version="v9")
    rejected(server, listener, send(request), reason)


def test_pinned_version_refuses_the_others(server):
    listener = add_listener(server, "hubspot", {"secret": SECRET, "public_url": URI, "version": "v3"})
    d = deliver(server, listener, BODY, {**TEXT, "X-HubSpot-Signature": V1})
    rejected(server, listener, d, "missing header X-HubSpot-Signature-v3")


def test_rotation_any_secret_matches(server):
    listener = add_listener(server, "hubspot", {"secret": ["new-secret", SECRET], "public_url": URI})
    accepted(server, deliver(server, listener, BODY, {**TEXT, "X-HubSpot-Signature": V1}))


def test_redelivered_batch_is_duplicate(server):
    listener = add_listener(server, "hubspot", {"secret": SECRET})
    duplicate_recorded(server, signed(server, listener))


def test_hostile_input_never_raises(server):
    assert hostile_inputs_never_raise("hubspot", {"secret": "s"}) > 100
    garbage_is_refused_not_crashed(server, add_listener(server, "hubspot", {"secret": "s"}, "hostile"))
