"""Atlassian Connect (jira-connect) over real HTTP: Atlassian's own atlassian-jwt library signs
and our server accepts, its Authenticator accepts what our signer makes; every check named."""

from __future__ import annotations

import sys
import time

import pytest

import webhook_kit as wk
from webhook_kit.client import post

from ._contract import (accepted, hostile_header_refused, hostile_inputs_never_raise, provider,
                        redelivered, refused, signed)
from .helpers import add_listener, deliver, last_event, url_of

atlassian_jwt = pytest.importorskip("atlassian_jwt", reason="atlassian-jwt not importable")
jwt = pytest.importorskip("jwt", reason="PyJWT not importable")

SECRET = "connect-shared-secret-0123456789abcdef"  # 38 bytes: PyJWT wants 32+ for HS256
CLIENT_KEY = "jira:2b4f6a1e-0c7d-4e8a-9b3f-5d2c1a0e9f88"
BODY = provider("jira-connect").sample().body


@pytest.fixture
def listener(server):
    return add_listener(server, "jira-connect", {"shared_secret": SECRET, "client_key": CLIENT_KEY})


def sdk_token(method: str, relative_url: str, secret: str = SECRET, **claims) -> str:
    """A token made by Atlassian's library, as Jira makes it for an app's webhook URL."""
    return atlassian_jwt.encode_token(method, relative_url, CLIENT_KEY, secret,
                                      payload_kwargs=claims or None)


def test_sdk_signs_and_our_server_accepts(server, listener):
    token = sdk_token("POST", "/hooks/jira-connect?user_id=42&lic=active")
    reply = deliver(server, listener, BODY, {"Content-Type": "application/json",
                                             "Authorization": f"JWT {token}"},
                    query="user_id=42&lic=active")
    event = accepted(server, reply)
    assert event.header_map["Authorization"] == "[redacted]"


def test_our_signer_and_atlassians_authenticator_agree(server, listener):
    request = signed(server, listener, query="lic=active&user_id=42")
    assert request.header("Authorization").startswith("JWT ")

    class App(atlassian_jwt.Authenticator):
        def get_shared_secret(self, client_key):
            assert client_key == CLIENT_KEY
            return SECRET

    relative = request.url.split(f":{server.port}", 1)[1]
    result = App().authenticate("POST", relative, dict(request.headers.items()))
    assert result.client_key == CLIENT_KEY
    accepted(server, post(request))


def test_base_url_path_is_left_out_of_the_hash(server):
    """An app whose descriptor's baseUrl has a path: the qsh covers the part after it."""
    listener = add_listener(server, "jira-connect", {
        "shared_secret": SECRET, "base_url": "https://app.example.com/hooks"}, "jc-base")
    token = sdk_token("POST", "/jc-base")  # the path relative to the app's base URL
    reply = deliver(server, listener, BODY, {"Content-Type": "application/json",
                                             "Authorization": f"JWT {token}"})
    accepted(server, reply)
    accepted(server, post(signed(server, listener)))


def test_token_in_the_query_is_accepted_and_redacted(server, listener):
    token = sdk_token("POST", "/hooks/jira-connect?a=1")
    reply = deliver(server, listener, BODY, {"Content-Type": "application/json"},
                    query=f"a=1&jwt={token}")
    event = accepted(server, reply)
    assert token not in event.url and "query:jwt" in event.redactions


@pytest.mark.parametrize("case, reason", [
    ("other_query", "JWT qsh does not match"),
    ("other_method", "JWT qsh does not match"),
    ("wrong_secret", "JWT signature does not match the shared secret"),
    ("missing", "missing header Authorization"),
    ("expired", "JWT expired"),
    ("future", "JWT issued"),
    ("other_client", "is not the client key"),
    ("no_qsh", "JWT lacks the 'qsh' claim"),
    ("alg_none", "JWT is not signed with HS256"),
    ("garbage", "malformed JWT"),
])
def test_rejected_with_reason(server, listener, case, reason):
    now = int(time.time())
    tokens = {
        "other_query": sdk_token("POST", "/hooks/jira-connect?user_id=1"),
        "other_method": sdk_token("PUT", "/hooks/jira-connect"),
        "wrong_secret": sdk_token("POST", "/hooks/jira-connect", "another-secret-0123456789abcdef0123"),
        "expired": sdk_token("POST", "/hooks/jira-connect", iat=now - 1200, exp=now - 900),
        "future": sdk_token("POST", "/hooks/jira-connect", iat=now + 900, exp=now + 1200),
        "other_client": jwt.encode({"iss": "jira:someone-else", "iat": now, "exp": now + 60,
                                    "qsh": atlassian_jwt.url_utils.hash_url(
                                        "POST", "/hooks/jira-connect")}, SECRET, algorithm="HS256"),
        "no_qsh": jwt.encode({"iss": CLIENT_KEY, "iat": now, "exp": now + 60}, SECRET,
                             algorithm="HS256"),
        "alg_none": jwt.encode({"iss": CLIENT_KEY, "iat": now, "exp": now + 60, "qsh": "x"}, None,
                               algorithm="none"),
        "garbage": "not.a.jwt",
    }
    headers = {"Content-Type": "application/json"}
    if case != "missing":
        headers["Authorization"] = f"JWT {tokens[case]}"
    event = refused(server, listener, deliver(server, listener, BODY, headers), reason)
    if case == "other_query":
        assert event.details["canonical_request"] == "POST&/hooks/jira-connect&"
        assert event.details["received_qsh"] == atlassian_jwt.url_utils.hash_url(
            "POST", "/hooks/jira-connect?user_id=1")
    if case in ("expired", "future"):
        assert abs(event.details["skew_seconds"]) >= 900 - 5 and event.details["tolerance"] == 300


def test_rotation_any_secret_matches(server):
    listener = add_listener(server, "jira-connect",
                            {"shared_secret": ["new-secret-0123456789abcdef0123456789", SECRET]},
                            "jc-rot")
    token = sdk_token("POST", "/hooks/jc-rot")
    accepted(server, deliver(server, listener, BODY, {"Content-Type": "application/json",
                                                      "Authorization": f"JWT {token}"}))


def test_redelivery_with_the_same_identifier_is_a_duplicate(server, listener):
    redelivered(server, signed(server, listener))


def test_hostile_inputs(server, listener):
    assert hostile_inputs_never_raise("jira-connect", {"shared_secret": SECRET}) > 100
    for value in ("JWT", "JWT " + "x" * 4000, "jwt a.b.c", "Bearer abc", "JWT \u00e9.\u00e8.x"):
        hostile_header_refused(server, listener, BODY, "Authorization", value)


def test_pyjwt_missing_is_explained(server, listener, monkeypatch):
    request = signed(server, listener)
    for name in [m for m in sys.modules if m == "jwt" or m.startswith("jwt.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "jwt", None)  # import now fails as if not installed
    reply = post(request)
    assert reply.status == 503 and "PyJWT" not in reply.text
    assert 'pip install "webhook-kit[jwt]"' in last_event(server, listener).reason
    problems = provider("jira-connect").check_settings({"shared_secret": SECRET})
    assert any("webhook-kit[jwt]" in message for _, message in problems)
    with pytest.raises(Exception, match=r"webhook-kit\[jwt\]"):
        signed(server, listener)
    assert url_of(server, listener)
