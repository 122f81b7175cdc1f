"""Why did a delivery fail verification? Step-by-step explanations of stored events.

:func:`explain` re-runs the listener's provider on the raw request stored with
an event (with the listener's settings, or edited ones) and says which check
failed. For HMAC schemes (the custom ``hmac`` type, providers built on
:class:`~webhook_kit.providers.base.HmacHeaderProvider`, and any provider with
a ``signed_bytes(request, settings)`` method) it also shows the exact bytes
that were signed and the expected next to the received signature, and it
tries the usual mistakes one by one (hex vs base64, a ``sha256=`` prefix, a
re-serialised JSON body, the wrong header, a base64 secret used as text, the
wrong algorithm, clock skew) to name the likely one.

:func:`reverify` runs verification again with edited settings; no sender is
needed, since the stored request is the exact one that arrived.

Verification is re-run at the moment the event was received (``now`` =
``received_at``), so a timestamp check gives the answer it gave then.
Credentials carried in clear (an ``Authorization`` header, a secret URL token,
a body token) are redacted before events are stored: those checks cannot be
repeated, and the explanation says so instead of failing.
"""

from __future__ import annotations

import base64
import binascii
import copy
import hmac
import inspect
import json
import re
from dataclasses import dataclass, field
from typing import Callable

from . import secret_values
from .listener import Listener
from .model import Event, Request, Verdict, body_to_text, iso_to_unix
from .providers.base import ALGORITHMS, HmacHeaderProvider, copy_request, decode_signature, encode_digest

#: attributes of an HmacHeaderProvider that edited settings may override in a re-check
HMAC_OVERRIDES = ("header", "prefix", "algorithm", "encoding")
ENCODINGS = ("hex", "base64")
#: JSON bodies larger than this are not re-serialised in the search for a cause
RESERIALISE_LIMIT = 1024 * 1024
_PREFIX_RE = re.compile(r"^([A-Za-z][A-Za-z0-9_.\-]{0,15}=)(.+)$", re.S)


# -- the result ----------------------------------------------------------------

