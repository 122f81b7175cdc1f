"""Box: ``BOX-SIGNATURE-PRIMARY``/``-SECONDARY`` = base64 HMAC-SHA256 of ``body + BOX-DELIVERY-TIMESTAMP``."""

from __future__ import annotations

import base64
import json
import re
import time
from datetime import datetime, timezone

from .. import secret_values
from ..hookspecs import hookimpl
from ..model import Sample, Setting, Verdict
from .base import (SECRET, Provider, digest_matches, hmac_digest, missing_header,
                   secrets_of, tolerance_setting, with_header)
from ._shared import bad_timestamp, body_field, fresh_hex, iso_seconds, new_id, signing_secret, timely

PRIMARY = "BOX-SIGNATURE-PRIMARY"
SECONDARY = "BOX-SIGNATURE-SECONDARY"
TIMESTAMP = "BOX-DELIVERY-TIMESTAMP"
VERSION = "BOX-SIGNATURE-VERSION"
ALGORITHM = "BOX-SIGNATURE-ALGORITHM"

SECONDARY_KEY = Setting("secondary_key", "Secondary key", "secret", None,
                        help="Box's secondary signature key (checked against BOX-SIGNATURE-SECONDARY "
                             "while keys are rotated).")


def escaped(text: str) -> str:
    """Box's second form of the body: backslashes doubled (except before /), the rest \\u-escaped."""
    def one(match: re.Match) -> str:
        char = match.group(0)
        if char in "\n\r\t":
            return {"\n": "\\n", "\r": "\\r", "\t": "\\t"}[char]
        units = char.encode("utf-16-be")
        return "".join(f"\\u{int.from_bytes(units[i:i + 2], 'big'):04x}" for i in range(0, len(units), 2))
    return re.sub(r"[^\x20-\x7e]", one, re.sub(r"\\(?!/)", r"\\\\", text))


def signature(key: str, body: bytes, stamp: str) -> bytes:
    return hmac_digest("sha256", key, body + stamp.encode("utf-8"))


def encoded(digest: bytes) -> str:
    return base64.b64encode(digest).decode("ascii")


class BoxProvider(Provider):
    """Box V2 webhooks (primary and secondary signature keys)."""

    name = "box"
    label = "Box"
    settings = (SECRET, SECONDARY_KEY, tolerance_setting(600))
    summary = "HMAC-SHA256 base64 of body + BOX-DELIVERY-TIMESTAMP in BOX-SIGNATURE-PRIMARY/-SECONDARY"
    doc = {
        "headers": f"{PRIMARY}, {SECONDARY}, {TIMESTAMP} (RFC 3339), {VERSION}: 1, "
                   f"{ALGORITHM}: HmacSHA256, BOX-DELIVERY-ID",
        "signed": "body + BOX-DELIVERY-TIMESTAMP (also with the body \\u-escaped, as Box's SDK)",
        "algorithm": "HMAC-SHA256, base64; secret = primary key (a list rotates), secondary_key = "
                     "secondary key; any key may match either header",
        "replay": "600 s, both directions",
        "handshake": "none",
        "dedup": "body id (BOX-DELIVERY-ID changes on each retry)",
        "tested": "box-python-sdk vector (SamplePrimaryKey/SampleSecondaryKey); box-sdk-gen "
                  "compute_webhook_signature signs and validate_message verifies",
    }

    def verify(self, request, settings, *, now=None):
        received = [(h, request.header(h)) for h in (PRIMARY, SECONDARY) if request.header(h) is not None]
        if not received:
            return missing_header(PRIMARY)
        stamp = request.header(TIMESTAMP)
        if stamp is None:
            return missing_header(TIMESTAMP)
        for name, wanted in ((VERSION, "1"), (ALGORITHM, "HmacSHA256")):
            if (request.header(name) or "").strip() != wanted:
                return Verdict.reject(f"header {name} is not {wanted}", header=name)
        seconds = iso_seconds(stamp)
        if seconds is None:
            return bad_timestamp(TIMESTAMP, stamp, "an RFC 3339 timestamp")
        bodies = [request.body]
        try:
            alternative = escaped(request.body.decode("utf-8")).encode("utf-8")
        except UnicodeDecodeError:
            alternative = request.body
        if alternative != request.body:
            bodies.append(alternative)
        keys = secrets_of(settings) + secret_values.resolve_all(settings.get("secondary_key"))
        if not any(digest_matches(signature(k, body, stamp), value, "base64")
                   for k in keys for body in bodies for _, value in received):
            names = " or ".join(n for n, _ in received)
            return Verdict.reject(f"signature in {names} does not match", header=received[0][0])
        return timely(seconds, settings, now)

    def sign(self, request, settings, *, now=None):
        moment = datetime.fromtimestamp(time.time() if now is None else now, timezone.utc)
        stamp = moment.strftime("%Y-%m-%dT%H:%M:%S+00:00")
        primary = signing_secret(settings)
        others = secrets_of(settings)[1:] + secret_values.resolve_all(settings.get("secondary_key"))
        signed = with_header(request, TIMESTAMP, stamp)
        for name, value in ((VERSION, "1"), (ALGORITHM, "HmacSHA256"), ("BOX-DELIVERY-ID", new_id())):
            signed = with_header(signed, name, value)
        signed = with_header(signed, PRIMARY, encoded(signature(primary, request.body, stamp)))
        if others:
            signed = with_header(signed, SECONDARY, encoded(signature(others[0], request.body, stamp)))
        return signed

    def delivery_id(self, request):
        return body_field(request, "id")

    def sample(self):
        body = {"type": "webhook_event", "id": f"{fresh_hex(4)}-{fresh_hex(2)}-{fresh_hex(2)}-{fresh_hex(6)}",
                "created_at": "2024-04-01T10:00:00-07:00", "trigger": "FILE.UPLOADED",
                "webhook": {"id": "1234567890"},
                "created_by": {"type": "user", "id": "2222222222", "name": "Aaron Levie"},
                "source": {"id": "1234567890", "type": "file", "name": "Q1 report.pdf",
                           "parent": {"type": "folder", "id": "0", "name": "All Files"}}}
        return Sample(json.dumps(body), headers={"User-Agent": "Box-Webhooks/2.0"})


@hookimpl
def register_providers():
    return [BoxProvider()]
