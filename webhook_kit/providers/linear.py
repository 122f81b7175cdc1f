"""Linear: ``Linear-Signature`` = hex HMAC-SHA256 of the body; ``webhookTimestamp`` (ms) in the body."""

from __future__ import annotations

import json
import time

from ..hookspecs import hookimpl
from ..model import Sample, Verdict
from .base import SECRET, HmacHeaderProvider, tolerance_setting
from ._shared import json_body, new_id, timely, tolerance_of, with_default_header


class LinearProvider(HmacHeaderProvider):
    """Linear workspace and OAuth-app webhooks."""

    name = "linear"
    label = "Linear"
    header = "Linear-Signature"
    id_header = "Linear-Delivery"
    settings = (SECRET, tolerance_setting(60))
    summary = "HMAC-SHA256 hex of the raw body in Linear-Signature; webhookTimestamp within 60 s"
    doc = {
        "headers": "Linear-Signature, Linear-Delivery, Linear-Event",
        "signed": "body",
        "algorithm": "HMAC-SHA256, hex",
        "replay": "60 s, both directions, on the body's webhookTimestamp (ms; signed with the body)",
        "handshake": "none",
        "dedup": "Linear-Delivery",
        "tested": "self-computed vector (the official helper exists only in the TypeScript SDK)",
    }

    def verify(self, request, settings, *, now=None):
        verdict = super().verify(request, settings, now=now)
        tolerance = tolerance_of(settings)
        if not verdict.ok or not tolerance:
            return verdict
        body = json_body(request)
        stamp = body.get("webhookTimestamp") if isinstance(body, dict) else None
        if isinstance(stamp, bool) or not isinstance(stamp, (int, float)):
            return Verdict.reject("body has no numeric webhookTimestamp", field="webhookTimestamp")
        return timely(stamp / 1000, settings, now, verdict=verdict)

    def sign(self, request, settings, *, now=None):
        signed = super().sign(request, settings, now=now)
        body = json_body(request)
        event = body.get("type") if isinstance(body, dict) else None
        if event:
            signed = with_default_header(signed, "Linear-Event", str(event))
        return with_default_header(signed, self.id_header, new_id())

    def sample(self):
        now_ms = int(time.time() * 1000)
        body = {"action": "create", "type": "Issue", "createdAt": "2024-05-01T12:00:00.000Z",
                "organizationId": "2a6ef7f4-4d8c-4b6e-9f3c-0d1e2f3a4b5c", "webhookTimestamp": now_ms,
                "webhookId": "7b4c8f2a-3c1d-4e5f-8a9b-0c1d2e3f4a5b",
                "url": "https://linear.app/acme/issue/ENG-42",
                "data": {"id": "5ab6e6f8-8f4f-4c35-9a2e-1f2d3c4b5a69", "identifier": "ENG-42",
                         "title": "Crash on login", "priority": 2, "state": {"name": "Todo"}}}
        return Sample(json.dumps(body), headers={"User-Agent": "Linear-Webhook"})


@hookimpl
def register_providers():
    return [LinearProvider()]
