"""Zendesk: ``X-Zendesk-Webhook-Signature`` = base64 HMAC-SHA256 of ``timestamp + body``."""

from __future__ import annotations

import base64
import json

from ..hookspecs import hookimpl
from ..model import Sample, Verdict
from .base import SECRET, Provider, digest_matches, hmac_digest, secrets_of, tolerance_setting, with_header
from ._shared import (bad_timestamp, first_missing, iso_now, iso_seconds, new_id, signing_secret, timely,
                      with_default_header)

HEADER = "X-Zendesk-Webhook-Signature"
TIMESTAMP = "X-Zendesk-Webhook-Signature-Timestamp"
#: the documented secret of test deliveries sent before a webhook exists
TEST_SECRET = "dGhpc19zZWNyZXRfaXNfZm9yX3Rlc3Rpbmdfb25seQ=="


class ZendeskProvider(Provider):
    """Zendesk webhooks (triggers, automations, event subscriptions; JSON, XML or form bodies)."""

    name = "zendesk"
    label = "Zendesk"
    settings = (SECRET, tolerance_setting(300))
    summary = "HMAC-SHA256 base64 of timestamp + body in X-Zendesk-Webhook-Signature"
    doc = {
        "headers": f"{HEADER}, {TIMESTAMP} (ISO-8601), X-Zendesk-Webhook-Invocation-Id",
        "signed": "timestamp + body (no separator)",
        "algorithm": "HMAC-SHA256, base64; the secret is used as literal text (also the documented "
                     f"test secret {TEST_SECRET})",
        "replay": "300 s both directions (Zendesk prescribes none; the timestamp is signed)",
        "handshake": "none",
        "dedup": "X-Zendesk-Webhook-Invocation-Id (header name from the reference notes, unverified)",
        "tested": "self-computed vector with Zendesk's documented test secret",
    }

    def verify(self, request, settings, *, now=None):
        missing = first_missing(request, HEADER, TIMESTAMP)
        if missing is not None:
            return missing
        received, stamp = request.header(HEADER), request.header(TIMESTAMP)
        seconds = iso_seconds(stamp)
        if seconds is None:
            return bad_timestamp(TIMESTAMP, stamp, "an ISO-8601 timestamp")
        message = stamp.encode("utf-8") + request.body
        if not any(digest_matches(hmac_digest("sha256", s, message), received, "base64")
                   for s in secrets_of(settings)):
            return Verdict.reject(f"signature in {HEADER} does not match", header=HEADER)
        return timely(seconds, settings, now)

    def sign(self, request, settings, *, now=None):
        stamp = iso_now(now)
        digest = hmac_digest("sha256", signing_secret(settings), stamp.encode("utf-8") + request.body)
        signed = with_header(request, TIMESTAMP, stamp)
        signed = with_header(signed, HEADER, base64.b64encode(digest).decode("ascii"))
        return with_default_header(signed, "X-Zendesk-Webhook-Invocation-Id", new_id())

    def delivery_id(self, request):
        return request.header("X-Zendesk-Webhook-Invocation-Id")

    def sample(self):
        body = {"type": "zen:event-type:ticket.created", "account_id": 10000001,
                "id": "cbe4028c-7239-495d-b020-f22348516046", "time": "2024-02-01T12:00:00Z",
                "zendesk_event_version": "2022-11-06", "subject": "zen:ticket:1234",
                "detail": {"id": "1234", "subject": "My printer is on fire!", "status": "NEW",
                           "priority": "HIGH", "requester_id": "20000001"}}
        return Sample(json.dumps(body), headers={"User-Agent": "Zendesk Webhook"})


@hookimpl
def register_providers():
    return [ZendeskProvider()]
