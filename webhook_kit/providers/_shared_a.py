"""Helpers shared by several built-in providers (not a plugin: the underscore keeps it unregistered).

Body fields for dedup ids, the URL a sender signed, timestamp parsing that
never raises, Twilio/Mandrill-style "URL + sorted params" strings, the HEAD
probe answer, and the Slack/Zoom ``v0:ts:body`` scheme.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from datetime import datetime, timezone
from typing import Any, Iterable
from urllib.parse import urlsplit

from ..model import Request, Response, Verdict
from ..secret_values import SecretError
from .base import (SECRET, Provider, check_timestamp, digest_matches, encode_digest, hmac_digest,
                   missing_header, secrets_of, tolerance_setting, with_header)


def json_body(request: Request) -> Any:
    """The body parsed as JSON, or None when it is not JSON (never raises)."""
    if request.parsed and isinstance(request.payload, (dict, list)):
        return request.payload
    try:
        return json.loads(request.body)
    except (ValueError, TypeError, RecursionError):
        return None


def body_field(request: Request, *path: str) -> str | None:
    """A scalar at ``path`` in the JSON body as text, or None when absent."""
    node = json_body(request)
    for key in path:
        if not isinstance(node, dict):
            return None
        node = node.get(key)
    if node is None or isinstance(node, (dict, list)) or node == "":
        return None
    return str(node)


def signing_secret(settings: dict, name: str = "secret") -> str:
    """The secret a signer uses: the first of a rotation list (the newest one, by convention)."""
    found = secrets_of(settings, name)
    if not found:
        raise SecretError(f"no {name} configured to sign with")
    return found[0]


def joined_ids(ids) -> str | None:
    """One dedup id for a batch of events: their ids sorted and joined (hashed when long)."""
    ids = sorted(str(i) for i in ids)
    if not ids:
        return None
    joined = ",".join(ids)
    return joined if len(joined) <= 200 else "sha256:" + hashlib.sha256(joined.encode()).hexdigest()


def new_id(prefix: str = "") -> str:
    """A fresh delivery id, as a sender attaches to each new delivery."""
    return f"{prefix}{uuid.uuid4()}"


def fresh_hex(nbytes: int = 8) -> str:
    """Random hex for sample ids, so that sending a sample twice is not a redelivery."""
    return uuid.uuid4().hex[: nbytes * 2]


def with_default_header(request: Request, name: str, value: str) -> Request:
    """``request`` with ``name`` set only when the caller did not set it already."""
    return request if request.header(name) else with_header(request, name, value)


def signed_url(request: Request, settings: dict) -> str:
    """The URL the sender signed.

    The configured ``public_url`` wins (behind a proxy or tunnel); when it has
    no query string the request's own query is appended, since senders such
    as Twilio sign the query they added (``bodySHA256``).
    """
    configured = (settings.get("public_url") or "").strip()
    if not configured:
        return request.url
    if "?" not in configured and request.query:
        return f"{configured}?{request.query}"
    return configured


def tolerance_of(settings: dict) -> int:
    try:
        return max(int(settings.get("tolerance") or 0), 0)
    except (TypeError, ValueError):
        return 0


def timely(seconds: float, settings: dict, now: float | None, *, future: bool = True,
           verdict: Verdict | None = None) -> Verdict:
    """``verdict`` (an acceptance) when ``seconds`` is within the tolerance, else the rejection.

    (A rejected Verdict is falsy, so ``check_timestamp(...) or accept`` would be a bug.)
    """
    stale = check_timestamp(seconds, tolerance_of(settings), now, future=future)
    if stale is not None:
        return stale
    return verdict if verdict is not None else Verdict.accept()


def _shown(value: str) -> str:
    return value if len(value) <= 40 else value[:37] + "..."


def unix_seconds(text: str | None) -> float | None:
    """A decimal unix timestamp in seconds, or None when it is not one."""
    if text is None or not text.strip().isdigit() or len(text.strip()) > 15:
        return None
    return float(text.strip())


def iso_seconds(text: str | None) -> float | None:
    """An ISO-8601 / RFC 3339 timestamp as unix seconds, or None when malformed."""
    if not text:
        return None
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.timestamp()


def iso_now(now: float | None, *, micro: bool = False) -> str:
    """``now`` as RFC 3339 UTC with a ``Z`` (Zendesk; Shopify and Square with microseconds)."""
    moment = datetime.fromtimestamp(time.time() if now is None else now, timezone.utc)
    return moment.isoformat(timespec="microseconds" if micro else "seconds").replace("+00:00", "Z")


def bad_timestamp(header: str, value: str, expected: str = "a unix timestamp") -> Verdict:
    return Verdict.reject(f"header {header} is not {expected}: {_shown(value)!r}", header=header)


def url_with_params(url: str, params: Iterable[tuple[str, str]]) -> str:
    """``url`` followed by every parameter as ``name + value``, sorted by name then value.

    Twilio's rule (and Mandrill's, whose deliveries carry one parameter):
    repeated values of a name are de-duplicated and sorted after their name.
    """
    by_name: dict[str, set[str]] = {}
    for name, value in params:
        by_name.setdefault(name, set()).add(value)
    return url + "".join(name + value for name in sorted(by_name)
                         for value in sorted(by_name[name]))


def with_port(url: str) -> str:
    """``url`` with the scheme's default port written out (Twilio may sign either form)."""
    parts = urlsplit(url)
    if parts.port or not parts.hostname:
        return url
    port = 443 if parts.scheme == "https" else 80
    return parts._replace(netloc=f"{parts.netloc}:{port}").geturl()


