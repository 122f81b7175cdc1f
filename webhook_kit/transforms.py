"""Transform rules: what a listener makes of a delivery before it is stored.

A listener's ``transforms`` is an ordered list of rules::

    {"extract": "payload.order.\"@id\"", "generate": "order.id", "type": "integer"}
    {"extract": "headers.\"x-shop\"", "generate": "shop", "default": "unknown"}

``extract`` is a JMESPath expression (the ``jmespath`` library) over the
*document* ``{"payload": ..., "headers": {lower-cased name: value}, "query":
{name: value}}``; ``generate`` is a dotted path in the output; ``default`` is
used when the expression finds nothing (null); ``type`` casts the value
(``string``, ``number``, ``integer``, ``boolean``, ``datetime``; lists are cast
element by element). ``transform_mode`` is ``replace`` (the output holds only
the generated fields) or ``merge`` (the payload, with the generated fields set
on top of it).

A rule that fails (a value that cannot be cast, a JMESPath function given the
wrong type) does not stop the others: the output holds what the other rules
generated and ``event.transform_error`` says which rule failed and why. The
event is always stored.
"""

from __future__ import annotations

import copy
import email.utils
import json
import math
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Iterable
from urllib.parse import parse_qsl

import jmespath
import jmespath.exceptions
import jmespath.functions

from .listener import ConfigError, _extra_validators, config_entries

TYPES = ("string", "number", "integer", "boolean", "datetime")
MODES = ("replace", "merge")
RULE_KEYS = ("extract", "generate", "default", "type")
_MISSING = object()
_SEGMENT = re.compile(r"^[^.\s][^.]*$")


class TransformError(ValueError):
    """A rule that could not be applied to one delivery (the event is still stored)."""


class CastError(ValueError):
    """A value that cannot be converted to a rule's ``type``."""


# -- rules ---------------------------------------------------------------------

@dataclass
class Rule:
    """One compiled rule: a JMESPath expression, an output path, a default and a type."""

    extract: str
    generate: str
    default: Any = _MISSING
    type: str | None = None
    index: int = 0

    def __post_init__(self):
        self.path = tuple(self.generate.split("."))
        self._expression = jmespath.compile(self.extract)

    @property
    def has_default(self) -> bool:
        return self.default is not _MISSING

    def value(self, document: dict) -> Any:
        """The rule's value for ``document`` (``_MISSING`` when nothing was found)."""
        try:
            found = self._expression.search(document)
        except jmespath.exceptions.JMESPathError as exc:
            raise TransformError(_one_line(exc)) from None
        if found is None:
            if not self.has_default:
                return _MISSING
            found = copy.deepcopy(self.default)
        if self.type:
            found = cast(found, self.type)
        return found

    def describe(self) -> str:
        return f"transforms[{self.index}] ({self.extract} -> {self.generate})"

    def to_dict(self) -> dict:
        d = {"extract": self.extract, "generate": self.generate}
        if self.has_default:
            d["default"] = self.default
        if self.type:
            d["type"] = self.type
        return d


def _one_line(exc: Exception) -> str:
    return " ".join(str(exc).split())


_KNOWN_FUNCTIONS = frozenset(jmespath.functions.Functions.FUNCTION_TABLE)


def jmespath_problem(expression: str) -> str | None:
    """Why ``expression`` is not valid JMESPath, in one line (None when it is)."""
    try:
        parsed = jmespath.compile(expression).parsed
    except jmespath.exceptions.LexerError as exc:
        problem = f"{exc.message} at column {exc.lex_position + 1}"
        if exc.token_value in ("-", "#"):
            problem += ' (quote such keys: headers."x-github-event")'
        return problem
    except jmespath.exceptions.IncompleteExpressionError:
        return "incomplete expression (it ends too early)"
    except jmespath.exceptions.ParseError as exc:
        problem = f"unexpected {exc.token_value!r} at column {exc.lex_position + 1}"
        if exc.token_value == "@":
            problem += ' (quote XML keys: payload.order."@id")'
        return problem
    except jmespath.exceptions.JMESPathError as exc:
        return _one_line(exc)
    unknown = sorted(_functions_in(parsed) - _KNOWN_FUNCTIONS)
    if unknown:
        return f"unknown function {unknown[0]}()"
    return None


