"""After the commit: plugin notifications and flows, off the request path.

The server hands each committed event to :class:`Dispatcher.submit`, which
returns at once; a worker thread calls the ``event_*`` hooks and then runs
the listener's flows (accepted deliveries only, never duplicates). A failing
plugin or flow is logged and recorded; it never reaches the sender.
"""

from __future__ import annotations

import logging
import queue
import threading

from .plugins import notify

log = logging.getLogger("webhook_kit.dispatch")


class Dispatcher:
    """A background queue of committed events, worked by one thread in order."""

    def __init__(self, store=None, *, run_flows: bool = True):
        self.store = store
        self.run_flows = run_flows
        self._queue: "queue.Queue" = queue.Queue()
        self._idle = threading.Event()
        self._idle.set()
        self._pending = 0
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._work, name="webhook-kit-dispatch",
                                        daemon=True)
        self._thread.start()

    def submit(self, event, listener) -> None:
        with self._lock:
            self._pending += 1
            self._idle.clear()
        self._queue.put((event, listener))

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            event, listener = item
            try:
                self.handle(event, listener)
            except Exception:
                log.exception("dispatch of %s failed", event.id)
            finally:
                with self._lock:
                    self._pending -= 1
                    if self._pending == 0:
                        self._idle.set()

    def handle(self, event, listener) -> None:
        notify("event_recorded", event=event, listener=listener)
        if event.status == "accepted":
            notify("event_accepted", event=event, listener=listener)
            if self.run_flows and listener.flows and self.store is not None:
                from .flows import run_flows
                run_flows(event, listener, self.store)
        elif event.status == "rejected":
            notify("event_rejected", event=event, listener=listener)

    def wait_idle(self, timeout: float | None = 30) -> bool:
        """Block until every submitted event has been handled (tests, replay, shutdown)."""
        return self._idle.wait(timeout)

    def close(self, timeout: float = 10) -> None:
        self._queue.put(None)
        self._thread.join(timeout)