def without_port(url: str) -> str:
    parts = urlsplit(url)
    try:
        has_port = parts.port is not None
    except ValueError:  # a hostile Host header such as "host:abc"
        return url
    if not has_port:
        return url
    return parts._replace(netloc=parts.netloc.rsplit(":", 1)[0]).geturl()


def head_probe(request: Request) -> Response | None:
    """Answer the HEAD request a sender makes when the URL is registered (Trello, Mandrill)."""
    if request.method == "HEAD":
        return Response(200, {"Content-Type": "text/plain; charset=utf-8"}, b"")
    return None


class V0TimestampProvider(Provider):
    """HMAC-SHA256 hex of ``"v0:" + timestamp + ":" + body`` with a ``v0=`` prefix (Slack, Zoom)."""

    signature_header = ""
    timestamp_header = ""
    settings = (SECRET, tolerance_setting(300))

    @staticmethod
    def signed_bytes(timestamp: str, body: bytes) -> bytes:
        return b"v0:" + timestamp.encode("ascii", "replace") + b":" + body

    def signature_for(self, secret: str, timestamp: str, body: bytes) -> str:
        return "v0=" + encode_digest(
            hmac_digest("sha256", secret, self.signed_bytes(timestamp, body)), "hex")

    def matching_secret(self, request: Request, settings: dict) -> tuple[Verdict, str | None]:
        """The verdict, and the secret that matched (Zoom's handshake answers with it)."""
        received = request.header(self.signature_header)
        if received is None:
            return missing_header(self.signature_header), None
        stamp = request.header(self.timestamp_header)
        if stamp is None:
            return missing_header(self.timestamp_header), None
        if unix_seconds(stamp) is None:
            return bad_timestamp(self.timestamp_header, stamp), None
        if not received.startswith("v0="):
            return Verdict.reject(f"header {self.signature_header} lacks the prefix 'v0='",
                                  header=self.signature_header), None
        message = self.signed_bytes(stamp.strip(), request.body)
        for secret in secrets_of(settings):
            if digest_matches(hmac_digest("sha256", secret, message), received[3:], "hex"):
                return Verdict.accept(), secret
        return Verdict.reject(f"signature in {self.signature_header} does not match",
                              header=self.signature_header), None

    def verify(self, request, settings, *, now=None):
        verdict, _ = self.matching_secret(request, settings)
        if not verdict.ok:
            return verdict
        return timely(unix_seconds(request.header(self.timestamp_header)), settings, now,
                      verdict=verdict)

    def sign(self, request, settings, *, now=None):
        stamp = str(int(time.time() if now is None else now))
        signature = self.signature_for(signing_secret(settings), stamp, request.body)
        return with_header(with_header(request, self.timestamp_header, stamp),
                           self.signature_header, signature)
