"""Tornado at the edge: HTTP in, the pipeline, HTTP out.

Three ways to run one :class:`Server`:

- ``serve_forever()``: the foreground (the CLI), stopping on SIGINT/SIGTERM;
- ``start()``: a background thread with its own event loop, the default in
  scripts and notebooks, so a busy notebook cell does not stop deliveries
  being answered;
- ``start(mode="loop")``: attached to the asyncio loop already running in
  this thread (a Jupyter kernel's own loop), opt-in: it answers only while
  the kernel is idle.

Listeners can be added, changed and removed while it runs. Bodies are
streamed, so a body over the listener's limit is refused with 413 without
being buffered. An accepted delivery is committed before its 2xx is sent.
"""

from __future__ import annotations

import asyncio
import functools
import gc
import json
import logging
import signal
import sys
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Iterable

import tornado.httpserver
import tornado.httputil
import tornado.netutil
import tornado.web

from .dispatch import Dispatcher
from .listener import Listener
from .model import Headers, Request, Response
from .pipeline import Pipeline, build_event, error_response
from .model import utc_now_iso
from .store import EventStore, StoreUnavailable, open_store

log = logging.getLogger("webhook_kit.server")

#: bodies larger than this are verified and parsed on a worker thread, so a
#: 1 MB XML document does not stall every other delivery on the loop
OFFLOAD_BYTES = 64 * 1024
#: the GIL hand-off interval when serving in the foreground (CPython's default is
#: 5 ms): while a thread parses a large body, the event loop waits up to one
#: interval for the GIL after every wait for I/O, so small deliveries crawl
#: behind large ones; 1 ms nearly doubles their rate then (docs/performance.md). Only the
#: foreground server sets it: in a notebook the interpreter is the user's.
SERVE_SWITCH_INTERVAL = 0.001
#: the HTTP server's own ceiling; each listener's smaller limit is enforced per request
SERVER_MAX_BODY = 1024 * 1024 * 1024
#: after refusing a body, how much of it is read and dropped before closing
DRAIN_BYTES = 64 * 1024 * 1024
DRAIN_SECONDS = 5.0


class _StoreBatcher:
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