@dataclass
class Explanation:
    """What :func:`explain` found.

    ``ok`` is whether verification passes now (``None`` when it cannot be
    re-checked because a credential was redacted when the event was stored).
    ``steps`` are dicts ``{"step", "ok", "text", ...}`` in the order of the
    checks (``ok`` is ``None`` for information); ``hints`` are dicts
    ``{"code", "text", "fix"}`` where ``fix`` holds settings that would make
    the check pass (or ``None`` when the fix is on the sender's side).
    """

    event_id: str
    listener_id: str
    provider: str
    ok: bool | None
    verdict: Verdict | None = None
    steps: list[dict] = field(default_factory=list)
    hints: list[dict] = field(default_factory=list)
    verifiable: bool = True
    stored_status: str = ""
    stored_reason: str | None = None
    #: the exact bytes the HMAC covers (None when the scheme has none or they cannot be known)
    signed_bytes: bytes | None = None
    #: the signature the listener expects, per secret, as the header would carry it
    expected: list[str] = field(default_factory=list)
    #: the signature header's value as received
    received: str | None = None
    header: str | None = None
    algorithm: str | None = None
    encoding: str | None = None

    def step(self, name: str, ok: bool | None, text: str, **data) -> None:
        self.steps.append({"step": name, "ok": ok, "text": text, **data})

    def hint(self, code: str, text: str, fix: dict | None = None) -> None:
        if all(h["code"] != code for h in self.hints):
            self.hints.append({"code": code, "text": text, "fix": fix})

    @property
    def hint_codes(self) -> list[str]:
        return [h["code"] for h in self.hints]

    def suggested_settings(self) -> dict:
        """Every settings fix the hints propose, merged (empty when none applies)."""
        out: dict = {}
        for h in self.hints:
            out.update(h.get("fix") or {})
        return out

    @property
    def reason(self) -> str | None:
        return self.verdict.reason if self.verdict is not None else None

    def summary(self) -> str:
        """One line: the verdict of the re-check."""
        if self.ok is None:
            return "cannot be re-checked: credentials were redacted when the event was stored"
        if self.ok:
            return "verification passes"
        return f"verification fails: {self.reason}"

    def to_dict(self) -> dict:
        """JSON-ready; the signed bytes as text (UTF-8) or base64, never a secret."""
        signed = None
        if self.signed_bytes is not None:
            text, encoding = body_to_text(self.signed_bytes)
            signed = {"text": text, "encoding": encoding, "length": len(self.signed_bytes)}
        return {
            "event_id": self.event_id, "listener": self.listener_id, "provider": self.provider,
            "ok": self.ok, "verifiable": self.verifiable, "summary": self.summary(),
            "reason": self.reason, "details": dict(self.verdict.details) if self.verdict else {},
            "stored_status": self.stored_status, "stored_reason": self.stored_reason,
            "steps": [dict(s) for s in self.steps], "hints": [dict(h) for h in self.hints],
            "signed_bytes": signed, "expected": list(self.expected), "received": self.received,
            "header": self.header, "algorithm": self.algorithm, "encoding": self.encoding,
        }

    def to_text(self) -> str:
        """A report for a terminal (``webhook-kit events --explain``)."""
        marks = {True: "[ok]  ", False: "[FAIL]", None: "[info]"}
        lines = [f"Event {self.event_id} on listener {self.listener_id} ({self.provider}): "
                 f"stored {self.stored_status}"
                 + (f" ({self.stored_reason})" if self.stored_reason else ""),
                 f"Now: {self.summary()}", "", "Steps:"]
        for i, s in enumerate(self.steps, 1):
            lines.append(f"  {i:2}. {marks[s['ok']]} {s['step']}: {s['text']}")
        if self.signed_bytes is not None:
            lines += ["", f"Signed bytes ({len(self.signed_bytes)} bytes):",
                      "  " + shown_bytes(self.signed_bytes, 2000).replace("\n", "\n  ")]
        if self.expected or self.received is not None:
            how = ", ".join(x for x in (self.algorithm, self.encoding) if x)
            lines.append("")
            for i, value in enumerate(self.expected):
                which = f" (secret #{i + 1})" if len(self.expected) > 1 else ""
                lines.append(f"  expected {self.header or ''} [{how}]{which}: {value}")
            received = "(missing)" if self.received is None else self.received
            lines.append(f"  received {self.header or ''}: {received}")
        if self.hints:
            lines += ["", "Hints:"]
            for h in self.hints:
                fix = ""
                if h.get("fix"):
                    fix = " -> try " + ", ".join(f"{k}={v!r}" for k, v in h["fix"].items())
                lines.append(f"  * [{h['code']}] {h['text']}{fix}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:  # a notebook shows it readably without the widget
        import html
        return f"<pre>{html.escape(self.to_text())}</pre>"


def shown_bytes(data: bytes, limit: int = 2000) -> str:
    """Bytes as readable text: UTF-8 where possible, ``\\xNN`` escapes elsewhere, cut at ``limit``."""
    text = data[:limit].decode("utf-8", "backslashreplace")
    if len(data) > limit:
        text += f"... ({len(data) - limit} more bytes)"
    return text


# -- settings and the request ----------------------------------------------------

def event_time(event: Event) -> float | None:
    """``received_at`` as unix seconds (None when it cannot be read)."""
    return iso_to_unix(event.received_at)


def stored_request(event: Event) -> Request:
    """The request as stored, with what the pipeline had set on it (listener, payload, token)."""
    request = event.to_request()
    request.listener_id = event.listener
    if event.payload is not None:
        request.payload = copy.deepcopy(event.payload)
        request.parsed = True
    parts = [p for p in request.path.split("/") if p]
    if len(parts) >= 3 and parts[0] == "hooks":
        request.path_token = parts[2]
    return request


def _secret_names(provider, settings: dict) -> set[str]:
    declared = list(provider.settings)
    scheme = provider.scheme(settings) if hasattr(provider, "scheme") else None
    if scheme is not None:
        declared += list(scheme.settings)
    return {s.name for s in declared if s.kind == "secret"}


def effective_settings(listener: Listener, edits: dict | None = None) -> dict:
    """The listener's settings with ``edits`` applied.

    An empty or masked secret in ``edits`` keeps the listener's secret (a form
    never shows it), so ``{"encoding": "base64"}`` changes only the encoding.
    """
    provider = listener.provider_obj
    settings = listener.settings()
    if edits:
        secrets = _secret_names(provider, {**settings, **edits})
        for key, value in edits.items():
            if key in secrets and value in (None, "", secret_values.MASK):
                continue
            settings[key] = value
        settings = provider.settings_with_defaults(settings)
    return settings


def provider_for_settings(provider, settings: dict):
    """``provider``, or a copy whose header/prefix/algorithm/encoding follow ``settings``.

    An HmacHeaderProvider fixes these in class attributes; a re-check with
    edited settings overrides them on a copy, never on the registered object.
    """
    if not isinstance(provider, HmacHeaderProvider):
        return provider
    declared = {s.name for s in provider.settings}
    changes = {k: settings[k] for k in HMAC_OVERRIDES
               if k in settings and k not in declared and isinstance(settings[k], str)
               and settings[k] != getattr(provider, k)}
    if not changes:
        return provider
    edited = copy.copy(provider)
    for key, value in changes.items():
        setattr(edited, key, value)
    return edited


def _run_verify(provider, request: Request, settings: dict, now: float | None) -> Verdict:
    try:
        verdict = provider.verify(copy_request(request, payload=request.payload,
                                               parsed=request.parsed,
                                               listener_id=request.listener_id),
                                  settings, now=now)
    except secret_values.SecretError as exc:
        return Verdict.reject(f"listener misconfigured: {exc}", status=503)
    except Exception as exc:  # hostile stored input must not break the explanation
        return Verdict.reject(f"verification error: {type(exc).__name__}: {exc}")
    if not isinstance(verdict, Verdict):
        return Verdict.reject(f"provider {provider.name} returned no verdict")
    return verdict


def reverify(event: Event, listener: Listener, settings: dict | None = None, *,
             now: float | None = None) -> Verdict:
    """Verify the stored raw request again with edited ``settings`` (merged over the listener's).

    ``now`` defaults to when the event was received. When the check fails and
    the event was stored with credentials redacted, the verdict says so: that
    check cannot be repeated from the store.
    """
    merged = effective_settings(listener, settings)
    provider = provider_for_settings(listener.provider_obj, merged)
    verdict = _run_verify(provider, stored_request(event), merged,
                          event_time(event) if now is None else now)
    if not verdict.ok and event.redactions:
        return Verdict.reject(f"cannot re-check: credentials were redacted when stored "
                              f"({', '.join(event.redactions)}); at arrival: "
                              f"{event.status}" + (f" ({event.reason})" if event.reason else ""),
                              redacted=list(event.redactions), status=verdict.status)
    return verdict


# -- HMAC schemes --------------------------------------------------------------------

@dataclass
class HmacView:
    """What the debugger needs to know of an HMAC scheme."""

    header: str | None
    prefix: str
    algorithm: str
    encoding: str
    signed_bytes: Callable[[Request], bytes]
    #: the header value is ``prefix + digest`` (else a list such as ``t=..,v1=..``)
    plain_value: bool = True
    covers: str = "the raw body"


def _takes_request(fn) -> bool:
    try:
        params = list(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        return False
    return bool(params) and params[0] == "request"


def hmac_view(provider, settings: dict) -> HmacView | None:
    """The HMAC scheme of ``provider`` with ``settings``, or None when it is no HMAC scheme."""
    scheme = provider.scheme(settings) if hasattr(provider, "scheme") else None
    if scheme is not None and scheme.name == "hmac" and not hasattr(scheme, "signed_bytes"):
        return HmacView(settings.get("header") or "X-Signature", settings.get("prefix") or "",
                        settings.get("algorithm") or "sha256", settings.get("encoding") or "hex",
                        lambda request: request.body)
    target = scheme if scheme is not None else provider
    fn = getattr(target, "signed_bytes", None)
    if not (callable(fn) and _takes_request(fn)):
        return None
    algorithm = getattr(target, "algorithm", "sha256")
    encoding = getattr(target, "encoding", "hex")
    if algorithm not in ALGORITHMS or encoding not in ENCODINGS:
        return None
    header = getattr(target, "header", None) or getattr(target, "signature_header", None)
    covers = "the raw body"
    if type(target).signed_bytes is not HmacHeaderProvider.signed_bytes:
        covers = f"what {type(target).__name__}.signed_bytes builds from the request"
    return HmacView(header or None, getattr(target, "prefix", "") or "", algorithm, encoding,
                    lambda request: fn(request, settings),
                    plain_value=isinstance(target, HmacHeaderProvider) or scheme is not None,
                    covers=covers)


def _key_forms(secret: str) -> list[tuple[str, bytes]]:
    """The secret as text, and the two ways a base64 secret gets mixed up."""
    forms = [("text", secret.encode("utf-8"))]
    for text in dict.fromkeys([secret, secret.split("_", 1)[-1]]):  # whsec_... style too
        try:
            decoded = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            continue
        if decoded and decoded != forms[0][1]:
            forms.append(("base64-decoded", decoded))
            break
    forms.append(("base64-encoded", base64.b64encode(secret.encode("utf-8"))))
    return forms


JSON_FORMS = (
    ("json.dumps(json.loads(body))", {}),
    ("compact JSON (separators=(',', ':'))", {"separators": (",", ":")}),
    ("JSON with sorted keys", {"sort_keys": True}),
    ("compact JSON with sorted keys", {"separators": (",", ":"), "sort_keys": True}),
    ("indented JSON (indent=2)", {"indent": 2}),
    ("JSON with ensure_ascii=False", {"ensure_ascii": False}),
    ("compact JSON with ensure_ascii=False", {"separators": (",", ":"), "ensure_ascii": False}),
)


def body_variants(body: bytes) -> list[tuple[str, bytes]]:
    """Other bodies a sender may have signed: re-serialised JSON, a trailing newline added or lost."""
    out: list[tuple[str, bytes]] = []
    seen = {body}

    def add(label: str, data: bytes) -> None:
        if data not in seen:
            seen.add(data)
            out.append((label, data))

    if len(body) <= RESERIALISE_LIMIT:
        try:
            data = json.loads(body)
        except (ValueError, RecursionError):
            data = None
        if isinstance(data, (dict, list)):
            for label, options in JSON_FORMS:
                add(label, json.dumps(data, **options).encode("utf-8"))
    add("the body without its trailing newline", body.rstrip(b"\r\n"))
    add("the body with a trailing newline", body + b"\n")
    return out


def _received_candidates(value: str, view: HmacView) -> list[tuple[str | None, str]]:
    """``(prefix, text)`` pairs that may carry the digest; prefix None for an item of a list."""
    value = value.strip()
    out: list[tuple[str | None, str]] = [("", value)]
    if view.prefix and value.startswith(view.prefix):
        out.append((view.prefix, value[len(view.prefix):]))
    m = _PREFIX_RE.match(value)
    if m and m.group(1) != view.prefix:
        out.append((m.group(1), m.group(2)))
    parts = [p for p in re.split(r"[,;\s]+", value) if p]
    if len(parts) > 1:
        for part in parts:
            out.append((None, part))
            name, sep, rest = part.partition("=")
            if sep and rest:
                out.append((None, rest))
    return out


def _signature_like(request: Request, view: HmacView) -> list[str]:
    """Names of headers whose value decodes to an HMAC-sized digest (20, 32 or 64 bytes)."""
    sizes = {fn().digest_size for fn in ALGORITHMS.values()}
    found = []
    for name, value in request.headers.items():
        for _prefix, text in _received_candidates(value, view):
            if any(len(decode_signature(text, e) or b"") in sizes for e in ENCODINGS):
                found.append(name)
                break
    return found


@dataclass
class _Match:
    header: str
    prefix: str | None
    encoding: str
    algorithm: str
    key_form: str
    body_form: str
    diffs: list[str]


def _search(view: HmacView, request: Request, secrets: list[str]) -> list[_Match]:
    """Every (header, prefix, encoding, algorithm, key, body) under which a received value matches."""
    messages = [("raw", None)]
    messages += body_variants(request.body)
    expected: list[tuple[str, str, str, bytes]] = []
    for body_form, body in messages:
        try:
            signed = view.signed_bytes(request if body is None else copy_request(request, body=body))
        except Exception:
            continue
        for secret in secrets:
            for key_form, key in _key_forms(secret):
                for algorithm, fn in ALGORITHMS.items():
                    expected.append((algorithm, key_form, body_form,
                                     hmac.new(key, signed, fn).digest()))
    matches = []
    configured = (view.header or "").lower()
    for name, value in request.headers.items():
        for prefix, text in _received_candidates(value, view):
            for encoding in ENCODINGS:
                got = decode_signature(text, encoding)
                if not got:
                    continue
                for algorithm, key_form, body_form, digest in expected:
                    if len(digest) == len(got) and hmac.compare_digest(digest, got):
                        diffs = []
                        if configured and name.lower() != configured:
                            diffs.append("header")
                        if view.plain_value and prefix is not None and prefix != view.prefix:
                            diffs.append("prefix")
                        if encoding != view.encoding:
                            diffs.append("encoding")
                        if algorithm != view.algorithm:
                            diffs.append("algorithm")
                        if key_form != "text":
                            diffs.append("key")
                        if body_form != "raw":
                            diffs.append("body")
                        matches.append(_Match(name, prefix, encoding, algorithm, key_form,
                                              body_form, diffs))
    matches.sort(key=lambda m: len(m.diffs))
    return matches


def _hints_for(ex: Explanation, view: HmacView, match: _Match) -> None:
    where = view.header or match.header
    for diff in match.diffs:
        if diff == "header":
            state = "is missing" if ex.received is None else "carries no matching signature"
            ex.hint("wrong_header", f"The header {view.header} {state}, but {match.header} carries "
                    f"a matching signature: the sender uses another header name.",
                    {"header": match.header})
        elif diff == "prefix":
            if view.prefix and not match.prefix:
                ex.hint("prefix_missing", f"The value in {where} has no {view.prefix!r} prefix: the "
                        f"sender writes the bare digest. Clear the prefix setting (or have the "
                        f"sender add it).", {"prefix": ""})
            else:
                ex.hint("prefix_present", f"The value in {where} starts with {match.prefix!r} "
                        f"before the digest, which the listener does not expect: set the prefix "
                        f"to {match.prefix!r}.", {"prefix": match.prefix})
        elif diff == "encoding":
            ex.hint("encoding", f"The signature in {where} is right but written in "
                    f"{match.encoding}, and the listener reads {view.encoding}: set the "
                    f"encoding to {match.encoding}.", {"encoding": match.encoding})
        elif diff == "algorithm":
            ex.hint("algorithm", f"The signature is an HMAC-{match.algorithm.upper()}, but the "
                    f"listener computes HMAC-{view.algorithm.upper()}: set the algorithm to "
                    f"{match.algorithm}.", {"algorithm": match.algorithm})
        elif diff == "key" and match.key_form == "base64-decoded":
            ex.hint("base64_secret", "The signature matches when the secret is base64-decoded and "
                    "its bytes are the key: the sender treats the secret as base64, the listener "
                    "uses it as text. Configure the key both sides use (the decoded bytes, or the "
                    "text).")
        elif diff == "key":
            ex.hint("base64_secret", "The signature matches when the key is the base64 encoding of "
                    "the secret: the sender encodes the secret before use, the listener uses it "
                    "as text. Configure the same key on both sides.")
        elif diff == "body":
            ex.hint("reserialised_body", f"The signature matches {match.body_form}, not the raw "
                    f"bytes that arrived: the sender signed a different serialisation than it "
                    f"sent (or something re-serialised the body in transit). Sign, send and "
                    f"verify the exact same bytes.")


def _explain_hmac(ex: Explanation, view: HmacView, request: Request, settings: dict,
                  verdict: Verdict) -> None:
    ex.header, ex.algorithm, ex.encoding = view.header, view.algorithm, view.encoding
    received = request.header(view.header) if view.header else None
    ex.received = received
    if view.header:
        if received is None:
            names = ", ".join(n for n, _ in request.headers.items()) or "none"
            ex.step("header", False, f"{view.header} is missing (headers received: {names})")
        else:
            ex.step("header", True, f"{view.header}: {received}")
    if view.plain_value and view.prefix and received is not None:
        ex.step("prefix", received.startswith(view.prefix),
                f"the value {'starts' if received.startswith(view.prefix) else 'does not start'}"
                f" with {view.prefix!r}")
    try:
        signed = view.signed_bytes(request)
    except Exception as exc:
        ex.step("signed bytes", False, f"cannot build the signed bytes: {type(exc).__name__}: {exc}")
        return
    ex.signed_bytes = signed
    ex.step("signed bytes", None, f"{len(signed)} bytes: {view.covers}")
    try:
        secrets = secret_values.resolve_all(settings.get("secret"))
    except secret_values.SecretError as exc:
        ex.step("secret", False, str(exc))
        ex.hint("secret_unresolved", f"The secret cannot be read: {exc}.")
        return
    if not secrets:
        ex.step("secret", False, "no secret configured")
        return
    shown_prefix = view.prefix if view.plain_value else ""
    ex.expected = [shown_prefix + encode_digest(hmac.new(s.encode("utf-8"), signed,
                                                         ALGORITHMS[view.algorithm]).digest(),
                                                view.encoding) for s in secrets]
    matched = False
    if received is not None:
        if view.plain_value:  # exactly prefix + digest, as the verifier reads it
            texts = ([received[len(view.prefix):]] if received.startswith(view.prefix) else [])
        else:
            texts = [text for _prefix, text in _received_candidates(received, view)]
        for text in texts:
            for s in secrets:
                digest = hmac.new(s.encode("utf-8"), signed, ALGORITHMS[view.algorithm]).digest()
                got = decode_signature(text, view.encoding)
                if got is not None and hmac.compare_digest(digest, got):
                    matched = True
    how = f"HMAC-{view.algorithm.upper()}, {view.encoding}"
    if matched:
        ex.step("signature", True, f"the received signature matches ({how})")
        return
    if verdict.ok:  # e.g. GitHub's legacy X-Hub-Signature when the SHA-256 header is absent
        ex.step("signature", None, f"no match in {view.header or 'the signature header'} "
                f"({how}), but the provider accepted the request by another of its rules")
        return
    ex.step("signature", False, f"expected {ex.expected[0]} ({how}), received "
            f"{'nothing' if received is None else received}")
    matches = [m for m in _search(view, request, secrets) if m.diffs]
    if matches:
        _hints_for(ex, view, matches[0])
    elif received is None and _signature_like(request, view):
        names = ", ".join(_signature_like(request, view))
        ex.hint("no_match", f"{view.header} is missing; {names} looks like a signature but does "
                f"not match under any usual mistake: most likely the secret differs from the "
                f"sender's, and the header may be {names}.")
    elif received is None:
        ex.hint("missing_header", f"No header carries a signature that matches: {view.header} is "
                f"missing and no other header holds the HMAC. Is the sender configured to sign "
                f"(a secret set on its side), and is this the listener it sends to?")
    else:
        ex.hint("no_match", "No usual mistake explains the mismatch (encoding, prefix, header, "
                "algorithm, base64 secret, re-serialised body were all tried): most likely the "
                "secret differs from the sender's, or the body was changed on the way.")


# -- explain ---------------------------------------------------------------------------

def _provider_label(listener: Listener, settings: dict) -> str:
    if listener.provider == "custom":
        return f"custom/{settings.get('type') or 'none'}"
    return listener.provider


def explain(event: Event, listener: Listener, settings: dict | None = None, *,
            now: float | None = None) -> Explanation:
    """Explain, step by step, whether and why ``event`` fails the listener's verification.

    ``settings`` are edits merged over the listener's verification settings
    (an empty or masked secret keeps the listener's). ``now`` defaults to the
    time the event was received.
    """
    ex = Explanation(event.id, listener.id, listener.provider, ok=None,
                     stored_status=event.status, stored_reason=event.reason)
    arrived = event.status != "rejected"
    ex.step("stored", arrived, f"{event.method} {event.path} at {event.received_at}: "
            f"{event.status}" + (f", {event.reason}" if event.reason else "")
            + (f" (HTTP {event.http_status})" if event.http_status else ""))
    try:
        merged = effective_settings(listener, settings)
        provider = provider_for_settings(listener.provider_obj, merged)
    except Exception as exc:  # an unknown provider, say: one line, no traceback
        ex.ok = False
        ex.step("provider", False, str(exc))
        ex.hint("provider", f"The listener's provider cannot be used: {exc}.")
        return ex
    ex.provider = _provider_label(listener, merged)
    scheme = provider.scheme(merged) if hasattr(provider, "scheme") else None
    described = scheme if scheme is not None else provider
    ex.step("provider", None, f"{ex.provider}: {described.summary or described.label}")
    if settings:
        shown = {k: (secret_values.MASK if k in _secret_names(provider, merged) else v)
                 for k, v in settings.items()}
        ex.step("edited settings", None, json.dumps(shown, default=str))
    if event.redactions:
        ex.step("redactions", None, "stored with credentials redacted ("
                + ", ".join(event.redactions) + "): checks on them cannot be repeated")
    request = stored_request(event)
    at = event_time(event) if now is None else now
    verdict = _run_verify(provider, request, merged, at)
    ex.verdict = verdict
    if verdict.status == 503 and verdict.reason and "misconfigured" in verdict.reason:
        ex.hint("secret_unresolved", f"The listener cannot verify at all: {verdict.reason}.")

    view = hmac_view(provider, merged)
    if view is not None:
        _explain_hmac(ex, view, request, merged, verdict)

    skew = verdict.details.get("skew_seconds")
    tolerance = verdict.details.get("tolerance")
    if skew is not None and tolerance:
        direction = "old" if skew > 0 else "in the future"
        beyond = abs(skew) - tolerance
        ex.step("timestamp", False, f"the signed timestamp was {abs(skew):.0f} s {direction} "
                f"when the request arrived; tolerance {tolerance} s")
        ex.hint("clock_skew", f"Clock skew: the signed timestamp was {abs(skew):.0f} s {direction} "
                f"when the request arrived, {beyond:.0f} s beyond the tolerance of {tolerance} s. "
                f"Check the sender's clock (NTP), a delayed retry or a replayed request; raise the "
                f"tolerance only if such delays are expected.")

    if verdict.ok:
        ex.ok = True
        text = "accepted"
        if event.status == "rejected" and event.reason and not event.redactions:
            text += f" (the stored rejection, {event.reason!r}, had another cause or other settings)"
        ex.step("verdict", True, text)
    elif event.redactions:
        ex.ok, ex.verifiable = None, False
        ex.step("verdict", None, f"cannot be re-checked ({verdict.reason}); at arrival it was "
                f"{event.status}" + (f": {event.reason}" if event.reason else ""))
        ex.hint("redacted", "This event was stored with its credentials redacted ("
                + ", ".join(event.redactions) + "), so they cannot be checked again here; the "
                "stored status and reason tell what happened at arrival. Send a new test "
                "delivery to try other settings.")
    else:
        ex.ok = False
        ex.step("verdict", False, f"rejected: {verdict.reason}")
    return ex
