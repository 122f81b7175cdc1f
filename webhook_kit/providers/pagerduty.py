"""PagerDuty v3 webhooks: ``X-PagerDuty-Signature: v1=<hex>[,v1=<hex>...]`` of the body."""

from __future__ import annotations

from ..hookspecs import hookimpl
from ..model import Sample, Verdict
from .base import SECRET, Provider, hmac_digest, missing_header, secrets_of, with_header
from ._shared import any_secret_matches, new_id, with_default_header

HEADER = "X-PagerDuty-Signature"


class PagerDutyProvider(Provider):
    """PagerDuty v3 webhook subscriptions (legacy v1/v2 webhooks were unsigned)."""

    name = "pagerduty"
    label = "PagerDuty"
    settings = (SECRET,)
    summary = "HMAC-SHA256 hex of the body, v1=... list in X-PagerDuty-Signature"
    doc = {
        "headers": "`X-PagerDuty-Signature: v1=<hex>[,v1=<hex>...]`, `X-Webhook-Id`, "
                   "`X-Webhook-Subscription`",
        "signed": "`body`",
        "algorithm": "HMAC-SHA256, hex; one `v1=` per secret during rotation",
        "replay": "none",
        "handshake": "none (a `pagey.ping` event is an ordinary delivery)",
        "dedup": "`X-Webhook-Id`",
        "tested": "published SELF-COMPUTED vector; real deliveries over loopback (the `pagerduty` "
                  "package has no webhook helper)",
    }

    def verify(self, request, settings, *, now=None):
        value = request.header(HEADER)
        if value is None:
            return missing_header(HEADER)
        signatures = [p.strip()[3:] for p in value.split(",") if p.strip().startswith("v1=")]
        if not signatures:
            return Verdict.reject(f"header {HEADER} has no v1= signature", header=HEADER)
        if any_secret_matches(settings, "sha256", request.body, signatures):
            return Verdict.accept()
        return Verdict.reject(f"signature in {HEADER} does not match", header=HEADER,
                              algorithm="sha256", encoding="hex", signatures=len(signatures))

    def sign(self, request, settings, *, now=None):
        value = ",".join("v1=" + hmac_digest("sha256", s, request.body).hex()
                         for s in secrets_of(settings))
        request = with_default_header(request, "X-Webhook-Id", new_id())
        request = with_default_header(request, "X-Webhook-Subscription", "PY1OR7N")
        request = with_default_header(request, "User-Agent", "PagerDuty-Webhook/V3.0")
        return with_header(request, HEADER, value)

    def delivery_id(self, request):
        return request.header("X-Webhook-Id")

    def sample(self):
        return Sample(
            b'{"event":{"id":"01DEN0P0VO2ADYBTWX6Q5LQ7PR","event_type":"incident.triggered",'
            b'"resource_type":"incident","occurred_at":"2024-01-01T12:00:00.000Z","agent":null,'
            b'"client":null,"data":{"id":"PGR0VU2","type":"incident","self":'
            b'"https://api.pagerduty.com/incidents/PGR0VU2","html_url":'
            b'"https://acme.pagerduty.com/incidents/PGR0VU2","number":2,"status":"triggered",'
            b'"title":"A little bump in the road","urgency":"high","service":{"id":"PF9KMXH",'
            b'"type":"service_reference","summary":"API Service"}}}}')


@hookimpl
def register_providers():
    return [PagerDutyProvider()]
