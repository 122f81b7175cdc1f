"""The custom provider's verification types, over real HTTP to the real server."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest

import webhook_kit as wk
from webhook_kit.client import post
from tests.providers.helpers import deliver, last_event, stored


def hmac_listener(server, **overrides):
    verification = {"type": "hmac", "algorithm": "sha256", "encoding": "hex",
                    "secret": "s3cret", "header": "X-Signature"}
    verification.update(overrides)
    return server.add(wk.Listener("orders", name="Orders", verification=verification))


BODY = b'{"order": {"id": 1001, "total": "19.99"}}'


def independent_hmac(algorithm, key, body, encoding):
    digest = hmac.new(key.encode(), body, getattr(hashlib, algorithm)).digest()
    return digest.hex() if encoding == "hex" else base64.b64encode(digest).decode()


@pytest.mark.parametrize("algorithm", ["sha1", "sha256"])
@pytest.mark.parametrize("encoding", ["hex", "base64"])
def test_hmac_accepts_independently_computed_signature(server, algorithm, encoding):
    listener = hmac_listener(server, algorithm=algorithm, encoding=encoding)
    sig = independent_hmac(algorithm, "s3cret", BODY, encoding)
    reply = deliver(server, listener, BODY, {"Content-Type": "application/json", "X-Signature": sig})
    assert reply.status == 200, reply.text
    event = stored(server, reply)
    assert event.status == "accepted"
    assert event.body == BODY  # byte for byte
    assert event.payload == {"order": {"id": 1001, "total": "19.99"}}


def test_hmac_hex_is_case_insensitive(server):
    listener = hmac_listener(server)
    sig = independent_hmac("sha256", "s3cret", BODY, "hex").upper()
    assert deliver(server, listener, BODY, {"X-Signature": sig}).status == 200


@pytest.mark.parametrize("case,headers,body,reason", [
    ("missing header", {}, BODY, "missing header X-Signature"),
    ("tampered body", None, BODY.replace(b"19.99", b"0.01"), "does not match"),
    ("garbage signature", {"X-Signature": "not-hex!"}, BODY, "does not match"),
])
def test_hmac_rejections_are_401_and_recorded_with_reason(server, case, headers, body, reason):
    listener = hmac_listener(server)
    if headers is None:
        headers = {"X-Signature": independent_hmac("sha256", "s3cret", BODY, "hex")}
    reply = deliver(server, listener, body, headers)
    assert reply.status == 401
    assert reply.json() == {"error": "verification failed"}  # the answer does not say which check
    event = last_event(server, listener)
    assert event.status == "rejected" and reason in event.reason


def test_hmac_wrong_secret_rejected(server):
    listener = hmac_listener(server)
    sig = independent_hmac("sha256", "other", BODY, "hex")
    assert deliver(server, listener, BODY, {"X-Signature": sig}).status == 401


def test_hmac_prefix_required_when_set(server):
    listener = hmac_listener(server, prefix="sha256=")
    sig = independent_hmac("sha256", "s3cret", BODY, "hex")
    assert deliver(server, listener, BODY, {"X-Signature": "sha256=" + sig}).status == 200
    assert deliver(server, listener, BODY, {"X-Signature": sig}).status == 401
    assert "prefix" in last_event(server, listener).reason


def test_hmac_secret_from_environment_and_rotation(server, monkeypatch):
    monkeypatch.setenv("ORDERS_SECRET", "from-env")
    listener = hmac_listener(server, secret=[{"env": "ORDERS_SECRET"}, "old-secret"])
    for key in ("from-env", "old-secret"):
        sig = independent_hmac("sha256", key, BODY, "hex")
        assert deliver(server, listener, BODY, {"X-Signature": sig}).status == 200


def test_hmac_unset_env_secret_is_503_not_500(server, monkeypatch):
    monkeypatch.delenv("MISSING_SECRET", raising=False)
    listener = hmac_listener(server, secret={"env": "MISSING_SECRET"})
    reply = deliver(server, listener, BODY, {"X-Signature": "00"})
    assert reply.status == 503  # a misconfigured listener: the sender should retry later
    assert "MISSING_SECRET" in last_event(server, listener).reason


def test_sign_delivery_matches_independent_hmac(server):
    listener = hmac_listener(server, encoding="base64", prefix="v1=")
    request = wk.sign_delivery(listener, BODY, content_type="application/json")
    assert request.headers["X-Signature"] == "v1=" + independent_hmac("sha256", "s3cret", BODY, "base64")


def basic_header(user, password):
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def test_basic_accepted_and_redacted(server):
    listener = server.add(wk.Listener("b", verification={"type": "basic", "username": "shop",
                                                        "password": "pa55"}))
    reply = deliver(server, listener, BODY, {"Authorization": basic_header("shop", "pa55"),
                                            "Content-Type": "application/json"})
    assert reply.status == 200
    event = stored(server, reply)
    assert event.header_map["Authorization"] == "[redacted]"
    assert "header:Authorization" in event.redactions
    assert b"pa55" not in json.dumps(event.to_dict()).encode()


@pytest.mark.parametrize("auth", [None, basic_header("shop", "wrong"), basic_header("x", "pa55"),
                                  "Bearer abc", "Basic !!!notbase64"])
def test_basic_rejected_with_www_authenticate(server, auth):
    listener = server.add(wk.Listener("b", verification={"type": "basic", "username": "shop",
                                                        "password": "pa55"}))
    headers = {"Authorization": auth} if auth else {}
    reply = deliver(server, listener, BODY, headers)
    assert reply.status == 401
    assert reply.headers["WWW-Authenticate"] == 'Basic realm="b"'
    event = last_event(server, listener)
    assert event.status == "rejected"
    if auth:
        assert event.header_map["Authorization"] == "[redacted]"


def test_secret_url_token_in_path(server):
    from webhook_kit import secret_values
    token = secret_values.new_token()
    assert len(base64.urlsafe_b64decode(token + "==")) * 8 >= 128
    listener = server.add(wk.Listener("su", verification={"type": "secret_url", "token": token}))
    url = server.url_for(listener)
    assert url.endswith(f"/hooks/su/{token}")
    ok = post(wk.Request("POST", url, {"Content-Type": "application/json"}, BODY))
    assert ok.status == 200
    event = stored(server, ok)
    assert token not in event.path and event.path == "/hooks/su/[redacted]"
    assert "path:token" in event.redactions
    wrong = post(wk.Request("POST", f"{server.base_url}/hooks/su/nope", {}, BODY))
    assert wrong.status == 404
    missing = post(wk.Request("POST", f"{server.base_url}/hooks/su", {}, BODY))
    assert missing.status == 404
    assert last_event(server, listener).reason == "URL token missing from the path"


def test_token_at_path_json_and_xml(server):
    listener = server.add(wk.Listener("t", verification={"type": "token", "token": "T-123",
                                                        "path": "myAuth.token"}))
    good = {"myAuth": {"token": "T-123"}, "n": 1}
    reply = deliver(server, listener, json.dumps(good), {"Content-Type": "application/json"})
    assert reply.status == 200
    event = stored(server, reply)
    assert event.payload["myAuth"]["token"] == "[redacted]"
    assert b"T-123" not in event.body
    assert {"payload:myAuth.token", "body:myAuth.token"} <= set(event.redactions)

    xml = b"<myAuth><token>T-123</token></myAuth>"
    listener2 = server.add(wk.Listener("tx", verification={"type": "token", "token": "T-123",
                                                          "path": "myAuth.token"}))
    assert deliver(server, listener2, xml, {"Content-Type": "application/xml"}).status == 200
    bad = b"<myAuth><token>nope</token></myAuth>"
    assert deliver(server, listener2, bad, {"Content-Type": "application/xml"}).status == 401
    assert last_event(server, listener2).reason == "token at path myAuth.token does not match"
    assert deliver(server, listener, b'{"other": 1}', {"Content-Type": "application/json"}).status == 401
    assert last_event(server, listener).reason == "no token at path myAuth.token"


def test_token_signing_fills_json_body(server):
    listener = server.add(wk.Listener("t", verification={"type": "token", "token": "T-123",
                                                        "path": "auth.token"}))
    reply = wk.send(listener, {"a": 1}, url=f"{server.base_url}/hooks/t")
    assert reply.status == 200


def test_none_accepts_anything_parseable(server):
    listener = server.add(wk.Listener("open"))
    assert listener.verification == {"type": "none"}
    assert deliver(server, listener, b"hello", {"Content-Type": "text/plain"}).status == 200


def test_custom_types_listed_through_the_registry():
    from webhook_kit.plugins import verification_types
    assert set(verification_types.names()) >= {"basic", "hmac", "secret_url", "token", "none"}
    assert verification_types.owner("hmac") == "webhook_kit.verification"


def test_authorization_is_redacted_whatever_the_verification(server):
    listener = hmac_listener(server)
    sig = independent_hmac("sha256", "s3cret", BODY, "hex")
    reply = deliver(server, listener, BODY, {"X-Signature": sig, "Authorization": "Bearer live-token",
                                            "Proxy-Authorization": "Basic cHJveHk6cHc="})
    assert reply.status == 200
    event = stored(server, reply)
    assert event.header_map["Authorization"] == "[redacted]"
    assert event.header_map["Proxy-Authorization"] == "[redacted]"
    assert {"header:Authorization", "header:Proxy-Authorization"} <= set(event.redactions)
    assert "live-token" not in json.dumps(event.to_dict())
