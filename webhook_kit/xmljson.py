"""XML to JSON (and back), hardened: one function shared by the parser, the CLI and the playground.

Conversion follows xmltodict's conventions: attributes as ``@name``, text
next to attributes as ``#text``, a list for repeated elements. Entity
declarations are refused (xmltodict's ``disable_entities``), external DTDs
are never fetched, and nesting depth is bounded while parsing, so hostile XML gets a clear error.
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


class _DepthLimitedParser:
    """An expat parser whose element handlers count nesting depth.

    xmltodict installs its handlers by assigning ``StartElementHandler`` and
    ``EndElementHandler``; this wrapper wraps them on the way in, so one pass
    both builds the data and stops a too-deep document early (before
    xmltodict has built a stack as deep as the document).
    """

    def __init__(self, parser, max_depth: int):
        object.__setattr__(self, "_parser", parser)
        object.__setattr__(self, "_max_depth", max_depth)
        object.__setattr__(self, "_depth", 0)
        object.__setattr__(self, "_counting", False)

    def __getattr__(self, name):
        return getattr(self._parser, name)

    def __setattr__(self, name, value):
        if name == "StartElementHandler" and value is not None:
            path = getattr(getattr(value, "__self__", None), "path", None)
            # xmltodict's handler keeps the open elements in ``path``: its length is
            # the depth, so one cheap check per start tag is enough
            value = (self._checking_start(value, path) if isinstance(path, list)
                     else self._counting_start(value))
        elif name == "EndElementHandler" and value is not None and self._counting:
            value = self._counting_end(value)
        elif name == "EntityDeclHandler" and value is not None:
            value = self._refuse_entity  # xmltodict refuses too; this says where
        setattr(self._parser, name, value)

    def _refuse_entity(self, *args):
        raise XmlError("XML entity declaration refused", self._parser.CurrentLineNumber,
                       self._parser.CurrentColumnNumber + 1)

    def _checking_start(self, handler, path: list):
        parser, limit = self._parser, self._max_depth

        def start(name, attrs):
            if len(path) >= limit:
                raise XmlError(f"XML nested deeper than {limit} levels",
                               parser.CurrentLineNumber, parser.CurrentColumnNumber + 1)
            handler(name, attrs)
        return start

    def _counting_start(self, handler):
        # a handler without ``path`` (another xmltodict version): count ourselves
        object.__setattr__(self, "_counting", True)
        parser, limit = self._parser, self._max_depth

        def start(name, attrs):
            depth = self._depth + 1
            if depth > limit:
                raise XmlError(f"XML nested deeper than {limit} levels",
                               parser.CurrentLineNumber, parser.CurrentColumnNumber + 1)
            object.__setattr__(self, "_depth", depth)
            handler(name, attrs)
        return start

    def _counting_end(self, handler):
        def end(name):
            object.__setattr__(self, "_depth", self._depth - 1)
            handler(name)
        return end


class _DepthLimitedExpat:
    """Stands in for the ``expat`` module in ``xmltodict.parse(expat=...)``
    (its documented hook for an alternative expat)."""

    ExpatError = expat.ExpatError
    error = expat.error

    def __init__(self, max_depth: int):
        self.max_depth = max_depth

    def ParserCreate(self, *args, **kwargs):  # noqa: N802 (expat's own name)
        return _DepthLimitedParser(expat.ParserCreate(*args, **kwargs), self.max_depth)


def xml_to_data(xml: str | bytes, options: XmlOptions | dict | None = None) -> Any:
    """Parse XML into JSON-ready data (dicts, lists, strings). Raises :class:`XmlError`."""
    if not isinstance(options, XmlOptions):
        options = XmlOptions.from_dict(options)
    data = xml.encode("utf-8") if isinstance(xml, str) else bytes(xml)
    if not data.strip():
        raise XmlError("empty XML document", 1, 1)
    force = set(options.force_list)
    kwargs: dict[str, Any] = dict(
        attr_prefix=options.attr_prefix, cdata_key=options.cdata_key,
        strip_whitespace=options.strip_whitespace, disable_entities=True,
        expat=_DepthLimitedExpat(options.max_depth),
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
    except XmlError:
        raise
    except expat.ExpatError as exc:
        raise XmlError(expat.ErrorString(exc.code), exc.lineno, exc.offset + 1) from None
    except LookupError as exc:  # encoding="..." names a codec Python does not know
        raise XmlError(f"XML declares an {exc}", 1, 1) from None
    except ValueError as exc:  # xmltodict refuses entity declarations with ValueError
        message = str(exc)
        if "entit" in message.lower():
            message = "XML entity declaration refused"
        raise XmlError(message) from None


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
