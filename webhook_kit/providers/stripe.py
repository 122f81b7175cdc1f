"""Stripe: ``Stripe-Signature: t=<ts>,v1=<hex>`` over ``t + "." + body``; only ``v1`` counts."""

from __future__ import annotations

import json
import time

from ..hookspecs import hookimpl
from ..model import Sample, Verdict
from .base import (SECRET, Provider, digest_matches, hmac_digest, missing_header,
                   secrets_of, split_pairs, tolerance_setting, with_header)
from ._shared import bad_timestamp, body_field, fresh_hex, signing_secret, timely, unix_seconds

HEADER = "Stripe-Signature"


def stripe_message(timestamp: str, body: bytes) -> bytes:
    return timestamp.encode("ascii", "replace") + b"." + body


class StripeProvider(Provider):
    """Stripe webhook endpoints (the endpoint secret ``whsec_...`` is used as text)."""

    name = "stripe"
    label = "Stripe"
    settings = (SECRET, tolerance_setting(300))
    summary = "HMAC-SHA256 hex of t.body in Stripe-Signature (t=...,v1=...)"
    doc = {
        "headers": "Stripe-Signature",
        "signed": 't + "." + body',
        "algorithm": "HMAC-SHA256, hex; key = the whsec_ secret as text; one v1= per active "
                     "secret; v0 and other schemes ignored",
        "replay": "300 s, past only (as stripe-python)",
        "handshake": "none",
        "dedup": "body id (evt_...)",
        "tested": "stripe SDK signs (generate_signature_header) and verifies (construct_event); "
                  "SDK-computed vector",
    }

    #: the signature header (the signature debugger reads it)
    header = HEADER

    def signed_bytes(self, request, settings) -> bytes:
        """``t + "." + body`` for the request's ``t=`` (what the debugger shows as signed)."""
        stamps = [v for k, v in split_pairs(request.header(HEADER) or "") if k == "t"]
        return stripe_message(stamps[0] if stamps else "", request.body)

    def verify(self, request, settings, *, now=None):
        header = request.header(HEADER)
        if header is None:
            return missing_header(HEADER)
        pairs = split_pairs(header)
        stamps = [v for k, v in pairs if k == "t"]
        signatures = [v for k, v in pairs if k == "v1"]
        if not stamps:
            return Verdict.reject(f"header {HEADER} has no t= timestamp", header=HEADER)
        if unix_seconds(stamps[0], digits=15) is None:
            return bad_timestamp(HEADER, stamps[0], "a unix timestamp in t=")
        if not signatures:
            return Verdict.reject(f"header {HEADER} has no v1= signature", header=HEADER)
        message = stripe_message(stamps[0], request.body)
        expected = [hmac_digest("sha256", s, message) for s in secrets_of(settings)]
        if not any(digest_matches(e, sig, "hex") for e in expected for sig in signatures):
            return Verdict.reject(f"no v1 signature in {HEADER} matches", header=HEADER,
                                  signatures=len(signatures))
        return timely(unix_seconds(stamps[0], digits=15), settings, now, future=False)

    def sign(self, request, settings, *, now=None):
        stamp = str(int(time.time() if now is None else now))
        message = stripe_message(stamp, request.body)
        # while a secret is rolled Stripe sends one v1 per active secret
        parts = [f"t={stamp}"] + [f"v1={hmac_digest('sha256', s, message).hex()}"
                                  for s in secrets_of(settings) or [signing_secret(settings)]]
        return with_header(request, HEADER, ",".join(parts))

    def delivery_id(self, request):
        return body_field(request, "id")

    def sample(self):
        body = {
            "id": f"evt_{fresh_hex(12)}", "object": "event", "api_version": "2024-06-20",
            "created": 1686089970, "livemode": False, "pending_webhooks": 1,
            "type": "payment_intent.succeeded",
            "request": {"id": "req_DdhZmtcZp4tjc1", "idempotency_key": None},
            "data": {"object": {"id": "pi_3NG8Dt2eZvKYlo2C1bMGhvAM", "object": "payment_intent",
                                "amount": 2000, "currency": "usd", "status": "succeeded"}},
        }
        return Sample(json.dumps(body), "application/json; charset=utf-8",
                      {"User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)"})


@hookimpl
def register_providers():
    return [StripeProvider()]