def _functions_in(node: Any) -> set:
    found = set()
    if isinstance(node, dict):
        if node.get("type") == "function_expression":
            found.add(node.get("value"))
        for child in node.get("children", ()):
            found |= _functions_in(child)
    return found


def compile_rules(rules: Iterable[Any], where: str = "transforms") -> list[Rule]:
    """Check and compile rule dicts; raises :class:`ConfigError` naming the bad field.

    ``where`` prefixes field names, e.g. ``listeners[0].transforms``.
    """
    if rules is None:
        return []
    compiled = []
    for here, rule in config_entries(rules, where, RULE_KEYS,
                                     '{"extract": ..., "generate": ...}', "rules"):
        extract = rule.get("extract")
        if not isinstance(extract, str) or not extract.strip():
            raise ConfigError(f"{here}.extract", "required: a JMESPath expression such as payload.order.id")
        problem = jmespath_problem(extract)
        if problem:
            raise ConfigError(f"{here}.extract", f"invalid JMESPath {extract!r}: {problem}")
        generate = rule.get("generate")
        if not isinstance(generate, str) or not generate:
            raise ConfigError(f"{here}.generate", "required: a dotted output path such as order.id")
        if not all(_SEGMENT.match(part) for part in generate.split(".")):
            raise ConfigError(f"{here}.generate", f"{generate!r} is not a dotted path (no empty parts)")
        kind = rule.get("type")
        if kind is not None and kind not in TYPES:
            raise ConfigError(f"{here}.type", f"must be one of {', '.join(TYPES)}")
        default = rule.get("default", _MISSING)
        if default is not _MISSING and kind and default is not None:
            try:
                cast(default, kind)
            except CastError as exc:
                raise ConfigError(f"{here}.default", str(exc)) from None
        compiled.append(Rule(extract, generate, default, kind, len(compiled)))
    return compiled


# -- casts ---------------------------------------------------------------------

_TRUE = {"true", "yes", "y", "on", "1"}
_FALSE = {"false", "no", "n", "off", "0"}


def cast(value: Any, kind: str) -> Any:
    """``value`` converted to ``kind``; lists are converted element by element."""
    if isinstance(value, list):
        return [cast(v, kind) for v in value]
    if value is None:
        return None
    return _CASTS[kind](value)


