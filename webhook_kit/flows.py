"""Flows: what runs when a delivery is accepted, after it is committed.

A listener's ``flows`` is a list of::

    {"name": "big-orders", "if": "payload.total > `100`",
     "action": {"type": "forward", "url": "https://example.test/in", "body": "output"}}

``if`` is an optional JMESPath condition over the document rules read
(``payload``, ``headers``, ``query``) plus ``output`` (the transformed output);
the flow runs when it is truthy. Built-in action types:

- ``python``: call a function. Config holds its *name*:
  ``{"type": "python", "function": "notify"}`` after
  ``register_function(fn, name="notify")``, or an import path
  ``"package.module:function"``. A bare callable is accepted from Python and
  replaced by its registered name when the listener is validated, so the
  config stays JSON.
- ``forward``: POST the original raw body and headers (minus hop-by-hop and
  credential headers), or the transformed output as JSON, to a URL; retries
  with exponential backoff and jitter, bounded attempts and timeout, every
  attempt recorded.
- ``jsonl``: append one JSON line per delivery to a file.

Plugins add action types with the ``register_actions`` hook (return
:class:`ActionType` instances). Flows run on the dispatcher's worker thread,
never on the request path; each run (``ok``, ``error`` with its message,
``skipped`` when the condition is false) is recorded with
``store.record_flow_run``. A flow that raises affects neither the sender's
answer nor the other flows.
"""

from __future__ import annotations

import http.client
import importlib
import inspect
import json
import logging
import os
import random
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable
from urllib.parse import urlsplit

import jmespath
import jmespath.exceptions

from . import secret_values
from .hookspecs import hookimpl
from .listener import ConfigError, config_entries
from .model import Setting, utc_now_iso
from .transforms import event_document, jmespath_problem

log = logging.getLogger("webhook_kit.flows")

FLOW_KEYS = ("name", "if", "action")


class FlowError(RuntimeError):
    """An action that failed; ``attempts`` and ``detail`` are recorded with the run."""

    def __init__(self, message: str, *, attempts: int = 1, detail: dict | None = None):
        super().__init__(message)
        self.attempts = attempts
        self.detail = detail or {}


@dataclass
class ActionResult:
    """What an action reports about a successful run."""

    attempts: int = 1
    detail: dict = field(default_factory=dict)


@dataclass
class FlowContext:
    """Everything an action may use about the delivery it runs for."""

    event: Any
    listener: Any
    flow: dict
    config: dict
    document: dict
    store: Any = None
    origin: str = "delivery"

    @property
    def payload(self) -> Any:
        return self.event.payload

    @property
    def output(self) -> Any:
        return self.event.output

    @property
    def headers(self) -> dict:
        return self.document["headers"]

    @property
    def query(self) -> dict:
        return self.document["query"]


class ActionType:
    """An action a flow can run; subclass it and return instances from ``register_actions``.

    ``settings`` declares the config keys (drawn as form fields, checked in
    config); ``run`` does the work and returns an :class:`ActionResult` (or
    None), or raises (:class:`FlowError` to report attempts and detail).
    """

    name: str = ""
    label: str = ""
    settings: tuple[Setting, ...] = ()

    def check(self, config: dict) -> list[tuple[str, str]]:
        """``[(field, message)]`` for config this action cannot run with."""
        from .providers.base import check_setting_value
        problems = []
        known = {s.name for s in self.settings} | {"type"}
        for key in config:
            if key not in known:
                problems.append((key, f"unknown field (the {self.name} action takes "
                                      f"{', '.join(sorted(known - {'type'}))})"))
        for s in self.settings:
            value = config.get(s.name)
            if value in (None, "", []):
                if s.required:
                    problems.append((s.name, "is required"))
                continue
            problems.extend(check_setting_value(s, value))
        return problems

    def run(self, ctx: FlowContext) -> ActionResult | None:
        raise NotImplementedError

    def describe(self) -> dict:
        return {"name": self.name, "label": self.label or self.name,
                "settings": [s.to_dict() for s in self.settings]}


# -- python: a function given from a notebook or a plugin ------------------------

_functions: dict[str, Callable] = {}
_functions_lock = threading.Lock()
_ARGUMENTS = ("event", "listener", "payload", "output", "headers", "query", "document",
              "flow", "store")


