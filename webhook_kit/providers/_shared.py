"""Helpers shared by several built-in providers (not a plugin: the underscore keeps it unregistered).

Reading the body without raising, dedup ids for single and batched
deliveries, default headers for signers, timestamps that never raise, the URL
a sender signed, Twilio/Mandrill-style "URL + sorted params" strings,
``X-Hub-Signature``-style ``algo=hex`` values, handshake answers, and the
Slack/Zoom ``v0:ts:body`` scheme. Public-key schemes live in ``_public_key``.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from datetime import datetime, timezone
from typing import Any, Iterable
from urllib.parse import urlsplit

from ..model import Request, Response, Verdict, iso_to_unix
from ..secret_values import SecretError
from .base import (ALGORITHMS, SECRET, Provider, check_timestamp, digest_matches, encode_digest,
                   hmac_digest, missing_header, now_or, secrets_of, tolerance_setting, with_header)


# -- body ----------------------------------------------------------------------

def json_body(request: Request) -> Any:
    """The body parsed as JSON, or None when it is not JSON (never raises)."""
    if request.parsed and isinstance(request.payload, (dict, list)):
        return request.payload
    try:
        return json.loads(request.body)
    except (ValueError, TypeError, RecursionError):
        return None


def field_at(data: Any, *path: str, bools: bool = False) -> str | None:
    """A scalar at ``path`` in parsed data as text, or None when absent or not a scalar.

    A boolean counts as absent unless ``bools`` (then it reads ``"True"``/``"False"``).
    """
    for key in path:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    if data is None or isinstance(data, (dict, list)) or data == "":
        return None
    if isinstance(data, bool) and not bools:
        return None
    return str(data)


def body_field(request: Request, *path: str) -> str | None:
    """A scalar at ``path`` in the JSON body as text (booleans included), or None when absent."""
    return field_at(json_body(request), *path, bools=True)


# -- dedup ids -------------------------------------------------------------------

def joined_ids(ids) -> str | None:
    """One dedup id for a batch of events: their ids sorted and joined (hashed when long)."""
    ids = sorted(str(i) for i in ids)
    if not ids:
        return None
    joined = ",".join(ids)
    return joined if len(joined) <= 200 else "sha256:" + hashlib.sha256(joined.encode()).hexdigest()


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


def new_id(prefix: str = "") -> str:
    """A fresh delivery id, as a sender attaches to each new delivery."""
    return f"{prefix}{uuid.uuid4()}"


def fresh_hex(nbytes: int = 8) -> str:
    """Random hex for sample ids, so that sending a sample twice is not a redelivery."""
    return uuid.uuid4().hex[: nbytes * 2]


# -- headers and secrets -------------------------------------------------------------

def first_missing(request: Request, *names: str) -> Verdict | None:
    """The rejection naming the first of ``names`` the request lacks, or None when it has them all.

    (Test it with ``is not None``: a rejected Verdict is falsy.)
    """
    for name in names:
        if request.header(name) is None:
            return missing_header(name)
    return None


def with_default_header(request: Request, name: str, value: str) -> Request:
    """``request`` with ``name`` set only when the caller has not set it already.

    Signers keep ids a test pinned (to send a redelivery) and add fresh ones otherwise.
    """
    return request if request.header(name) else with_header(request, name, value)


def with_default_headers(request: Request, values: dict[str, str]) -> Request:
    """:func:`with_default_header` for each of ``values``, in order."""
    for name, value in values.items():
        request = with_default_header(request, name, value)
    return request


def signing_secret(settings: dict, name: str = "secret") -> str:
    """The secret a signer uses: the first of a rotation list (the newest one, by convention)."""
    found = secrets_of(settings, name)
    if not found:
        raise SecretError(f"no {name} configured to sign with")
    return found[0]


def shown(value: str, limit: int = 40) -> str:
    """A received value, shortened for a reason line."""
    return value if len(value) <= limit else value[: limit - 3] + "..."


# -- time ------------------------------------------------------------------------------

def tolerance_of(settings: dict) -> int:
    try:
        return max(int(settings.get("tolerance") or 0), 0)
    except (TypeError, ValueError):
        return 0


def timely(seconds: float, settings: dict, now: float | None, *, future: bool = True,
           verdict: Verdict | None = None, **details) -> Verdict:
    """``verdict`` (default: an acceptance with ``details``) when ``seconds`` is within the
    ``tolerance`` setting, else the rejection (skew and ``details`` in its details).

    (A rejected Verdict is falsy, so ``check_timestamp(...) or accept`` would be a bug.)
    """
    stale = check_timestamp(seconds, tolerance_of(settings), now, future=future)
    if stale is not None:
        stale.details.update(details)
        return stale
    return verdict if verdict is not None else Verdict.accept(**details)


def unix_seconds(text: str | None, *, digits: int = 12) -> float | None:
    """A decimal unix timestamp of ASCII digits, or None when it is not one.

    ``digits`` bounds the length (no huge numbers; 13 and more for milliseconds).
    """
    if text is None:
        return None
    text = text.strip()
    if not text.isascii() or not text.isdigit() or len(text) > digits:
        return None
    return float(text)


def bad_timestamp(header: str, value: str, expected: str = "a unix timestamp") -> Verdict:
    return Verdict.reject(f"header {header} is not {expected}: {shown(value)!r}", header=header)


#: an ISO-8601 / RFC 3339 timestamp as unix seconds (Box, Zendesk), or None
iso_seconds = iso_to_unix


def iso_now(now: float | None, *, micro: bool = False) -> str:
    """``now`` as RFC 3339 UTC with a ``Z`` (Zendesk; Shopify and Square with microseconds)."""
    moment = datetime.fromtimestamp(now_or(now), timezone.utc)
    return moment.isoformat(timespec="microseconds" if micro else "seconds").replace("+00:00", "Z")


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
    t = now_or(now)
    whole = int(t)
    nanos = int(round((t - whole) * 1e9))
    if nanos >= 1_000_000_000:
        whole, nanos = whole + 1, nanos - 1_000_000_000
    stamp = datetime.fromtimestamp(whole, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{stamp}.{nanos:09d}Z"


# -- URLs ----------------------------------------------------------------------------------

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


# -- X-Hub-Signature style values ----------------------------------------------------------

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


# -- handshakes and probes -------------------------------------------------------------------

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


def head_probe(request: Request) -> Response | None:
    """Answer the HEAD request a sender makes when the URL is registered (Trello, Mandrill)."""
    if request.method == "HEAD":
        return Response(200, {"Content-Type": "text/plain; charset=utf-8"}, b"")
    return None


# -- the v0:ts:body scheme ----------------------------------------------------------------------

class V0TimestampProvider(Provider):
    """HMAC-SHA256 hex of ``"v0:" + timestamp + ":" + body`` with a ``v0=`` prefix (Slack, Zoom)."""

    signature_header = ""
    timestamp_header = ""
    settings = (SECRET, tolerance_setting(300))

    @staticmethod
    def v0_message(timestamp: str, body: bytes) -> bytes:
        return b"v0:" + timestamp.encode("ascii", "replace") + b":" + body

    def signed_bytes(self, request: Request, settings: dict) -> bytes:
        """``"v0:" + timestamp + ":" + body`` for this request (the debugger shows it)."""
        return self.v0_message((request.header(self.timestamp_header) or "").strip(), request.body)

    @property
    def header(self) -> str:
        return self.signature_header

    def signature_for(self, secret: str, timestamp: str, body: bytes) -> str:
        return "v0=" + encode_digest(
            hmac_digest("sha256", secret, self.v0_message(timestamp, body)), "hex")

    def matching_secret(self, request: Request, settings: dict) -> tuple[Verdict, str | None]:
        """The verdict, and the secret that matched (Zoom's handshake answers with it)."""
        missing = first_missing(request, self.signature_header, self.timestamp_header)
        if missing is not None:
            return missing, None
        received, stamp = request.header(self.signature_header), request.header(self.timestamp_header)
        if unix_seconds(stamp, digits=15) is None:
            return bad_timestamp(self.timestamp_header, stamp), None
        if not received.startswith("v0="):
            return Verdict.reject(f"header {self.signature_header} lacks the prefix 'v0='",
                                  header=self.signature_header), None
        message = self.v0_message(stamp.strip(), request.body)
        for secret in secrets_of(settings):
            if digest_matches(hmac_digest("sha256", secret, message), received[3:], "hex"):
                return Verdict.accept(), secret
        return Verdict.reject(f"signature in {self.signature_header} does not match",
                              header=self.signature_header), None

    def verify(self, request, settings, *, now=None):
        verdict, _ = self.matching_secret(request, settings)
        if not verdict.ok:
            return verdict
        return timely(unix_seconds(request.header(self.timestamp_header), digits=15), settings, now,
                      verdict=verdict)

    def sign(self, request, settings, *, now=None):
        stamp = str(int(now_or(now)))
        signature = self.signature_for(signing_secret(settings), stamp, request.body)
        return with_header(with_header(request, self.timestamp_header, stamp),
                           self.signature_header, signature)
