"""Square: ``x-square-hmacsha256-signature`` = base64 HMAC-SHA256 of ``notification_url + body``."""

from __future__ import annotations

import json

from ..hookspecs import hookimpl
from ..model import Sample, Verdict
from .base import (PUBLIC_URL, SECRET, HmacHeaderProvider, digest_matches, hmac_digest, secrets_of,
                   with_header)
from ._shared import body_field, iso_now, new_id, signed_url, signing_secret, with_default_header

LEGACY_HEADER = "x-square-signature"


class SquareProvider(HmacHeaderProvider):
    """Square webhook subscriptions (key: the subscription's signature key)."""

    name = "square"
    label = "Square"
    header = "x-square-hmacsha256-signature"
    encoding = "base64"
    settings = (SECRET, PUBLIC_URL)
    summary = "HMAC-SHA256 base64 of notification URL + body in x-square-hmacsha256-signature"
    doc = {
        "headers": "x-square-hmacsha256-signature (legacy x-square-signature), "
                   "square-initial-delivery-timestamp, square-retry-number",
        "signed": "notification_url + body (public_url, else the URL the request arrived on)",
        "algorithm": "HMAC-SHA256, base64 (legacy HMAC-SHA1 base64, used only when the SHA-256 "
                     "header is absent)",
        "replay": "none",
        "handshake": "none",
        "dedup": "body event_id",
        "tested": "square-python-sdk vectors; squareup verify_signature accepts our signer",
    }

    def signed_bytes(self, request, settings):
        return signed_url(request, settings).encode("utf-8") + request.body

    def verify(self, request, settings, *, now=None):
        legacy = request.header(LEGACY_HEADER)
        if request.header(self.header) is not None or legacy is None:
            verdict = super().verify(request, settings, now=now)
        else:
            message = self.signed_bytes(request, settings)
            ok = any(digest_matches(hmac_digest("sha1", s, message), legacy, "base64")
                     for s in secrets_of(settings))
            verdict = (Verdict.accept(legacy=True) if ok else
                       Verdict.reject(f"signature in {LEGACY_HEADER} does not match", header=LEGACY_HEADER))
        if not verdict.ok and "does not match" in (verdict.reason or ""):
            verdict.details["url"] = signed_url(request, settings)
        return verdict

    def sign(self, request, settings, *, now=None):
        signed = with_header(request, self.header,
                             self.compute(request, settings, signing_secret(settings)))
        return with_default_header(signed, "square-initial-delivery-timestamp",
                                   iso_now(now, micro=True))

    def delivery_id(self, request):
        return body_field(request, "event_id")

    def sample(self):
        body = {"merchant_id": "6SSW7HV8K2ST5", "type": "payment.created",
                "event_id": new_id(), "created_at": "2024-03-01T10:00:00.000Z",
                "data": {"type": "payment", "id": "hYy9pRFVxpDsO1FB05SunFWUe9JZY",
                         "object": {"payment": {"id": "hYy9pRFVxpDsO1FB05SunFWUe9JZY",
                                                "amount_money": {"amount": 100, "currency": "USD"},
                                                "status": "APPROVED", "source_type": "CARD"}}}}
        return Sample(json.dumps(body), headers={"User-Agent": "Square Connect v2",
                                                 "square-retry-number": "0"})


@hookimpl
def register_providers():
    return [SquareProvider()]
