"""GitHub: HMAC-SHA256 of the raw body in ``X-Hub-Signature-256`` (legacy SHA-1 in ``X-Hub-Signature``)."""

from __future__ import annotations

import json

from ..hookspecs import hookimpl
from ..model import Sample, Verdict
from .base import HmacHeaderProvider, digest_matches, hmac_digest, missing_header, secrets_of, with_header
from ._shared import new_id, signing_secret, with_default_header

LEGACY_HEADER = "X-Hub-Signature"


class GitHubProvider(HmacHeaderProvider):
    """GitHub repository, organisation and app webhooks."""

    name = "github"
    label = "GitHub"
    header = "X-Hub-Signature-256"
    prefix = "sha256="
    id_header = "X-GitHub-Delivery"
    summary = "HMAC-SHA256 hex of the raw body in X-Hub-Signature-256 (sha256=...)"
    doc = {
        "headers": "X-Hub-Signature-256 (legacy X-Hub-Signature), X-GitHub-Event, X-GitHub-Delivery",
        "signed": "body",
        "algorithm": "HMAC-SHA256, hex, prefix sha256= (legacy HMAC-SHA1 sha1=, used only when "
                     "X-Hub-Signature-256 is absent)",
        "replay": "none (no signed timestamp)",
        "handshake": "none (the ping event is an ordinary delivery)",
        "dedup": "X-GitHub-Delivery",
        "tested": "GitHub docs vector (It's a Secret to Everybody / Hello, World!)",
    }

    def verify(self, request, settings, *, now=None):
        if request.header(self.header) is not None:
            return super().verify(request, settings, now=now)
        legacy = request.header(LEGACY_HEADER)
        if legacy is None:
            return missing_header(self.header)
        # GitHub Enterprise Server before 3.x sends only the SHA-1 header
        if not legacy.startswith("sha1="):
            return Verdict.reject(f"header {LEGACY_HEADER} lacks the prefix 'sha1='", header=LEGACY_HEADER)
        for secret in secrets_of(settings):
            if digest_matches(hmac_digest("sha1", secret, request.body), legacy[5:], "hex"):
                return Verdict.accept(legacy=True)
        return Verdict.reject(f"signature in {LEGACY_HEADER} does not match", header=LEGACY_HEADER)

    def sign(self, request, settings, *, now=None):
        secret = signing_secret(settings)
        signed = with_header(request, self.header, self.compute(request, settings, secret))
        signed = with_header(signed, LEGACY_HEADER,
                             "sha1=" + hmac_digest("sha1", secret, request.body).hex())
        signed = with_default_header(signed, "X-GitHub-Event", "push")
        return with_default_header(signed, self.id_header, new_id())

    def sample(self):
        body = {
            "ref": "refs/heads/main",
            "before": "6113728f27ae82c7b1a177c8d03f9e96e0adf246",
            "after": "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c",
            "repository": {"id": 1296269, "full_name": "octocat/Hello-World", "private": False},
            "pusher": {"name": "octocat", "email": "octocat@github.com"},
            "sender": {"login": "octocat", "id": 1},
            "commits": [{"id": "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c",
                         "message": "Update README", "author": {"name": "Monalisa Octocat"}}],
        }
        return Sample(json.dumps(body), headers={
            "X-GitHub-Event": "push", "X-GitHub-Hook-ID": "292430182",
            "X-GitHub-Hook-Installation-Target-Type": "repository",
            "X-GitHub-Hook-Installation-Target-ID": "1296269",
            "User-Agent": "GitHub-Hookshot/044aadd"})


@hookimpl
def register_providers():
    return [GitHubProvider()]
