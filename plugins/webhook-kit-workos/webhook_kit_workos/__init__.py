"""WorkOS webhooks for webhook_kit.

WorkOS sends ``WorkOS-Signature: t=<unix ms>, v1=<hex>`` where the hex is
HMAC-SHA256, keyed with the endpoint's secret, over ``t + "." + body`` (the
raw body bytes). Its SDK (``workos`` ``webhooks.verify_header``) allows the
timestamp 180 seconds either way; so does this provider by default.

Installed, this distribution registers the ``workos`` provider through the
``webhook_kit`` entry-point group; nothing else is needed.
"""

from __future__ import annotations

import json
import time

from webhook_kit import Provider, Request, Sample, Verdict, hookimpl
from webhook_kit.providers import (SECRET, check_timestamp, digest_matches, encode_digest,
                                   hmac_digest, missing_header, secrets_of, split_pairs,
                                   tolerance_setting, with_header)
from webhook_kit.secret_values import SecretError

__version__ = "0.1.0"

HEADER = "WorkOS-Signature"
#: the SDK's DEFAULT_TOLERANCE
DEFAULT_TOLERANCE = 180
# a millisecond timestamp has 13 digits today; anything much longer is hostile
_MAX_TIMESTAMP_DIGITS = 16


def signed_message(timestamp_ms: str, body: bytes) -> bytes:
    """The exact bytes WorkOS signs: ``timestamp + "." + body``."""
    return timestamp_ms.encode("ascii") + b"." + body


class WorkOSProvider(Provider):
    """WorkOS event webhooks (``WorkOS-Signature``, HMAC-SHA256 hex, ms timestamp)."""

    name = "workos"
    label = "WorkOS"
    settings = (SECRET, tolerance_setting(DEFAULT_TOLERANCE))
    summary = "HMAC-SHA256 hex of t + '.' + body (t in ms) in WorkOS-Signature: t=..., v1=..."
    doc = {
        "headers": "`WorkOS-Signature` (`t=<ms>, v1=<hex>`)",
        "signed": '`t + "." + body` (t in milliseconds)',
        "algorithm": "HMAC-SHA256, hex",
        "replay": "180 s either way (`tolerance`)",
        "handshake": "none",
        "dedup": "`id` of the JSON body",
        "tested": "`workos` SDK `webhooks.verify_header` accepts our signatures",
    }

    def verify(self, request: Request, settings: dict, *, now: float | None = None) -> Verdict:
        header = request.header(HEADER)
        if header is None:
            return missing_header(HEADER)
        pairs = split_pairs(header)
        stamps = [v for k, v in pairs if k == "t"]
        signatures = [v for k, v in pairs if k == "v1"]
        if len(stamps) != 1 or not _is_timestamp(stamps[0]):
            return Verdict.reject(f"header {HEADER} has no valid timestamp t=", header=HEADER)
        if not signatures:
            return Verdict.reject(f"header {HEADER} has no v1= signature", header=HEADER)
        stale = check_timestamp(int(stamps[0]) / 1000, settings.get("tolerance"), now)
        if stale is not None:
            return stale
        message = signed_message(stamps[0], request.body)
        for secret in secrets_of(settings):
            expected = hmac_digest("sha256", secret, message)
            if any(digest_matches(expected, s, "hex") for s in signatures):
                return Verdict.accept()
        return Verdict.reject(f"signature in {HEADER} does not match", header=HEADER,
                              algorithm="sha256", encoding="hex")

    def sign(self, request: Request, settings: dict, *, now: float | None = None) -> Request:
        secrets = secrets_of(settings)
        if not secrets:
            raise SecretError("no secret configured to sign with")
        secret = secrets[0]
        stamp = str(int((time.time() if now is None else now) * 1000))
        digest = encode_digest(hmac_digest("sha256", secret, signed_message(stamp, request.body)),
                               "hex")
        return with_header(request, HEADER, f"t={stamp}, v1={digest}")

    def delivery_id(self, request: Request) -> str | None:
        # WorkOS redelivers an event with the same id; the pipeline parsed the body already
        payload = request.payload
        if isinstance(payload, dict) and isinstance(payload.get("id"), str):
            return payload["id"]
        return None

    def sample(self) -> Sample:
        event = {
            "id": "event_01HX4J5ZQ8W3Y6B2C9D0E1F2G3",
            "event": "user.created",
            "data": {
                "object": "user",
                "id": "user_01HX4J5ZQ8ABCDEF0123456789",
                "email": "marcelina@example.com",
                "first_name": "Marcelina",
                "last_name": "Davis",
                "email_verified": True,
                "created_at": "2026-11-28T10:00:00.000Z",
                "updated_at": "2026-11-28T10:00:00.000Z",
            },
            "created_at": "2026-11-28T10:00:00.000Z",
        }
        return Sample(json.dumps(event, separators=(",", ":")).encode("utf-8"), "application/json")


def _is_timestamp(text: str) -> bool:
    return text.isascii() and text.isdigit() and len(text) <= _MAX_TIMESTAMP_DIGITS


@hookimpl
def register_providers():
    return [WorkOSProvider()]
