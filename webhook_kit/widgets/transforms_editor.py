"""TransformEditor: a listener's transform rules, edited with a live preview.

Each rule is a row (extract, generate, default, type); the mode is replace or
merge. Every change re-runs the rules on the chosen source (the listener's
sample, or one of its captured events) and shows the output, or which rule
failed and why. "Try on history" is a dry-run replay over the captured
events (nothing saved), with a progress bar. "Apply" writes the rules into
the listener (after the same validation as a config file).

The logic lives in :mod:`webhook_kit.transforms` and :mod:`webhook_kit.replay`;
this module only arranges widgets around it.
"""

from __future__ import annotations

import html
import json
from typing import Any, Callable

import ipywidgets as widgets

from ..listener import ConfigError
from ..transforms import TYPES, MODES, compile_rules, preview, sample_document

SAMPLE = "sample"
_NO_TYPE = "(as found)"


def parse_default(text: str) -> Any:
    """A default typed in a text box: JSON when it parses, else the text itself."""
    text = text.strip()
    if not text:
        raise ValueError("empty")
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def default_text(rule: dict) -> str:
    if "default" not in rule:
        return ""
    value = rule["default"]
    return value if isinstance(value, str) and not _looks_like_json(value) else json.dumps(value)


def _looks_like_json(text: str) -> bool:
    try:
        json.loads(text)
    except json.JSONDecodeError:
        return False
    return True


class _RuleRow(widgets.HBox):
    """One rule's fields and a remove button."""

    def __init__(self, rule: dict, on_change: Callable, on_remove: Callable):
        self.extract = widgets.Text(value=rule.get("extract", ""), placeholder="payload.order.id",
                                    layout=widgets.Layout(width="260px"))
        self.generate = widgets.Text(value=rule.get("generate", ""), placeholder="order.id",
                                     layout=widgets.Layout(width="160px"))
        self.default = widgets.Text(value=default_text(rule), placeholder="default",
                                    layout=widgets.Layout(width="110px"))
        self.type = widgets.Dropdown(options=(_NO_TYPE,) + TYPES, value=rule.get("type") or _NO_TYPE,
                                     layout=widgets.Layout(width="110px"))
        self.remove = widgets.Button(description="✕", tooltip="remove this rule",
                                     layout=widgets.Layout(width="36px"))
        for w in (self.extract, self.generate, self.default, self.type):
            w.observe(lambda _change: on_change(), names="value")
        self.remove.on_click(lambda _b: on_remove(self))
        super().__init__(children=[self.extract, self.generate, self.default, self.type, self.remove])

    def rule(self) -> dict:
        d: dict[str, Any] = {"extract": self.extract.value.strip(), "generate": self.generate.value.strip()}
        if self.default.value.strip():
            d["default"] = parse_default(self.default.value)
        if self.type.value != _NO_TYPE:
            d["type"] = self.type.value
        return d


