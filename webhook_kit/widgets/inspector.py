"""EventInspector: a live table of one listener's events, with test deliveries and replay.

Widgets are touched only on the kernel's thread. The server records events
on its own threads; a small plugin (:class:`EventRelay`) implements the
``event_recorded`` hook, puts each event on a queue and asks the kernel's
asyncio loop (captured when the inspector is built) to drain it with
``loop.call_soon_threadsafe``. Where no loop is running (a plain script or
pytest), ``inspector.pump()`` drains the queue and ``refresh()`` re-reads the
store.
"""

from __future__ import annotations

import asyncio
import html
import json
import queue
import weakref
from typing import Any

import ipywidgets as widgets

from .. import plugins, secret_values
from ..client import Delivery, post, sign_delivery
from ..hookspecs import hookimpl
from ..model import EVENT_STATUSES, Event, Headers, Request
from ..server import Server

#: headers a replay must not copy: the connection's own, recomputed by the client
HOP_HEADERS = {"host", "content-length", "connection", "transfer-encoding", "keep-alive",
               "te", "trailer", "upgrade", "proxy-connection", "accept-encoding"}
COLUMNS = (("time", 12), ("status", 9), ("http", 4), ("reason", 34), ("content type", 22),
           ("size", 9))
NBSP = "\u00a0"

_CSS = """<style>
.wk-events select, .wk-events-head { font-family: monospace; font-size: 12px; }
.wk-inspector pre { background: #f6f6f6; padding: 6px; margin: 2px 0; max-height: 240px;
                    overflow: auto; white-space: pre-wrap; word-break: break-all;
                    line-height: 1.35; }
</style>"""


def _cells(values: list[str]) -> str:
    out = []
    for (name, width), value in zip(COLUMNS, values):
        value = value if len(value) <= width else value[: width - 1] + "…"
        out.append(value.rjust(width) if name == "size" else value.ljust(width))
    # option text collapses runs of spaces; non-breaking ones keep the columns
    return (" ".join(out)).replace(" ", NBSP)


def event_row(event: Event) -> str:
    """One table row: time, status, HTTP status, reason, content type, size."""
    when = event.received_at[11:23] if len(event.received_at) >= 23 else event.received_at
    http = str(event.http_status) if event.http_status else (
        "2xx" if event.status in ("accepted", "duplicate", "handshake") else "")
    return _cells([when, event.status, http, event.reason or "",
                   event.content_type or "", f"{len(event.body)} B"])


def header_row() -> str:
    return _cells([name for name, _ in COLUMNS])


def _pre(text: str, cls: str) -> str:
    return f'<pre class="{cls}">{html.escape(text)}</pre>'


def replay_request(event: Event, url: str) -> Request:
    """The stored raw request again (same body and headers) for ``url``."""
    headers = Headers((n, v) for n, v in event.headers if n.lower() not in HOP_HEADERS)
    if event.query and "?" not in url:
        url = f"{url}?{event.query}"
    return Request(event.method or "POST", url, headers, event.body, listener_id=event.listener)


class EventRelay:
    """The plugin one inspector registers: server threads in, the kernel's loop out."""

    def __init__(self, inspector: "EventInspector"):
        self._inspector = weakref.ref(inspector)

    @hookimpl
    def event_recorded(self, event, listener):
        inspector = self._inspector()
        if inspector is None or listener.id != inspector.listener_id:
            return
        inspector._incoming.put(event)
        loop = inspector._loop
        if loop is not None and loop.is_running():
            try:
                loop.call_soon_threadsafe(inspector.pump)
            except RuntimeError:  # the loop closed (kernel shutting down)
                pass