def _show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def _to_string(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return str(value)


def _to_number(value: Any) -> int | float:
    if isinstance(value, bool) or isinstance(value, (dict, list)):
        raise CastError(f"cannot cast {_show(value)} to number")
    if isinstance(value, (int, float)):
        number = value
    else:
        text = str(value).strip().replace("_", "x")  # Python accepts 1_000, JSON does not
        try:
            number = int(text)
        except ValueError:
            try:
                number = float(text)
            except ValueError:
                raise CastError(f"cannot cast {_show(value)} to number") from None
    if isinstance(number, float) and not math.isfinite(number):
        raise CastError(f"cannot cast {_show(value)} to number (not finite)")
    return number


def _to_integer(value: Any) -> int:
    try:
        number = _to_number(value)
    except CastError:
        raise CastError(f"cannot cast {_show(value)} to integer") from None
    if isinstance(number, float):
        if not number.is_integer():
            raise CastError(f"cannot cast {_show(value)} to integer (not a whole number)")
        number = int(number)
    return number


def _to_boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    raise CastError(f"cannot cast {_show(value)} to boolean (use true/false, yes/no, 1/0)")


def _to_datetime(value: Any) -> str:
    """ISO 8601 in UTC (``2024-05-01T12:00:00Z``) from ISO text, RFC 2822 text or epoch seconds."""
    if isinstance(value, bool):
        raise CastError(f"cannot cast {_show(value)} to datetime")
    moment: datetime | None = None
    if isinstance(value, (int, float)) or (isinstance(value, str) and _is_number(value)):
        seconds = float(value)
        if abs(seconds) > 1e11:  # milliseconds since the epoch, as JavaScript senders give
            seconds /= 1000.0
        try:
            moment = datetime.fromtimestamp(seconds, timezone.utc)
        except (OverflowError, OSError, ValueError):
            raise CastError(f"cannot cast {_show(value)} to datetime (out of range)") from None
    elif isinstance(value, str):
        text = value.strip()
        try:
            moment = datetime.fromisoformat(text[:-1] + "+00:00" if text[-1:] in "zZ" and text else text)
        except ValueError:
            try:
                moment = email.utils.parsedate_to_datetime(text)
            except (TypeError, ValueError, IndexError):
                moment = None
    if moment is None:
        raise CastError(f"cannot cast {_show(value)} to datetime (use ISO 8601, RFC 2822 or epoch seconds)")
    if moment.tzinfo is None:  # no zone given: taken as UTC, the only safe guess for a server
        moment = moment.replace(tzinfo=timezone.utc)
    moment = moment.astimezone(timezone.utc)
    spec = "microseconds" if moment.microsecond else "seconds"
    return moment.isoformat(timespec=spec).replace("+00:00", "Z")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


_CASTS = {"string": _to_string, "number": _to_number, "integer": _to_integer,
          "boolean": _to_boolean, "datetime": _to_datetime}


# -- the document rules read ------------------------------------------------------

def header_dict(headers: Iterable[tuple[str, str]] | dict | None) -> dict[str, str]:
    """Headers as a dict with lower-cased names (repeated names joined with ``, ``)."""
    out: dict[str, str] = {}
    if headers is None:
        return out
    pairs = headers.items() if isinstance(headers, dict) else headers
    for name, value in pairs:
        key = str(name).lower()
        out[key] = f"{out[key]}, {value}" if key in out else str(value)
    return out


def query_dict(query: str | dict | None) -> dict[str, Any]:
    """Query parameters as a dict; a repeated parameter gives a list of its values."""
    if isinstance(query, dict):
        return dict(query)
    out: dict[str, Any] = {}
    for name, value in parse_qsl(query or "", keep_blank_values=True):
        if name in out:
            out[name] = (out[name] if isinstance(out[name], list) else [out[name]]) + [value]
        else:
            out[name] = value
    return out


def document(payload: Any = None, headers: Any = None, query: Any = None, **extra) -> dict:
    """The document rules and flow conditions read: payload, headers, query (and extras)."""
    doc = {"payload": payload, "headers": header_dict(headers), "query": query_dict(query)}
    doc.update(extra)
    return doc


def event_document(event, **extra) -> dict:
    """The document for a stored :class:`~webhook_kit.model.Event`."""
    return document(event.payload, event.headers, event.query, **extra)


def sample_document(listener) -> dict:
    """``{"payload", "headers", "query"}`` of the listener's sample (or its provider's).

    The sample is parsed exactly as a delivery would be (the listener's XML
    options included); raises ``ValueError`` when it cannot be.
    """
    from .client import sample_for
    from .parsers import parse_body
    sample = sample_for(listener)
    headers = {"Content-Type": sample.content_type, **(sample.headers or {})}
    payload = parse_body(sample.body, sample.content_type, listener.parse_options()).payload
    return {"payload": payload, "headers": headers, "query": ""}


# -- applying rules ----------------------------------------------------------------

@dataclass
class TransformResult:
    """What a rule set made of one delivery: the output, and what failed (if anything)."""

    output: Any
    errors: list

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def error(self) -> str | None:
        return "; ".join(self.errors) if self.errors else None


def _set_path(target: dict, path: tuple[str, ...], value: Any) -> None:
    node = target
    for depth, part in enumerate(path[:-1]):
        child = node.get(part)
        if child is None:
            child = node[part] = {}
        elif not isinstance(child, dict):
            # overwriting it would lose a value silently: the rule fails instead
            where = ".".join(path[:depth + 1])
            raise TransformError(f"cannot set {'.'.join(path)}: {where} already holds {_show(child)}")
        node = child
    node[path[-1]] = value


def apply_rules(rules: Iterable[Rule | dict], doc: dict, mode: str = "replace") -> TransformResult:
    """Apply rules in order to ``doc``; each failing rule is reported, the others still apply."""
    compiled = [r if isinstance(r, Rule) else None for r in rules]
    if any(r is None for r in compiled):
        compiled = compile_rules(list(rules))
    errors: list[str] = []
    if mode == "merge":
        payload = doc.get("payload")
        if isinstance(payload, dict):
            output: dict = copy.deepcopy(payload)
        else:
            output = {}
            if payload is not None:
                errors.append(f"merge mode needs a JSON object payload, got {type(payload).__name__}; "
                              "only generated fields kept")
    elif mode == "replace":
        output = {}
    else:
        raise ValueError(f"transform mode must be one of {', '.join(MODES)}")
    for rule in compiled:
        try:
            value = rule.value(doc)
            if value is not _MISSING:
                _set_path(output, rule.path, value)
        except (TransformError, CastError) as exc:
            errors.append(f"{rule.describe()}: {exc}")
    return TransformResult(output, errors)


def transform(listener, payload: Any = None, headers: Any = None, query: Any = None,
              *, rules: Iterable | None = None, mode: str | None = None) -> TransformResult:
    """The listener's rules (or ``rules``/``mode`` given here) applied to one delivery."""
    rules = listener.transforms if rules is None else rules
    mode = mode or getattr(listener, "transform_mode", "replace") or "replace"
    return apply_rules(compile_rules(rules), document(payload, headers, query), mode)


def preview(rules: Iterable, mode: str = "replace", payload: Any = None, headers: Any = None,
            query: Any = None) -> TransformResult:
    """Try a rule set on one payload without a listener (the editor's live preview).

    Invalid rules raise :class:`ConfigError`; rules that fail on this payload
    are reported in the result's ``errors``.
    """
    return apply_rules(compile_rules(list(rules)), document(payload, headers, query), mode)


def transform_event(listener, event) -> TransformResult:
    """The listener's rules applied to a stored event (nothing is changed)."""
    try:
        rules = compile_rules(listener.transforms)
    except ConfigError as exc:
        return TransformResult(None, [str(exc)])
    return apply_rules(rules, event_document(event), listener.transform_mode or "replace")


def apply_to_event(listener, event) -> None:
    """Set ``event.output`` (and ``event.transform_error``) from the listener's rules.

    Never raises: whatever goes wrong is recorded on the event, which is stored anyway.
    """
    try:
        result = transform_event(listener, event)
    except Exception as exc:  # the event must be stored whatever a rule does
        event.output, event.transform_error = None, f"transform failed: {type(exc).__name__}: {exc}"
        return
    event.output = result.output
    event.transform_error = result.error


# -- config validation --------------------------------------------------------------

def validate_listener(listener, prefix: str = "") -> None:
    """Check a listener's transforms, flows and response; raises :class:`ConfigError`.

    Registered as ``listener._extra_validators["listener"]`` when this module
    is imported (it is, through the ``webhook_kit.flows`` built-in plugin).
    """
    compile_rules(listener.transforms, f"{prefix}transforms")
    from .flows import check_flows
    from .responses import check_response
    check_flows(listener.flows, f"{prefix}flows")
    check_response(listener.response, f"{prefix}response")


_extra_validators["listener"] = validate_listener
