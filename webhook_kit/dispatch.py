"""After the commit: plugin notifications and flows, off the request path.

The server hands each committed event to :class:`Dispatcher.submit`, which
returns at once. One thread calls the ``event_*`` hooks in arrival order (the
inspector relies on that order). Flows (accepted deliveries only, never
duplicates) run in one *lane* per listener, in arrival order within the lane,
and lanes run side by side on a small pool: a forward that is backing off and
retrying holds up later deliveries of its own listener (whose order matters
downstream), never those of other listeners. A failing plugin or flow is
logged and recorded; it never reaches the sender.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections import deque
from concurrent.futures import ThreadPoolExecutor

from . import plugins
from .plugins import notify

log = logging.getLogger("webhook_kit.dispatch")

FLOW_WORKERS = 4


class Dispatcher:
    """Notifications on one ordered thread, flows on a pool; ``wait_idle`` waits for both."""

    def __init__(self, store=None, *, run_flows: bool = True, flow_workers: int = FLOW_WORKERS):
        self.store = store
        self.run_flows = run_flows
        self._queue: "queue.Queue" = queue.Queue()
        self._idle = threading.Event()
        self._idle.set()
        self._pending = 0
        self._lock = threading.Lock()
        self._lanes: dict[str, deque] = {}
        self._listening = True
        self._listening_generation = -1
        self._flows = ThreadPoolExecutor(max_workers=flow_workers,
                                         thread_name_prefix="webhook-kit-flow")
        self._thread = threading.Thread(target=self._work, name="webhook-kit-dispatch",
                                        daemon=True)
        self._thread.start()

    def _begin(self) -> None:
        with self._lock:
            self._pending += 1
            self._idle.clear()

    def _end(self) -> None:
        with self._lock:
            self._pending -= 1
            if self._pending == 0:
                self._idle.set()

    def submit(self, event, listener) -> None:
        """Queue a committed event; returns at once (at no cost when nothing listens)."""
        if not (listener.flows and event.status == "accepted") and not self._anyone_listening():
            return  # no flow and no plugin hook to call: skip the thread hand-off
        self._begin()
        self._queue.put((event, listener))

    def _anyone_listening(self) -> bool:
        generation = plugins.pm.generation
        if self._listening_generation != generation:
            hook = plugins.pm.hook
            self._listening = any(getattr(hook, name).get_hookimpls() for name in
                                  ("event_recorded", "event_accepted", "event_rejected"))
            self._listening_generation = generation
        return self._listening

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
                self._end()

    def handle(self, event, listener) -> None:
        notify("event_recorded", event=event, listener=listener)
        if event.status == "accepted":
            notify("event_accepted", event=event, listener=listener)
            if self.run_flows and listener.flows and self.store is not None:
                self._enqueue_flows(event, listener)
        elif event.status == "rejected":
            notify("event_rejected", event=event, listener=listener)

    def _enqueue_flows(self, event, listener) -> None:
        self._begin()
        with self._lock:
            lane = self._lanes.setdefault(listener.id, deque())
            lane.append((event, listener))
            start = len(lane) == 1  # else the lane's worker will get to it
        if start:
            try:
                self._flows.submit(self._drain_lane, listener.id)
            except RuntimeError:  # the pool is shut down: we are closing
                with self._lock:
                    dropped = len(self._lanes.pop(listener.id, ()))
                for _ in range(dropped):
                    self._end()

    def _drain_lane(self, listener_id: str) -> None:
        from .flows import run_flows
        while True:
            with self._lock:
                event, listener = self._lanes[listener_id][0]
            try:
                run_flows(event, listener, self.store)
            except Exception:
                log.exception("flows of %s failed", event.id)
            finally:
                self._end()
            with self._lock:
                lane = self._lanes[listener_id]
                lane.popleft()
                if not lane:
                    del self._lanes[listener_id]
                    return

    def wait_idle(self, timeout: float | None = 30) -> bool:
        """Block until every submitted event and its flows are done (tests, replay, shutdown)."""
        return self._idle.wait(timeout)

    def close(self, timeout: float = 10) -> None:
        """Stop taking events; running flows finish (their outcomes are recorded)."""
        self._queue.put(None)
        self._thread.join(timeout)
        self._flows.shutdown(wait=True, cancel_futures=False)
