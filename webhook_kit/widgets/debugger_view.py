"""SignatureDebugger: why a stored delivery failed verification, and a re-check with other settings.

A thin view over :mod:`webhook_kit.debugger`: the explanation's steps and
hints as HTML, the exact signed bytes, expected next to received signature,
and editable settings (secret masked, encoding, algorithm, header, prefix)
with a "Re-verify with these settings" button. Everything it shows can be had
in Python (``explain(event, listener, settings)``) or from the CLI
(``webhook-kit events --explain ID --config FILE``). Stock ipywidgets only.
"""

from __future__ import annotations

import html

import ipywidgets as widgets

from ..debugger import ENCODINGS, Explanation, explain, hmac_view, shown_bytes
from ..listener import Listener
from ..model import Event
from ..providers.base import ALGORITHMS

MARKS = {True: ("&#10004;", "#1a7f37"), False: ("&#10008;", "#cf222e"), None: ("&#8226;", "#57606a")}
SIGNED_BYTES_SHOWN = 20_000


# -- plain functions (tested without widgets) -----------------------------------------

def event_label(event: Event) -> str:
    """One line for the event picker: time, status and reason."""
    reason = f" - {event.reason}" if event.reason else ""
    text = f"{event.received_at[:19].replace('T', ' ')} {event.status}{reason} ({event.id})"
    return text if len(text) <= 110 else text[:107] + "..."


def pick_default(events: list[Event]) -> str | None:
    """The event to show first: the newest rejected one, else the newest."""
    for event in events:
        if event.status == "rejected":
            return event.id
    return events[0].id if events else None


def scheme_fields(listener: Listener) -> dict:
    """Current header/prefix/algorithm/encoding of the listener's HMAC scheme.

    ``editable`` is false when the scheme is no HMAC scheme (Basic, a URL
    token, Ed25519...): only the secret can then be changed.
    """
    try:
        view = hmac_view(listener.provider_obj, listener.settings())
    except Exception:
        view = None
    if view is None:
        return {"editable": False, "header": "", "prefix": "", "algorithm": "sha256",
                "encoding": "hex"}
    return {"editable": True, "header": view.header or "", "prefix": view.prefix,
            "algorithm": view.algorithm, "encoding": view.encoding}


def edits_from_fields(original: dict, *, secret: str, encoding: str, algorithm: str,
                      header: str, prefix: str) -> dict:
    """The settings a re-check should change: only the fields that differ, the secret when typed."""
    edits = {}
    if secret:
        edits["secret"] = secret
    for key, value in (("encoding", encoding), ("algorithm", algorithm),
                       ("header", header.strip()), ("prefix", prefix)):
        if original.get("editable") and value != original.get(key):
            edits[key] = value
    return edits


def _mark(ok) -> str:
    symbol, colour = MARKS[ok]
    return f'<span style="color:{colour};font-weight:bold">{symbol}</span>'


def verdict_html(ex: Explanation) -> str:
    colour = {True: "#1a7f37", False: "#cf222e", None: "#9a6700"}[ex.ok]
    stored = html.escape(ex.stored_status + (f": {ex.stored_reason}" if ex.stored_reason else ""))
    return (f'<div style="border-left:4px solid {colour};padding:4px 8px">'
            f'<b style="color:{colour}">{html.escape(ex.summary())}</b><br>'
            f'<small>stored as {stored} &middot; {html.escape(ex.provider)}</small></div>')


def steps_html(ex: Explanation) -> str:
    rows = "".join(
        f"<tr><td>{_mark(s['ok'])}</td><td><b>{html.escape(s['step'])}</b></td>"
        f"<td style='text-align:left'>{html.escape(str(s['text']))}</td></tr>" for s in ex.steps)
    return f"<table>{rows}</table>"


def hints_html(ex: Explanation) -> str:
    if not ex.hints:
        return ""
    items = []
    for h in ex.hints:
        fix = ""
        if h.get("fix"):
            fix = " <i>Try: " + html.escape(", ".join(f"{k} = {v!r}" for k, v in h["fix"].items())) + "</i>"
        items.append(f"<li><code>{html.escape(h['code'])}</code> {html.escape(h['text'])}{fix}</li>")
    return "<b>Hints</b><ul>" + "".join(items) + "</ul>"


