"""XML to JSON (and back), hardened: one function shared by the parser, the CLI and the playground.

Conversion follows xmltodict's conventions: attributes as ``@name``, text
next to attributes as ``#text``, a list for repeated elements. Entity
declarations are refused (xmltodict's ``disable_entities`` and a pre-pass),
external DTDs are never fetched, and nesting depth is bounded, so hostile XML gets a clear error.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from xml.parsers import expat

import xmltodict

MAX_DEPTH = 100


class XmlError(ValueError):
    """Malformed or refused XML, with the line and column where the parser knows them."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None):
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column

    def __str__(self) -> str:
        if self.line is not None:
            return f"{self.message} (line {self.line}, column {self.column})"
        return self.message


@dataclass
class XmlOptions:
    """The conversion options users need (xmltodict's names)."""

    attr_prefix: str = "@"
    cdata_key: str = "#text"
    force_list: tuple[str, ...] = ()
    process_namespaces: bool = False
    namespaces: dict[str, str] = field(default_factory=dict)
    strip_whitespace: bool = True
    max_depth: int = MAX_DEPTH

    @classmethod
    def from_dict(cls, d: dict | None) -> "XmlOptions":
        d = dict(d or {})
        if "force_list" in d:
            fl = d["force_list"]
            d["force_list"] = tuple([fl] if isinstance(fl, str) else fl or ())
        known = {k: v for k, v in d.items() if k in cls.__dataclass_fields__}
        return cls(**known)

    def to_dict(self) -> dict:
        return {"attr_prefix": self.attr_prefix, "cdata_key": self.cdata_key,
                "force_list": list(self.force_list),
                "process_namespaces": self.process_namespaces,
                "namespaces": dict(self.namespaces), "strip_whitespace": self.strip_whitespace}


def _refuse(kind: str):
    def handler(*args):
        raise XmlError(f"XML {kind} refused")
    return handler


def _check_structure(data: bytes, max_depth: int) -> None:
    """A fast pre-pass: refuses entity declarations and nesting deeper than ``max_depth``.

    xmltodict builds its whole stack before it could notice depth, so a
    100,000-deep document would cost memory first; this pass stops early.
    """
    parser = expat.ParserCreate()
    depth = 0

    def start(name, attrs):
        nonlocal depth
        depth += 1
        if depth > max_depth:
            raise XmlError(f"XML nested deeper than {max_depth} levels",
                           parser.CurrentLineNumber, parser.CurrentColumnNumber + 1)

    def end(name):
        nonlocal depth
        depth -= 1

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.EntityDeclHandler = _refuse("entity declaration")
    parser.ExternalEntityRefHandler = _refuse("external entity")
    try:
        parser.Parse(data, True)
    except expat.ExpatError as exc:
        raise XmlError(expat.ErrorString(exc.code), exc.lineno, exc.offset + 1) from None
    except LookupError as exc:  # encoding="..." names a codec Python does not know
        raise XmlError(f"XML declares an {exc}", 1, 1) from None
    except XmlError as exc:
        if exc.line is None:
            exc.line, exc.column = parser.CurrentLineNumber, parser.CurrentColumnNumber + 1
        raise


def xml_to_data(xml: str | bytes, options: XmlOptions | dict | None = None) -> Any:
    """Parse XML into JSON-ready data (dicts, lists, strings). Raises :class:`XmlError`."""
    if not isinstance(options, XmlOptions):
        options = XmlOptions.from_dict(options)
    data = xml.encode("utf-8") if isinstance(xml, str) else bytes(xml)
    if not data.strip():
        raise XmlError("empty XML document", 1, 1)
    _check_structure(data, options.max_depth)
    force = set(options.force_list)
    kwargs: dict[str, Any] = dict(
        attr_prefix=options.attr_prefix, cdata_key=options.cdata_key,
        strip_whitespace=options.strip_whitespace, disable_entities=True,
        # a name matches with or without its namespace prefix, so "Notification"
        # also catches "sf:Notification" once namespaces are shortened
        force_list=(lambda path, key, value: key in force or key.rsplit(":", 1)[-1] in force)
        if force else None,
    )
    if options.process_namespaces:
        kwargs["process_namespaces"] = True
        kwargs["namespaces"] = dict(options.namespaces)
    try:
        return xmltodict.parse(data, **kwargs)
    except expat.ExpatError as exc:
        raise XmlError(expat.ErrorString(exc.code), exc.lineno, exc.offset + 1) from None
    except (ValueError, LookupError) as exc:  # xmltodict's refusals; unknown encodings
        raise XmlError(str(exc)) from None


def xml_to_json(xml: str | bytes, options: XmlOptions | dict | None = None, indent: int | None = 2) -> str:
    """XML text in, JSON text out (see :func:`xml_to_data`)."""
    return json.dumps(xml_to_data(xml, options), indent=indent, ensure_ascii=False)


def _check_keys(data: Any, options: XmlOptions) -> None:
    import re
    name_re = re.compile(r"^[A-Za-z_][\w.\-]*(:[A-Za-z_][\w.\-]*)?$")
    if isinstance(data, dict):
        for key, value in data.items():
            bare = key[len(options.attr_prefix):] if key.startswith(options.attr_prefix) else key
            if key != options.cdata_key and key != "xmlns" and not name_re.match(bare):
                raise ValueError(f"key {key!r} cannot be an XML element or attribute name")
            _check_keys(value, options)
    elif isinstance(data, list):
        for item in data:
            _check_keys(item, options)


def data_to_xml(data: Any, options: XmlOptions | dict | None = None, pretty: bool = True) -> str:
    """JSON data back to XML, when its keys are valid XML names (else ValueError).

    Keys are checked first: xmltodict's ``unparse`` would otherwise write
    whatever an untrusted payload names.
    """
    if not isinstance(options, XmlOptions):
        options = XmlOptions.from_dict(options)
    if not isinstance(data, dict) or len(data) != 1:
        raise ValueError("XML needs exactly one root element: a JSON object with one key")
    _check_keys(data, options)
    return xmltodict.unparse(data, attr_prefix=options.attr_prefix, cdata_key=options.cdata_key,
                             pretty=pretty, full_document=True)