def register_function(fn: Callable | None = None, *, name: str | None = None):
    """Make ``fn`` callable by name from a ``python`` action; returns the name.

    Usable as a decorator (``@register_function`` or ``@register_function(name=...)``).
    The function takes any of: event, listener, payload, output, headers,
    query, document, flow, store (by parameter name).
    """
    def add(f: Callable):
        if not callable(f):
            raise TypeError("register_function needs a callable")
        key = name or f"{getattr(f, '__module__', '') or ''}.{getattr(f, '__qualname__', repr(f))}".lstrip(".")
        with _functions_lock:
            _functions[key] = f
        return key

    if fn is None:
        def decorator(f):
            add(f)
            return f
        return decorator
    return add(fn)


def unregister_function(name: str) -> None:
    with _functions_lock:
        _functions.pop(name, None)


def python_action(fn: Callable, name: str | None = None) -> dict:
    """``{"type": "python", "function": NAME}`` for ``fn``, registered under NAME."""
    return {"type": "python", "function": register_function(fn, name=name)}


def resolve_function(ref: Any) -> Callable:
    """The callable a ``python`` action names: registered name or ``module:attr``."""
    if callable(ref):
        return ref
    if not isinstance(ref, str) or not ref:
        raise FlowError("a python action needs a function (a registered name or module:attr)")
    with _functions_lock:
        fn = _functions.get(ref)
    if fn is not None:
        return fn
    if ":" in ref:
        module_name, _, attr = ref.partition(":")
        try:
            obj: Any = importlib.import_module(module_name)
            for part in attr.split("."):
                obj = getattr(obj, part)
        except (ImportError, AttributeError) as exc:
            raise FlowError(f"cannot import {ref}: {exc}") from None
        if callable(obj):
            return obj
        raise FlowError(f"{ref} is not callable")
    raise FlowError(f"no Python function named {ref!r} is registered "
                    "(webhook_kit.flows.register_function) and it is no module:attr path")


def _call_with_wanted(fn: Callable, ctx: FlowContext) -> Any:
    available = {"event": ctx.event, "listener": ctx.listener, "payload": ctx.payload,
                 "output": ctx.output, "headers": ctx.headers, "query": ctx.query,
                 "document": ctx.document, "flow": ctx.flow, "store": ctx.store}
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return fn(ctx.event)
    if any(p.kind == p.VAR_KEYWORD for p in params.values()):
        return fn(**available)
    wanted = {k: v for k, v in available.items() if k in params}
    if not wanted and params:  # a function of one unnamed argument gets the event
        return fn(ctx.event)
    return fn(**wanted)


def _jsonable(value: Any, limit: int = 2000) -> Any:
    try:
        text = json.dumps(value)
    except (TypeError, ValueError):
        text = json.dumps(repr(value))
        value = repr(value)
    if len(text) > limit:
        return text[:limit] + "..."
    return value


class PythonAction(ActionType):
    """Call a Python function (registered by name, or ``module:attr``)."""

    name = "python"
    label = "Python function"
    settings = (Setting("function", "Function", "text", required=True,
                        help="A name given to webhook_kit.flows.register_function, or module:attr."),)

    def check(self, config):
        if callable(config.get("function")):
            return []  # replaced by its registered name in check_flows
        problems = super().check(config)
        ref = config.get("function")
        if isinstance(ref, str) and ":" not in ref and ref not in _functions:
            problems.append(("function", f"no Python function named {ref!r} is registered "
                                         "(webhook_kit.flows.register_function) and it is no "
                                         "module:attr path"))
        return problems

    def run(self, ctx):
        fn = resolve_function(ctx.config.get("function"))
        result = _call_with_wanted(fn, ctx)
        return ActionResult(1, {"result": _jsonable(result)} if result is not None else {})


# -- forward: POST to a URL, with retries ----------------------------------------

#: never forwarded: meaningful for one connection only (RFC 9110 7.6.1), or set anew
HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding",
              "upgrade", "host", "content-length", "expect"}
#: never forwarded: credentials of the sender for this listener
CREDENTIAL_HEADERS = {"authorization", "proxy-authorization", "cookie", "set-cookie"}
RETRY_STATUSES = {408, 425, 429, 500, 502, 503, 504}