def comparison_html(ex: Explanation) -> str:
    if not ex.expected and ex.received is None:
        return "<i>This scheme has no signature to compare (or it cannot be computed here).</i>"
    how = html.escape(", ".join(x for x in (ex.algorithm, ex.encoding) if x))
    header = html.escape(ex.header or "")
    rows = []
    for i, value in enumerate(ex.expected):
        which = f" #{i + 1}" if len(ex.expected) > 1 else ""
        rows.append(f"<tr><td>expected{which} ({how})</td><td><code>{html.escape(value)}</code></td></tr>")
    received = "<i>missing</i>" if ex.received is None else f"<code>{html.escape(ex.received)}</code>"
    rows.append(f"<tr><td>received in {header}</td><td>{received}</td></tr>")
    return "<table>" + "".join(rows) + "</table>"


def signed_bytes_text(ex: Explanation) -> str:
    if ex.signed_bytes is None:
        return ""
    return shown_bytes(ex.signed_bytes, SIGNED_BYTES_SHOWN)


def _options(choices, current: str) -> list[str]:
    out = list(choices)
    if current and current not in out:
        out.append(current)
    return out


# -- the widget ------------------------------------------------------------------

class SignatureDebugger(widgets.VBox):
    """Explain a stored event of ``listener`` from ``store``, and re-verify it with edited settings.

    ``event_id`` picks the event; by default the newest rejected one. The
    secret field stays empty (the listener's secret is never sent to the
    browser); typing one re-checks with it instead.
    """

    def __init__(self, store, listener: Listener, event_id: str | None = None, *, limit: int = 50,
                 **kwargs):
        self._store = store
        self._listener = listener
        self._limit = limit
        self._event: Event | None = None
        self._explanation: Explanation | None = None
        self._fields = scheme_fields(listener)
        wide = widgets.Layout(width="100%")

        self._title = widgets.HTML(f"<b>Signature debugger</b> &middot; listener "
                                   f"<code>{html.escape(listener.id)}</code>")
        self._picker = widgets.Dropdown(description="Event", options=[], layout=wide)
        self._refresh = widgets.Button(description="Refresh", icon="refresh",
                                       tooltip="Reload the listener's events")
        self._verdict = widgets.HTML()
        self._steps = widgets.HTML()
        self._hints = widgets.HTML()
        self._signed_label = widgets.HTML("<b>Signed bytes</b>")
        self._signed = widgets.Textarea(disabled=True, layout=widgets.Layout(width="100%", height="7em"))
        self._comparison = widgets.HTML()

        f = self._fields
        self._secret = widgets.Password(description="Secret", placeholder="unchanged (listener's secret)")
        self._encoding = widgets.Dropdown(description="Encoding", options=_options(ENCODINGS, f["encoding"]),
                                          value=f["encoding"], disabled=not f["editable"])
        self._algorithm = widgets.Dropdown(description="Algorithm",
                                           options=_options(ALGORITHMS, f["algorithm"]),
                                           value=f["algorithm"], disabled=not f["editable"])
        self._header = widgets.Text(description="Header", value=f["header"], disabled=not f["editable"])
        self._prefix = widgets.Text(description="Prefix", value=f["prefix"], disabled=not f["editable"],
                                    placeholder="none")
        self._suggest = widgets.Button(description="Use suggested settings", disabled=True,
                                       tooltip="Fill the fields with what the hints propose")
        self._reverify = widgets.Button(description="Re-verify with these settings",
                                        button_style="primary", layout=widgets.Layout(width="auto"))
        self._result = widgets.HTML()

        self._picker.observe(self._on_pick, names="value")
        self._refresh.on_click(self._on_refresh)
        self._suggest.on_click(self._on_suggest)
        self._reverify.on_click(self._on_reverify)

        settings_box = widgets.VBox([
            widgets.HTML("<b>Settings to try</b>"),
            widgets.HBox([self._secret, self._encoding]),
            widgets.HBox([self._header, self._algorithm]),
            widgets.HBox([self._prefix]),
            widgets.HBox([self._reverify, self._suggest]),
            self._result,
        ])
        super().__init__(children=[
            self._title, widgets.HBox([self._picker, self._refresh]), self._verdict, self._steps,
            self._hints, self._signed_label, self._signed, self._comparison, settings_box,
        ], **kwargs)
        self._load_events(event_id)

    # -- state a caller may read ---------------------------------------------------

    @property
    def event(self) -> Event | None:
        """The event shown."""
        return self._event

    @property
    def explanation(self) -> Explanation | None:
        """The explanation shown (for the last settings re-verified, if any)."""
        return self._explanation

    def show(self, event_id: str) -> None:
        """Show another event of the listener."""
        self._load_events(event_id)

    # -- handlers ----------------------------------------------------------------------

    def _on_refresh(self, _button=None) -> None:
        self._load_events(self._picker.value)

    def _on_pick(self, change) -> None:
        self._show_event(change["new"])

    def _on_suggest(self, _button=None) -> None:
        if self._explanation is None:
            return
        fix = self._explanation.suggested_settings()
        for key, field in (("encoding", self._encoding), ("algorithm", self._algorithm),
                           ("header", self._header), ("prefix", self._prefix)):
            if key in fix and self._fields["editable"]:
                if isinstance(field, widgets.Dropdown) and fix[key] not in field.options:
                    field.options = list(field.options) + [fix[key]]
                field.value = fix[key]

    def _on_reverify(self, _button=None) -> None:
        if self._event is None:
            self._result.value = "<i>No event to re-verify.</i>"
            return
        edits = edits_from_fields(self._fields, secret=self._secret.value,
                                  encoding=self._encoding.value, algorithm=self._algorithm.value,
                                  header=self._header.value, prefix=self._prefix.value)
        ex = explain(self._event, self._listener, edits)
        self._render(ex)
        changed = ", ".join(f"{k}" + ("" if k == "secret" else f" = {v!r}") for k, v in edits.items())
        self._result.value = (f"{_mark(ex.ok)} With {html.escape(changed or 'the listener settings')}: "
                              f"<b>{html.escape(ex.summary())}</b>")

    # -- rendering ----------------------------------------------------------------------

    def _load_events(self, select: str | None) -> None:
        events = self._store.events(listener=self._listener.id, limit=self._limit)
        if select and all(e.id != select for e in events):
            extra = self._store.get(select)
            if extra is not None and extra.listener == self._listener.id:
                events.append(extra)
        options = [(event_label(e), e.id) for e in events]
        wanted = select if any(e.id == select for e in events) else pick_default(events)
        # set options and value without firing _on_pick twice
        self._picker.unobserve(self._on_pick, names="value")
        self._picker.options = options
        self._picker.value = wanted
        self._picker.observe(self._on_pick, names="value")
        self._show_event(wanted)

    def _show_event(self, event_id: str | None) -> None:
        self._result.value = ""
        self._event = self._store.get(event_id) if event_id else None
        if self._event is None:
            self._explanation = None
            self._verdict.value = ("<i>No events for this listener yet: send a delivery, "
                                   "then press Refresh.</i>")
            for w in (self._steps, self._hints, self._comparison):
                w.value = ""
            self._signed.value = ""
            self._suggest.disabled = True
            return
        self._render(explain(self._event, self._listener))

    def _render(self, ex: Explanation) -> None:
        self._explanation = ex
        self._verdict.value = verdict_html(ex)
        self._steps.value = steps_html(ex)
        self._hints.value = hints_html(ex)
        self._signed.value = signed_bytes_text(ex)
        self._signed.placeholder = "" if ex.signed_bytes is not None else "(no signed bytes for this scheme)"
        self._comparison.value = comparison_html(ex)
        self._suggest.disabled = not ex.suggested_settings()
