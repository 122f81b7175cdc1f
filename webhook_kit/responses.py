"""Response shaping: the answer an accepted delivery gets, per listener.

``listener.response`` is, for example::

    {"status": 202, "media_type": "xml",
     "body": "<ack><id>{event_id}</id><order>{payload.order.@id}</order></ack>"}

- ``status``: 200 (default), 202 or 204 (204 carries no body);
- ``media_type``: ``json`` (default), ``xml`` or ``text``;
- ``body``: a template. Placeholders are ``{name}`` with a dotted path:
  ``{event_id}`` (or ``{id}``), ``{listener}``, ``{received_at}``,
  ``{delivery_id}``, ``{status}``, ``{payload.a.b}``, ``{output.a.b}``,
  ``{headers.x-name}``, ``{query.name}``; list items by index
  (``{payload.items.0.sku}``). ``{{`` and ``}}`` are literal braces.
  Nothing is evaluated: a placeholder only looks a value up. Values are
  escaped for the media type (JSON string escapes, XML entities); in a JSON
  template an unquoted placeholder gives the value as JSON (numbers stay
  numbers). For ``json`` the body may also be a JSON object whose string
  leaves are templates; a leaf that is exactly one placeholder keeps the
  value's type.

A provider's own answer (a SOAP Ack, a handshake) always wins over this.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any
from xml.sax.saxutils import escape as xml_escape

from .listener import ConfigError
from .model import Response

log = logging.getLogger("webhook_kit.responses")

STATUSES = (200, 202, 204)
MEDIA_TYPES = {"json": "application/json", "xml": "application/xml; charset=utf-8",
               "text": "text/plain; charset=utf-8"}
RESPONSE_KEYS = ("status", "media_type", "body")
ROOTS = ("id", "event_id", "listener", "received_at", "delivery_id", "status",
         "payload", "output", "headers", "query")
DEFAULT_BODIES = {"json": {"event_id": "{event_id}"},
                  "xml": "<response><event_id>{event_id}</event_id></response>",
                  "text": "{event_id}"}

_NAME = r"([A-Za-z_][\w.\-@#$:]*)"
#: text and XML: ``{{``/``}}`` are literal braces; JSON: braces are the syntax's own,
#: and a placeholder is told apart by the name right after ``{``
_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{" + _NAME + r"\}")
_JSON_PLACEHOLDER = re.compile(r"\{" + _NAME + r"\}")
_MISSING = object()


def _pattern(media_type: str) -> re.Pattern:
    return _JSON_PLACEHOLDER if media_type == "json" else _PLACEHOLDER


def placeholders(template: str, media_type: str = "text") -> list[str]:
    """The placeholder paths of a template, in order."""
    return [m.group(1) for m in _pattern(media_type).finditer(template) if m.group(1)]


def _lookup(path: str, values: dict) -> Any:
    root, _, rest = path.partition(".")
    if root not in values:
        return _MISSING
    node = values[root]
    if not rest:
        return node
    if root == "headers":  # header names contain dots rarely, dashes often: one lookup
        return node.get(rest.lower(), _MISSING) if isinstance(node, dict) else _MISSING
    for part in rest.split("."):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.lstrip("-").isdigit() and -len(node) <= int(part) < len(node):
            node = node[int(part)]
        else:
            return _MISSING
    return node


def _inside_json_string(text: str, pos: int) -> bool:
    """Whether ``pos`` of a JSON template falls inside a string literal."""
    inside, escaped = False, False
    for ch in text[:pos]:
        if escaped:
            escaped = False
        elif ch == "\\" and inside:
            escaped = True
        elif ch == '"':
            inside = not inside
    return inside


def render(template: str, values: dict, media_type: str = "text") -> str:
    """Fill a template's placeholders from ``values``, escaped for ``media_type``."""
    out, last = [], 0
    for m in _pattern(media_type).finditer(template):
        out.append(template[last:m.start()])
        last = m.end()
        token = m.group(0)
        if token in ("{{", "}}"):
            out.append(token[0])
            continue
        value = _lookup(m.group(1), values)
        if value is _MISSING:
            value = None
        if media_type == "json":
            if _inside_json_string(template, m.start()):
                text = value if isinstance(value, str) else ("" if value is None else
                                                             json.dumps(value, ensure_ascii=False))
                out.append(json.dumps(text, ensure_ascii=False)[1:-1])
            else:
                out.append(json.dumps(value, ensure_ascii=False))
        else:
            if value is None:
                text = ""
            elif isinstance(value, str):
                text = value
            elif isinstance(value, bool):
                text = "true" if value else "false"
            elif isinstance(value, (dict, list)):
                text = json.dumps(value, ensure_ascii=False)
            else:
                text = str(value)
            out.append(xml_escape(text, {'"': "&quot;", "'": "&apos;"}) if media_type == "xml" else text)
    out.append(template[last:])
    return "".join(out)


