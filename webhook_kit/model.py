"""The kit's vocabulary: Request, Verdict, Response, Event, Setting.

These are plain data holders shared by the pipeline, the server, the client,
the CLI and the widgets. Nothing here knows about Tornado or SQLite.
"""

from __future__ import annotations

import base64
import json
import os
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Iterable
from urllib.parse import parse_qsl, urlsplit


class Headers:
    """Case-insensitive, order-preserving HTTP headers that keep repeated names.

    ``get`` returns the first value; ``get_all`` every value. Iteration and
    ``items()`` give ``(name, value)`` pairs exactly as received.
    """

    def __init__(self, pairs: Iterable[tuple[str, str]] | dict | None = None):
        self._pairs: list[tuple[str, str]] = []
        if pairs is None:
            return
        if isinstance(pairs, (dict, Headers)):
            pairs = pairs.items()
        for name, value in pairs:
            self.add(name, value)

    def add(self, name: str, value: str) -> None:
        self._pairs.append((str(name), str(value)))

    def set(self, name: str, value: str) -> None:
        """Replace every value of ``name`` by one."""
        self.remove(name)
        self.add(name, value)

    def remove(self, name: str) -> None:
        lower = name.lower()
        self._pairs = [(n, v) for n, v in self._pairs if n.lower() != lower]

    def get(self, name: str, default: str | None = None) -> str | None:
        lower = name.lower()
        for n, v in self._pairs:
            if n.lower() == lower:
                return v
        return default

    def get_all(self, name: str) -> list[str]:
        lower = name.lower()
        return [v for n, v in self._pairs if n.lower() == lower]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.get(name) is not None

    def __getitem__(self, name: str) -> str:
        value = self.get(name)
        if value is None:
            raise KeyError(name)
        return value

    def items(self) -> list[tuple[str, str]]:
        return list(self._pairs)

    def __iter__(self):
        return iter(self._pairs)

    def __len__(self) -> int:
        return len(self._pairs)

    def to_dict(self) -> dict[str, str]:
        """One value per name (repeated names joined with ``, `` as HTTP allows)."""
        out: dict[str, str] = {}
        for n, v in self._pairs:
            out[n] = f"{out[n]}, {v}" if n in out else v
        return out

    def copy(self) -> "Headers":
        return Headers(self._pairs)

    def __repr__(self) -> str:
        return f"Headers({self._pairs!r})"


@dataclass
class Request:
    """One HTTP request as it arrived (or as a test delivery will send it).

    ``url`` is the full URL the sender used (scheme, host, path and query);
    ``body`` the exact raw bytes. ``path_token`` is the last path segment of
    ``/hooks/{listener}/{token}`` when present.
    """

    method: str
    url: str
    headers: Headers = field(default_factory=Headers)
    body: bytes = b""
    remote_ip: str | None = None
    path_token: str | None = None
    #: the listener this request arrived on (set by the pipeline)
    listener_id: str | None = None
    #: parsed payload, filled in by the pipeline (or by a verifier that needs it)
    payload: Any = None
    parsed: bool = False

    def __post_init__(self):
        if not isinstance(self.headers, Headers):
            self.headers = Headers(self.headers)
        if isinstance(self.body, str):
            self.body = self.body.encode("utf-8")

    @property
    def path(self) -> str:
        return urlsplit(self.url).path

    @property
    def query(self) -> str:
        return urlsplit(self.url).query

    def query_params(self) -> list[tuple[str, str]]:
        return parse_qsl(self.query, keep_blank_values=True)

    def query_param(self, name: str) -> str | None:
        for k, v in self.query_params():
            if k == name:
                return v
        return None

    def header(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name, default)

    @property
    def content_type(self) -> str:
        """The media type without parameters, lower case ('' when absent)."""
        value = self.headers.get("Content-Type") or ""
        return value.split(";", 1)[0].strip().lower()

    def form_params(self) -> list[tuple[str, str]]:
        """The body's form fields (for form-encoded bodies), in order."""
        try:
            text = self.body.decode("utf-8")
        except UnicodeDecodeError:
            text = self.body.decode("latin-1")
        return parse_qsl(text, keep_blank_values=True)


@dataclass
class Verdict:
    """The outcome of verifying a request.

    ``reason`` names the failed check when ``ok`` is false (it is stored on
    the event, never sent to the sender). ``details`` holds what a debugger
    needs: header names, expected and received values, skew in seconds.
    ``status`` lets a scheme ask for a status other than 401 (404 for a wrong
    secret URL token) and ``headers`` adds answer headers (WWW-Authenticate).
    """

    ok: bool
    reason: str | None = None
    details: dict = field(default_factory=dict)
    status: int = 401
    headers: dict = field(default_factory=dict)

    @classmethod
    def accept(cls, **details) -> "Verdict":
        return cls(True, None, details)

    @classmethod
    def reject(cls, reason: str, *, status: int = 401, headers: dict | None = None,
               **details) -> "Verdict":
        return cls(False, reason, details, status, headers or {})

    def __bool__(self) -> bool:
        return self.ok


@dataclass
class Response:
    """An answer the pipeline wants sent: status, headers and body bytes."""

    status: int = 200
    headers: dict = field(default_factory=dict)
    body: bytes = b""
    #: why a handshake was refused: stored on the event, never sent
    reason: str | None = None

    @classmethod
    def json(cls, data: Any, status: int = 200, headers: dict | None = None) -> "Response":
        h = {"Content-Type": "application/json"}
        h.update(headers or {})
        return cls(status, h, json.dumps(data).encode("utf-8"))

    @classmethod
    def text(cls, text: str, status: int = 200, content_type: str = "text/plain") -> "Response":
        return cls(status, {"Content-Type": f"{content_type}; charset=utf-8"},
                   text.encode("utf-8"))