def forward_headers(event, listener=None) -> list[tuple[str, str]]:
    """The event's headers as they may be forwarded: no hop-by-hop, no credentials."""
    drop = set(HOP_BY_HOP) | set(CREDENTIAL_HEADERS)
    if listener is not None:
        try:
            drop |= {h.lower() for h in listener.provider_obj.secret_headers}
        except Exception:
            pass
    connection = [v for n, v in event.headers if n.lower() == "connection"]
    for value in connection:  # headers named by Connection are hop-by-hop too
        drop |= {v.strip().lower() for v in value.split(",") if v.strip()}
    from .providers.base import REDACTED
    return [(n, v) for n, v in event.headers if n.lower() not in drop and v != REDACTED]


def backoff_delay(attempt: int, base: float, cap: float, rng: random.Random | None = None) -> float:
    """Seconds to wait after failed ``attempt`` (1-based): exponential, capped, jittered.

    Jitter keeps between half and all of the exponential step, so many
    retrying deliveries do not hit a recovering server in lockstep.
    """
    step = min(cap, base * (2 ** (attempt - 1)))
    return step * (rng or random).uniform(0.5, 1.0)


def _retry_after(value: str | None, cap: float) -> float | None:
    if not value:
        return None
    try:
        return min(cap, max(0.0, float(value)))
    except ValueError:
        return None


class ForwardAction(ActionType):
    """POST the raw delivery (or the transformed output) to a URL, retrying on failure."""

    name = "forward"
    label = "Forward to a URL"
    settings = (
        Setting("url", "URL", "text", required=True, help="http:// or https:// address to POST to."),
        Setting("body", "Body", "choice", "raw", choices=("raw", "output"),
                help="raw: the original bytes and headers; output: the transformed output as JSON."),
        Setting("headers", "Extra headers", "text", None,
                help='A JSON object of headers to add; values may be {"env": NAME}.'),
        Setting("timeout", "Timeout (seconds)", "int", 10, help="Per attempt."),
        Setting("max_attempts", "Attempts", "int", 5, help="Tries in all, the first included."),
        Setting("backoff", "First backoff (seconds)", "text", 0.5,
                help="Wait after the first failure; doubles each time, with jitter."),
        Setting("max_backoff", "Longest backoff (seconds)", "text", 30),
    )

    def check(self, config):
        problems = []
        known = {s.name for s in self.settings} | {"type"}
        for key in config:
            if key not in known:
                problems.append((key, f"unknown field (forward takes {', '.join(sorted(known - {'type'}))})"))
        url = config.get("url")
        parts = urlsplit(url) if isinstance(url, str) else None
        if not parts or parts.scheme not in ("http", "https") or not parts.hostname:
            problems.append(("url", "required: an http:// or https:// URL"))
        if config.get("body", "raw") not in ("raw", "output"):
            problems.append(("body", "must be raw or output"))
        headers = config.get("headers")
        if headers is not None and (not isinstance(headers, dict) or not all(
                isinstance(k, str) and (isinstance(v, str) or secret_values.is_env_ref(v))
                for k, v in headers.items())):
            problems.append(("headers", 'must be {"Name": "value" or {"env": NAME}}'))
        for key, low, high in (("timeout", 0.001, 600), ("max_attempts", 1, 100),
                               ("backoff", 0, 3600), ("max_backoff", 0, 3600)):
            value = config.get(key)
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
                problems.append((key, f"must be a number from {low:g} to {high:g}"))
        if isinstance(config.get("max_attempts"), float):
            problems.append(("max_attempts", "must be a whole number"))
        return problems

    def _request(self, ctx: FlowContext) -> tuple[bytes, list[tuple[str, str]]]:
        config, event = ctx.config, ctx.event
        if config.get("body", "raw") == "output":
            data = event.output if event.output is not None else event.payload
            body = json.dumps(data, ensure_ascii=False).encode("utf-8")
            headers = [("Content-Type", "application/json")]
        else:
            body = bytes(event.body)
            headers = forward_headers(event, ctx.listener)
        headers = [(n, v) for n, v in headers if not n.lower().startswith("x-webhook-kit-")]
        headers += [("X-Webhook-Kit-Event", event.id), ("X-Webhook-Kit-Listener", event.listener)]
        for name, value in (config.get("headers") or {}).items():
            headers = [(n, v) for n, v in headers if n.lower() != name.lower()]
            headers.append((name, secret_values.resolve(value) or ""))
        return body, headers

    def run(self, ctx):
        config = ctx.config
        url = config["url"]
        timeout = float(config.get("timeout", 10))
        max_attempts = int(config.get("max_attempts", 5))
        base = float(config.get("backoff", 0.5))
        cap = float(config.get("max_backoff", 30))
        body, headers = self._request(ctx)
        attempts: list[dict] = []
        for attempt in range(1, max_attempts + 1):
            started = time.monotonic()
            record: dict[str, Any] = {"attempt": attempt, "at": utc_now_iso()}
            retry_after = None
            try:
                status, reason, answer_headers = _post(url, body, headers, timeout)
                record["status"] = status
                if 200 <= status < 300:
                    record["elapsed_ms"] = round(1000 * (time.monotonic() - started), 1)
                    attempts.append(record)
                    return ActionResult(attempt, {"url": url, "status": status, "attempts": attempts})
                record["error"] = f"HTTP {status} {reason}".strip()
                retryable = status in RETRY_STATUSES
                retry_after = _retry_after(answer_headers.get("retry-after"), cap)
            except socket.timeout:
                record["error"] = f"timed out after {timeout:g}s"
                retryable = True
            except (OSError, http.client.HTTPException) as exc:
                record["error"] = f"{type(exc).__name__}: {exc}"
                retryable = True
            record["elapsed_ms"] = round(1000 * (time.monotonic() - started), 1)
            attempts.append(record)
            if not retryable or attempt == max_attempts:
                break
            delay = retry_after if retry_after is not None else backoff_delay(attempt, base, cap)
            record["retry_in_s"] = round(delay, 3)
            time.sleep(delay)
        last = attempts[-1]["error"]
        raise FlowError(f"forward to {url} failed after {len(attempts)} attempt(s): {last}",
                        attempts=len(attempts), detail={"url": url, "attempts": attempts})


