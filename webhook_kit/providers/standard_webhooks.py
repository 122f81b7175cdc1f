"""Standard Webhooks (and Svix): ``webhook-signature: v1,<base64>`` over ``id.ts.body``."""

from __future__ import annotations

import base64
import binascii
import json
import time

from ..hookspecs import hookimpl
from ..model import Sample, Setting, Verdict
from ..secret_values import SecretError
from .base import SECRET, Provider, digest_matches, hmac_digest, secrets_of, tolerance_setting, with_header
from ._shared import bad_timestamp, first_missing, fresh_hex, signing_secret, timely, unix_seconds

HEADER_STYLE = Setting("header_style", "Header names", "choice", "webhook", choices=("webhook", "svix"),
                       help="Prefix of the headers test deliveries carry (webhook-* or svix-*); "
                            "both are always accepted.")


def key_bytes(secret: str) -> bytes:
    """The HMAC key: the base64 after ``whsec_`` (missing padding tolerated)."""
    text = secret.strip()
    if text.startswith("whsec_"):
        text = text[len("whsec_"):]
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise SecretError("a Standard Webhooks secret must be base64 (whsec_...)") from None


def signed_bytes(msg_id: str, timestamp: str, body: bytes) -> bytes:
    return f"{msg_id}.{timestamp}.".encode("utf-8") + body


class StandardWebhooksProvider(Provider):
    """Any sender following the Standard Webhooks spec (Svix, Clerk, Resend, ...)."""

    name = "standard-webhooks"
    label = "Standard Webhooks / Svix"
    aliases = ("svix", "standard_webhooks")
    settings = (SECRET, tolerance_setting(300), HEADER_STYLE)
    summary = "HMAC-SHA256 base64 of id.timestamp.body in webhook-signature (v1,...)"
    doc = {
        "headers": "webhook-id, webhook-timestamp, webhook-signature (or svix-id, svix-timestamp, "
                   "svix-signature)",
        "signed": 'id + "." + timestamp + "." + body',
        "algorithm": "HMAC-SHA256, base64, space-separated v1,<sig> list; key = base64-decoded "
                     "whsec_ secret; other versions ignored",
        "replay": "300 s, both directions",
        "handshake": "none",
        "dedup": "webhook-id (svix-id)",
        "tested": "standard-webhooks spec vector; standardwebhooks and svix SDKs sign and verify",
    }

    @staticmethod
    def header_names(request) -> tuple[str, str, str]:
        prefix = "svix" if (request.header("webhook-signature") is None
                            and request.header("svix-signature") is not None) else "webhook"
        return f"{prefix}-id", f"{prefix}-timestamp", f"{prefix}-signature"

    def verify(self, request, settings, *, now=None):
        id_name, ts_name, sig_name = self.header_names(request)
        missing = first_missing(request, sig_name, id_name, ts_name)
        if missing is not None:
            return missing
        values = {name: request.header(name) for name in (sig_name, id_name, ts_name)}
        stamp = values[ts_name].strip()
        if unix_seconds(stamp, digits=15) is None:
            return bad_timestamp(ts_name, stamp)
        signatures = [entry[3:] for entry in values[sig_name].split() if entry.startswith("v1,")]
        if not signatures:
            return Verdict.reject(f"header {sig_name} has no v1 signature", header=sig_name)
        message = signed_bytes(values[id_name], stamp, request.body)
        expected = [hmac_digest("sha256", key_bytes(s), message) for s in secrets_of(settings)]
        if not any(digest_matches(e, sig, "base64") for e in expected for sig in signatures):
            return Verdict.reject(f"no v1 signature in {sig_name} matches", header=sig_name)
        return timely(unix_seconds(stamp, digits=15), settings, now)

    def sign(self, request, settings, *, now=None):
        prefix = settings.get("header_style") or "webhook"
        msg_id = request.header(f"{prefix}-id") or f"msg_{fresh_hex(13)}"
        stamp = str(int(time.time() if now is None else now))
        message = signed_bytes(msg_id, stamp, request.body)
        keys = [key_bytes(s) for s in secrets_of(settings)] or [key_bytes(signing_secret(settings))]
        signature = " ".join("v1," + base64.b64encode(hmac_digest("sha256", k, message)).decode()
                             for k in keys)
        signed = with_header(request, f"{prefix}-id", msg_id)
        signed = with_header(signed, f"{prefix}-timestamp", stamp)
        return with_header(signed, f"{prefix}-signature", signature)

    def delivery_id(self, request):
        return request.header("webhook-id") or request.header("svix-id")

    def sample(self):
        body = {"type": "invoice.paid", "timestamp": "2024-05-01T12:00:00Z",
                "data": {"id": "in_123", "customer": "cus_456", "amount_paid": 4200, "currency": "eur"}}
        return Sample(json.dumps(body))


@hookimpl
def register_providers():
    return [StandardWebhooksProvider()]
