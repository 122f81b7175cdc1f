"""Trello: ``X-Trello-Webhook`` = base64 HMAC-SHA1 of ``body + callbackURL``; HEAD probe answered."""

from __future__ import annotations

import json

from ..hookspecs import hookimpl
from ..model import Sample
from .base import PUBLIC_URL, SECRET, HmacHeaderProvider
from ._shared import body_field, fresh_hex, head_probe, signed_url


class TrelloProvider(HmacHeaderProvider):
    """Trello webhooks (key: the application's secret; callbackURL as registered)."""

    name = "trello"
    label = "Trello"
    header = "X-Trello-Webhook"
    algorithm = "sha1"
    encoding = "base64"
    settings = (SECRET, PUBLIC_URL)
    summary = "HMAC-SHA1 base64 of body + callback URL in X-Trello-Webhook; HEAD probe"
    doc = {
        "headers": "X-Trello-Webhook",
        "signed": "body + callbackURL (public_url, else the URL the request arrived on)",
        "algorithm": "HMAC-SHA1, base64; key = the application secret",
        "replay": "none",
        "handshake": "HEAD answered 200 (sent when the webhook is created)",
        "dedup": "body action.id",
        "tested": "self-computed vector (no official vector or SDK helper)",
    }

    def signed_bytes(self, request, settings):
        return request.body + signed_url(request, settings).encode("utf-8")

    def handshake(self, request, settings, *, now=None):
        return head_probe(request)

    def delivery_id(self, request):
        return body_field(request, "action", "id")

    def sample(self):
        body = {"model": {"id": "5a4a5b5c5d5e5f6061626364", "name": "Roadmap"},
                "action": {"id": fresh_hex(12), "idMemberCreator": "5a4a5b5c5d5e5f6061626399",
                           "type": "createCard", "date": "2024-05-01T12:00:00.000Z",
                           "data": {"card": {"id": "5a4a5b5c5d5e5f6061626377", "name": "Ship v2"},
                                    "list": {"id": "5a4a5b5c5d5e5f6061626355", "name": "Doing"},
                                    "board": {"id": "5a4a5b5c5d5e5f6061626364", "name": "Roadmap"}}},
                "webhook": {"id": "5a4a5b5c5d5e5f6061626311", "idModel": "5a4a5b5c5d5e5f6061626364",
                            "active": True}}
        return Sample(json.dumps(body))


@hookimpl
def register_providers():
    return [TrelloProvider()]