def _render_structure(node: Any, values: dict) -> Any:
    if isinstance(node, dict):
        return {k: _render_structure(v, values) for k, v in node.items()}
    if isinstance(node, list):
        return [_render_structure(v, values) for v in node]
    if isinstance(node, str):
        whole = _PLACEHOLDER.fullmatch(node)
        if whole and whole.group(1):
            value = _lookup(whole.group(1), values)
            return None if value is _MISSING else value
        return render(node, values, "text")
    return node


def template_values(event) -> dict:
    """What a template can read about an event."""
    from .transforms import header_dict, query_dict
    return {"id": event.id, "event_id": event.id, "listener": event.listener,
            "received_at": event.received_at, "delivery_id": event.delivery_id,
            "status": event.status, "payload": event.payload, "output": event.output,
            "headers": header_dict(event.headers), "query": query_dict(event.query)}


def render_body(config: dict, values: dict) -> bytes:
    """The answer body for a response config and template values."""
    media = config.get("media_type", "json")
    body = config.get("body", DEFAULT_BODIES[media])
    if isinstance(body, str):
        return render(body, values, media).encode("utf-8")
    return json.dumps(_render_structure(body, values), ensure_ascii=False).encode("utf-8")


def shape_response(listener, event) -> Response:
    """The shaped answer for an accepted (or duplicate) delivery; never raises."""
    config = listener.response or {}
    try:
        status = int(config.get("status", 200))
        media = config.get("media_type", "json")
        if status == 204:
            return Response(204, {}, b"")
        return Response(status, {"Content-Type": MEDIA_TYPES[media]},
                        render_body(config, template_values(event)))
    except Exception as exc:  # a bad template must not turn an accepted delivery into a 500
        log.warning("response shaping of %s failed: %r", listener.id, exc)
        return Response.json({"event_id": event.id}, 200)


def check_response(config: Any, where: str = "response") -> None:
    """Check a listener's response settings; raises :class:`ConfigError` naming the field."""
    if not config:
        return
    if not isinstance(config, dict):
        raise ConfigError(where, "must be a JSON object")
    for key in config:
        if key not in RESPONSE_KEYS:
            raise ConfigError(f"{where}.{key}", f"unknown field (response takes {', '.join(RESPONSE_KEYS)})")
    status = config.get("status", 200)
    if isinstance(status, bool) or status not in STATUSES:
        raise ConfigError(f"{where}.status", f"must be one of {', '.join(map(str, STATUSES))}")
    media = config.get("media_type", "json")
    if media not in MEDIA_TYPES:
        raise ConfigError(f"{where}.media_type", f"must be one of {', '.join(MEDIA_TYPES)}")
    if "body" not in config:
        return
    body = config["body"]
    if status == 204 and body not in (None, ""):
        raise ConfigError(f"{where}.body", "a 204 answer carries no body")
    if isinstance(body, str):
        templates = [body]
    elif media == "json" and isinstance(body, (dict, list)):
        templates = list(_strings(body))
    else:
        raise ConfigError(f"{where}.body", "must be a template string"
                                           + (" or a JSON object" if media == "json" else ""))
    string_media = "json" if (media == "json" and isinstance(body, str)) else "text"
    for template in templates:
        if string_media == "text":
            stripped = _PLACEHOLDER.sub("", template)
            if "{" in stripped or "}" in stripped:
                raise ConfigError(f"{where}.body", "unbalanced brace: write {{ or }} for a literal one")
        for path in placeholders(template, string_media):
            if path.partition(".")[0] not in ROOTS:
                raise ConfigError(f"{where}.body", f"unknown placeholder {{{path}}} "
                                                   f"(use {', '.join('{' + r + '}' for r in ROOTS)})")
    if media == "json" and isinstance(body, str):
        filled = render(body, {r: "x" for r in ROOTS}, "json")
        try:
            json.loads(filled)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{where}.body", f"not valid JSON once filled in: {exc.msg} "
                                               f"at column {exc.colno}") from None


def _strings(node: Any):
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _strings(v)
    elif isinstance(node, list):
        for v in node:
            yield from _strings(v)
    elif isinstance(node, str):
        yield node
