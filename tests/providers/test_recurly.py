"""Recurly over real HTTP: signed JSON (ms timestamp, rotation) and legacy XML behind Basic auth."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

import pytest

import webhook_kit as wk
from webhook_kit.client import post, sign_delivery

from ._contract import HOSTILE_HEADER_VALUES, accepted, hostile_header_refused, redelivered, refused, signed
from .helpers import add_listener, deliver, last_event, stored, url_of

SECRET = "recurly-endpoint-secret"
PROVIDER = wk.plugins.providers.get("recurly")
BODY = PROVIDER.sample().body
XML = PROVIDER.xml_sample().body


def signature(secret: str, body: bytes = BODY, ts_ms: int | None = None) -> str:
    ts_ms = int(time.time() * 1000) if ts_ms is None else ts_ms
    return f"{ts_ms}," + hmac.new(secret.encode(), f"{ts_ms}.".encode() + body, hashlib.sha256).hexdigest()


def headers(sig: str | None) -> dict:
    h = {"Content-Type": "application/json"}
    if sig is not None:
        h["recurly-signature"] = sig
    return h


@pytest.fixture
def listener(server):
    return add_listener(server, "recurly", {"secret": SECRET})


@pytest.fixture
def xml_listener(server):
    return add_listener(server, "recurly", {"format": "xml", "username": "recurly", "password": "pw-1"},
                        "recurly-xml")


def test_json_accepted(server, listener):
    assert accepted(server, deliver(server, listener, BODY, headers(signature(SECRET)))).delivery_id == (
        "rrkk8rj1vo0i")


@pytest.mark.parametrize("case, expected", [
    ("tampered", "signature in recurly-signature does not match"),
    ("wrong_secret", "signature in recurly-signature does not match"),
    ("missing", "missing header recurly-signature"),
    ("stale", "timestamp too old"),
    ("seconds_not_ms", "timestamp too old"),
    ("no_signature", "has no signature after the timestamp"),
])
def test_json_rejected_with_reason(server, listener, case, expected):
    body, sig = BODY, signature(SECRET)
    if case == "tampered":
        body = BODY.replace(b"created", b"deleted")
    elif case == "wrong_secret":
        sig = signature("other")
    elif case == "missing":
        sig = None
    elif case == "stale":
        sig = signature(SECRET, ts_ms=int((time.time() - 400) * 1000))
    elif case == "seconds_not_ms":
        sig = signature(SECRET, ts_ms=int(time.time()))
    elif case == "no_signature":
        sig = str(int(time.time() * 1000))
    event = refused(server, listener, deliver(server, listener, body, headers(sig)), expected)
    if case == "stale":
        assert 395 < event.details["skew_seconds"] < 420


def test_json_rotation_several_signatures(server):
    listener = add_listener(server, "recurly", {"secret": ["new", SECRET]})
    ts = int(time.time() * 1000)
    other = hmac.new(b"retired", f"{ts}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert deliver(server, listener, BODY, headers(signature(SECRET, ts_ms=ts) + "," + other)).status == 200
    signed = sign_delivery(listener, BODY)
    assert signed.header("recurly-signature").count(",") == 2  # one per active key


def test_published_vector():
    listener = wk.Listener("r", provider="recurly", verification={"secret": "test_secret"})
    signed = sign_delivery(listener, b'{"id":"evt_1","type":"ping"}', now=1700000000)
    assert signed.header("recurly-signature") == (
        "1700000000000,314ce286e8d7bb659421795fe6864f393668d2fd8fa17149dbcaa91b995cd527")


def test_json_sign_output_accepted_and_redelivery_is_duplicate(server, listener):
    redelivered(server, signed(server, listener))


def basic(user: str, password: str) -> dict:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Content-Type": "application/xml", "Authorization": f"Basic {token}"}


def test_xml_accepted_and_converted(server, xml_listener):
    d = deliver(server, xml_listener, XML, basic("recurly", "pw-1"))
    assert d.status == 200, d.text
    event = stored(server, d)
    tx = event.payload["successful_payment_notification"]["transaction"]
    assert tx["amount_in_cents"] == {"@type": "integer", "#text": "1000"}
    assert event.header_map.get("Authorization") == "[redacted]"


@pytest.mark.parametrize("headers, expected", [
    (basic("recurly", "wrong"), "Basic credentials do not match"),
    ({"Content-Type": "application/xml"}, "missing header Authorization"),
    # a signature header does not replace the credentials on an XML listener
    ({"Content-Type": "application/xml", "recurly-signature": "1,00"}, "missing header Authorization"),
])
def test_xml_rejected_with_reason(server, xml_listener, headers, expected):
    d = deliver(server, xml_listener, XML, headers)
    assert d.status == 401 and d.json() == {"error": "verification failed"}
    assert last_event(server, xml_listener).reason == expected


def test_xml_sign_output_accepted(server, xml_listener):
    request = sign_delivery(xml_listener, XML, content_type="application/xml", url=url_of(server, xml_listener))
    assert post(request).status == 200


def test_config_requires_the_format_settings():
    with pytest.raises(wk.ConfigError, match="verification.password"):
        wk.Listener.from_dict({"id": "r", "provider": "recurly",
                               "verification": {"format": "xml", "username": "u"}})
    with pytest.raises(wk.ConfigError, match="verification.secret"):
        wk.Listener.from_dict({"id": "r", "provider": "recurly", "verification": {}})


@pytest.mark.parametrize("name", ['recurly-signature'])
@pytest.mark.parametrize("value", HOSTILE_HEADER_VALUES)
def test_hostile_header_values_get_a_4xx_never_a_500(server, listener, name, value):
    hostile_header_refused(server, listener, BODY, name, value)