def _post(url: str, body: bytes, headers: list[tuple[str, str]], timeout: float):
    parts = urlsplit(url)
    cls = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    conn = cls(parts.hostname, parts.port, timeout=timeout)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        conn.putrequest("POST", target, skip_accept_encoding=True)
        for name, value in headers:
            conn.putheader(name, value)
        conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        resp = conn.getresponse()
        resp.read(64 * 1024)  # enough to reuse nothing, but to let the server finish its answer
        return resp.status, resp.reason, {k.lower(): v for k, v in resp.getheaders()}
    finally:
        conn.close()


# -- jsonl: append a line per delivery ------------------------------------------

_file_locks: dict[str, threading.Lock] = {}
_file_locks_guard = threading.Lock()


def _lock_for(path: str) -> threading.Lock:
    with _file_locks_guard:
        return _file_locks.setdefault(os.path.abspath(path), threading.Lock())


class JsonlAction(ActionType):
    """Append one JSON line per delivery to a file (created with its folder)."""

    name = "jsonl"
    label = "Append to a JSON-lines file"
    settings = (
        Setting("path", "File", "text", required=True, help="Relative paths are from the working folder."),
        Setting("record", "What to write", "choice", "event", choices=("event", "payload", "output"),
                help="event: id, listener, received_at, payload and output; or just one of them."),
    )

    def run(self, ctx):
        event = ctx.event
        record = ctx.config.get("record", "event")
        if record == "payload":
            data = event.payload
        elif record == "output":
            data = event.output
        else:
            data = {"event_id": event.id, "listener": event.listener,
                    "received_at": event.received_at, "payload": event.payload,
                    "output": event.output}
        line = json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n"
        path = os.path.expanduser(ctx.config["path"])
        folder = os.path.dirname(path)
        if folder:
            os.makedirs(folder, exist_ok=True)
        with _lock_for(path):
            with open(path, "a", encoding="utf-8") as fh:
                fh.write(line)
                fh.flush()
                os.fsync(fh.fileno())
        return ActionResult(1, {"path": ctx.config["path"], "bytes": len(line.encode("utf-8"))})


BUILTIN_ACTIONS = (PythonAction(), ForwardAction(), JsonlAction())


@hookimpl
def register_actions():
    return list(BUILTIN_ACTIONS)


def action_types() -> dict[str, ActionType]:
    """Every registered action type by name (built-ins and plugins)."""
    from .plugins import actions
    return actions.all()


# -- config ---------------------------------------------------------------------

