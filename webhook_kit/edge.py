"""The HTTP edge: a delivery's bytes in, the pipeline, the answer out.

Webhook URLs (``/hooks/{listener_id}`` and ``/hooks/{listener_id}/{token}``)
are answered by :class:`HookDelivery`, a delegate at the level of Tornado's
HTTP/1 connection (``tornado.httputil.HTTPMessageDelegate``), not a
``tornado.web.RequestHandler``: the web layer's routing, per-request handler
object, header bookkeeping and output transforms cost about as much CPU as
everything the kit does for a delivery (docs/performance.md). Every other
path (``/healthz``, 404s) goes to an ordinary ``tornado.web.Application``.

The body is streamed: a declared ``Content-Length`` over the listener's limit
is answered 413 before a byte of the body is read, a chunked body as soon as it
passes the limit. An accepted delivery is answered only after its commit.
"""

from __future__ import annotations

import asyncio
import email.utils
import functools
import logging
import re
import threading
import time
from concurrent.futures import Future
from typing import TYPE_CHECKING, Callable
from urllib.parse import unquote_to_bytes

import tornado.httputil
import tornado.iostream
import tornado.web

from .model import Headers, Request, Response
from .pipeline import build_event, error_response
from .model import utc_now_iso
from .store import EventStore, StoreUnavailable

if TYPE_CHECKING:
    from .server import Server

log = logging.getLogger("webhook_kit.server")

#: bodies larger than this are verified and parsed on a worker thread, so a
#: 1 MB XML document does not stall every other delivery on the loop
OFFLOAD_BYTES = 64 * 1024
#: the HTTP server's own ceiling; each listener's smaller limit is enforced per request
SERVER_MAX_BODY = 1024 * 1024 * 1024
#: after refusing a body, how much of it is read and dropped before closing
DRAIN_BYTES = 64 * 1024 * 1024
DRAIN_SECONDS = 5.0

#: the two webhook routes in one: listener id, then the optional secret URL token
HOOK_PATH = re.compile(r"/hooks/([^/]+)(?:/([^/]+))?/?")


class StoreBatcher:
    """Hands the events one turn of the event loop prepared to the store as one group.

    The store's writer wakes as soon as anything is queued, so events queued
    one by one are mostly committed one by one; grouping per loop turn makes a
    burst of deliveries share one transaction (and one fsync) without a timer.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, store: EventStore):
        self.loop = loop
        self.store = store
        self._pending: list = []

    def add(self, event, keep: int | None) -> Future:
        if not hasattr(self.store, "add_batch"):  # a plugged-in store: one at a time
            return self.store.add(event, keep=keep)
        future: Future = Future()
        self._pending.append((event, keep, future))
        if len(self._pending) == 1:
            self.loop.call_soon(self._flush)
        return future

    def _flush(self) -> None:
        pending, self._pending = self._pending, []
        if not pending:
            return
        try:
            self.store.add_batch(pending)
        except Exception as exc:  # a store that fails oddly: every waiter hears of it
            for _, _, future in pending:
                if not future.done():
                    future.set_exception(exc)


class Completions:
    """Futures resolved on other threads, their callbacks run on the loop in batches.

    ``asyncio.wrap_future`` wakes the loop once per future (a self-pipe write
    and a GIL hand-off each); a group commit resolves dozens at once, so this
    wakes the loop once per batch and runs all their callbacks in that one turn.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop):
        self.loop = loop
        self._ready: list = []
        self._lock = threading.Lock()

    def when_done(self, future: Future, callback: Callable[[Future], None]) -> None:
        """Call ``callback(future)`` on the loop once ``future`` (of any thread) is done."""
        future.add_done_callback(functools.partial(self._resolved, callback))

    def _resolved(self, callback, done: Future) -> None:
        with self._lock:
            self._ready.append((callback, done))
            if len(self._ready) > 1:
                return  # a wake-up is already on its way
        try:
            self.loop.call_soon_threadsafe(self._drain)
        except RuntimeError:  # the loop closed while the store finished a write
            pass

    def _drain(self) -> None:
        with self._lock:
            ready, self._ready = self._ready, []
        for callback, done in ready:
            try:
                callback(done)
            except Exception:  # one answer's failure must not strand the others
                log.exception("answering a delivery failed")


@functools.lru_cache(maxsize=256)
def valid_host(host: str) -> bool:
    """Whether a Host header can be part of a URL (cached: senders repeat one Host)."""
    if not host or any(c in host for c in " /\\?#@"):
        return False
    try:
        from urllib.parse import urlsplit
        urlsplit(f"http://{host}/").port
    except ValueError:
        return False
    return True


_date_cache: list = [0, ""]


def _http_date() -> str:
    # the Date header changes once a second: formatted once a second, not per answer
    now = int(time.time())
    if _date_cache[0] != now:
        _date_cache[:] = [now, email.utils.formatdate(now, usegmt=True)]
    return _date_cache[1]


