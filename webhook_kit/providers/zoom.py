"""Zoom: ``x-zm-signature: v0=<hex>`` over ``"v0:" + ts + ":" + body``; endpoint.url_validation answered."""

from __future__ import annotations

import json
import time

from ..hookspecs import hookimpl
from ..model import Response, Sample
from .base import hmac_digest
from ._shared import V0TimestampProvider, body_field, json_body


class ZoomProvider(V0TimestampProvider):
    """Zoom app event subscriptions (key: the app's secret token)."""

    name = "zoom"
    label = "Zoom"
    signature_header = "x-zm-signature"
    timestamp_header = "x-zm-request-timestamp"
    summary = "HMAC-SHA256 hex of v0:ts:body in x-zm-signature (v0=...); CRC answered"
    doc = {
        "headers": "x-zm-signature, x-zm-request-timestamp",
        "signed": '"v0:" + timestamp + ":" + body',
        "algorithm": "HMAC-SHA256, hex, prefix v0=; key = the secret token",
        "replay": "300 s, both directions (Zoom fixes none)",
        "handshake": "endpoint.url_validation: plainToken + hex HMAC-SHA256(secret, plainToken), "
                     "only when the signature verifies",
        "dedup": "event + event_ts + payload.object.id (Zoom sends no delivery id)",
        "tested": "CRC vector from elastic/beats (secretValueTest); self-computed signature vector",
    }

    @staticmethod
    def encrypted_token(secret: str, plain_token: str) -> str:
        return hmac_digest("sha256", secret, plain_token.encode("utf-8")).hex()

    def handshake(self, request, settings, *, now=None):
        if request.method != "POST":
            return None
        body = json_body(request)
        if not (isinstance(body, dict) and body.get("event") == "endpoint.url_validation"):
            return None
        payload = body.get("payload")
        plain = payload.get("plainToken") if isinstance(payload, dict) else None
        if not isinstance(plain, str) or not plain:
            return None  # verification runs and the event shows what arrived
        if not self.verify(request, settings, now=now).ok:
            return None  # verification then rejects it, with the reason on the event
        _, secret = self.matching_secret(request, settings)
        return Response.json({"plainToken": plain,
                              "encryptedToken": self.encrypted_token(secret, plain)})

    def delivery_id(self, request):
        event, stamp = body_field(request, "event"), body_field(request, "event_ts")
        if not (event and stamp):
            return None
        body = json_body(request)
        obj = (body.get("payload") or {}).get("object") if isinstance(body.get("payload"), dict) else None
        obj_id = obj.get("uuid") or obj.get("id") if isinstance(obj, dict) else None
        return f"{event}:{stamp}" + (f":{obj_id}" if obj_id is not None else "")

    def sample(self):
        body = {"event": "meeting.started", "event_ts": int(time.time() * 1000),
                "payload": {"account_id": "AAAAAABBBB",
                            "object": {"id": "1234567890", "uuid": "4444AAAiAAAAAiAiAiiAii==",
                                       "host_id": "x1yCzABCDEfg23HiJKl4mN", "topic": "My Meeting",
                                       "type": 2, "start_time": "2023-11-14T22:13:20Z",
                                       "timezone": "America/Los_Angeles", "duration": 60}}}
        return Sample(json.dumps(body), headers={"User-Agent": "Zoom Marketplace/1.0a"})


@hookimpl
def register_providers():
    return [ZoomProvider()]
