"""``webhook-kit``: serve, events, send, replay, xml2json, providers, token.

Errors are one line on stderr and a non-zero status (2 for bad config or
usage), never a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Callable

from . import secret_values
from .listener import ConfigError, load_config

COMMANDS: dict[str, Callable] = {}


class CliError(Exception):
    """A one-line error for the user; ``status`` is the exit code."""

    def __init__(self, message: str, status: int = 1):
        super().__init__(message)
        self.status = status


def command(fn: Callable) -> Callable:
    COMMANDS[fn.__name__.removeprefix("cmd_").replace("_", "-")] = fn
    return fn


def _db(args) -> str:
    return args.db or os.environ.get("WEBHOOK_KIT_DB") or "webhook_kit.db"


# -- serve -------------------------------------------------------------------

@command
def cmd_serve(args) -> int:
    from .server import Server
    listeners = load_config(args.config)
    server = Server(listeners, store=_db(args), host=args.host, port=args.port,
                    public_url=args.public_url)

    def announce():
        for listener in server.listeners:
            print(f"{listener.id}: {server.url_for(listener)}", flush=True)
        print(f"webhook-kit serving {len(server.listeners)} listener(s) on {server.base_url} "
              f"(events in {_db(args)}); Ctrl-C stops", flush=True)

    # print once the port is bound (port 0 picks one)
    import threading

    def wait_and_announce():
        server._started.wait(30)
        if server._start_error is None:
            announce()

    threading.Thread(target=wait_and_announce, daemon=True).start()
    try:
        server.serve_forever()
    except OSError as exc:
        raise CliError(str(exc)) from None
    print("webhook-kit stopped", flush=True)
    return 0


# -- events ------------------------------------------------------------------

def _open_existing_store(args):
    from .store import open_store
    path = _db(args)
    if "://" not in path and not os.path.exists(path):
        raise CliError(f"no event store at {path} (use --db PATH)")
    return open_store(path)


@command
def cmd_events(args) -> int:
    store = _open_existing_store(args)
    try:
        if args.explain:
            return _explain(store, args)
        events = store.events(listener=args.listener, status=args.status, limit=args.limit)
        if args.format == "jsonl":
            for event in events:
                print(json.dumps(event.to_dict(), ensure_ascii=False))
            return 0
        rows = [("ID", "RECEIVED", "LISTENER", "STATUS", "REASON", "TYPE", "BYTES", "OUTPUT")]
        for e in events:
            out = "" if e.output is None else json.dumps(e.output, ensure_ascii=False)
            rows.append((e.id, e.received_at[:23], e.listener, e.status, e.reason or "",
                         e.content_type.split(";")[0], str(len(e.body)),
                         out if len(out) <= 40 else out[:37] + "..."))
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        for r in rows:
            print("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
        return 0
    finally:
        store.close()


def _explain(store, args) -> int:
    event = store.get(args.explain)
    if event is None:
        raise CliError(f"no event {args.explain}")
    listeners = {l.id: l for l in load_config(args.config)} if args.config else {}
    listener = listeners.get(event.listener)
    if listener is None:
        raise CliError(f"--explain needs --config with listener {event.listener!r}", 2)
    from .debugger import explain
    print(explain(event, listener).to_text())
    return 0


# -- send --------------------------------------------------------------------

@command
def cmd_send(args) -> int:
    from .client import send
    from .verification import SignError
    listeners = {l.id: l for l in load_config(args.config)}
    listener = listeners.get(args.listener)
    if listener is None:
        raise CliError(f"no listener {args.listener!r} in {args.config} "
                       f"(have: {', '.join(listeners) or 'none'})", 2)
    body = None
    if args.data:
        try:
            body = sys.stdin.buffer.read() if args.data == "-" else open(args.data, "rb").read()
        except OSError as exc:
            raise CliError(f"cannot read {args.data}: {exc.strerror}") from None
    url = args.url or f"http://127.0.0.1:8080/hooks/{listener.id}"
    try:
        delivery = send(listener, body, url=url, content_type=args.content_type)
    except SignError as exc:
        raise CliError(f"cannot sign: {exc}") from None
    except secret_values.SecretError as exc:
        raise CliError(f"cannot sign: {exc}") from None
    except OSError as exc:
        raise CliError(f"cannot reach {url}: {exc}") from None
    print(f"{delivery.status} {delivery.text}")
    return 0 if delivery.ok else 1


# -- xml2json ----------------------------------------------------------------

@command
def cmd_xml2json(args) -> int:
    from .xmljson import XmlError, XmlOptions, xml_to_json
    try:
        data = sys.stdin.buffer.read() if args.file in (None, "-") else open(args.file, "rb").read()
    except OSError as exc:
        raise CliError(f"cannot read {args.file}: {exc.strerror}") from None
    namespaces = {}
    for item in args.namespace or []:
        uri, sep, short = item.rpartition("=")
        if not sep:
            raise CliError(f"--namespace takes URI=SHORT, got {item!r}", 2)
        namespaces[uri] = short
    options = XmlOptions(attr_prefix=args.attr_prefix, cdata_key=args.text_key,
                         force_list=tuple(args.force_list or ()),
                         process_namespaces=bool(args.namespaces or namespaces),
                         namespaces=namespaces, strip_whitespace=not args.keep_whitespace)
    try:
        print(xml_to_json(data, options, indent=None if args.compact else 2))
    except XmlError as exc:
        raise CliError(f"invalid XML: {exc}") from None
    return 0


# -- providers, token ----------------------------------------------------------

@command
def cmd_providers(args) -> int:
    from .plugins import providers
    described = [p.describe() for p in providers.all().values()]
    described.sort(key=lambda d: (d["name"] != "custom", d["name"]))
    if args.format == "json":
        print(json.dumps(described, indent=2, default=str))
        return 0

    def settings_line(settings):
        return ", ".join(f"{s['name']} ({s['kind']})" for s in settings) or "-"

    for d in described:
        owner = providers.owner(d["name"])
        aliases = f" (alias {', '.join(d['aliases'])})" if d["aliases"] else ""
        print(f"{d['name']}{aliases}: {d['label']} [{owner}]")
        if d.get("summary"):
            print(f"    {d['summary']}")
        if d["name"] == "custom":
            for t in d.get("verification_types", []):
                print(f"    type {t['name']}: {settings_line(t['settings'])}")
        else:
            print(f"    settings: {settings_line(d['settings'])}")
    return 0


@command
def cmd_token(args) -> int:
    print(secret_values.new_token(args.bytes))
    return 0


# -- replay --------------------------------------------------------------------

@command
def cmd_replay(args) -> int:
    from .replay import replay_cli
    return replay_cli(args, _open_existing_store(args))


# -- argument parsing ------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="webhook-kit",
                                description="Design, test and run webhook listeners.")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    s = sub.add_parser("serve", help="serve the listeners of a config file",
                       description="Serve the listeners of CONFIG until SIGINT/SIGTERM.")
    s.add_argument("config", metavar="CONFIG", help="JSON config file")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8080, help="0 picks a free port")
    s.add_argument("--db", help="event store (SQLite path; default webhook_kit.db or $WEBHOOK_KIT_DB)")
    s.add_argument("--public-url", help="base URL senders use (behind a proxy or tunnel)")

    e = sub.add_parser("events", help="list stored events",
                       description="List stored events, newest first.")
    e.add_argument("--db")
    e.add_argument("--listener")
    e.add_argument("--status", choices=("accepted", "rejected", "duplicate", "handshake"))
    e.add_argument("--limit", type=int, default=50)
    e.add_argument("--format", choices=("table", "jsonl"), default="table")
    e.add_argument("--explain", metavar="ID", help="explain why event ID failed verification")
    e.add_argument("--config", help="config file (needed by --explain for the listener's settings)")

    d = sub.add_parser("send", help="send a signed test delivery",
                       description="Sign a body (or the provider's sample) exactly as the "
                                   "provider would and POST it. Exit 0 only on 2xx.")
    d.add_argument("config", metavar="CONFIG")
    d.add_argument("--listener", required=True, metavar="ID")
    d.add_argument("--data", metavar="FILE", help="body file ('-' for stdin); default: the sample")
    d.add_argument("--content-type")
    d.add_argument("--url", help="default http://127.0.0.1:8080/hooks/{id}")

    x = sub.add_parser("xml2json", help="convert XML to JSON",
                       description="Convert XML (a file or stdin) to JSON, as listeners do.")
    x.add_argument("file", nargs="?", metavar="FILE|-")
    x.add_argument("--attr-prefix", default="@")
    x.add_argument("--text-key", default="#text")
    x.add_argument("--force-list", action="append", metavar="NAME",
                   help="element that is always a list (repeatable)")
    x.add_argument("--namespaces", action="store_true", help="expand namespaces to URIs")
    x.add_argument("--namespace", action="append", metavar="URI=SHORT",
                   help="shorten a namespace URI (implies --namespaces; repeatable)")
    x.add_argument("--keep-whitespace", action="store_true")
    x.add_argument("--compact", action="store_true", help="one line of JSON")

    pr = sub.add_parser("providers", help="list providers and their settings",
                        description="Every registered provider with its settings, and the custom "
                                    "provider's verification types.")
    pr.add_argument("--format", choices=("text", "json"), default="text")

    t = sub.add_parser("token", help="print a fresh random token",
                       description="Print a fresh URL-safe token (secrets.token_urlsafe).")
    t.add_argument("--bytes", type=int, default=24, help="random bytes (default 24 = 192 bits)")

    r = sub.add_parser("replay", help="run stored events through the pipeline again",
                       description="Verify, transform and run flows again on stored events.")
    r.add_argument("config", metavar="CONFIG")
    r.add_argument("--db")
    r.add_argument("--listener")
    r.add_argument("--status", choices=("accepted", "rejected", "duplicate", "handshake"))
    r.add_argument("--id", action="append", dest="ids", metavar="EVENT_ID")
    r.add_argument("--limit", type=int)
    r.add_argument("--dry-run", action="store_true", help="report what would change, save nothing")
    r.add_argument("--no-flows", action="store_true", help="do not run flows")
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    # argparse prints usage and exits 2 on bad usage: a one-line error as we want
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return 2
    try:
        return COMMANDS[args.command](args) or 0
    except ConfigError as exc:
        print(f"webhook-kit: config error: {exc}", file=sys.stderr)
        return 2
    except CliError as exc:
        print(f"webhook-kit: {exc}", file=sys.stderr)
        return exc.status
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # never a traceback for the user
        print(f"webhook-kit: {type(exc).__name__}: {exc}", file=sys.stderr)
        if os.environ.get("WEBHOOK_KIT_DEBUG"):
            raise
        return 1


if __name__ == "__main__":
    sys.exit(main())