class _Completions:
    """Store futures resolved on the writer thread, handed back to the loop in batches.

    ``asyncio.wrap_future`` wakes the loop once per future (a self-pipe write
    and a GIL hand-off each); a group commit resolves dozens at once, so this
    wakes the loop once per batch and resolves them all in that one callback.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop):
        self.loop = loop
        self._ready: list = []
        self._lock = threading.Lock()

    def wait(self, future: Future) -> asyncio.Future:
        waiter = self.loop.create_future()
        future.add_done_callback(lambda done: self._resolved(waiter, done))
        return waiter

    def _resolved(self, waiter: asyncio.Future, done: Future) -> None:
        with self._lock:
            self._ready.append((waiter, done))
            if len(self._ready) > 1:
                return  # a wake-up is already on its way
        try:
            self.loop.call_soon_threadsafe(self._drain)
        except RuntimeError:  # the loop closed while the store finished a write
            pass

    def _drain(self) -> None:
        with self._lock:
            ready, self._ready = self._ready, []
        for waiter, done in ready:
            if waiter.done():
                continue
            exc = done.exception()
            if exc is not None:
                waiter.set_exception(exc)
            else:
                waiter.set_result(done.result())


@functools.lru_cache(maxsize=256)
def _valid_host(host: str) -> bool:
    # cached: senders repeat one Host header, and urlsplit is not free per request
    if not host or any(c in host for c in " /\\?#@"):
        return False
    try:
        from urllib.parse import urlsplit
        urlsplit(f"http://{host}/").port
    except ValueError:
        return False
    return True


def _log_request(handler: tornado.web.RequestHandler) -> None:
    # 4xx answers are the normal life of a webhook endpoint: debug, not warnings
    # printed into a notebook; the event store says why each was refused
    status = handler.get_status()
    level = logging.ERROR if status >= 500 else logging.DEBUG
    if not log.isEnabledFor(level):  # the summary is built per request otherwise
        return
    stream = getattr(handler.request.connection, "stream", None)
    if status == 500 and (stream is None or stream.closed()):
        # Tornado cancels the handler of a sender that hung up and "answers" 500
        # to nobody: not a server error (a delivery already queued is still stored)
        log.debug("sender went away before the answer: %s", handler._request_summary())
        return
    log.log(level, "%d %s %.2fms", status, handler._request_summary(),
            1000.0 * handler.request.request_time())


class _JsonErrors(tornado.web.RequestHandler):
    def set_default_headers(self):
        self.set_header("Server", "webhook-kit")

    def write_error(self, status_code, **kwargs):
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps({"error": self._reason or "error"}))

    def check_xsrf_cookie(self):  # an API without cookies
        pass


class HealthHandler(_JsonErrors):
    def initialize(self, server: "Server"):
        self.server = server

    def get(self):
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps({"status": "ok", "listeners": len(self.server.listeners)}))


class NotFoundHandler(_JsonErrors):
    def prepare(self):
        self.set_status(404)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps({"error": "not found"}))


@tornado.web.stream_request_body
class HookHandler(_JsonErrors):
    """``/hooks/{listener_id}`` and ``/hooks/{listener_id}/{token}``, every method."""

    SUPPORTED_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")

    def initialize(self, server: "Server"):
        self.server = server
        self.listener: Listener | None = None
        self.chunks: list[bytes] = []
        self.size = 0
        self.too_large = False

    def prepare(self):
        listener_id = self.path_args[0]
        self.listener = self.server.listeners.get(listener_id)
        if self.listener is None:
            self._send(error_response(404, "not found"))
            return
        limit = self.listener.max_body_bytes
        self.request.connection.set_max_body_size(SERVER_MAX_BODY)
        length = self.request.headers.get("Content-Length")
        if length is not None:
            try:
                declared = int(length)
            except ValueError:
                declared = -1
            if declared < 0:
                self._send_and_close(error_response(400, "invalid Content-Length"))
                return
            if declared > limit:
                self._refuse_too_large(declared)
                return

    def data_received(self, chunk: bytes):
        if self._finished or self.too_large:
            return
        self.size += len(chunk)
        if self.size > self.listener.max_body_bytes:  # chunked bodies have no length up front
            self.too_large = True
            self.chunks = []
            self._refuse_too_large(self.size)
            return
        self.chunks.append(chunk)

    def _send_and_close(self, response: Response):
        """Answer and drop the connection without reading the rest of the body.

        The connection is detached from Tornado's HTTP machinery so that it
        stops reading (and buffering) whatever the sender still streams.
        """
        if self._finished:
            return
        self._finished = True
        reason = tornado.httputil.responses.get(response.status, "Error")
        head = [f"HTTP/1.1 {response.status} {reason}", "Connection: close",
                f"Content-Length: {len(response.body)}", "Server: webhook-kit"]
        head += [f"{k}: {v}" for k, v in response.headers.items() if k.lower() != "connection"]
        stream = self.request.connection.detach()
        data = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + response.body

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

        asyncio.ensure_future(write_then_close())

    def _refuse_too_large(self, size: int):
        listener = self.listener
        request = self._request(b"")
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
        self._send_and_close(error_response(413, "body too large",
                                            max_body_bytes=listener.max_body_bytes))

    def _request(self, body: bytes) -> Request:
        r = self.request
        host = r.headers.get("Host") or ""
        if not _valid_host(host):  # a hostile Host must not break URL handling later
            host = f"{self.server.host}:{self.server.port}"
        url = f"{r.protocol}://{host}{r.uri}"
        return Request(method=r.method, url=url, headers=Headers(r.headers.get_all()),
                       body=body, remote_ip=r.remote_ip,
                       path_token=self.path_args[1] if len(self.path_args) > 1 else None)

    def _send(self, response: Response):
        if self._finished:
            return
        self.set_status(response.status)
        for name, value in response.headers.items():
            self.set_header(name, value)
        if response.body and self.request.method != "HEAD" and response.status not in (204, 304):
            self.write(response.body)
        self.finish()

    async def _handle(self, *args):
        if self._finished:
            return
        body = b"".join(self.chunks)
        self.chunks = []
        request = self._request(body)
        pipeline = self.server.pipeline
        if len(body) > OFFLOAD_BYTES:
            # verified, parsed and serialized for the store off the loop
            loop = asyncio.get_running_loop()
            prepared, stored = await loop.run_in_executor(self.server._large_bodies(),
                                                          self._prepare_and_add, request)
        else:
            prepared = pipeline.prepare(request, self.listener)
            keep = self.listener.keep_rejected if prepared.ring else None
            stored = self.server._batcher().add(prepared.event, keep)
        try:
            status = await self.server._completions().wait(stored)
        except StoreUnavailable as exc:
            log.warning("not stored, answering 503: %s", exc)
            response = error_response(503, "event store unavailable, retry later")
            response.headers["Retry-After"] = "5"
            self._send(response)
            return
        except Exception as exc:  # a store that fails oddly still must not give a 500
            log.exception("store failed")
            self._send(error_response(503, f"event store error: {type(exc).__name__}"))
            return
        self._send(pipeline.finish(prepared, status))

    def _prepare_and_add(self, request: Request):
        """Everything before the commit: the prepared event and the store's future for it."""
        listener = self.listener
        prepared = self.server.pipeline.prepare(request, listener)
        keep = listener.keep_rejected if prepared.ring else None
        return prepared, self.server.store.add(prepared.event, keep=keep)

    get = head = post = put = patch = delete = options = _handle

    def on_connection_close(self):
        self.chunks = []


