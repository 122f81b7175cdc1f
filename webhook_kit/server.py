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
import gc
import json
import logging
import signal
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Iterable

import tornado.httpserver
import tornado.netutil
import tornado.web

from .dispatch import Dispatcher
from .edge import SERVER_MAX_BODY, Completions, EdgeDelegate, StoreBatcher
from .listener import Listener
from .pipeline import Pipeline
from .store import EventStore, open_store

log = logging.getLogger("webhook_kit.server")

#: the GIL hand-off interval when serving in the foreground (CPython's default is
#: 5 ms): while a thread parses a large body, the event loop waits up to one
#: interval for the GIL after every wait for I/O, so small deliveries crawl
#: behind large ones; 1 ms nearly doubles their rate then (docs/performance.md). The
#: foreground server sets it for the process it owns; a thread-mode server sets
#: THREAD_SWITCH_INTERVAL (below), for a cell that would otherwise starve it.
SERVE_SWITCH_INTERVAL = 0.001
#: the switch interval while a server runs on a thread of someone else's interpreter (a
#: notebook kernel). CPython wakes a thread waiting for the GIL on every release and
#: restarts its wait: a cell that makes a system call every half millisecond (polling a
#: subprocess, a socket) took the GIL straight back each time and held deliveries up for
#: 0.3-12 s at the default 5 ms; at 0.2 ms they were answered in 11-21 ms. It costs only
#: while deliveries arrive (docs/architecture.md, "Run modes and the GIL").
THREAD_SWITCH_INTERVAL = 0.0002

#: thread-mode servers running, and the switch interval to give back when the last stops
_thread_servers: list = []
_interval_before: list = []
_interval_lock = threading.Lock()


def _log_request(handler: tornado.web.RequestHandler) -> None:
    # health checks and 404s: debug, not lines printed into a notebook
    status = handler.get_status()
    level = logging.ERROR if status >= 500 else logging.DEBUG
    if log.isEnabledFor(level):
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

    def _batcher(self) -> StoreBatcher:
        """The store batcher of the loop this server runs on (made on first use)."""
        batcher = self.__dict__.get("_store_batcher")
        if batcher is None or batcher.loop is not asyncio.get_running_loop():
            batcher = self._store_batcher = StoreBatcher(asyncio.get_running_loop(), self.store)
        return batcher

    def _completions(self) -> Completions:
        """The bridge from store futures to the running loop (one per loop)."""
        loop = asyncio.get_running_loop()
        bridge = self.__dict__.get("_bridge")
        if bridge is None or bridge.loop is not loop:
            bridge = self._bridge = Completions(loop)
        return bridge

    def _app(self) -> tornado.web.Application:
        """Everything but the webhook URLs (which :class:`EdgeDelegate` answers itself)."""
        return tornado.web.Application(
            [(r"/healthz", HealthHandler, {"server": self})],
            default_handler_class=NotFoundHandler,
            log_function=_log_request,
            # never debug/autoreload: it re-executes the process, which kills a kernel
            debug=False, autoreload=False, xsrf_cookies=False,
        )

    def _listen(self) -> None:
        sockets = tornado.netutil.bind_sockets(self.port, self.host)
        self.port = sockets[0].getsockname()[1]
        self._http = tornado.httpserver.HTTPServer(EdgeDelegate(self, self._app()),
                                                   max_body_size=SERVER_MAX_BODY,
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

    def start(self, mode: str = "thread", *,
              switch_interval: float | None = THREAD_SWITCH_INTERVAL) -> "Server":
        """Start serving: ``mode="thread"`` (default) or ``"loop"`` (the running loop).

        In thread mode the interpreter's GIL switch interval is lowered to
        ``switch_interval`` while the server runs (given back when the last one
        stops), so that a busy cell cannot starve the server's threads;
        ``switch_interval=None`` leaves the interpreter alone.
        """
        if self.mode is not None:
            return self
        if mode == "thread":
            self._hold_switch_interval(switch_interval)
            self._started.clear()
            self._thread = threading.Thread(target=lambda: asyncio.run(self._main()),
                                            name="webhook-kit-server", daemon=True)
            self._thread.start()
            self._started.wait(30)
            if self._start_error is not None:
                error, self._start_error = self._start_error, None
                self._release_switch_interval()
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

    def _hold_switch_interval(self, interval: float | None) -> None:
        with _interval_lock:
            if interval is None or self in _thread_servers:
                return
            if not _thread_servers:
                _interval_before[:] = [sys.getswitchinterval()]
                if sys.getswitchinterval() > interval:
                    sys.setswitchinterval(interval)
            _thread_servers.append(self)

    def _release_switch_interval(self) -> None:
        with _interval_lock:
            if self not in _thread_servers:
                return
            _thread_servers.remove(self)
            if not _thread_servers and _interval_before:
                sys.setswitchinterval(_interval_before.pop())

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
        self._release_switch_interval()
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
