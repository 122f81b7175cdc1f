"""WebSub over real HTTP: GET verification of intent, X-Hub-Signature sha1=/sha256= deliveries."""

from __future__ import annotations

import hashlib
import hmac

import pytest

import webhook_kit as wk
from webhook_kit.client import post, sign_delivery

from ._contract import HOSTILE_HEADER_VALUES, hostile_header_refused, refused, signed
from .helpers import add_listener, deliver, last_event, stored, url_of

SECRET = "hub-secret"
TOPIC = "https://www.youtube.com/xml/feeds/videos.xml?channel_id=CHANNEL_ID"
BODY = wk.plugins.providers.get("websub").sample().body
ATOM = {"Content-Type": "application/atom+xml"}


def signed_headers(secret: str, algorithm: str = "sha1", body: bytes = BODY) -> dict:
    digest = hmac.new(secret.encode(), body, getattr(hashlib, algorithm)).hexdigest()
    return {**ATOM, "X-Hub-Signature": f"{algorithm}={digest}"}


def intent(mode="subscribe", topic=TOPIC, token=None, challenge="chal-123") -> str:
    from urllib.parse import urlencode
    q = {"hub.mode": mode, "hub.topic": topic, "hub.challenge": challenge, "hub.lease_seconds": "432000"}
    if token is not None:
        q["hub.verify_token"] = token
    return urlencode(q)


@pytest.fixture
def listener(server):
    return add_listener(server, "websub", {"secret": SECRET, "topic": TOPIC, "verify_token": "vt-9"})


@pytest.mark.parametrize("mode", ["subscribe", "unsubscribe"])
def test_intent_verified_echoes_challenge(server, listener, mode):
    d = deliver(server, listener, b"", {}, method="GET", query=intent(mode, token="vt-9"))
    assert d.status == 200 and d.text == "chal-123"
    event = last_event(server, listener)
    assert event.status == "handshake" and "vt-9" not in event.url


@pytest.mark.parametrize("query", [
    intent(token="wrong"), intent(token=None), intent(topic="https://evil.example/feed", token="vt-9"),
    intent(mode="bogus", token="vt-9"), intent(challenge="", token="vt-9"),
])
def test_intent_refused_404(server, listener, query):
    d = deliver(server, listener, b"", {}, method="GET", query=query)
    assert d.status == 404 and "chal-123" not in d.text
    assert last_event(server, listener).status == "rejected"


def test_denied_notice_is_acknowledged(server, listener):
    d = deliver(server, listener, b"", {}, method="GET",
                query="hub.mode=denied&hub.topic=https%3A%2F%2Fx%2Ffeed&hub.reason=not+allowed")
    assert d.status == 200 and d.text == ""
    assert last_event(server, listener).status == "handshake"


def test_intent_without_token_or_topic_settings(server):
    listener = add_listener(server, "websub", {"secret": SECRET}, "websub-open")
    d = deliver(server, listener, b"", {}, method="GET", query=intent(topic="https://any/feed"))
    assert d.status == 200 and d.text == "chal-123"


@pytest.mark.parametrize("algorithm", ["sha1", "sha256", "sha512"])
def test_delivery_accepted(server, listener, algorithm):
    d = deliver(server, listener, BODY, signed_headers(SECRET, algorithm))
    assert d.status == 200, d.text
    payload = stored(server, d).payload
    assert payload["feed"]["entry"]["yt:videoId"] == "VIDEO_ID"


@pytest.mark.parametrize("case, expected", [
    ("tampered", "signature in X-Hub-Signature does not match"),
    ("wrong_secret", "signature in X-Hub-Signature does not match"),
    ("missing", "missing header X-Hub-Signature"),
    ("md5", "does not start with one of"),
])
def test_rejected_with_reason(server, listener, case, expected):
    body, h = BODY, signed_headers(SECRET)
    if case == "tampered":
        body = BODY.replace(b"Video title", b"Other title")
    elif case == "wrong_secret":
        h = signed_headers("other")
    elif case == "missing":
        h = dict(ATOM)
    elif case == "md5":
        h["X-Hub-Signature"] = "md5=" + hashlib.md5(BODY).hexdigest()
    refused(server, listener, deliver(server, listener, body, h), expected)


def test_rotation(server):
    listener = add_listener(server, "websub", {"secret": ["new", SECRET]}, "websub-rot")
    assert deliver(server, listener, BODY, signed_headers(SECRET, "sha256")).status == 200


def test_sign_output_accepted(server, listener):
    request = signed(server, listener)
    assert request.header("X-Hub-Signature").startswith("sha1=")
    assert post(request).status == 200
    sha256 = add_listener(server, "websub", {"secret": SECRET, "algorithm": "sha256"}, "websub-256")
    request = sign_delivery(sha256, url=url_of(server, sha256))
    assert request.header("X-Hub-Signature").startswith("sha256=") and post(request).status == 200


@pytest.mark.parametrize("name", ['X-Hub-Signature'])
@pytest.mark.parametrize("value", HOSTILE_HEADER_VALUES)
def test_hostile_header_values_get_a_4xx_never_a_500(server, listener, name, value):
    hostile_header_refused(server, listener, BODY, name, value)


def test_refused_handshake_reason_is_stored(server):
    from tests.providers.helpers import add_listener, deliver, last_event
    listener = add_listener(server, "websub", {"secret": "s", "verify_token": "right"})
    reply = deliver(server, listener, b"", {}, method="GET",
                    query="hub.mode=subscribe&hub.challenge=abc&hub.verify_token=wrong")
    assert reply.status == 404
    assert last_event(server, listener).reason == "handshake refused: hub.verify_token does not match"