def check_flows(flows: Any, where: str = "flows") -> None:
    """Check a listener's flows; raises :class:`ConfigError` naming the bad field.

    A ``python`` action given a callable gets it registered and replaced by
    its name, so the listener's config stays JSON.
    """
    if not flows:
        return
    from .plugins import actions
    names = set()
    for here, flow in config_entries(flows, where, FLOW_KEYS,
                                     '{"name": ..., "if": ..., "action": {...}}', "flows",
                                     sequences=(list,)):
        name = flow.get("name")
        if not isinstance(name, str) or not name.strip():
            raise ConfigError(f"{here}.name", "required: a name for the flow")
        if name in names:
            raise ConfigError(f"{here}.name", f"duplicate flow name {name!r}")
        names.add(name)
        condition = flow.get("if")
        if condition is not None:
            if not isinstance(condition, str) or not condition.strip():
                raise ConfigError(f"{here}.if", "must be a JMESPath expression")
            problem = jmespath_problem(condition)
            if problem:
                raise ConfigError(f"{here}.if", f"invalid JMESPath {condition!r}: {problem}")
        action = flow.get("action")
        if not isinstance(action, dict):
            raise ConfigError(f"{here}.action", 'required: {"type": ..., ...}')
        kind = action.get("type")
        action_type = actions.get(kind) if isinstance(kind, str) else None
        if action_type is None:
            raise ConfigError(f"{here}.action.type", f"unknown action type {kind!r} "
                                                     f"(known: {', '.join(sorted(actions.names()))})")
        if kind == "python" and callable(action.get("function")):
            action["function"] = register_function(action["function"])
        for key, message in action_type.check(action):
            raise ConfigError(f"{here}.action.{key}", message)


# -- running ----------------------------------------------------------------------

def condition_holds(condition: str | None, doc: dict) -> bool:
    """JMESPath truthiness of ``condition`` over ``doc`` (no condition: true)."""
    if not condition:
        return True
    value = jmespath.search(condition, doc)
    return value not in (None, False, "", [], {})


def run_flow(flow: dict, event, listener, store=None, *, doc: dict | None = None,
             origin: str = "delivery") -> dict:
    """Run one flow for one event and return its run record (also stored when ``store``)."""
    started = utc_now_iso()
    run: dict[str, Any] = {"event_id": event.id, "flow": str(flow.get("name", "?")),
                           "outcome": "ok", "error": None, "attempts": 0,
                           "started_at": started, "detail": {}}
    if origin != "delivery":
        run["detail"]["origin"] = origin
    try:
        if doc is None:
            doc = event_document(event, output=event.output)
        if not condition_holds(flow.get("if"), doc):
            run["outcome"] = "skipped"
            run["detail"]["condition"] = flow.get("if")
        else:
            config = dict(flow.get("action") or {})
            from .plugins import actions
            action_type = actions.get(config.get("type", ""))
            if action_type is None:
                raise FlowError(f"unknown action type {config.get('type')!r}", attempts=0)
            ctx = FlowContext(event, listener, flow, config, doc, store, origin)
            result = action_type.run(ctx) or ActionResult()
            run["attempts"] = result.attempts
            run["detail"].update(result.detail)
    except FlowError as exc:
        run.update(outcome="error", error=str(exc), attempts=exc.attempts)
        run["detail"].update(exc.detail)
    except jmespath.exceptions.JMESPathError as exc:
        run.update(outcome="error", error=f"condition: {' '.join(str(exc).split())}")
    except Exception as exc:  # a user's function: recorded, never propagated
        run.update(outcome="error", error=f"{type(exc).__name__}: {exc}", attempts=1)
    run["finished_at"] = utc_now_iso()
    if run["outcome"] == "error":
        log.warning("flow %s for %s failed: %s", run["flow"], event.id, run["error"])
    if store is not None:
        try:
            store.record_flow_run(run).result(30)
        except Exception as exc:
            log.warning("cannot record flow run %s for %s: %s", run["flow"], event.id, exc)
    return run


def run_flows(event, listener, store=None, *, origin: str = "delivery") -> list[dict]:
    """Run every flow of ``listener`` for an accepted ``event``, in order; return the runs.

    Called by the dispatcher after the commit (and by replay). One flow's
    failure never stops the next.
    """
    flows = listener.flows or []
    if not flows:
        return []
    try:
        doc = event_document(event, output=event.output)
    except Exception:
        doc = None
    return [run_flow(flow, event, listener, store, doc=doc, origin=origin) for flow in flows]
