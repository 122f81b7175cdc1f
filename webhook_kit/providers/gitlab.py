"""GitLab: the webhook's secret token sent in clear in ``X-Gitlab-Token``."""

from __future__ import annotations

from .. import secret_values
from ..hookspecs import hookimpl
from ..model import Sample, Verdict
from .base import SECRET, Provider, missing_header, secrets_of, with_header
from ._shared import field_at, json_body, new_id, with_default_headers

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
    settings = (SECRET,)
    secret_headers = (HEADER,)
    summary = "the secret token in X-Gitlab-Token (plain, compared in constant time)"
    doc = {
        "headers": "`X-Gitlab-Token` (the secret in clear; redacted before storing), `X-Gitlab-Event`, "
                   "`Idempotency-Key`, `X-Gitlab-Event-UUID`",
        "signed": "nothing (token equality)",
        "algorithm": "constant-time comparison of the token",
        "replay": "none",
        "handshake": "none",
        "dedup": "`Idempotency-Key` (stable across retries), else `X-Gitlab-Event-UUID`",
        "tested": "real deliveries over loopback; GitLab has no SDK helper",
    }

    def verify(self, request, settings, *, now=None):
        received = request.header(HEADER)
        if received is None:
            return missing_header(HEADER)
        if any(secret_values.equal(received, s) for s in secrets_of(settings)):
            return Verdict.accept()
        return Verdict.reject(f"token in {HEADER} does not match", header=HEADER)

    def sign(self, request, settings, *, now=None):
        event = EVENT_NAMES.get(field_at(json_body(request), "object_kind") or "", "Push Hook")
        uuid = new_id()
        request = with_default_headers(request, {
            "X-Gitlab-Event": event, "X-Gitlab-Event-UUID": uuid, "Idempotency-Key": uuid,
            "X-Gitlab-Webhook-UUID": "9b5bd7c4-4b9b-4a0c-9f2a-2f1bd7d3c2e1",
            "X-Gitlab-Instance": "https://gitlab.com", "User-Agent": "GitLab/17.6.0"})
        return with_header(request, HEADER, secrets_of(settings)[0])

    def delivery_id(self, request):
        return request.header("Idempotency-Key") or request.header("X-Gitlab-Event-UUID")

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


@hookimpl
def register_providers():
    return [GitLabProvider()]
