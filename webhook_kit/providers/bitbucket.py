"""Bitbucket Cloud and Data Center: ``X-Hub-Signature: sha256=<hex>`` of the body."""

from __future__ import annotations

from ..hookspecs import hookimpl
from ..model import Sample
from .base import HmacHeaderProvider
from ._shared import new_id, with_default_headers


class BitbucketProvider(HmacHeaderProvider):
    """Bitbucket webhooks with a secret (HMAC-SHA256 of the raw body)."""

    name = "bitbucket"
    label = "Bitbucket"
    header = "X-Hub-Signature"
    prefix = "sha256="
    summary = "HMAC-SHA256 hex of the body in X-Hub-Signature (sha256=)"
    doc = {
        "headers": "`X-Hub-Signature: sha256=<hex>`, `X-Event-Key`, `X-Request-UUID` (Cloud) / "
                   "`X-Request-Id` (Data Center)",
        "signed": "`body`",
        "algorithm": "HMAC-SHA256, hex",
        "replay": "none",
        "handshake": "none",
        "dedup": "`X-Request-UUID` (Cloud), else `X-Request-Id` (Data Center)",
        "tested": "published SELF-COMPUTED vector (same as Jira); real deliveries over loopback",
    }

    def sign(self, request, settings, *, now=None):
        request = with_default_headers(request, {
            "X-Event-Key": "repo:push", "X-Hook-UUID": "{4a6e2f5a-1d3b-4c5e-9f7a-8b9c0d1e2f3a}",
            "X-Request-UUID": new_id(), "X-Attempt-Number": "1", "User-Agent": "Bitbucket-Webhooks/2.0"})
        return super().sign(request, settings, now=now)

    def delivery_id(self, request):
        return request.header("X-Request-UUID") or request.header("X-Request-Id")

    def sample(self):
        return Sample(
            b'{"push":{"changes":[{"new":{"type":"branch","name":"main","target":{"type":"commit",'
            b'"hash":"709d658dc5b6d6afcd46049c2f332ee3f515a67d","message":"Fix the build\\n",'
            b'"date":"2024-01-01T12:00:00+00:00"}},"old":{"type":"branch","name":"main","target":'
            b'{"type":"commit","hash":"1e65c05c1d5171631d92438a13901ca7dae9618c"}},"created":false,'
            b'"forced":false,"closed":false}]},"repository":{"type":"repository","full_name":'
            b'"team/project","name":"project","uuid":"{b7b8e9c3-6f1a-4d2e-8a3b-0c1d2e3f4a5b}"},'
            b'"actor":{"type":"user","display_name":"Jane Doe","uuid":"{0d1e2f3a-4b5c-6d7e-8f9a-0b1c2d3e4f5a}"}}',
            headers={"X-Event-Key": "repo:push"})


@hookimpl
def register_providers():
    return [BitbucketProvider()]
