"""SendGrid signed Event Webhook over real HTTP: ECDSA P-256; SendGrid's SDK and published vector."""

from __future__ import annotations

import base64
import time

import pytest

import webhook_kit as wk
from webhook_kit.client import post, sign_delivery
from webhook_kit.providers.sendgrid import new_key_pair

from ._contract import HOSTILE_HEADER_VALUES, crypto_missing_explained, headers_signed_by, hostile_header_refused, refused, signed
from .helpers import add_listener, deliver, last_event, stored

SIG, TS = "X-Twilio-Email-Event-Webhook-Signature", "X-Twilio-Email-Event-Webhook-Timestamp"
BODY = wk.plugins.providers.get("sendgrid").sample().body
PUBLIC, PRIVATE = new_key_pair()

# sendgrid/sendgrid-python test/unit/test_eventwebhook.py
VECTOR_KEY = ("MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE83T4O/n84iotIvIW4mdBgQ/7dAfSmpqIM8kF9mN1flpVKS3G"
              "Rqe62gw+2fNNRaINXvVpiglSI8eNEc6wEA3F+g==")
VECTOR_NEGATIVE_KEY = ("MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEqTxd43gyp8IOEto2LdIfjRQrIbsd4SXZkLW6jDutdhXS"
                       "JCWHw8REntlo7aNDthvj+y7GjUuFDb/R1NGe1OPzpA==")
VECTOR_TS = "1600112502"
VECTOR_BODY = (
    b'[{"email":"hello@world.com","event":"dropped","reason":"Bounced Address","sg_event_id":'
    b'"ZHJvcC0xMDk5NDkxOS1MUnpYbF9OSFN0T0doUTRrb2ZTbV9BLTA","sg_message_id":'
    b'"LRzXl_NHStOGhQ4kofSm_A.filterdrecv-p3mdw1-756b745b58-kmzbl-18-5F5FC76C-9.0","smtp-id":'
    b'"<LRzXl_NHStOGhQ4kofSm_A@ismtpd0039p1iad1.sendgrid.net>","timestamp":1600112492}]\r\n')
VECTOR_SIG = "MEUCIGHQVtGj+Y3LkG9fLcxf3qfI10QysgDWmMOVmxG0u6ZUAiEAyBiXDWzM+uOe5W0JuG+luQAbPIqHh89M15TluLtEZtM="


@pytest.fixture
def listener(server):
    return add_listener(server, "sendgrid", {"public_key": PUBLIC, "private_key": PRIVATE})


def test_sign_output_accepted_and_redelivery_is_duplicate(server, listener):
    request = signed(server, listener)
    first, second = post(request), post(request)
    assert first.status == 200, first.text
    event = stored(server, first)
    assert event.status == "accepted" and event.delivery_id.startswith("batch:")
    assert second.status == 200 and stored(server, second).status == "duplicate"


def test_sendgrid_sdk_verifies_our_signature(listener):
    from sendgrid.helpers.eventwebhook import EventWebhook
    request = sign_delivery(listener, BODY)
    hook = EventWebhook(PUBLIC)
    assert hook.verify_signature(BODY.decode(), request.header(SIG), request.header(TS))
    assert not hook.verify_signature(BODY.decode().replace("open", "click"), request.header(SIG),
                                     request.header(TS))


def test_published_vector_accepted_and_negative_key_rejected(server):
    good = add_listener(server, "sendgrid", {"public_key": VECTOR_KEY, "tolerance": 0}, "sg-vec")
    headers = {"Content-Type": "application/json", SIG: VECTOR_SIG, TS: VECTOR_TS}
    d = deliver(server, good, VECTOR_BODY, headers)
    assert d.status == 200, d.text
    assert stored(server, d).delivery_id == "ZHJvcC0xMDk5NDkxOS1MUnpYbF9OSFN0T0doUTRrb2ZTbV9BLTA"
    # the CRLF is signed: without it the signature fails
    assert deliver(server, good, VECTOR_BODY.rstrip(), headers).status == 401
    bad = add_listener(server, "sendgrid", {"public_key": VECTOR_NEGATIVE_KEY, "tolerance": 0}, "sg-neg")
    assert deliver(server, bad, VECTOR_BODY, headers).status == 401
    assert "does not verify with the public key" in last_event(server, bad).reason


def signed_headers(listener, body=BODY, now=None):
    return headers_signed_by(listener, body, SIG, TS, now=now)


@pytest.mark.parametrize("case, expected", [
    ("tampered", "does not verify with the public key"),
    ("wrong_key", "does not verify with the public key"),
    ("missing", f"missing header {SIG}"),
    ("missing_ts", f"missing header {TS}"),
    ("stale", "timestamp too old"),
    ("not_base64", "is not base64"),
    ("garbage_der", "does not verify with the public key"),
])
def test_rejected_with_reason(server, listener, case, expected):
    body, h = BODY, signed_headers(listener)
    if case == "tampered":
        body = BODY.replace(b"delivered", b"bounce")
    elif case == "wrong_key":
        _, other_private = new_key_pair()
        other = wk.Listener("x", provider="sendgrid", verification={"public_key": PUBLIC,
                                                                     "private_key": other_private})
        h = signed_headers(other)
    elif case == "missing":
        del h[SIG]
    elif case == "missing_ts":
        del h[TS]
    elif case == "stale":
        h = signed_headers(listener, now=time.time() - 400)
    elif case == "not_base64":
        h[SIG] = "%%%"
    elif case == "garbage_der":
        h[SIG] = base64.b64encode(b"\x30\x02\x01\x01").decode()
    refused(server, listener, deliver(server, listener, body, h), expected)


def test_key_settings_checked():
    with pytest.raises(wk.ConfigError, match="public_key"):
        wk.Listener.from_dict({"id": "s", "provider": "sendgrid",
                               "verification": {"public_key": "bm90IGEga2V5"}})
    with pytest.raises(wk.ConfigError, match="verification.public_key"):
        wk.Listener.from_dict({"id": "s", "provider": "sendgrid", "verification": {}})


def test_sign_without_private_key_says_what_to_do():
    from webhook_kit.providers import SignError
    listener = wk.Listener("s", provider="sendgrid", verification={"public_key": PUBLIC})
    with pytest.raises(SignError, match="private_key"):
        sign_delivery(listener)


def test_without_cryptography_the_reason_says_how_to_install(server, listener, monkeypatch):
    crypto_missing_explained(server, listener, BODY, signed_headers(listener), monkeypatch)


@pytest.mark.parametrize("name", ['X-Twilio-Email-Event-Webhook-Signature', 'X-Twilio-Email-Event-Webhook-Timestamp'])
@pytest.mark.parametrize("value", HOSTILE_HEADER_VALUES)
def test_hostile_header_values_get_a_4xx_never_a_500(server, listener, name, value):
    hostile_header_refused(server, listener, BODY, name, value)
