"""Helpers shared by several built-in providers (batch B); the underscore keeps it unregistered.

Reading the body without raising, dedup keys for batched deliveries,
timestamps that never raise, ``X-Hub-Signature``-style ``algo=hex`` values,
the lazily imported ``cryptography`` for public-key schemes, and a
handshake helper for providers whose challenge must carry a valid signature.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
import uuid
from datetime import datetime, timezone
from typing import Any, Iterable

from ..model import Request, Response, Verdict
from .base import ALGORITHMS, check_timestamp, digest_matches, hmac_digest, missing_header, secrets_of, with_header

#: what to run when a public-key provider cannot find ``cryptography``
CRYPTO_HINT = 'pip install "webhook-kit[crypto]"'


# -- body --------------------------------------------------------------------

def json_body(request: Request) -> Any:
    """The body parsed as JSON, or None when it is not JSON (never raises)."""
    if request.parsed and isinstance(request.payload, (dict, list)):
        return request.payload
    try:
        return json.loads(request.body)
    except (ValueError, TypeError, RecursionError):
        return None


def field_at(data: Any, *path: str) -> str | None:
    """A scalar at ``path`` in parsed data as text, or None when absent or not a scalar."""
    for key in path:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    if data is None or isinstance(data, (dict, list, bool)) or data == "":
        return None
    return str(data)


def batch_key(ids: Iterable[Any]) -> str | None:
    """One dedup key for a batch: the id itself for one item, a digest of all ids for several.

    A retried batch carries the same ids in the same order, so it gets the same key;
    the digest keeps the key short however large the batch.
    """
    ids = [str(i) for i in ids if i not in (None, "")]
    if not ids:
        return None
    if len(ids) == 1:
        return ids[0]
    return "batch:" + hashlib.sha256("\n".join(ids).encode("utf-8")).hexdigest()


# -- headers -------------------------------------------------------------------

def new_id() -> str:
    """A fresh delivery id, as a sender attaches to each new delivery."""
    return str(uuid.uuid4())


def with_default_header(request: Request, name: str, value: str) -> Request:
    """``request`` with ``name`` set only when the caller has not set it already.

    Signers keep ids a test pinned (to send a redelivery) and add fresh ones otherwise.
    """
    return request if request.header(name) else with_header(request, name, value)


def with_headers(request: Request, values: dict[str, str]) -> Request:
    for name, value in values.items():
        request = with_header(request, name, value)
    return request


def shown(value: str, limit: int = 40) -> str:
    """A received value, shortened for a reason line."""
    return value if len(value) <= limit else value[: limit - 3] + "..."


# -- time ----------------------------------------------------------------------

def tolerance_of(settings: dict) -> int:
    try:
        return max(int(settings.get("tolerance") or 0), 0)
    except (TypeError, ValueError):
        return 0


def clock(now: float | None) -> float:
    return time.time() if now is None else now


def unix_seconds(text: str | None, *, digits: int = 12) -> int | None:
    """A decimal unix timestamp, or None when it is not one (bounded length: no huge ints)."""
    if text is None:
        return None
    text = text.strip()
    if not text.isascii() or not text.isdigit() or len(text) > digits:
        return None
    return int(text)


_RFC3339 = re.compile(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})$",
                      re.IGNORECASE)


def rfc3339_seconds(text: str | None) -> float | None:
    """An RFC 3339 time (any number of fraction digits, e.g. Twitch's nanoseconds) as unix seconds."""
    if not text:
        return None
    m = _RFC3339.match(text.strip())
    if not m:
        return None
    zone = "+00:00" if m.group(3).upper() == "Z" else m.group(3)
    try:
        moment = datetime.fromisoformat(m.group(1) + zone)
    except ValueError:
        return None
    fraction = float(m.group(2)) if m.group(2) else 0.0
    return moment.timestamp() + fraction


def rfc3339_nanos(now: float | None) -> str:
    """``now`` as RFC 3339 UTC with nine fraction digits and ``Z`` (Twitch's form)."""
    t = clock(now)
    whole = int(t)
    nanos = int(round((t - whole) * 1e9))
    if nanos >= 1_000_000_000:
        whole, nanos = whole + 1, nanos - 1_000_000_000
    stamp = datetime.fromtimestamp(whole, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{stamp}.{nanos:09d}Z"


def timestamp_verdict(ts: float, settings: dict, now: float | None, *, future: bool = True,
                      **details) -> Verdict:
    """Accept, or reject a timestamp outside the ``tolerance`` setting (skew in the details).

    (A rejecting Verdict is falsy, so ``check_timestamp(...) or accept`` would accept it.)
    """
    stale = check_timestamp(ts, tolerance_of(settings), now, future=future)
    if stale is not None:
        stale.details.update(details)
        return stale
    return Verdict.accept(**details)


def bad_timestamp(header: str, value: str, expected: str = "a unix timestamp") -> Verdict:
    return Verdict.reject(f"header {header} is not {expected}: {shown(value)!r}", header=header)


# -- X-Hub-Signature style values ----------------------------------------------

def hub_signature(value: str) -> tuple[str, str] | None:
    """``"sha256=ab12..."`` -> ``("sha256", "ab12...")``, None when the algorithm is unknown."""
    algorithm, sep, digest = value.strip().partition("=")
    algorithm = algorithm.strip().lower()
    if not sep or algorithm not in ALGORITHMS:
        return None
    return algorithm, digest.strip()


def any_secret_matches(settings: dict, algorithm: str, message: bytes,
                       received: Iterable[str], encoding: str = "hex") -> bool:
    """True when an HMAC of ``message`` under any configured secret equals any received value."""
    received = list(received)
    for secret in secrets_of(settings):
        expected = hmac_digest(algorithm, secret, message)
        for value in received:
            if digest_matches(expected, value, encoding):
                return True
    return False


def verify_hub_header(request: Request, settings: dict, header: str,
                      algorithms: tuple[str, ...] = ("sha1", "sha256", "sha384", "sha512")) -> Verdict:
    """Check ``header: algo=hex`` (HMAC of the body) with any configured secret."""
    value = request.header(header)
    if value is None:
        return missing_header(header)
    parsed = hub_signature(value)
    if parsed is None or parsed[0] not in algorithms:
        return Verdict.reject(f"header {header} does not start with one of "
                              f"{', '.join(a + '=' for a in algorithms)}", header=header)
    algorithm, digest = parsed
    if any_secret_matches(settings, algorithm, request.body, [digest]):
        return Verdict.accept(algorithm=algorithm)
    return Verdict.reject(f"signature in {header} does not match", header=header,
                          algorithm=algorithm, encoding="hex")


# -- public-key crypto ---------------------------------------------------------

def crypto_available() -> bool:
    """Whether ``cryptography`` (the ``crypto`` extra) can be imported."""
    try:
        import cryptography.hazmat.primitives.asymmetric  # noqa: F401
    except ImportError:
        return False
    return True


def crypto_missing() -> Verdict:
    return Verdict.reject(f"cannot verify: the cryptography package is missing ({CRYPTO_HINT})",
                          status=503, missing="cryptography")


# -- handshakes ----------------------------------------------------------------

def answer_if_verified(provider, request: Request, settings: dict, answer: Response) -> Response | None:
    """``answer`` when the request verifies, else None.

    None hands the request to the normal verification, which rejects it with
    401 and a stored reason that names the failed check.
    """
    try:
        verdict = provider.verify(request, settings)
    except Exception:  # secrets that cannot be resolved are reported by verify itself
        return None
    return answer if verdict.ok else None


def echo_text(value: str) -> Response:
    """A challenge echoed back as text/plain.

    The value comes from the request, so browsers are told not to sniff it
    into HTML (a reflected challenge must not become a script).
    """
    response = Response.text(value)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def empty_response(status: int = 200) -> Response:
    return Response(status, {}, b"")