class EdgeDelegate(tornado.httputil.HTTPServerConnectionDelegate):
    """What the ``HTTPServer`` calls per request: webhook paths here, the rest to ``app``."""

    def __init__(self, server: "Server", app: tornado.web.Application):
        self.server = server
        self.app = app

    def start_request(self, server_conn, request_conn):
        return _Route(self, server_conn, request_conn)

    def on_close(self, server_conn):
        self.app.on_close(server_conn)


class _Route(tornado.httputil.HTTPMessageDelegate):
    """Picks the delegate once the request line is known, then forwards to it."""

    def __init__(self, edge: EdgeDelegate, server_conn, request_conn):
        self.edge = edge
        self.server_conn = server_conn
        self.request_conn = request_conn
        self.target: tornado.httputil.HTTPMessageDelegate | None = None

    def headers_received(self, start_line, headers):
        path = start_line.path.partition("?")[0]
        match = HOOK_PATH.fullmatch(path)
        if match is not None:
            hook = HookDelivery(self.edge.server, self.request_conn, start_line, headers)
            self.target = hook
            return hook.start(*match.groups())
        self.target = self.edge.app.start_request(self.server_conn, self.request_conn)
        return self.target.headers_received(start_line, headers)

    def data_received(self, chunk):
        return self.target.data_received(chunk)

    def finish(self):
        self.target.finish()

    def on_connection_close(self):
        if self.target is not None:
            self.target.on_connection_close()


def _path_arg(raw: str | None) -> str | None:
    # as tornado.web does for route groups: percent-decoded, then UTF-8
    if raw is None:
        return None
    return unquote_to_bytes(raw).decode("utf-8")


