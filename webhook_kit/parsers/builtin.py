"""The built-in parsers: JSON, XML (hardened, to JSON form) and form-encoded.

Registered through ``register_parsers`` like any outside parser plugin.
"""

from __future__ import annotations

import codecs
import json
from typing import Any
from urllib.parse import parse_qsl

from ..hookspecs import hookimpl
from ..xmljson import XmlError, XmlOptions, xml_to_data
from . import ParseError, Parser

MAX_JSON_DEPTH = 200

# Looked up once here, at import, not by the first delivery: a codec lookup imports
# its module, and an import on the server thread while a notebook cell keeps the GIL
# busy can wait seconds for every file read (docs/architecture.md, "Run modes and the GIL").
codecs.lookup("utf-8-sig")


def _decode_utf8(body: bytes) -> str:
    try:
        return body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = body[: exc.start].count(b"\n") + 1
        column = exc.start - (body.rfind(b"\n", 0, exc.start) + 1) + 1
        raise ParseError(f"body is not valid UTF-8 (byte 0x{body[exc.start]:02x} at offset {exc.start})",
                         line, column) from None


def _json_depth_ok(text: str, limit: int) -> bool:
    # json.loads recurses in C and raises RecursionError on very deep input;
    # counting brackets outside strings first gives a clear 400 instead
    depth = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth > limit:
                return False
        elif ch in "]}":
            depth -= 1
    return True


class JsonParser(Parser):
    name = "json"
    media_types = ("application/json", "text/json", "+json")

    def parse(self, body: bytes, options: dict | None = None) -> Any:
        text = _decode_utf8(body)
        if not text.strip():
            raise ParseError("empty body is not JSON", 1, 1)
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise ParseError(f"invalid JSON: {exc.msg}", exc.lineno, exc.colno) from None
        except RecursionError:
            if not _json_depth_ok(text, MAX_JSON_DEPTH):
                raise ParseError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels") from None
            raise ParseError("JSON too deeply nested") from None


class XmlParser(Parser):
    name = "xml"
    media_types = ("application/xml", "text/xml", "*/xml", "+xml")

    def parse(self, body: bytes, options: dict | None = None) -> Any:
        try:
            return xml_to_data(body, XmlOptions.from_dict((options or {}).get("xml")))
        except XmlError as exc:
            raise ParseError(f"invalid XML: {exc.message}", exc.line, exc.column) from None


class FormParser(Parser):
    name = "form"
    media_types = ("application/x-www-form-urlencoded",)

    def parse(self, body: bytes, options: dict | None = None) -> Any:
        text = _decode_utf8(body)
        out: dict[str, Any] = {}
        for key, value in parse_qsl(text, keep_blank_values=True):
            if key in out:  # repeated fields become lists, as in the XML conversion
                if not isinstance(out[key], list):
                    out[key] = [out[key]]
                out[key].append(value)
            else:
                out[key] = value
        return out


@hookimpl
def register_parsers():
    return [JsonParser(), XmlParser(), FormParser()]
