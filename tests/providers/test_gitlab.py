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
