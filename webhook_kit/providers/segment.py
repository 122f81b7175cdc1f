"""Segment webhook destination: ``X-Signature: <hex>`` = HMAC-SHA1 of the body."""

from __future__ import annotations

from ..hookspecs import hookimpl
from ..model import Sample
from .base import HmacHeaderProvider
from ._shared import field_at, json_body


class SegmentProvider(HmacHeaderProvider):
    """Segment's (Actions) webhook destination with a shared secret."""

    name = "segment"
    label = "Segment"
    header = "X-Signature"
    algorithm = "sha1"
    summary = "HMAC-SHA1 hex of the body in X-Signature"
    doc = {
        "headers": "`X-Signature: <hex>`",
        "signed": "`body`",
        "algorithm": "HMAC-SHA1, hex",
        "replay": "none",
        "handshake": "none",
        "dedup": "`messageId` in the body",
        "tested": "published SELF-COMPUTED vector; real deliveries over loopback",
    }

    def delivery_id(self, request):
        return field_at(json_body(request), "messageId")

    def sample(self):
        return Sample(
            b'{"type":"track","event":"Order Completed","userId":"user_42",'
            b'"anonymousId":"23adfd82-aa0f-45a7-a756-24f2a7a4c895","messageId":'
            b'"ajs-next-7f4e2a1c9b8d4e6fa0b1c2d3e4f5a6b7","timestamp":"2024-01-01T12:00:00.000Z",'
            b'"properties":{"order_id":"50314b8e9bcf000000000000","total":27.5,"currency":"USD"},'
            b'"context":{"library":{"name":"analytics.js","version":"2.11.1"}}}')


@hookimpl
def register_providers():
    return [SegmentProvider()]
