"""Discord interactions over real HTTP: Ed25519; PING/PONG only when signed; discord-interactions checks."""

from __future__ import annotations

import json
import time

import pytest

import webhook_kit as wk
from webhook_kit.client import post, sign_delivery
from webhook_kit.providers.discord import new_key_pair

from ._contract import HOSTILE_HEADER_VALUES, crypto_missing_explained, headers_signed_by, hostile_header_refused, refused, signed
from .helpers import add_listener, deliver, last_event, url_of

SIG, TS = "X-Signature-Ed25519", "X-Signature-Timestamp"
BODY = wk.plugins.providers.get("discord").sample().body
PUBLIC, SEED = new_key_pair()

# RFC 8032 section 7.1 TEST 1 key pair
RFC_SEED = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"
RFC_PUBLIC = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
RFC_PING_SIG = ("1695961a47c91a1ec033b819b7e87e3dbc583dd0cee6d1fd0216f58ac87b6228"
                "ae531ddbf91fb7bc28d7edf7f08604da16f54624f38a6bc0614e4dc13cd47f0f")


@pytest.fixture
def listener(server):
    return add_listener(server, "discord", {"public_key": PUBLIC, "private_key": SEED})


def signed_headers(listener, body=BODY, now=None):
    return headers_signed_by(listener, body, SIG, TS, now=now)


def test_ping_answered_with_pong_only_when_signed(server, listener):
    ping = b'{"type":1}'
    d = deliver(server, listener, ping, signed_headers(listener, ping))
    assert d.status == 200 and d.json() == {"type": 1}
    assert last_event(server, listener).status == "handshake"
    _, other_seed = new_key_pair()
    forged = wk.Listener("f", provider="discord", verification={"public_key": PUBLIC, "private_key": other_seed})
    d = deliver(server, listener, ping, signed_headers(forged, ping))
    assert d.status == 401 and d.json() == {"error": "verification failed"}
    assert "does not verify" in last_event(server, listener).reason
    d = deliver(server, listener, ping, {"Content-Type": "application/json"})
    assert d.status == 401 and last_event(server, listener).reason == f"missing header {SIG}"


def test_rfc8032_keyed_vector_reproduced_and_accepted(server):
    listener = add_listener(server, "discord", {"public_key": RFC_PUBLIC, "private_key": RFC_SEED,
                                                "tolerance": 0}, "discord-rfc")
    request = sign_delivery(listener, b'{"type":1}', now=1700000000, url=url_of(server, listener))
    assert request.header(SIG) == RFC_PING_SIG and request.header(TS) == "1700000000"
    d = post(request)
    assert d.status == 200 and d.json() == {"type": 1}


def test_discord_interactions_verify_key_accepts_our_signature(listener):
    from discord_interactions import verify_key
    request = sign_delivery(listener, BODY)
    assert verify_key(BODY, request.header(SIG), request.header(TS), PUBLIC)
    assert not verify_key(BODY + b" ", request.header(SIG), request.header(TS), PUBLIC)
    assert verify_key(b'{"type":1}', RFC_PING_SIG, "1700000000", RFC_PUBLIC)


def test_pynacl_signs_and_our_server_accepts(server, listener):
    from nacl.signing import SigningKey
    ts = str(int(time.time()))
    sig = SigningKey(bytes.fromhex(SEED)).sign(ts.encode() + BODY).signature.hex()
    d = deliver(server, listener, BODY, {"Content-Type": "application/json", SIG: sig, TS: ts})
    assert d.status == 200 and d.json() == {"type": 5}, d.text
    event = last_event(server, listener)
    assert event.status == "accepted" and event.delivery_id == "1234567890123456783"


def test_sign_output_accepted_and_redelivery_is_duplicate(server, listener):
    request = signed(server, listener)
    assert post(request).status == 200 and last_event(server, listener).status == "accepted"
    second = post(request)
    assert second.status == 200 and last_event(server, listener).status == "duplicate"


@pytest.mark.parametrize("case, expected", [
    ("tampered", "does not verify with the public key"),
    ("missing", f"missing header {SIG}"),
    ("missing_ts", f"missing header {TS}"),
    ("stale", "timestamp too old"),
    ("not_hex", "is not hex"),
    ("short", "does not verify with the public key"),
    ("other_ts", "does not verify with the public key"),
])
def test_rejected_with_reason(server, listener, case, expected):
    body, h = BODY, signed_headers(listener)
    if case == "tampered":
        body = json.dumps(dict(json.loads(BODY), type=3)).encode()
    elif case == "missing":
        del h[SIG]
    elif case == "missing_ts":
        del h[TS]
    elif case == "stale":
        h = signed_headers(listener, now=time.time() - 400)
    elif case == "not_hex":
        h[SIG] = "zz" * 64
    elif case == "short":
        h[SIG] = h[SIG][:20]
    elif case == "other_ts":
        h[TS] = str(int(h[TS]) + 1)
    refused(server, listener, deliver(server, listener, body, h), expected)


def test_key_settings_checked():
    with pytest.raises(wk.ConfigError, match="verification.public_key"):
        wk.Listener.from_dict({"id": "d", "provider": "discord", "verification": {"public_key": "abcd"}})


def test_without_cryptography_the_reason_says_how_to_install(server, listener, monkeypatch):
    crypto_missing_explained(server, listener, BODY, signed_headers(listener), monkeypatch)


def test_command_answered_with_deferred_response(server, listener):
    d = deliver(server, listener, BODY, signed_headers(listener))
    assert d.status == 200 and d.json() == {"type": 5}
    assert last_event(server, listener).payload["data"]["name"] == "ping"
    component = json.dumps(dict(json.loads(BODY), type=3, id="999")).encode()
    assert deliver(server, listener, component, signed_headers(listener, component)).json() == {"type": 6}


def test_defer_off_leaves_the_answer_to_the_listener(server):
    listener = add_listener(server, "discord", {"public_key": PUBLIC, "private_key": SEED, "defer": False},
                            "discord-nodefer")
    d = deliver(server, listener, BODY, signed_headers(listener))
    assert d.status == 200 and "event_id" in d.json()


@pytest.mark.parametrize("name", ['X-Signature-Ed25519', 'X-Signature-Timestamp'])
@pytest.mark.parametrize("value", HOSTILE_HEADER_VALUES)
def test_hostile_header_values_get_a_4xx_never_a_500(server, listener, name, value):
    hostile_header_refused(server, listener, BODY, name, value)