class TransformEditor(widgets.VBox):
    """Edit ``listener.transforms`` and ``transform_mode`` with a live preview.

    :param listener: the :class:`~webhook_kit.Listener` whose rules are edited
        (changed only by :meth:`apply`).
    :param store: an event store; when given, captured events can be previewed
        and the rules tried on the whole history (dry run).

    Public state: ``rules`` (the rows as rule dicts), ``mode``, ``error`` (why
    the rules are invalid or failed on the source, or None), ``output`` (the
    preview's output). ``on_apply(callback)`` is told ``callback(listener)``
    after each successful apply (a form embedding the editor saves then).
    """

    def __init__(self, listener, store=None):
        self.listener = listener
        self.store = store
        self.output: Any = None
        self.error: str | None = None
        self.report = None
        self._callbacks: list[Callable] = []
        self._rows = widgets.VBox()
        header = widgets.HTML("<b>Extract</b> (JMESPath over payload, headers, query) · "
                              "<b>Generate</b> (output path) · <b>Default</b> · <b>Type</b>")
        self._mode = widgets.ToggleButtons(options=MODES, value=listener.transform_mode or "replace",
                                           description="Mode", tooltips=[
                                               "the output holds only the generated fields",
                                               "the payload, plus the generated fields"])
        self._add = widgets.Button(description="Add rule", icon="plus")
        self._source = widgets.Dropdown(description="Preview on", layout=widgets.Layout(width="520px"))
        self._refresh = widgets.Button(description="Refresh events", icon="refresh",
                                       disabled=store is None)
        self._status = widgets.HTML()
        self._preview = widgets.HTML(layout=widgets.Layout(max_height="320px", overflow="auto"))
        self._apply = widgets.Button(description="Apply", button_style="primary")
        self._history = widgets.Button(description="Try on history", disabled=store is None,
                                       tooltip="dry run over captured events: nothing is saved")
        self._progress = widgets.IntProgress(value=0, min=0, max=1, description="History",
                                             layout=widgets.Layout(visibility="hidden"))
        self._history_out = widgets.HTML()

        for rule in listener.transforms or []:
            self._append_row(rule)
        self._add.on_click(self._on_add)
        self._mode.observe(lambda _c: self.update_preview(), names="value")
        self._source.observe(lambda _c: self.update_preview(), names="value")
        self._refresh.on_click(lambda _b: self.refresh_events())
        self._apply.on_click(lambda _b: self.apply())
        self._history.on_click(lambda _b: self.try_on_history())
        self.refresh_events()
        super().__init__(children=[
            self._mode, header, self._rows, self._add,
            widgets.HBox([self._source, self._refresh]), self._status, self._preview,
            widgets.HBox([self._apply, self._history, self._progress]), self._history_out,
        ])

    # -- state ---------------------------------------------------------------

    @property
    def mode(self) -> str:
        return self._mode.value

    @mode.setter
    def mode(self, value: str) -> None:
        self._mode.value = value

    @property
    def rules(self) -> list[dict]:
        return [row.rule() for row in self._rows.children]

    @rules.setter
    def rules(self, rules: list[dict]) -> None:
        self._rows.children = ()
        for rule in rules:
            self._append_row(rule, preview_now=False)
        self.update_preview()

    def on_apply(self, callback: Callable) -> None:
        self._callbacks.append(callback)

    # -- rows -----------------------------------------------------------------

    def _append_row(self, rule: dict, preview_now: bool = True) -> None:
        row = _RuleRow(rule, self.update_preview, self._remove_row)
        self._rows.children = (*self._rows.children, row)
        if preview_now:
            self.update_preview()

    def add_rule(self, extract: str = "", generate: str = "", **extra) -> None:
        """Append a row (what the "Add rule" button does, with values)."""
        self._append_row({"extract": extract, "generate": generate, **extra})

    def _on_add(self, _button) -> None:
        self._append_row({})

    def _remove_row(self, row) -> None:
        self._rows.children = tuple(r for r in self._rows.children if r is not row)
        self.update_preview()

    # -- sources ----------------------------------------------------------------

    def refresh_events(self) -> None:
        """Reload the captured events offered as preview sources."""
        options = [("the listener's sample", SAMPLE)]
        if self.store is not None:
            for event in self.store.events(listener=self.listener.id, status="accepted", limit=25):
                options.append((f"{event.received_at[:19]}  {event.id}", event.id))
        current = self._source.value
        self._source.options = options
        self._source.value = current if current in dict(options).values() else SAMPLE
        self.update_preview()

    def _source_document(self) -> dict:
        source = self._source.value
        if source in (None, SAMPLE):
            return sample_document(self.listener)
        event = self.store.get(source)
        if event is None:
            raise ValueError(f"event {source} is gone")
        return {"payload": event.payload, "headers": event.headers, "query": event.query}

    # -- actions ------------------------------------------------------------------

    def _checked_rules(self) -> list[dict]:
        rules = []
        for i, row in enumerate(self._rows.children):
            if not row.extract.value.strip() and not row.generate.value.strip():
                continue  # a row just added and not filled in yet
            rules.append(row.rule())
        compile_rules(rules)
        return rules

    def update_preview(self) -> None:
        """Run the rules on the chosen source and show the output (or the problem)."""
        try:
            rules = self._checked_rules()
            doc = self._source_document()
            result = preview(rules, self.mode, doc["payload"], doc["headers"], doc["query"])
        except (ConfigError, ValueError) as exc:
            self.output, self.error = None, str(exc)
            self._status.value = f"<span style='color:#b00'>{html.escape(self.error)}</span>"
            self._preview.value = ""
            return
        self.output, self.error = result.output, result.error
        if result.error:
            self._status.value = f"<span style='color:#b60'>{html.escape(result.error)}</span>"
        else:
            self._status.value = f"<span style='color:#080'>{len(rules)} rule(s) OK</span>"
        self._preview.value = ("<pre style='margin:0'>"
                               + html.escape(json.dumps(result.output, indent=2, ensure_ascii=False))
                               + "</pre>")

    def edited_listener(self):
        """A copy of the listener with the edited rules and mode (the listener is unchanged)."""
        rules = self._checked_rules()
        edited = self.listener.copy()
        edited.transforms, edited.transform_mode = rules, self.mode
        edited.validate()
        return edited

    def apply(self) -> bool:
        """Write the edited rules into the listener; False (and the reason shown) when invalid."""
        try:
            edited = self.edited_listener()
        except (ConfigError, ValueError) as exc:
            self.error = str(exc)
            self._status.value = f"<span style='color:#b00'>not applied: {html.escape(self.error)}</span>"
            return False
        self.listener.transforms, self.listener.transform_mode = edited.transforms, edited.transform_mode
        self._status.value = f"<span style='color:#080'>applied {len(edited.transforms)} rule(s)</span>"
        for callback in self._callbacks:
            callback(self.listener)
        return True

    def try_on_history(self, limit: int | None = None):
        """Dry-run the edited rules over the captured events; returns the report."""
        from ..replay import replay
        if self.store is None:
            return None
        try:
            edited = self.edited_listener()
        except (ConfigError, ValueError) as exc:
            self._history_out.value = f"<span style='color:#b00'>{html.escape(str(exc))}</span>"
            return None
        self._progress.layout.visibility = "visible"
        self._progress.value = 0

        def progress(done, total):
            self._progress.max = max(total or done, 1)
            self._progress.value = done

        self.report = replay(self.store, edited, status="accepted", dry_run=True, verify=False,
                             progress=progress, limit=limit)
        changed = self.report.changed
        rows = "".join(f"<li><code>{html.escape(r.event_id)}</code>: "
                       f"{html.escape('; '.join(str(c) for c in r.changes[:3]) or (r.error_after or ''))}</li>"
                       for r in changed[:10])
        more = f"<li>... and {len(changed) - 10} more</li>" if len(changed) > 10 else ""
        self._history_out.value = (f"<b>{html.escape(self.report.summary())}</b>"
                                   + (f"<ul>{rows}{more}</ul>" if rows else ""))
        return self.report