class EventInspector(widgets.VBox):
    """Events of ``listener_id`` on ``server``, newest first, updated as they arrive.

    Select a row to see its headers, raw body and parsed payload; a rejected
    event also shows the signature debugger. "Send test delivery" signs the
    listener's sample as its provider would and posts it; "Replay" sends a
    stored event's raw request again. Call :meth:`close` to stop listening.
    """

    def __init__(self, server: Server | None = None, listener_id: Any = None, *, limit: int = 200):
        if server is None:
            from .form import shared_server
            server = shared_server()
        if hasattr(listener_id, "id"):  # a Listener (or a form's listener)
            listener_id = listener_id.id
        self.server = server
        self.listener_id = str(listener_id)
        self.limit = limit
        self.events: dict[str, Event] = {}
        self._incoming: "queue.SimpleQueue[Event]" = queue.SimpleQueue()
        try:
            self._loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            self._loop = None  # no kernel loop: pump() / refresh() by hand

        self.title = widgets.HTML()
        self.status_filter = widgets.Dropdown(
            description="Status", options=[("all", "all")] + [(s, s) for s in EVENT_STATUSES],
            value="all", layout=widgets.Layout(width="220px"))
        self.send_button = widgets.Button(description="Send test delivery", icon="paper-plane",
                                          button_style="primary")
        self.replay_button = widgets.Button(description="Replay", icon="repeat",
                                            tooltip="Send the selected event's raw request again")
        self.refresh_button = widgets.Button(icon="refresh", tooltip="Reload from the event store",
                                             layout=widgets.Layout(width="36px"))
        self.rerun_button = widgets.Button(
            description="Re-run rules & flows", icon="cogs",
            tooltip="Verify, transform and run flows again on the events shown (the status filter applies)")
        self.dry_run = widgets.Checkbox(value=True, description="dry run", indent=False,
                                        layout=widgets.Layout(width="90px"))
        self.progress = widgets.IntProgress(value=0, min=0, max=1, layout=widgets.Layout(
            width="200px", visibility="hidden"))
        self.rerun_report = widgets.HTML()
        self.message = widgets.HTML()
        self.table_head = widgets.HTML(f'<div class="wk-events-head">{html.escape(header_row())}</div>')
        self.table = widgets.Select(options=[], rows=10, layout=widgets.Layout(width="760px"))
        self.table.add_class("wk-events")
        self.detail = widgets.HTML()
        self.detail.add_class("wk-event-detail")
        self.debug_area = widgets.VBox()
        self.debug_area.add_class("wk-debug-area")

        self.status_filter.observe(lambda _: self._render_rows(), names="value")
        self.table.observe(self._on_select, names="value")
        self.send_button.on_click(lambda _: self.send_test_delivery())
        self.replay_button.on_click(lambda _: self.replay())
        self.refresh_button.on_click(lambda _: self.refresh())
        self.rerun_button.on_click(lambda _: self.rerun(dry_run=self.dry_run.value))

        self._relay = EventRelay(self)
        self._relay_name = plugins.register(self._relay,
                                            name=f"webhook_kit.widgets.inspector.{id(self):x}")
        super().__init__(children=[
            widgets.HTML(_CSS), self.title,
            widgets.HBox([self.status_filter, self.send_button, self.replay_button,
                          self.refresh_button]),
            widgets.HBox([self.rerun_button, self.dry_run, self.progress]), self.rerun_report,
            self.message, self.table_head, self.table, self.detail, self.debug_area,
        ])
        self.add_class("wk-inspector")
        self.refresh()

    # -- data in -----------------------------------------------------------

    def pump(self) -> int:
        """Show every event handed over by the server since the last pump; returns how many."""
        count = 0
        while True:
            try:
                event = self._incoming.get_nowait()
            except queue.Empty:
                break
            # another server in this kernel may have a listener of the same id
            if event.id in self.events or self.server.store.get(event.id) is None:
                continue
            self.events[event.id] = event
            count += 1
        if count:
            self._trim()
            self._render_rows()
        return count

    def refresh(self) -> None:
        """Reload the newest events from the store (and whatever is queued)."""
        for event in self.server.store.events(listener=self.listener_id, limit=self.limit):
            self.events[event.id] = event
        self.pump()
        self._trim()
        self._render_title()
        self._render_rows()

    def _trim(self) -> None:
        if len(self.events) > self.limit:
            for event_id in self._ordered_ids()[self.limit:]:
                del self.events[event_id]

    def _ordered_ids(self) -> list[str]:
        return [e.id for e in sorted(self.events.values(),
                                     key=lambda e: (e.received_at, e.id), reverse=True)]

    # -- rendering -----------------------------------------------------------

    def _render_title(self) -> None:
        listener = self.server.listeners.get(self.listener_id)
        url = html.escape(self.server.url_for(listener)) if listener else "(not registered yet)"
        self.title.value = (f'<h4 style="margin:4px 0">Events of <code>{html.escape(self.listener_id)}'
                            f'</code></h4><div>URL: <code>{url}</code></div>')

    def visible(self) -> list[Event]:
        """The events the table shows (after the status filter), newest first."""
        wanted = self.status_filter.value
        return [self.events[i] for i in self._ordered_ids()
                if wanted == "all" or self.events[i].status == wanted]

    def _render_rows(self) -> None:
        selected = self.table.value
        rows = [(event_row(e), e.id) for e in self.visible()]
        if list(self.table.options) != rows:
            self.table.options = rows
        ids = [i for _, i in rows]
        self.table.value = selected if selected in ids else None

    @property
    def rows(self) -> list[str]:
        """The table's rows as text (what the page shows)."""
        return [label.replace(NBSP, " ") for label, _ in self.table.options]

    def select(self, event_id: str | None = None) -> Event | None:
        """Select an event (default: the newest shown) and show its details."""
        if event_id is None:
            shown = self.visible()
            event_id = shown[0].id if shown else None
        if event_id is not None and event_id not in self.events:
            event = self.server.store.get(event_id)
            if event is None or event.listener != self.listener_id:
                return None
            self.events[event.id] = event
            self._render_rows()
        if event_id is not None and event_id not in [i for _, i in self.table.options]:
            self.status_filter.value = "all"
        self.table.value = event_id
        return self.events.get(event_id) if event_id else None

    @property
    def selected(self) -> Event | None:
        return self.events.get(self.table.value) if self.table.value else None

    def _on_select(self, change) -> None:
        event = self.selected
        if event is None:
            self.detail.value = ""
            self.debug_area.children = []
            return
        headers = "\n".join(f"{n}: {v}" for n, v in event.headers)
        body = event.body.decode("utf-8", "replace")
        payload = json.dumps(event.payload, indent=2, default=str) if event.payload is not None else "(none)"
        parts = [f"<div><b>{html.escape(event.id)}</b> · {html.escape(event.method)} "
                 f"{html.escape(event.path)} · {html.escape(event.status)}"
                 + (f" · <span style='color:#b00020'>{html.escape(event.reason)}</span>"
                    if event.reason else "") + "</div>",
                 "<b>Headers</b>", _pre(headers, "wk-headers"),
                 "<b>Raw body</b>", _pre(body, "wk-body"),
                 "<b>Parsed payload</b>", _pre(payload, "wk-payload")]
        if event.redactions:
            parts.append(f"<div style='color:#555'>redacted before storing: "
                         f"{html.escape(', '.join(event.redactions))}</div>")
        # built before anything changes on the page, so details and debugger switch together
        debug = ([widgets.HTML("<b>Debug signature</b>"), self._debugger(event)]
                 if event.status == "rejected" else [])
        self.detail.value = "".join(parts)
        self.debug_area.children = debug

    def _debugger(self, event: Event) -> widgets.Widget:
        listener = self.server.listeners.get(self.listener_id)
        try:
            from .debugger_view import SignatureDebugger
            return SignatureDebugger(self.server.store, listener, event.id)
        except Exception as exc:  # the debugger view is optional; show what the event knows
            details = json.dumps(event.details or {}, indent=2, default=str)
            return widgets.HTML(f"<div>{html.escape(event.reason or '')}</div>"
                                f"{_pre(details, 'wk-details')}"
                                f"<div style='color:#555'>(signature debugger unavailable: "
                                f"{html.escape(type(exc).__name__)})</div>")

    def _say(self, text: str, ok: bool) -> None:
        color = "#1b5e20" if ok else "#b00020"
        self.message.value = f'<span class="wk-message" style="color:{color}">{html.escape(text)}</span>'

    # -- actions -------------------------------------------------------------

    def send_test_delivery(self, body: Any = None, **kwargs):
        """Sign the listener's sample (or ``body``) as its provider would and post it.

        Returns the :class:`Delivery` (``None``, with a message, when it could
        not be sent; a Future of it when the server runs on this very loop).
        The new event shows up in the table as it is recorded.
        """
        listener = self.server.listeners.get(self.listener_id)
        if listener is None:
            self._say(f"listener {self.listener_id!r} is not on the server yet: generate its URL",
                      False)
            return None
        try:
            request = sign_delivery(listener, body, url=f"{self.server.base_url}/hooks/{listener.id}",
                                    **kwargs)
        except (ValueError, secret_values.SecretError) as exc:
            self._say(f"not sent: {exc}", False)
            return None
        return self._post(request, "test delivery")

    def rerun(self, *, dry_run: bool = True, listener=None):
        """Verification, transforms and flows again on the events shown, with a progress bar.

        ``dry_run`` (the default) saves nothing and reports, per event, how the
        output would change; ``listener`` may be an edited copy (new rules or
        settings). Returns the :class:`webhook_kit.replay.ReplayReport`.
        """
        from ..replay import replay
        listener = listener or self.server.listeners.get(self.listener_id)
        if listener is None:
            self._say(f"no listener {self.listener_id} on the server", False)
            return None
        status = None if self.status_filter.value == "all" else self.status_filter.value
        self.progress.value, self.progress.max = 0, 1
        self.progress.layout.visibility = "visible"

        def progress(done, total):
            self.progress.max = max(total or done, 1)
            self.progress.value = done

        report = replay(self.server.store, listener, status=status, dry_run=dry_run,
                        progress=progress)
        self.progress.layout.visibility = "hidden"
        lines = [html.escape(r.line()) for r in report if r.changed][:50]
        self.rerun_report.value = (
            f"<b>{html.escape(report.summary())}</b>"
            + ("<pre>" + "\n".join(lines) + "</pre>" if lines else ""))
        if not dry_run:
            self.refresh()
        return report

    def replay(self, event_id: str | None = None):
        """POST a stored event's raw body and headers to the listener's URL again.

        Returns what :meth:`send_test_delivery` returns.
        """
        event = self.events.get(event_id) if event_id else self.selected
        if event is None and event_id:
            event = self.server.store.get(event_id)
        if event is None:
            self._say("select an event to replay", False)
            return None
        listener = self.server.listeners.get(self.listener_id)
        if listener is None:
            self._say(f"listener {self.listener_id!r} is not on the server", False)
            return None
        note = " (credentials were redacted when stored)" if event.redactions else ""
        return self._post(replay_request(event, self.server.url_for(listener)),
                          f"replay of {event.id}{note}")

    def _post(self, request: Request, what: str):
        """Send ``request``; the answer is shown in the message line.

        With the server on its own thread the call simply waits for the
        answer and returns the :class:`Delivery`. A server attached to this
        very loop (``start(mode="loop")``) could not answer while we wait, so
        the request goes to a worker thread and an ``asyncio.Future`` of the
        Delivery is returned instead.
        """
        if self.server.mode == "loop" and self._loop is not None and self._loop.is_running():
            future = self._loop.run_in_executor(None, post, request, 30)
            future.add_done_callback(lambda f: self._answered(f, what))
            self._say(f"{what}: sent, waiting for the answer", True)
            return future
        try:
            delivery = post(request, timeout=30)
        except OSError as exc:
            self._say(f"not sent: {exc}", False)
            return None
        self._said(delivery, what)
        return delivery

    def _answered(self, future, what: str) -> None:
        if future.cancelled():
            return
        if future.exception() is not None:
            self._say(f"not sent: {future.exception()}", False)
        else:
            self._said(future.result(), what)

    def _said(self, delivery: Delivery, what: str) -> None:
        text = delivery.text.strip().replace("\n", " ")
        self._say(f"{what}: {delivery.status} {text[:200]}", delivery.ok)

    def close(self) -> None:
        """Stop following the server and remove the widgets."""
        if self._relay_name is not None:
            try:
                plugins.unregister(name=self._relay_name)
            except ValueError:
                pass
            self._relay_name = None
        super().close()