@dataclass
class Setting:
    """One setting a provider or verification type declares.

    ``kind`` is one of ``text``, ``secret``, ``choice``, ``int``, ``bool``.
    Forms, config validation and ``webhook-kit providers`` are all drawn from
    these declarations, so a plugin gets them without UI code.
    """

    name: str
    label: str
    kind: str = "text"
    default: Any = None
    help: str = ""
    choices: tuple = ()
    required: bool = False

    KINDS = ("text", "secret", "choice", "int", "bool")

    def __post_init__(self):
        if self.kind not in self.KINDS:
            raise ValueError(f"setting {self.name}: kind must be one of {', '.join(self.KINDS)}")

    def to_dict(self) -> dict:
        d = {"name": self.name, "label": self.label, "kind": self.kind,
             "default": self.default, "help": self.help, "required": self.required}
        if self.choices:
            d["choices"] = list(self.choices)
        return d


@dataclass
class Sample:
    """A realistic delivery: what a provider's ``sample()`` returns."""

    body: bytes
    content_type: str = "application/json"
    headers: dict = field(default_factory=dict)
    method: str = "POST"

    def __post_init__(self):
        if isinstance(self.body, str):
            self.body = self.body.encode("utf-8")


class _RandomPool:
    """Random bytes from the OS, fetched 4 KiB at a time.

    One ``os.urandom`` call per event showed up in profiles of the ingest
    path; a pool refilled under a lock gives the same bytes for less. A
    forked child starts with an empty pool, so it never repeats its parent's.
    """

    def __init__(self, size: int = 4096):
        self._size = size
        self._buf = b""
        self._pos = 0
        self._pid = os.getpid()
        self._lock = threading.Lock()

    def take(self, n: int) -> bytes:
        with self._lock:
            if self._pid != os.getpid() or self._pos + n > len(self._buf):
                self._buf, self._pos, self._pid = os.urandom(self._size), 0, os.getpid()
            out = self._buf[self._pos:self._pos + n]
            self._pos += n
            return out


_random = _RandomPool()


def new_event_id() -> str:
    """A time-ordered, unguessable event id such as ``evt_18c2f...``."""
    return f"evt_{time.time_ns():x}{_random.take(4).hex()}"


def iso_to_unix(text: str | None) -> float | None:
    """An ISO-8601 / RFC 3339 timestamp as unix seconds (naive means UTC); None when malformed."""
    if not text or not isinstance(text, str):
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


def utc_now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


def body_to_text(body: bytes) -> tuple[str, str]:
    """``(text, encoding)``: UTF-8 text when the bytes are text, else base64."""
    try:
        return body.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return base64.b64encode(body).decode("ascii"), "base64"


def body_from_text(text: str, encoding: str) -> bytes:
    if encoding == "base64":
        return base64.b64decode(text)
    return text.encode("utf-8")


EVENT_STATUSES = ("accepted", "rejected", "duplicate", "handshake")


@dataclass
class Event:
    """One request to a listener URL, as recorded in the event store."""

    id: str
    listener: str
    received_at: str
    status: str
    reason: str | None
    method: str
    path: str
    query: str
    headers: list
    body: bytes
    payload: Any = None
    content_type: str = ""
    delivery_id: str | None = None
    redactions: list = field(default_factory=list)
    details: dict = field(default_factory=dict)
    output: Any = None
    transform_error: str | None = None
    http_status: int | None = None
    url: str = ""
    seq: int | None = None

    @property
    def header_map(self) -> Headers:
        return Headers(self.headers)

    def to_request(self) -> Request:
        """The stored request, ready to be verified again."""
        url = self.url or (self.path + (f"?{self.query}" if self.query else ""))
        return Request(self.method, url, Headers(self.headers), self.body)

    def to_dict(self) -> dict:
        text, encoding = body_to_text(self.body)
        return {
            "id": self.id, "listener": self.listener, "received_at": self.received_at,
            "status": self.status, "reason": self.reason, "method": self.method,
            "path": self.path, "query": self.query, "headers": [list(p) for p in self.headers],
            "body": text, "body_encoding": encoding, "payload": self.payload,
            "content_type": self.content_type, "delivery_id": self.delivery_id,
            "redactions": self.redactions, "details": self.details, "output": self.output,
            "transform_error": self.transform_error, "http_status": self.http_status,
            "url": self.url,
        }

    @classmethod
    def from_dict(cls, d: dict) -> "Event":
        body = body_from_text(d.get("body", ""), d.get("body_encoding", "utf-8"))
        return cls(
            id=d["id"], listener=d["listener"], received_at=d["received_at"],
            status=d["status"], reason=d.get("reason"), method=d.get("method", "POST"),
            path=d.get("path", ""), query=d.get("query", ""),
            headers=[tuple(p) for p in d.get("headers", [])], body=body,
            payload=d.get("payload"), content_type=d.get("content_type", ""),
            delivery_id=d.get("delivery_id"), redactions=d.get("redactions", []),
            details=d.get("details", {}), output=d.get("output"),
            transform_error=d.get("transform_error"), http_status=d.get("http_status"),
            url=d.get("url", ""),
        )


def env_flag(name: str) -> bool:
    return os.environ.get(name, "").lower() in ("1", "true", "yes")