class HookDelivery(tornado.httputil.HTTPMessageDelegate):
    """One request to a webhook URL, from its headers to the answer."""

    def __init__(self, server: "Server", conn, start_line, headers):
        self.server = server
        self.conn = conn
        self.start_line = start_line
        self.headers = headers
        self.listener = None
        self.token: str | None = None
        self.chunks: list[bytes] = []
        self.size = 0
        self.done = False  # answered (or the sender is gone): nothing more to do

    # -- the request --------------------------------------------------------

    def start(self, raw_id: str, raw_token: str | None) -> None:
        try:
            listener_id, self.token = _path_arg(raw_id), _path_arg(raw_token)
        except UnicodeDecodeError:
            self._answer(error_response(400, "invalid unicode in URL"))
            return
        self.listener = self.server.listeners.get(listener_id)
        if self.listener is None:
            self._answer(error_response(404, "not found"))
            return
        self.conn.set_max_body_size(SERVER_MAX_BODY)
        length = self.headers.get("Content-Length")
        if length is not None:
            try:
                declared = int(length)
            except ValueError:
                declared = -1
            if declared < 0:
                self._answer_and_close(error_response(400, "invalid Content-Length"))
                return
            if declared > self.listener.max_body_bytes:
                self._refuse_too_large(declared)

    def data_received(self, chunk: bytes) -> None:
        if self.done:
            return
        self.size += len(chunk)
        if self.size > self.listener.max_body_bytes:  # chunked bodies have no length up front
            self.chunks = []
            self._refuse_too_large(self.size)
            return
        self.chunks.append(chunk)

    def finish(self) -> None:
        if self.done:
            return
        try:
            self._process()
        except Exception:  # never expected: the pipeline catches what plugins raise
            log.exception("delivery to %s failed", self.listener.id)
            self._answer(error_response(500, "internal error"))

    def on_connection_close(self) -> None:
        # the sender hung up; a delivery already queued is still stored
        self.chunks = []
        self.done = True

    def request(self, body: bytes) -> Request:
        """The kit's :class:`Request` for what arrived."""
        context = self.conn.context
        host = self.headers.get("Host") or ""
        if not valid_host(host):  # a hostile Host must not break URL handling later
            host = f"{self.server.host}:{self.server.port}"
        return Request(method=self.start_line.method,
                       url=f"{context.protocol}://{host}{self.start_line.path}",
                       headers=Headers(self.headers.get_all()), body=body,
                       remote_ip=context.remote_ip, path_token=self.token)

    # -- verify, parse, commit, answer ---------------------------------------

    def _process(self) -> None:
        body = b"".join(self.chunks)
        self.chunks = []
        request = self.request(body)
        server = self.server
        if len(body) > OFFLOAD_BYTES:
            # verified, parsed and serialized for the store off the loop
            loop = asyncio.get_running_loop()
            off_loop = loop.run_in_executor(server._large_bodies(), self._prepare_and_add,
                                            request)
            off_loop.add_done_callback(self._prepared_off_loop)
            return
        prepared = server.pipeline.prepare(request, self.listener)
        keep = self.listener.keep_rejected if prepared.ring else None
        self._wait_for_commit(prepared, server._batcher().add(prepared.event, keep))

    def _prepare_and_add(self, request: Request):
        listener = self.listener
        prepared = self.server.pipeline.prepare(request, listener)
        keep = listener.keep_rejected if prepared.ring else None
        return prepared, self.server.store.add(prepared.event, keep=keep)

    def _prepared_off_loop(self, done: asyncio.Future) -> None:
        try:
            prepared, stored = done.result()
        except Exception:
            log.exception("delivery to %s failed", self.listener.id)
            self._answer(error_response(500, "internal error"))
            return
        self._wait_for_commit(prepared, stored)

    def _wait_for_commit(self, prepared, stored: Future) -> None:
        def committed(done: Future) -> None:
            exc = done.exception()
            if exc is None:
                self._answer(self.server.pipeline.finish(prepared, done.result()))
            elif isinstance(exc, StoreUnavailable):
                log.warning("not stored, answering 503: %s", exc)
                response = error_response(503, "event store unavailable, retry later")
                response.headers["Retry-After"] = "5"
                self._answer(response)
            else:  # a store that fails oddly still must not give a 500
                log.error("store failed: %r", exc)
                self._answer(error_response(503, f"event store error: {type(exc).__name__}"))

        self.server._completions().when_done(stored, committed)

    # -- answers ----------------------------------------------------------------

    def _head(self, response: Response) -> tuple:
        status = response.status
        headers = tornado.httputil.HTTPHeaders()
        headers["Server"] = "webhook-kit"
        headers["Date"] = _http_date()
        for name, value in response.headers.items():
            headers[name] = value
        body = response.body or b""
        if status in (204, 304):
            body = b""
        else:
            headers["Content-Length"] = str(len(body))
        if self.start_line.method == "HEAD":
            body = b""
        reason = tornado.httputil.responses.get(status, "Unknown")
        return tornado.httputil.ResponseStartLine("HTTP/1.1", status, reason), headers, body

    def _answer(self, response: Response) -> None:
        if self.done:
            return
        self.done = True
        start_line, headers, body = self._head(response)
        try:
            self.conn.write_headers(start_line, headers, body or None)
            self.conn.finish()
        except (tornado.iostream.StreamClosedError, tornado.httputil.HTTPOutputError):
            return  # the sender went away first
        if log.isEnabledFor(logging.DEBUG):
            # 4xx answers are the normal life of a webhook endpoint: debug, not warnings;
            # the event store says why each was refused
            log.debug("%d %s %s (%s)", response.status, self.start_line.method,
                      self.start_line.path, self.conn.context.remote_ip)

    def _answer_and_close(self, response: Response) -> None:
        """Answer and drop the connection without reading the rest of the body.

        The connection is detached from Tornado's HTTP machinery so that it
        stops reading (and buffering) whatever the sender still streams.
        """
        if self.done:
            return
        self.done = True
        response.headers.pop("Connection", None)
        response.headers["Connection"] = "close"
        start_line, headers, body = self._head(response)
        lines = [f"{start_line.version} {start_line.code} {start_line.reason}"]
        lines += [f"{name}: {value}" for name, value in headers.get_all()]
        data = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
        stream = self.conn.detach()

        async def write_then_close():
            try:
                await stream.write(data)
                # lingering close: read and drop what the sender still streams (bounded),
                # so its TCP stack does not reset the connection before it reads our answer
                loop = asyncio.get_running_loop()
                deadline = loop.time() + DRAIN_SECONDS
                drained = 0
                while drained < DRAIN_BYTES and loop.time() < deadline:
                    chunk = await asyncio.wait_for(
                        stream.read_bytes(65536, partial=True), deadline - loop.time())
                    drained += len(chunk)
            except Exception:
                pass  # closed by the sender, or the drain bound reached
            finally:
                stream.close()

        task = asyncio.ensure_future(write_then_close())
        _draining.add(task)
        task.add_done_callback(_draining.discard)

    def _refuse_too_large(self, size: int) -> None:
        listener = self.listener
        request = self.request(b"")
        event = build_event(request, listener, "rejected",
                            f"body of {size} bytes exceeds max_body_bytes {listener.max_body_bytes}",
                            utc_now_iso())
        event.http_status = 413
        try:
            event.redactions = listener.provider_obj.redact(request, listener.settings())
            event.headers = list(request.headers.items())
            event.url, event.path = request.url, request.path
        except Exception:
            pass
        # recorded without waiting: the answer does not depend on it
        self.server.store.add(event, keep=listener.keep_rejected)
        self._answer_and_close(error_response(413, "body too large",
                                              max_body_bytes=listener.max_body_bytes))


#: the 413 answers still writing and draining (asyncio keeps tasks only weakly)
_draining: set = set()
