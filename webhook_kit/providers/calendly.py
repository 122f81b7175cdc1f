"""Calendly: ``Calendly-Webhook-Signature: t=<unix s>,v1=<hex>`` over ``t + "." + body``."""

from __future__ import annotations

from ..hookspecs import hookimpl
from ..model import Sample, Setting, Verdict
from .base import (Provider, hmac_digest, missing_header, now_or, secrets_of, split_pairs,
                   tolerance_setting, with_header)
from ._shared import any_secret_matches, bad_timestamp, field_at, json_body, timely, unix_seconds

HEADER = "Calendly-Webhook-Signature"


class CalendlyProvider(Provider):
    """Calendly webhook subscriptions with a signing key."""

    name = "calendly"
    label = "Calendly"
    settings = (Setting("secret", "Webhook signing key", "secret", required=True,
                        help="The signing key (set by you for PAT subscriptions, generated for OAuth "
                             "apps); a list rotates; {\"env\": NAME} reads it from the environment."),
                tolerance_setting(180))
    summary = "HMAC-SHA256 hex of t.body in Calendly-Webhook-Signature (t=...,v1=...), 3 min window"
    doc = {
        "headers": "`Calendly-Webhook-Signature: t=<unix s>,v1=<hex>`",
        "signed": '`t + "." + body`',
        "algorithm": "HMAC-SHA256, hex",
        "replay": "180 s (Calendly's example tolerance); `tolerance`",
        "handshake": "none",
        "dedup": "`event` + `payload.uri` in the body (no id header)",
        "tested": "published SELF-COMPUTED vector; real deliveries over loopback",
    }

    def verify(self, request, settings, *, now=None):
        value = request.header(HEADER)
        if value is None:
            return missing_header(HEADER)
        pairs = split_pairs(value)
        ts = next((v for k, v in pairs if k == "t"), None)
        signatures = [v for k, v in pairs if k == "v1"]
        if ts is None:
            return Verdict.reject(f"header {HEADER} has no t=", header=HEADER)
        if unix_seconds(ts) is None:
            return bad_timestamp(HEADER, ts, "a t= unix timestamp")
        if not signatures:
            return Verdict.reject(f"header {HEADER} has no v1= signature", header=HEADER)
        if not any_secret_matches(settings, "sha256", ts.encode("ascii") + b"." + request.body,
                                  signatures):
            return Verdict.reject(f"signature in {HEADER} does not match", header=HEADER,
                                  algorithm="sha256", encoding="hex")
        return timely(int(ts), settings, now)

    def sign(self, request, settings, *, now=None):
        ts = str(int(now_or(now)))
        digest = hmac_digest("sha256", secrets_of(settings)[0], ts.encode("ascii") + b"." + request.body)
        return with_header(request, HEADER, f"t={ts},v1={digest.hex()}")

    def delivery_id(self, request):
        body = json_body(request)
        uri = field_at(body, "payload", "uri")
        return f"{field_at(body, 'event') or 'event'}:{uri}" if uri else None

    def sample(self):
        return Sample(
            b'{"created_at":"2024-01-01T12:00:00.000000Z","created_by":'
            b'"https://api.calendly.com/users/AAAAAAAAAAAAAAAA","event":"invitee.created",'
            b'"payload":{"cancel_url":"https://calendly.com/cancellations/AAAAAAAAAAAAAAAA",'
            b'"created_at":"2024-01-01T12:00:00.000000Z","email":"test@example.com","name":'
            b'"John Doe","rescheduled":false,"scheduled_event":{"uri":'
            b'"https://api.calendly.com/scheduled_events/GBGBDCAADAEDCRZ2","name":"15 Minute Meeting",'
            b'"start_time":"2024-01-05T15:00:00.000000Z","end_time":"2024-01-05T15:15:00.000000Z",'
            b'"status":"active"},"status":"active","timezone":"America/New_York","uri":'
            b'"https://api.calendly.com/scheduled_events/GBGBDCAADAEDCRZ2/invitees/AAAAAAAAAAAAAAAA"}}')


@hookimpl
def register_providers():
    return [CalendlyProvider()]
