"""Twitch EventSub over real HTTP: id+timestamp+body HMAC, 10 minute window, verification challenge."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import datetime, timezone

import pytest

import webhook_kit as wk
from webhook_kit.client import post, sign_delivery

from ._contract import HOSTILE_HEADER_VALUES, accepted, hostile_header_refused, redelivered, refused, signed
from .helpers import add_listener, deliver, last_event, url_of

SECRET = "twitch-subscription-secret"
BODY = wk.plugins.providers.get("twitch").sample().body
CHALLENGE = json.dumps({"challenge": "pogchamp-kappa-360noscope-vohiyo",
                        "subscription": json.loads(BODY)["subscription"]}).encode()


def stamp(offset: float = 0) -> str:
    t = datetime.fromtimestamp(time.time() + offset, timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond:06d}123Z"


def headers(secret: str | None, body: bytes = BODY, kind: str = "notification",
            msg_id: str = "e76c6bd4-55c9-4987-8304-da1588d8988b", ts: str | None = None) -> dict:
    ts = stamp() if ts is None else ts
    h = {"Content-Type": "application/json", "Twitch-Eventsub-Message-Id": msg_id,
         "Twitch-Eventsub-Message-Timestamp": ts, "Twitch-Eventsub-Message-Type": kind,
         "Twitch-Eventsub-Message-Retry": "0"}
    if secret is not None:
        sig = hmac.new(secret.encode(), (msg_id + ts).encode() + body, hashlib.sha256).hexdigest()
        h["Twitch-Eventsub-Message-Signature"] = "sha256=" + sig
    return h


@pytest.fixture
def listener(server):
    return add_listener(server, "twitch", {"secret": SECRET})


def test_accepted(server, listener):
    assert accepted(server, deliver(server, listener, BODY, headers(SECRET))).delivery_id == (
        "e76c6bd4-55c9-4987-8304-da1588d8988b")


def test_verification_challenge_answered_as_text(server, listener):
    d = deliver(server, listener, CHALLENGE, headers(SECRET, CHALLENGE, "webhook_callback_verification"))
    assert d.status == 200 and d.text == "pogchamp-kappa-360noscope-vohiyo"
    assert d.headers.get("Content-Type").startswith("text/plain")
    assert last_event(server, listener).status == "handshake"


@pytest.mark.parametrize("secret", ["wrong-secret", None])
def test_verification_challenge_with_bad_signature_is_refused(server, listener, secret):
    d = deliver(server, listener, CHALLENGE, headers(secret, CHALLENGE, "webhook_callback_verification"))
    assert d.status == 401 and "pogchamp" not in d.text
    event = last_event(server, listener)
    assert event.status == "rejected"
    assert "does not match" in event.reason or "missing header" in event.reason


@pytest.mark.parametrize("case, expected", [
    ("tampered", "signature in Twitch-Eventsub-Message-Signature does not match"),
    ("wrong_secret", "signature in Twitch-Eventsub-Message-Signature does not match"),
    ("missing", "missing header Twitch-Eventsub-Message-Signature"),
    ("missing_id", "missing header Twitch-Eventsub-Message-Id"),
    ("stale", "timestamp too old"),
    ("bad_ts", "is not an RFC 3339 time"),
])
def test_rejected_with_reason(server, listener, case, expected):
    body, h = BODY, headers(SECRET)
    if case == "tampered":
        body = BODY.replace(b"awesome_user", b"someone_else")
    elif case == "wrong_secret":
        h = headers("other")
    elif case == "missing":
        h = headers(None)
    elif case == "missing_id":
        del h["Twitch-Eventsub-Message-Id"]
    elif case == "stale":
        h = headers(SECRET, ts=stamp(-601 - 5))
    elif case == "bad_ts":
        h = headers(SECRET, ts="yesterday")
    event = refused(server, listener, deliver(server, listener, body, h), expected)
    if case == "stale":
        assert event.details["skew_seconds"] > 600


def test_revocation_is_acknowledged(server, listener):
    body = BODY.replace(b'"enabled"', b'"authorization_revoked"')
    d = deliver(server, listener, body, headers(SECRET, body, "revocation"))
    assert d.status == 200


def test_rotation(server):
    listener = add_listener(server, "twitch", {"secret": ["new-secret-123", SECRET]})
    assert deliver(server, listener, BODY, headers(SECRET)).status == 200


def test_published_vector(server):
    listener = add_listener(server, "twitch", {"secret": "test_secret", "tolerance": 0}, "twitch-vec")
    body = b'{"id":"evt_1","type":"ping"}'
    h = {"Content-Type": "application/json",
         "Twitch-Eventsub-Message-Id": "e76c6bd4-55c9-4987-8304-da1588d8988b",
         "Twitch-Eventsub-Message-Timestamp": "2019-11-16T10:11:12.634234626Z",
         "Twitch-Eventsub-Message-Type": "notification",
         "Twitch-Eventsub-Message-Signature":
             "sha256=17387ccfe686ba0d7f48ea9afbfef3e90a9c0b8c957cb5e0e42bdb11872ea026"}
    assert deliver(server, listener, body, h).status == 200


def test_sign_output_accepted_and_redelivery_is_duplicate(server, listener):
    request = signed(server, listener)
    assert request.header("Twitch-Eventsub-Subscription-Type") == "channel.follow"
    redelivered(server, request)


def test_signed_challenge_is_a_handshake(server, listener):
    request = sign_delivery(listener, CHALLENGE, url=url_of(server, listener))
    assert request.header("Twitch-Eventsub-Message-Type") == "webhook_callback_verification"
    d = post(request)
    assert d.status == 200 and d.text == "pogchamp-kappa-360noscope-vohiyo"


@pytest.mark.parametrize("name", ['Twitch-Eventsub-Message-Signature', 'Twitch-Eventsub-Message-Timestamp', 'Twitch-Eventsub-Message-Id'])
@pytest.mark.parametrize("value", HOSTILE_HEADER_VALUES)
def test_hostile_header_values_get_a_4xx_never_a_500(server, listener, name, value):
    hostile_header_refused(server, listener, BODY, name, value)
