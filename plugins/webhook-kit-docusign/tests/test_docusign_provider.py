"""The docusign provider over real loopback HTTP: XML and JSON Connect notifications."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest

import webhook_kit as wk
from webhook_kit.client import post
from webhook_kit_docusign import SAMPLE_XML, DocuSignConnectProvider

KEY_1 = "f6vRmh3dl0dmV3oOR2KHWoK1Z3l0Y0aVD0Qx0LIskxE="
KEY_2 = "second-connect-key"


def recipe(key: str, body: bytes) -> str:
    """DocuSign's Connect HMAC recipe, computed here without the plugin."""
    return base64.b64encode(hmac.new(key.encode("utf-8"), body, hashlib.sha256).digest()).decode()


@pytest.fixture
def listener(server):
    return server.add(wk.Listener("envelopes", provider="docusign",
                                  verification={"secret": [KEY_1, KEY_2]}))


def send_raw(server, body: bytes, headers: dict):
    return post(wk.Request("POST", f"{server.base_url}/hooks/envelopes", wk.Headers(headers), body))


def last_reason(server):
    return server.store.events(listener="envelopes", limit=1)[0].reason


def test_registered_through_its_entry_point():
    assert isinstance(wk.plugins.providers.get("docusign"), DocuSignConnectProvider)
    assert wk.plugins.providers.owner("docusign") == "docusign"


def test_signed_sample_xml_is_accepted_parsed_and_deduplicated(server, listener):
    first = wk.send(listener, url=server.url_for(listener))
    assert first.status == 200, first.text
    event = server.store.get(first.json()["event_id"])
    info = event.payload["DocuSignEnvelopeInformation"]
    # one recipient, still a list: the provider's parse options
    assert info["EnvelopeStatus"]["RecipientStatuses"]["RecipientStatus"][0]["Status"] == "Completed"
    assert isinstance(info["DocumentPDFs"]["DocumentPDF"], list)
    assert event.delivery_id == ("3f1c9a52-7d1e-4b8a-9c1b-2a6f0e5d4c3b:Completed:"
                                 "2026-11-28T10:15:30.1234567")
    again = wk.send(listener, url=server.url_for(listener))
    assert server.store.get(again.json()["event_id"]).status == "duplicate"


def test_one_header_per_key_matches_the_recipe():
    request = wk.Request("POST", "http://127.0.0.1/hooks/envelopes", {}, SAMPLE_XML)
    signed = DocuSignConnectProvider().sign(request, {"secret": [KEY_1, KEY_2]})
    assert signed.headers["X-DocuSign-Signature-1"] == recipe(KEY_1, SAMPLE_XML)
    assert signed.headers["X-DocuSign-Signature-2"] == recipe(KEY_2, SAMPLE_XML)
    assert "X-DocuSign-Signature-3" not in signed.headers


@pytest.mark.parametrize("header", ["X-DocuSign-Signature-1", "X-DocuSign-Signature-2",
                                    "x-docusign-signature-7"])
def test_any_header_with_any_key_is_accepted(server, listener, header):
    # during a key rotation DocuSign may sign with a key this listener lists second
    delivery = send_raw(server, SAMPLE_XML, {"Content-Type": "text/xml",
                                             "X-DocuSign-Signature-1": recipe("retired", SAMPLE_XML),
                                             header: recipe(KEY_2, SAMPLE_XML)})
    assert delivery.status == 200, delivery.text


def test_json_connect_notification(server, listener):
    body = json.dumps({"event": "envelope-completed", "generatedDateTime": "2026-11-28T10:15:30Z",
                       "data": {"envelopeId": "9e0d"}}).encode()
    delivery = send_raw(server, body, {"Content-Type": "application/json",
                                       "X-DocuSign-Signature-1": recipe(KEY_1, body)})
    assert delivery.status == 200
    event = server.store.get(delivery.json()["event_id"])
    assert event.delivery_id == "9e0d:envelope-completed:2026-11-28T10:15:30Z"


@pytest.mark.parametrize("case", ["tampered", "wrong key", "missing", "not base64"])
def test_rejections(server, listener, case):
    body = SAMPLE_XML
    headers = {"Content-Type": "text/xml", "X-DocuSign-Signature-1": recipe(KEY_1, body)}
    reason = "no X-DocuSign-Signature-N header matches"
    if case == "tampered":
        body = body.replace(b"Completed", b"Declined", 1)
    elif case == "wrong key":
        headers["X-DocuSign-Signature-1"] = recipe("wrong", body)
    elif case == "missing":
        del headers["X-DocuSign-Signature-1"]
        reason = "missing header X-DocuSign-Signature-1"
    elif case == "not base64":
        headers["X-DocuSign-Signature-1"] = "%%%not-base64%%%"
    delivery = send_raw(server, body, headers)
    assert delivery.status == 401
    assert reason in last_reason(server)


def test_broken_xml_with_a_valid_signature_is_a_400(server, listener):
    body = b"<DocuSignEnvelopeInformation><EnvelopeStatus>"
    delivery = send_raw(server, body, {"Content-Type": "text/xml",
                                       "X-DocuSign-Signature-1": recipe(KEY_1, body)})
    assert delivery.status == 400
    assert "line" in delivery.json()


def test_signing_without_a_key_is_a_clear_error():
    from webhook_kit.secret_values import SecretError
    request = wk.Request("POST", "http://127.0.0.1/hooks/envelopes", {}, SAMPLE_XML)
    with pytest.raises(SecretError, match="no Connect HMAC key"):
        DocuSignConnectProvider().sign(request, {"secret": []})
