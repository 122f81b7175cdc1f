"""GitLab over real HTTP: the X-Gitlab-Token secret, redacted before storing; Idempotency-Key dedup."""

from __future__ import annotations

import pytest

import webhook_kit as wk
from webhook_kit.client import post, sign_delivery

from ._contract import HOSTILE_HEADER_VALUES, accepted, hostile_header_refused, refused, signed
from .helpers import add_listener, deliver, stored, url_of

TOKEN = "glpat-webhook-token-123"
BODY = wk.plugins.providers.get("gitlab").sample().body
HEADERS = {"Content-Type": "application/json", "X-Gitlab-Event": "Push Hook",
           "X-Gitlab-Event-UUID": "13792a34-cac6-4fda-95a8-c58e00a3954e",
           "Idempotency-Key": "f5f2d3b1-2b9e-4a43-9a2c-3c7f3b8f1e0d"}


@pytest.fixture
def listener(server):
    return add_listener(server, "gitlab", {"secret": TOKEN})


def test_accepted_token_redacted_and_dedup_id(server, listener):
    event = accepted(server, deliver(server, listener, BODY, {**HEADERS, "X-Gitlab-Token": TOKEN}))
    assert event.delivery_id == HEADERS["Idempotency-Key"]
    assert event.header_map.get("X-Gitlab-Token") == "[redacted]"
    assert TOKEN not in repr(event.headers) and "header:X-Gitlab-Token" in event.redactions


@pytest.mark.parametrize("token, expected", [
    ("wrong-token", "token in X-Gitlab-Token does not match"),
    (TOKEN[:-1], "token in X-Gitlab-Token does not match"),
    (None, "missing header X-Gitlab-Token"),
])
def test_rejected_with_reason(server, listener, token, expected):
    headers = dict(HEADERS)
    if token is not None:
        headers["X-Gitlab-Token"] = token
    event = refused(server, listener, deliver(server, listener, BODY, headers), expected, exact=True)
    assert event.header_map.get("X-Gitlab-Token") in (None, "[redacted]")


def test_rotation(server):
    listener = add_listener(server, "gitlab", {"secret": ["new-token", TOKEN]})
    assert deliver(server, listener, BODY, {**HEADERS, "X-Gitlab-Token": TOKEN}).status == 200
    assert deliver(server, listener, BODY, {**HEADERS, "X-Gitlab-Token": "new-token"}).status == 200


def test_env_secret(server, monkeypatch):
    monkeypatch.setenv("GITLAB_HOOK_TOKEN", TOKEN)
    listener = add_listener(server, "gitlab", {"secret": {"env": "GITLAB_HOOK_TOKEN"}})
    assert deliver(server, listener, BODY, {**HEADERS, "X-Gitlab-Token": TOKEN}).status == 200


def test_sign_output_accepted_and_redelivery_is_duplicate(server, listener):
    request = signed(server, listener)
    assert request.header("X-Gitlab-Event") == "Push Hook"
    assert request.header("Idempotency-Key") == request.header("X-Gitlab-Event-UUID")
    first, second = post(request), post(request)
    assert first.status == 200 and second.status == 200
    assert stored(server, first).status == "accepted"
    assert stored(server, second).status == "duplicate"
    # a new delivery (fresh Idempotency-Key) is not a duplicate
    assert stored(server, post(sign_delivery(listener, url=url_of(server, listener)))).status == "accepted"


@pytest.mark.parametrize("name", ['X-Gitlab-Token'])
@pytest.mark.parametrize("value", HOSTILE_HEADER_VALUES)
def test_hostile_header_values_get_a_4xx_never_a_500(server, listener, name, value):
    hostile_header_refused(server, listener, BODY, name, value)


# -- the opt-in signing token (GitLab's webhook_signing_token: the Standard Webhooks scheme) --

SIGNING = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"  # whsec_ + base64 of the key, as GitLab takes it


def _sdk():
    return pytest.importorskip("standardwebhooks.webhooks", reason="standardwebhooks not importable")


def _gitlab_signed_by_sdk(body: bytes, msg_id: str, when=None, token: str | None = None) -> dict:
    """The headers GitLab sends with a signing token, the signature made by the official
    Standard Webhooks SDK (not by our signer)."""
    from datetime import datetime, timezone
    when = when or datetime.now(timezone.utc)
    headers = {**HEADERS, "Idempotency-Key": msg_id, "webhook-id": msg_id,
               "webhook-timestamp": str(int(when.timestamp())),
               "webhook-signature": _sdk().Webhook(SIGNING).sign(msg_id, when, body.decode())}
    if token is not None:
        headers["X-Gitlab-Token"] = token
    return headers


def test_signing_token_sdk_signs_and_our_server_accepts(server):
    listener = add_listener(server, "gitlab", {"signing_token": SIGNING}, "gl-signed")
    event = accepted(server, deliver(server, listener, BODY, _gitlab_signed_by_sdk(BODY, "msg-1")))
    assert event.delivery_id == "msg-1"


def test_signing_token_our_signer_and_the_sdk_verifier_agree(server):
    listener = add_listener(server, "gitlab", {"signing_token": SIGNING}, "gl-signed")
    request = signed(server, listener)
    assert request.header("webhook-id") == request.header("Idempotency-Key")
    assert request.header("X-Gitlab-Token") is None  # no secret token configured: none sent
    _sdk().Webhook(SIGNING).verify(request.body.decode(), dict(request.headers.items()))
    accepted(server, post(request))


@pytest.mark.parametrize("case, expected", [
    ("tampered", "no v1 signature in webhook-signature matches"),
    ("missing", "missing header webhook-signature"),
    ("stale", "timestamp too old"),
])
def test_signing_token_rejections(server, case, expected):
    from datetime import datetime, timedelta, timezone
    listener = add_listener(server, "gitlab", {"signing_token": SIGNING}, "gl-signed")
    when = datetime.now(timezone.utc) - (timedelta(minutes=10) if case == "stale" else timedelta())
    headers = _gitlab_signed_by_sdk(BODY, "msg-2", when)
    body = BODY + b" " if case == "tampered" else BODY
    if case == "missing":
        del headers["webhook-signature"]
    refused(server, listener, deliver(server, listener, body, headers), expected)


def test_token_and_signing_token_both_configured_both_must_pass(server):
    listener = add_listener(server, "gitlab", {"secret": TOKEN, "signing_token": SIGNING}, "gl-both")
    assert deliver(server, listener, BODY, _gitlab_signed_by_sdk(BODY, "m3", token=TOKEN)).status == 200
    refused(server, listener, deliver(server, listener, BODY, _gitlab_signed_by_sdk(BODY, "m4")),
            "missing header X-Gitlab-Token")
    signature_only = {**HEADERS, "X-Gitlab-Token": TOKEN}
    refused(server, listener, deliver(server, listener, BODY, signature_only),
            "missing header webhook-signature")
    request = signed(server, listener)
    assert request.header("X-Gitlab-Token") == TOKEN and request.header("webhook-signature")
    accepted(server, post(request))


def test_neither_token_is_a_config_error_naming_the_field():
    with pytest.raises(wk.ConfigError) as info:
        wk.Listener("gl-none", provider="gitlab", verification={}).validate()
    assert "secret" in str(info.value) and "signing_token" in str(info.value)
