"""Paddle Billing: ``Paddle-Signature: ts=<unix s>;h1=<hex>[;h1=...]`` over ``ts + ":" + body``."""

from __future__ import annotations

from ..hookspecs import hookimpl
from ..model import Sample, Verdict
from .base import (SECRET, Provider, hmac_digest, missing_header, now_or, secrets_of,
                   tolerance_setting, with_header)
from ._shared import any_secret_matches, bad_timestamp, field_at, json_body, timely, unix_seconds

HEADER = "Paddle-Signature"


def parse_header(value: str) -> tuple[str | None, list[str]]:
    """``"ts=1;h1=a;h1=b"`` -> ``("1", ["a", "b"])``; unknown keys are ignored."""
    ts, hashes = None, []
    for part in value.split(";"):
        key, sep, val = part.strip().partition("=")
        if not sep:
            continue
        if key == "ts":
            ts = val.strip()
        elif key == "h1":
            hashes.append(val.strip())
    return ts, hashes


class PaddleProvider(Provider):
    """Paddle Billing notifications (not Paddle Classic's RSA ``p_signature``)."""

    name = "paddle"
    label = "Paddle Billing"
    aliases = ("paddle-billing",)
    settings = (SECRET, tolerance_setting(5))
    summary = "HMAC-SHA256 hex of ts:body in Paddle-Signature (ts=...;h1=...), 5 s window"
    doc = {
        "headers": "`Paddle-Signature: ts=<unix s>;h1=<hex>[;h1=...]`",
        "signed": '`ts + ":" + body`',
        "algorithm": "HMAC-SHA256, hex (one `h1` per secret during rotation)",
        "replay": "5 s both ways (the SDK's `maximum_variance`); `tolerance`",
        "handshake": "none",
        "dedup": "`notification_id` in the body (else `event_id`)",
        "tested": "paddle-python-sdk signs and verifies (`PaddleSignature`); Paddle's published SDK-test "
                  "vectors (hello-world with a three-secret list; standard and special-characters payloads)",
    }

    def verify(self, request, settings, *, now=None):
        value = request.header(HEADER)
        if value is None:
            return missing_header(HEADER)
        ts, hashes = parse_header(value)
        if ts is None:
            return Verdict.reject(f"header {HEADER} has no ts=", header=HEADER)
        if unix_seconds(ts) is None:
            return bad_timestamp(HEADER, ts, "a ts= unix timestamp")
        if not hashes:
            return Verdict.reject(f"header {HEADER} has no h1= signature", header=HEADER)
        message = ts.encode("ascii") + b":" + request.body
        if not any_secret_matches(settings, "sha256", message, hashes):
            return Verdict.reject(f"signature in {HEADER} does not match", header=HEADER,
                                  algorithm="sha256", encoding="hex", signatures=len(hashes))
        return timely(int(ts), settings, now)

    def sign(self, request, settings, *, now=None):
        ts = str(int(now_or(now)))
        message = ts.encode("ascii") + b":" + request.body
        # during a rotation Paddle signs with every active secret
        parts = [f"ts={ts}"] + [f"h1={hmac_digest('sha256', s, message).hex()}"
                                for s in secrets_of(settings)]
        return with_header(request, HEADER, ";".join(parts))

    def delivery_id(self, request):
        body = json_body(request)
        return field_at(body, "notification_id") or field_at(body, "event_id")

    def sample(self):
        return Sample(
            b'{"event_id":"evt_01hv8x2acma2gz3he5h9dnbt9d","event_type":"transaction.completed",'
            b'"occurred_at":"2024-04-12T10:18:49.621022Z","notification_id":"ntf_01hv8x2af1ne3frd7ev6v5cdn2",'
            b'"data":{"id":"txn_01hv8wptq8987qeep44cyrewp9","status":"completed","customer_id":'
            b'"ctm_01hv6y1jedq4p1n0yqn5ba3ky4","currency_code":"USD","details":{"totals":'
            b'{"subtotal":"2400","tax":"480","total":"2880"}}}}')


@hookimpl
def register_providers():
    return [PaddleProvider()]
