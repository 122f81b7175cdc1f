"""Slack: ``X-Slack-Signature: v0=<hex>`` over ``"v0:" + ts + ":" + body``; url_verification answered."""

from __future__ import annotations

import json

from ..hookspecs import hookimpl
from ..model import Response, Sample
from ._shared import V0TimestampProvider, body_field, fresh_hex, json_body


class SlackProvider(V0TimestampProvider):
    """Slack Events API, slash commands and interactivity (key: the app's signing secret)."""

    name = "slack"
    label = "Slack"
    signature_header = "X-Slack-Signature"
    timestamp_header = "X-Slack-Request-Timestamp"
    summary = "HMAC-SHA256 hex of v0:ts:body in X-Slack-Signature (v0=...)"
    doc = {
        "headers": "X-Slack-Signature, X-Slack-Request-Timestamp (retries: X-Slack-Retry-Num)",
        "signed": '"v0:" + timestamp + ":" + body',
        "algorithm": "HMAC-SHA256, hex, prefix v0=; key = the signing secret",
        "replay": "300 s, both directions (as slack_sdk)",
        "handshake": "url_verification: the challenge is echoed as JSON, only when the signature verifies",
        "dedup": "body event_id (Events API)",
        "tested": "Slack docs vector (clock pinned); slack_sdk signs (generate_signature) and "
                  "verifies (is_valid_request)",
    }

    def handshake(self, request, settings, *, now=None):
        if request.method != "POST":
            return None
        body = json_body(request)
        if not (isinstance(body, dict) and body.get("type") == "url_verification"):
            return None
        if not self.verify(request, settings, now=now).ok:
            return None  # verification then rejects it, with the reason on the event
        return Response.json({"challenge": str(body.get("challenge", ""))})

    def delivery_id(self, request):
        return body_field(request, "event_id")

    def sample(self):
        body = {"token": "XXYYZZ", "team_id": "T0001", "api_app_id": "A0KRD7HC3",
                "event": {"type": "app_mention", "user": "U061F7AUR",
                          "text": "<@U0LAN0Z89> is it everything?",
                          "ts": "1515449522.000016", "channel": "C123ABC456", "event_ts": "1515449522000016"},
                "type": "event_callback", "event_id": f"Ev{fresh_hex(5).upper()}",
                "event_time": 1515449522, "authorizations": [{"team_id": "T0001", "user_id": "U0LAN0Z89"}]}
        return Sample(json.dumps(body),
                      headers={"User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)"})


@hookimpl
def register_providers():
    return [SlackProvider()]