class ListenerTable:
    """The listeners a server answers for; safe to change while it runs."""

    def __init__(self, listeners: Iterable[Listener] = ()):
        self._by_id: dict[str, Listener] = {}
        self._lock = threading.Lock()
        for listener in listeners:
            self.add(listener)

    def add(self, listener: Listener) -> Listener:
        listener.validate()
        with self._lock:
            # replace the whole dict so readers on other threads never see it half-changed
            self._by_id = {**self._by_id, listener.id: listener}
        return listener

    def remove(self, listener_id: str) -> None:
        with self._lock:
            self._by_id = {k: v for k, v in self._by_id.items() if k != listener_id}

    def get(self, listener_id: str) -> Listener | None:
        return self._by_id.get(listener_id)

    def __iter__(self):
        return iter(list(self._by_id.values()))

    def __len__(self):
        return len(self._by_id)

    def __contains__(self, listener_id):
        return listener_id in self._by_id


class Server:
    """A webhook server: listeners, an event store, the pipeline, and Tornado.

    ``store`` is an :class:`EventStore` or a location (a SQLite path).
    ``port=0`` picks a free port; ``server.port`` tells which after start.
    """

    def __init__(self, listeners: Iterable[Listener] = (), *, store: EventStore | str | None = None,
                 host: str = "127.0.0.1", port: int = 8080, public_url: str | None = None,
                 xheaders: bool = False, run_flows: bool = True):
        self.listeners = ListenerTable(listeners)
        self._owns_store = not isinstance(store, EventStore)
        self.store = open_store(store)
        self.dispatcher = Dispatcher(self.store, run_flows=run_flows)
        self.pipeline = Pipeline(self.store, self.dispatcher)
        self.host = host
        self.port = port
        self.public_url = public_url.rstrip("/") if public_url else None
        self.xheaders = xheaders
        self.mode: str | None = None
        self._http: tornado.httpserver.HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_event: asyncio.Event | None = None
        self._started = threading.Event()
        self._start_error: BaseException | None = None
        self._large: ThreadPoolExecutor | None = None
        self._large_lock = threading.Lock()

    # -- listeners ---------------------------------------------------------

    def add(self, listener: Listener | dict) -> Listener:
        """Add or replace a listener; takes effect for the next request."""
        if isinstance(listener, dict):
            listener = Listener.from_dict(listener)
        return self.listeners.add(listener)

    def remove(self, listener_id: str) -> None:
        self.listeners.remove(listener_id)

    @property
    def base_url(self) -> str:
        if self.public_url:
            return self.public_url
        host = self.host if self.host not in ("0.0.0.0", "::", "") else "127.0.0.1"
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    def url_for(self, listener: Listener | str) -> str:
        """The listener's URL, with its secret URL token when it has one."""
        if isinstance(listener, str):
            found = self.listeners.get(listener)
            if found is None:
                raise KeyError(f"no listener {listener!r}")
            listener = found
        return self.base_url + listener.path()

    # -- running -----------------------------------------------------------

    def _batcher(self) -> _StoreBatcher:
        """The store batcher of the loop this server runs on (made on first use)."""
        batcher = self.__dict__.get("_store_batcher")
        if batcher is None or batcher.loop is not asyncio.get_running_loop():
            batcher = self._store_batcher = _StoreBatcher(asyncio.get_running_loop(), self.store)
        return batcher

    def _completions(self) -> _Completions:
        """The bridge from store futures to the running loop (one per loop)."""
        loop = asyncio.get_running_loop()
        bridge = self.__dict__.get("_bridge")
        if bridge is None or bridge.loop is not loop:
            bridge = self._bridge = _Completions(loop)
        return bridge

    def _app(self) -> tornado.web.Application:
        return tornado.web.Application(
            [
                (r"/hooks/([^/]+)/?", HookHandler, {"server": self}),
                (r"/hooks/([^/]+)/([^/]+)/?", HookHandler, {"server": self}),
                (r"/healthz", HealthHandler, {"server": self}),
            ],
            default_handler_class=NotFoundHandler,
            log_function=_log_request,
            # never debug/autoreload: it re-executes the process, which kills a kernel
            debug=False, autoreload=False, xsrf_cookies=False,
        )

    def _listen(self) -> None:
        sockets = tornado.netutil.bind_sockets(self.port, self.host)
        self.port = sockets[0].getsockname()[1]
        self._http = tornado.httpserver.HTTPServer(self._app(), max_body_size=SERVER_MAX_BODY,
                                                   xheaders=self.xheaders)
        self._http.add_sockets(sockets)

    async def _main(self, install_signals: bool = False) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop_event = asyncio.Event()
        try:
            self._listen()
        except BaseException as exc:
            self._start_error = exc
            self._started.set()
            return
        if install_signals:
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._loop.add_signal_handler(sig, self._stop_event.set)
        self._started.set()
        await self._stop_event.wait()
        await self._shutdown_http()

    async def _shutdown_http(self) -> None:
        if self._http is not None:
            self._http.stop()
            try:
                await asyncio.wait_for(self._http.close_all_connections(), 5)
            except asyncio.TimeoutError:
                pass
            self._http = None

    def start(self, mode: str = "thread") -> "Server":
        """Start serving: ``mode="thread"`` (default) or ``"loop"`` (the running loop)."""
        if self.mode is not None:
            return self
        if mode == "thread":
            self._started.clear()
            self._thread = threading.Thread(target=lambda: asyncio.run(self._main()),
                                            name="webhook-kit-server", daemon=True)
            self._thread.start()
            self._started.wait(30)
            if self._start_error is not None:
                error, self._start_error = self._start_error, None
                raise OSError(f"cannot listen on {self.host}:{self.port}: {error}") from None
        elif mode == "loop":
            try:
                self._loop = asyncio.get_running_loop()
            except RuntimeError:
                raise RuntimeError('start(mode="loop") needs a running asyncio loop '
                                   "(a Jupyter kernel, or inside a coroutine)") from None
            self._listen()
        else:
            raise ValueError("mode must be 'thread' or 'loop'")
        self.mode = mode
        return self

    def serve_forever(self) -> None:
        """Serve in the foreground until SIGINT/SIGTERM (or :meth:`stop` from another thread).

        Run from the main thread, the process is the server, so it also shortens
        the interpreter's thread switch interval (see :data:`SERVE_SWITCH_INTERVAL`)
        and freezes the objects alive at start out of the garbage collector's way
        (``gc.freeze``).
        """
        self.mode = "foreground"
        owns_process = threading.current_thread() is threading.main_thread()
        if owns_process:  # not when a test or an app runs it on a thread of its own
            if sys.getswitchinterval() > SERVE_SWITCH_INTERVAL:
                sys.setswitchinterval(SERVE_SWITCH_INTERVAL)
            # what is alive now (modules, plugins, listeners) lives as long as the process:
            # out of the collector's sight, a full collection no longer walks all of it in
            # the middle of some delivery (about 20 ms on a slow core, docs/performance.md)
            gc.collect()
            gc.freeze()
        try:
            asyncio.run(self._main(install_signals=owns_process))
        finally:
            self.mode = None
            if self._start_error is not None:
                error, self._start_error = self._start_error, None
                raise OSError(f"cannot listen on {self.host}:{self.port}: {error}")
            self._close_resources()

    def stop(self) -> None:
        """Stop serving, finish the dispatcher's queue, close the store if we opened it."""
        if self.mode in ("thread", "foreground") and self._loop is not None and self._stop_event:
            self._loop.call_soon_threadsafe(self._stop_event.set)
            if self._thread is not None:
                self._thread.join(30)
                self._thread = None
        elif self.mode == "loop" and self._http is not None:
            self._http.stop()
            self._http = None
        if self.mode != "foreground":
            self._close_resources()
        self.mode = None

    def _large_bodies(self) -> ThreadPoolExecutor:
        """The one thread that verifies and parses large bodies.

        One, not a pool: under the GIL a second parsing thread adds no
        throughput, only another contender that the event loop must wait
        behind, and it bounds the memory of many large bodies at once.
        """
        with self._large_lock:
            if self._large is None:
                self._large = ThreadPoolExecutor(1, thread_name_prefix="webhook-kit-large")
            return self._large

    def _close_resources(self) -> None:
        with self._large_lock:
            large, self._large = self._large, None
        if large is not None:
            large.shutdown(wait=True)
        self.dispatcher.wait_idle(10)
        self.dispatcher.close()
        if self._owns_store:
            self.store.close()

    @property
    def running(self) -> bool:
        return self.mode is not None

    def __enter__(self) -> "Server":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = f"running at {self.base_url}" if self.running else "stopped"
        return f"<webhook_kit.Server {state}, {len(self.listeners)} listener(s)>"
