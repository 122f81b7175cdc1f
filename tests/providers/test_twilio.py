"""Twilio over real HTTP: Twilio's published vectors (ports, duplicates, bodySHA256, SHA-256) and the SDK."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

import pytest

from ._contract import (accepted, duplicate_recorded, garbage_is_refused_not_crashed,
                          hostile_inputs_never_raise, rejected, replaced,
                          send, signed, tampered, without)
from .helpers import add_listener, deliver, url_of

request_validator = pytest.importorskip("twilio.request_validator", reason="twilio SDK not importable")

TOKEN = "12345"
URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
DOCS_PARAMS = [("CallSid", "CA1234567890ABCDE"), ("Caller", "+12349013030"), ("Digits", "1234"),
               ("From", "+12349013030"), ("To", "+18005551212")]
SDK_PARAMS = [("CallSid", "CA1234567890ABCDE"), ("Digits", "1234"), ("From", "+14158675309"),
              ("To", "+18005551212"), ("Caller", "+14158675309")]
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
JSON_BODY = '{"property": "value", "boolean": true}'
BODY_HASH = "0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620"


def listener_for(server, public_url=URL, lid="twilio", **extra):
    return add_listener(server, "twilio", {"secret": TOKEN, "public_url": public_url, **extra}, lid)


@pytest.mark.parametrize("public_url, params, sig", [
    (URL, DOCS_PARAMS, "0/KCTR6DLpKmkAf8muzZqo1nDgQ="),
    (URL, SDK_PARAMS, "RSOYDt4T1cUTdK1PDd93/VVr8B8="),
    (URL, SDK_PARAMS, "kvajT1Ptam85bY51eRf/AJRuM3w="),                      # signed with :443
    ("https://mycompany.com:443/myapp.php?foo=1&bar=2", SDK_PARAMS, "RSOYDt4T1cUTdK1PDd93/VVr8B8="),
    ("http://mycompany.com/myapp.php?foo=1&bar=2", SDK_PARAMS, "0ZXoZLH/DfblKGATFgpif+LLRf4="),  # :80
    ("http://mycompany.com:1234/myapp.php?foo=1&bar=2", SDK_PARAMS, "Zmvh+3yNM1Phv2jhDCwEM3q5ebU="),
    (URL, [("Sid", "CA123"), ("SidAccount", "AC123"), ("Digits", "5678"), ("Digits", "1234")],
     "IK+Dwps556ElfBT0I3Rgjkr1wJU="),
], ids=["docs", "sdk", "port443-signed", "port443-configured", "port80", "port1234", "duplicates"])
def test_published_form_vectors(server, public_url, params, sig):
    listener = listener_for(server, public_url)
    accepted(server, deliver(server, listener, urlencode(params), {**FORM, "X-Twilio-Signature": sig}))


def test_published_json_body_sha256_vector(server):
    listener = listener_for(server, f"{URL}&bodySHA256={BODY_HASH}")
    accepted(server, deliver(server, listener, JSON_BODY, {"Content-Type": "application/json",
                                                           "X-Twilio-Signature": "a9nBmqA0ju/hNViExpshrM61xv4="},
                             query=f"bodySHA256={BODY_HASH}"))
    d = deliver(server, listener, JSON_BODY.replace("true", "false"),
                {"Content-Type": "application/json", "X-Twilio-Signature": "a9nBmqA0ju/hNViExpshrM61xv4="},
                query=f"bodySHA256={BODY_HASH}")
    rejected(server, listener, d, "body does not match bodySHA256")


def test_json_body_without_body_hash_is_refused(server):
    listener = listener_for(server)
    d = deliver(server, listener, JSON_BODY, {"Content-Type": "application/json",
                                              "X-Twilio-Signature": "RSOYDt4T1cUTdK1PDd93/VVr8B8="})
    rejected(server, listener, d, "body is not signed")


def test_sdk_computed_sha256_vector_by_header_and_by_setting(server):
    sig = "033hgUJA9M/hXIZsYjwkerEP/DBm35nEri5FhCYjA5s="
    auto = listener_for(server)
    accepted(server, deliver(server, auto, urlencode(SDK_PARAMS), {
        **FORM, "X-Twilio-Signature": sig,
        "X-Twilio-Webhooks-Signature-Settings": "key=webhooks_sharedkey_1,algorithm=HMAC_SHA256"}))
    pinned = listener_for(server, lid="pinned", algorithm="sha256")
    accepted(server, deliver(server, pinned, urlencode(SDK_PARAMS), {**FORM, "X-Twilio-Signature": sig}))
    # SHA-1 where SHA-256 is pinned does not pass
    d = deliver(server, pinned, urlencode(SDK_PARAMS), {**FORM, "X-Twilio-Signature": "RSOYDt4T1cUTdK1PDd93/VVr8B8="})
    rejected(server, pinned, d, "signature in X-Twilio-Signature does not match")


@pytest.mark.parametrize("algorithm", [None, "HMAC_SHA256"])
def test_sdk_signs_on_the_real_url_and_our_server_accepts(server, algorithm):
    listener = add_listener(server, "twilio", {"secret": TOKEN}, "plain")
    url = url_of(server, listener, "x=1")
    sig = request_validator.RequestValidator(TOKEN).compute_signature(url, dict(SDK_PARAMS), algorithm)
    headers = {**FORM, "X-Twilio-Signature": sig}
    if algorithm:
        headers["X-Twilio-Webhooks-Signature-Settings"] = f"key=k1,algorithm={algorithm}"
    accepted(server, deliver(server, listener, urlencode(SDK_PARAMS), headers, query="x=1"))


@pytest.mark.parametrize("algorithm", ["sha1", "sha256"])
def test_our_signer_and_the_sdk_validator_agree(server, algorithm):
    listener = add_listener(server, "twilio", {"secret": TOKEN, "algorithm": algorithm}, "ours")
    validator = request_validator.RequestValidator(TOKEN)
    sdk_algorithm = "HMAC_SHA256" if algorithm == "sha256" else "HMAC_SHA1"
    form = signed(server, listener)
    params = dict(parse_qsl(form.body.decode(), keep_blank_values=True))
    assert validator.validate(form.url, params, form.header("X-Twilio-Signature"), sdk_algorithm)
    accepted(server, send(form))
    as_json = signed(server, listener, {"MessageSid": "SM1", "Status": "delivered"})
    assert "bodySHA256=" in as_json.url
    assert validator.validate(as_json.url, as_json.body.decode(), as_json.header("X-Twilio-Signature"),
                              sdk_algorithm)
    accepted(server, send(as_json))


@pytest.mark.parametrize("case, reason", [
    ("tampered", "signature in X-Twilio-Signature does not match"),
    ("wrong_secret", "signature in X-Twilio-Signature does not match"),
    ("missing", "missing header X-Twilio-Signature"),
    ("other_url", "signature in X-Twilio-Signature does not match"),
    ("bad_base64", "does not match"),
    ("unknown_algorithm", "names an unknown algorithm"),
])
def test_rejected_with_reason(server, case, reason):
    listener = add_listener(server, "twilio", {"secret": TOKEN})
    request = signed(server, listener)
    if case == "tampered":
        request = tampered(request)
    elif case == "wrong_secret":
        request = replaced(request, X_Twilio_Signature=request_validator.RequestValidator("54321").compute_signature(
            request.url, dict(parse_qsl(request.body.decode(), keep_blank_values=True))))
    elif case == "missing":
        request = without(request, "X-Twilio-Signature")
    elif case == "other_url":
        request = signed(server, listener, query="moved=1")
        request = type(request)(request.method, url_of(server, listener), request.headers, request.body)
    elif case == "bad_base64":
        request = replaced(request, X_Twilio_Signature="%%%not base64")
    elif case == "unknown_algorithm":
        request = replaced(request, X_Twilio_Webhooks_Signature_Settings="key=k,algorithm=HMAC_MD5")
    rejected(server, listener, send(request), reason)


def test_rotation_any_token_matches(server):
    listener = add_listener(server, "twilio", {"secret": ["new-token", TOKEN], "public_url": URL})
    accepted(server, deliver(server, listener, urlencode(DOCS_PARAMS), {**FORM, "X-Twilio-Signature":
                                                                        "0/KCTR6DLpKmkAf8muzZqo1nDgQ="}))


def test_redelivery_is_duplicate(server):
    listener = add_listener(server, "twilio", {"secret": TOKEN})
    duplicate_recorded(server, signed(server, listener))


def test_hostile_input_never_raises(server):
    assert hostile_inputs_never_raise("twilio", {"secret": "s"}) > 100
    garbage_is_refused_not_crashed(server, add_listener(server, "twilio", {"secret": "s"}, "hostile"))
