"""Typeform: HMAC-SHA256 base64 of the raw body in ``Typeform-Signature: sha256=...``."""

from __future__ import annotations

import json

from ..hookspecs import hookimpl
from ..model import Sample
from .base import HmacHeaderProvider
from ._shared import body_field, fresh_hex


class TypeformProvider(HmacHeaderProvider):
    """Typeform form-response webhooks."""

    name = "typeform"
    label = "Typeform"
    header = "Typeform-Signature"
    encoding = "base64"
    prefix = "sha256="
    summary = "HMAC-SHA256 base64 of the raw body in Typeform-Signature (sha256=...)"
    doc = {
        "headers": "Typeform-Signature",
        "signed": "body",
        "algorithm": "HMAC-SHA256, base64, prefix sha256=",
        "replay": "none",
        "handshake": "none",
        "dedup": "body event_id",
        "tested": "self-computed vector (no official vector or SDK helper)",
    }

    def delivery_id(self, request):
        return body_field(request, "event_id")

    def sample(self):
        body = {"event_id": f"01H{fresh_hex(11).upper()}", "event_type": "form_response",
                "form_response": {"form_id": "lT4Z3j", "token": "a3a12ec67a1365927098a606107fac15",
                                  "submitted_at": "2024-01-18T18:17:02Z",
                                  "definition": {"id": "lT4Z3j", "title": "Feedback"},
                                  "answers": [{"type": "text", "text": "Great service",
                                               "field": {"id": "DlXFaesGBpoF", "type": "long_text"}}]}}
        return Sample(json.dumps(body), headers={"User-Agent": "Typeform Webhooks"})


@hookimpl
def register_providers():
    return [TypeformProvider()]
