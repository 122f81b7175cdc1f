"""The workos provider over real loopback HTTP, checked against the official WorkOS SDK."""

from __future__ import annotations

import hashlib
import hmac
import time

import pytest

import webhook_kit as wk
from webhook_kit.client import post
from webhook_kit_workos import HEADER, WorkOSProvider

SECRET = "whsec_workos_test_secret"


@pytest.fixture
def listener(server):
    return server.add(wk.Listener("workos", provider="workos",
                                  verification={"secret": SECRET}))


def send_raw(server, body: bytes, headers: dict):
    return post(wk.Request("POST", f"{server.base_url}/hooks/workos", wk.Headers(headers), body))


def reason_of(server):
    return server.store.events(listener="workos", limit=1)[0].reason


def recipe_header(secret: str, body: bytes, ms: int) -> str:
    """The header built by hand from WorkOS's documented recipe (not by our signer)."""
    digest = hmac.new(secret.encode(), str(ms).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"t={ms}, v1={digest}"


def test_registered_through_its_entry_point():
    provider = wk.plugins.providers.get("workos")
    assert isinstance(provider, WorkOSProvider)
    assert wk.plugins.providers.owner("workos") == "workos"  # the entry point's name


def test_signed_sample_is_accepted_and_deduplicated(server, listener):
    first = wk.send(listener, url=server.url_for(listener))
    assert first.status == 200, first.text
    event = server.store.get(first.json()["event_id"])
    assert event.status == "accepted"
    assert event.delivery_id == "event_01HX4J5ZQ8W3Y6B2C9D0E1F2G3"
    assert event.payload["event"] == "user.created"
    again = wk.send(listener, url=server.url_for(listener))
    assert again.status == 200
    assert server.store.get(again.json()["event_id"]).status == "duplicate"


def test_recipe_signature_is_accepted(server, listener):
    body = b'{"id":"event_recipe","event":"dsync.user.created","data":{}}'
    delivery = send_raw(server, body, {"Content-Type": "application/json",
                                       HEADER: recipe_header(SECRET, body, int(time.time() * 1000))})
    assert delivery.status == 200, delivery.text


@pytest.mark.parametrize("case", ["tampered", "wrong secret", "missing header", "stale",
                                  "future", "garbage header"])
def test_rejections(server, listener, case):
    body = b'{"id":"event_1","event":"user.created"}'
    ms = int(time.time() * 1000)
    headers = {"Content-Type": "application/json", HEADER: recipe_header(SECRET, body, ms)}
    expected_reason = "does not match"
    if case == "tampered":
        body = body.replace(b"user.created", b"user.deleted")
    elif case == "wrong secret":
        headers[HEADER] = recipe_header("not the secret", body, ms)
    elif case == "missing header":
        del headers[HEADER]
        expected_reason = "missing header WorkOS-Signature"
    elif case == "stale":
        headers[HEADER] = recipe_header(SECRET, body, ms - 181_000)
        expected_reason = "timestamp too old"
    elif case == "future":
        headers[HEADER] = recipe_header(SECRET, body, ms + 181_000)
        expected_reason = "timestamp too new"
    elif case == "garbage header":
        headers[HEADER] = "t=12.5e3, v1=zz"
        expected_reason = "no valid timestamp"
    delivery = send_raw(server, body, headers)
    assert delivery.status == 401
    assert expected_reason in reason_of(server)


def test_rotation_accepts_the_old_secret(server):
    rotating = server.add(wk.Listener("workos", provider="workos",
                                      verification={"secret": ["new-secret", SECRET]}))
    body = b'{"id":"event_rot","event":"user.updated"}'
    delivery = send_raw(server, body, {"Content-Type": "application/json",
                                       HEADER: recipe_header(SECRET, body, int(time.time() * 1000))})
    assert delivery.status == 200
    assert rotating.settings()["tolerance"] == 180


def test_official_sdk_accepts_what_crossed_the_wire(server, listener):
    workos = pytest.importorskip("workos")
    delivery = wk.send(listener, {"id": "event_sdk", "event": "user.created"},
                       url=server.url_for(listener))
    assert delivery.status == 200
    event = server.store.get(delivery.json()["event_id"])
    received = event.header_map[HEADER]
    sdk = workos.WorkOSClient(api_key="sk_test_unused", client_id="client_unused").webhooks
    sdk.verify_header(event_body=event.body, event_signature=received, secret=SECRET)
    with pytest.raises(ValueError):
        sdk.verify_header(event_body=event.body + b" ", event_signature=received, secret=SECRET)


def test_sign_pins_the_timestamp_it_is_given():
    request = wk.Request("POST", "http://127.0.0.1/hooks/workos", {}, b"{}")
    signed = WorkOSProvider().sign(request, {"secret": SECRET}, now=1_700_000_000.5)
    assert signed.headers[HEADER] == recipe_header(SECRET, b"{}", 1_700_000_000_500)
    assert HEADER not in request.headers  # the input is not changed


def test_signing_without_a_secret_is_a_clear_error():
    from webhook_kit.secret_values import SecretError
    request = wk.Request("POST", "http://127.0.0.1/hooks/workos", {}, b"{}")
    with pytest.raises(SecretError, match="no secret configured"):
        WorkOSProvider().sign(request, {"secret": ""})
