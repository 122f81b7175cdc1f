"""Payload parsers, chosen by Content-Type (sniffed when absent).

A parser is registered through the ``register_parsers`` hook (the built-ins
in :mod:`webhook_kit.parsers.builtin` too) and turns raw body bytes into a
payload, or raises :class:`ParseError` with line and column.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any


class ParseError(ValueError):
    """A body that cannot be parsed as its content type."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None):
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column

    def to_dict(self) -> dict:
        return {"error": self.message, "line": self.line, "column": self.column}

    def __str__(self) -> str:
        if self.line is not None:
            return f"{self.message} (line {self.line}, column {self.column})"
        return self.message


class Parser:
    """Base class of a payload parser.

    ``media_types`` lists what it handles: exact types (``application/json``),
    wildcards (``*/xml``) and structured-syntax suffixes (``+json``).
    """

    name: str = ""
    media_types: tuple[str, ...] = ()

    def parse(self, body: bytes, options: dict | None = None) -> Any:
        raise NotImplementedError

    def handles(self, media_type: str) -> int:
        """How well this parser matches ``media_type``: 3 exact, 2 suffix, 1 wildcard, 0 no."""
        best = 0
        for pattern in self.media_types:
            if pattern == media_type:
                return 3
            if pattern.startswith("+") and media_type.endswith(pattern):
                best = max(best, 2)
            elif pattern.startswith("*/") and media_type.split("/", 1)[-1] == pattern[2:]:
                best = max(best, 1)
        return best


@dataclass
class Parsed:
    """What parsing gave: the payload and the media type the parser used."""

    payload: Any
    media_type: str
    parser: str


def sniff(body: bytes) -> str:
    """A media type for a body that came without Content-Type."""
    head = body.lstrip()[:1]
    if head in (b"{", b"["):
        return "application/json"
    if head == b"<":
        return "application/xml"
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return "application/octet-stream"
    if text and "=" in text and " " not in text.strip() and "\n" not in text.strip():
        return "application/x-www-form-urlencoded"
    return "text/plain"


def choose(media_type: str):
    """The registered parser that best handles ``media_type`` (None for raw text/bytes)."""
    from ..plugins import parsers

    def best_parser():
        best, best_score = None, 0
        for parser in parsers.all().values():
            score = parser.handles(media_type)
            if score > best_score:
                best, best_score = parser, score
        return best

    # senders repeat a handful of media types: the answer is kept until plugins change
    return parsers.memo(("choose", media_type), best_parser)


def parse_body(body: bytes, media_type: str, options: dict | None = None) -> Parsed:
    """Parse ``body`` as ``media_type`` (sniffed when empty).

    Bodies no parser claims are kept as text, or as ``{"base64": ...}`` when
    they are not UTF-8.
    """
    media_type = (media_type or "").split(";", 1)[0].strip().lower() or sniff(body)
    parser = choose(media_type)
    if parser is not None:
        return Parsed(parser.parse(body, options), media_type, parser.name)
    if not body:
        return Parsed(None, media_type, "empty")
    try:
        return Parsed(body.decode("utf-8"), media_type, "text")
    except UnicodeDecodeError:
        return Parsed({"base64": base64.b64encode(body).decode("ascii")}, media_type, "binary")
