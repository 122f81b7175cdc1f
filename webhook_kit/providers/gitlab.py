"""GitLab: the webhook's secret token sent in clear in ``X-Gitlab-Token``, and the opt-in
signing token (``whsec_...``) that signs deliveries the Standard Webhooks way."""

from __future__ import annotations

from .. import secret_values
from ..hookspecs import hookimpl
from ..model import Sample, Setting, Verdict
from .base import Provider, missing_header, secrets_of, tolerance_setting, with_header
from ._shared import field_at, json_body, new_id, with_default_headers
from .standard_webhooks import StandardWebhooksProvider

#: the secret token GitLab sends in clear; optional once a signing token is set
TOKEN = Setting("secret", "Secret token", "secret",
                help="Sent in clear in X-Gitlab-Token and compared in constant time; a list "
                     "rotates; {\"env\": NAME} reads it from the environment.")
#: GitLab's opt-in HMAC signing (the webhook_signing_token feature): whsec_<base64 of 32 bytes>
SIGNING_TOKEN = Setting("signing_token", "Signing token", "secret",
                        help="whsec_... : GitLab then signs each delivery the Standard Webhooks way "
                             "(webhook-id, webhook-timestamp, webhook-signature v1,<base64>).")

HEADER = "X-Gitlab-Token"

#: object_kind in the body -> the X-Gitlab-Event GitLab sends with it
EVENT_NAMES = {"push": "Push Hook", "tag_push": "Tag Push Hook", "issue": "Issue Hook",
               "note": "Note Hook", "merge_request": "Merge Request Hook",
               "wiki_page": "Wiki Page Hook", "pipeline": "Pipeline Hook", "build": "Job Hook",
               "deployment": "Deployment Hook", "release": "Release Hook"}


class GitLabProvider(Provider):
    """GitLab project/group/system hooks: constant-time equality of the secret token."""

    name = "gitlab"
    label = "GitLab"
    settings = (TOKEN, SIGNING_TOKEN, tolerance_setting(300))
    secret_headers = (HEADER,)
    summary = ("the secret token in X-Gitlab-Token (plain, constant-time), and/or the opt-in "
               "signing token (Standard Webhooks HMAC-SHA256)")
    doc = {
        "headers": "`X-Gitlab-Token` (the secret in clear; redacted before storing), `X-Gitlab-Event`, "
                   "`Idempotency-Key`, `X-Gitlab-Event-UUID`; with a signing token also `webhook-id`, "
                   "`webhook-timestamp`, `webhook-signature`",
        "signed": 'token: nothing (equality); signing token: webhook-id + "." + timestamp + "." + body',
        "algorithm": "constant-time comparison of the token; HMAC-SHA256 base64 (`v1,`), key = "
                     "base64-decoded `whsec_` signing token; each one configured must pass",
        "replay": "none for the token; 300 s both directions when signed",
        "handshake": "none",
        "dedup": "`Idempotency-Key` (stable across retries; = `webhook-id`), else `X-Gitlab-Event-UUID`",
        "tested": "real deliveries over loopback; the signing token: the standardwebhooks SDK signs "
                  "and verifies (GitLab's scheme is Standard Webhooks)",
    }

    def check_settings(self, given):
        problems = super().check_settings(given)
        if all(given.get(name) in (None, "", []) for name in ("secret", "signing_token")):
            problems.append(("secret", "is required (or a signing_token, or both)"))
        return problems

    @staticmethod
    def _signing_settings(settings) -> dict:
        return {"secret": settings.get("signing_token"), "tolerance": settings.get("tolerance")}

    def verify(self, request, settings, *, now=None):
        # each credential the listener has must pass: GitLab sends all the webhook has
        token, signing = _credentials(settings)
        if token:
            received = request.header(HEADER)
            if received is None:
                return missing_header(HEADER)
            if not any(secret_values.equal(received, s) for s in secrets_of(settings)):
                return Verdict.reject(f"token in {HEADER} does not match", header=HEADER)
        if signing:
            return _SIGNED.verify(request, self._signing_settings(settings), now=now)
        return Verdict.accept()

    def sign(self, request, settings, *, now=None):
        event = EVENT_NAMES.get(field_at(json_body(request), "object_kind") or "", "Push Hook")
        uuid = new_id()
        request = with_default_headers(request, {
            "X-Gitlab-Event": event, "X-Gitlab-Event-UUID": uuid, "Idempotency-Key": uuid,
            "X-Gitlab-Webhook-UUID": "9b5bd7c4-4b9b-4a0c-9f2a-2f1bd7d3c2e1",
            "X-Gitlab-Instance": "https://gitlab.com", "User-Agent": "GitLab/17.6.0"})
        token, signing = _credentials(settings)
        if token:
            request = with_header(request, HEADER, secrets_of(settings)[0])
        if signing:
            # webhook-id is the Idempotency-Key, as GitLab sends it
            request = with_header(request, "webhook-id", request.header("Idempotency-Key"))
            request = _SIGNED.sign(request, self._signing_settings(settings), now=now)
        return request

    def delivery_id(self, request):
        return (request.header("Idempotency-Key") or request.header("webhook-id")
                or request.header("X-Gitlab-Event-UUID"))

    def sample(self):
        return Sample(
            b'{"object_kind":"push","event_name":"push","before":"95790bf891e76fee5e1747ab589903a6a1f80f22",'
            b'"after":"da1560886d4f094c3e6c9ef40349f7d38b5d27d7","ref":"refs/heads/main","checkout_sha":'
            b'"da1560886d4f094c3e6c9ef40349f7d38b5d27d7","user_id":4,"user_name":"John Smith",'
            b'"user_username":"jsmith","project_id":15,"project":{"id":15,"name":"Diaspora",'
            b'"path_with_namespace":"mike/diaspora","default_branch":"main","web_url":'
            b'"https://gitlab.example.com/mike/diaspora"},"commits":[{"id":'
            b'"da1560886d4f094c3e6c9ef40349f7d38b5d27d7","message":"fixed readme",'
            b'"timestamp":"2024-01-01T12:00:00+00:00","author":{"name":"GitLab dev",'
            b'"email":"gitlabdev@dv6700.(none)"}}],"total_commits_count":1}',
            headers={"X-Gitlab-Event": "Push Hook"})


def _credentials(settings: dict) -> tuple[bool, bool]:
    """Whether the secret token and the signing token are set; a SecretError when neither
    is (a misconfigured listener: 503 for deliveries, a one-line error for signing)."""
    token, signing = (settings.get(name) not in (None, "", []) for name in ("secret", "signing_token"))
    if not (token or signing):
        raise secret_values.SecretError("no secret or signing_token configured")
    return token, signing


#: the Standard Webhooks scheme GitLab's signing token follows
_SIGNED = StandardWebhooksProvider()


@hookimpl
def register_providers():
    return [GitLabProvider()]
