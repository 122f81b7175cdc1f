"""Jira Cloud: HMAC-SHA256 hex of the raw body in ``X-Hub-Signature: sha256=...``."""

from __future__ import annotations

import json

from ..hookspecs import hookimpl
from ..model import Sample
from .base import HmacHeaderProvider
from ._shared import new_id, with_default_header


class JiraProvider(HmacHeaderProvider):
    """Jira Cloud admin/REST webhooks with a secret (Connect apps' JWTs are not covered)."""

    name = "jira"
    label = "Jira (Atlassian)"
    aliases = ("atlassian",)
    header = "X-Hub-Signature"
    prefix = "sha256="
    id_header = "X-Atlassian-Webhook-Identifier"
    summary = "HMAC-SHA256 hex of the raw body in X-Hub-Signature (sha256=...)"
    doc = {
        "headers": "X-Hub-Signature, X-Atlassian-Webhook-Identifier, X-Atlassian-Webhook-Retry",
        "signed": "body",
        "algorithm": "HMAC-SHA256, hex, prefix sha256=",
        "replay": "none",
        "handshake": "none",
        "dedup": "X-Atlassian-Webhook-Identifier",
        "tested": "self-computed vector (no official vector or SDK helper)",
    }

    def sign(self, request, settings, *, now=None):
        return with_default_header(super().sign(request, settings, now=now), self.id_header, new_id())

    def sample(self):
        body = {"timestamp": 1700000000000, "webhookEvent": "jira:issue_created",
                "issue_event_type_name": "issue_created",
                "user": {"accountId": "5b10a2844c20165700ede21g", "displayName": "Mia Krystof"},
                "issue": {"id": "10002", "key": "PROJ-42",
                          "fields": {"summary": "Checkout fails on Safari",
                                     "issuetype": {"name": "Bug"}, "status": {"name": "To Do"}}}}
        return Sample(json.dumps(body), headers={"User-Agent": "Atlassian Webhook HTTP Client"})


@hookimpl
def register_providers():
    return [JiraProvider()]
