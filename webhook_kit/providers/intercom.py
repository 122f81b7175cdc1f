"""Intercom: HMAC-SHA1 hex of the raw body in ``X-Hub-Signature: sha1=...`` (key: client secret)."""

from __future__ import annotations

import json

from ..hookspecs import hookimpl
from ..model import Sample
from .base import HmacHeaderProvider
from ._shared import body_field, fresh_hex


class IntercomProvider(HmacHeaderProvider):
    """Intercom app webhooks (topics such as conversation.user.created)."""

    name = "intercom"
    label = "Intercom"
    header = "X-Hub-Signature"
    algorithm = "sha1"
    prefix = "sha1="
    summary = "HMAC-SHA1 hex of the raw body in X-Hub-Signature (sha1=...)"
    doc = {
        "headers": "X-Hub-Signature",
        "signed": "body",
        "algorithm": "HMAC-SHA1, hex, prefix sha1=; key = the app's client secret",
        "replay": "none",
        "handshake": "none",
        "dedup": "body id (the notification id)",
        "tested": "self-computed vector (no official vector or SDK helper)",
    }

    def delivery_id(self, request):
        return body_field(request, "id")

    def sample(self):
        body = {"type": "notification_event", "app_id": "abc123", "id": f"notif_{fresh_hex()}",
                "topic": "conversation.user.created", "delivery_attempts": 1,
                "first_sent_at": 1700000000, "created_at": 1700000000,
                "data": {"type": "notification_event_data",
                         "item": {"type": "conversation", "id": "147",
                                  "source": {"body": "<p>Hi, I need help</p>"}}}}
        return Sample(json.dumps(body), headers={"User-Agent": "Intercom-Webhooks"})


@hookimpl
def register_providers():
    return [IntercomProvider()]
