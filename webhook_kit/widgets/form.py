"""ListenerForm: the Create Listener panel, in a notebook.

The form only collects values: everything it does goes through the same
``Listener``, ``Server`` and provider objects as the Python API. Provider
settings are drawn from what each provider declares (``Provider.settings``),
so a plugin registered a moment ago gets its form without UI code.

Sections, as in the product's panel: General (name, description), Provider,
Security, the generated URL, Sample data, and config export/import.
"""

from __future__ import annotations

import html
import json
import re
import threading
from pathlib import Path
from typing import Any

import ipywidgets as widgets

from .. import plugins, secret_values
from ..listener import ConfigError, Listener, load_config
from ..model import Setting
from ..server import Server
from ..xmljson import XmlError, xml_to_json

#: how choice values are shown (the product's wording); unknown values show as they are
CHOICE_LABELS = {"sha1": "SHA-1", "sha256": "SHA-256", "sha512": "SHA-512",
                 "hex": "Hexadecimal", "base64": "Base64"}
#: the custom provider's built-in verification types first, in the product's order
TYPE_ORDER = ("basic", "hmac", "secret_url", "token", "none")
#: a secret field may name an environment variable instead of holding the secret
ENV_PREFIX = "env:"
JSON_TYPE, XML_TYPE = "application/json", "application/xml"

_STYLE = {"description_width": "140px"}
_WIDE = widgets.Layout(width="520px")

_shared: Server | None = None
_shared_lock = threading.Lock()


def shared_server(store: Any = None) -> Server:
    """The notebook's background server, started on a free loopback port at first use.

    Every form (and inspector) that is not given a server uses this one, so all
    listeners designed in one kernel answer on one port. ``store`` is used
    only when the server is created (default: ``$WEBHOOK_KIT_DB`` or
    ``webhook_kit.db``).
    """
    global _shared
    with _shared_lock:
        if _shared is None or not _shared.running:
            _shared = Server(store=store, port=0).start()
        return _shared


def stop_shared_server() -> None:
    """Stop the shared server (the next form that needs one starts a new one)."""
    global _shared
    with _shared_lock:
        if _shared is not None:
            _shared.stop()
            _shared = None


def slug(text: str) -> str:
    """A listener id from a name: ``"New orders!"`` -> ``"new-orders"``."""
    s = re.sub(r"[^A-Za-z0-9_.\-]+", "-", text.strip().lower()).strip("-.")
    return s[:64] or "listener"


def check_sample(content_type: str, text: str, xml_options: dict | None = None) -> str:
    """The sample as pretty JSON; raises ``ValueError`` naming line and column."""
    if "xml" in content_type:
        try:
            return xml_to_json(text, xml_options)
        except XmlError as exc:
            raise ValueError(f"invalid XML: {exc}") from None
    try:
        return json.dumps(json.loads(text), indent=2)
    except json.JSONDecodeError as exc:
        raise ValueError(f"invalid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})") from None


def provider_options() -> list[tuple[str, str]]:
    """Dropdown options ``(label, name)`` of every registered provider, Custom first."""
    found = plugins.providers.all()
    rest = sorted((p for n, p in found.items() if n != "custom"),
                  key=lambda p: (p.label or p.name).lower())
    options = [("Custom", "custom")] if "custom" in found else []
    return options + [(p.label or p.name, p.name) for p in rest]


def verification_type_options() -> list[tuple[str, str]]:
    found = plugins.verification_types.all()
    names = [n for n in TYPE_ORDER if n in found] + sorted(n for n in found if n not in TYPE_ORDER)
    return [(found[n].label or n, n) for n in names]


def _error_html(widget: widgets.HTML, message: str | None) -> None:
    widget.value = (f'<span class="wk-error" style="color:#b00020">{html.escape(message)}</span>'
                    if message else "")
    widget.layout.display = None if message else "none"


def _copy_button(text: str, label: str = "Copy") -> str:
    # an inline handler works in HTML widgets (script tags would not run)
    quoted = html.escape(json.dumps(text), quote=True)
    return (f'<button class="wk-copy" title="Copy to the clipboard" '
            f'onclick="navigator.clipboard.writeText({quoted})">{label}</button>')


class SettingField(widgets.VBox):
    """One declared :class:`Setting` as a widget, with its inline error line.

    Kinds map to stock widgets: text -> Text, secret -> Password (masked),
    choice -> Dropdown, int -> IntText, bool -> Checkbox. A secret may be typed
    as ``env:NAME``; a value loaded from config that the field cannot show (an
    env reference, a rotation list) is kept until the field is edited.
    """

    def __init__(self, setting: Setting, generate_label: str | None = None, copyable: bool = False):
        self.setting = setting
        self._kept: Any = None
        common = dict(description=setting.label + (" *" if setting.required else ""),
                      style=_STYLE, layout=_WIDE, description_allow_html=False)
        kind = setting.kind
        if kind == "secret":
            self.input = widgets.Password(value="", placeholder=setting.help[:80], **common)
        elif kind == "choice":
            choices = [(CHOICE_LABELS.get(str(c), str(c)), c) for c in setting.choices]
            value = setting.default if setting.default in setting.choices else (
                setting.choices[0] if setting.choices else None)
            self.input = widgets.Dropdown(options=choices, value=value, **common)
        elif kind == "int":
            self.input = widgets.IntText(value=int(setting.default or 0), **common)
        elif kind == "bool":
            self.input = widgets.Checkbox(value=bool(setting.default), indent=True, **common)
        else:
            self.input = widgets.Text(value=str(setting.default or ""), placeholder=setting.help[:80],
                                      **common)
        self.input.tooltip = setting.help or None
        self.input.add_class(f"wk-setting-{setting.name}")
        self.error = widgets.HTML()
        _error_html(self.error, None)
        row = [self.input]
        self.generate: widgets.Button | None = None
        if generate_label:
            self.generate = widgets.Button(description=generate_label, icon="refresh",
                                           layout=widgets.Layout(width="auto"))
            self.generate.on_click(lambda _: self.new_token())
            row.append(self.generate)
        self.copy: widgets.HTML | None = None
        if copyable:  # a generated token must reach the sender: offer to copy it
            self.copy = widgets.HTML()
            self.input.observe(self._on_value, names="value")
            row.append(self.copy)
        super().__init__(children=[widgets.HBox(row), self.error])

    def _on_value(self, change) -> None:
        self.copy.value = _copy_button(change["new"]) if change["new"] else ""

    def new_token(self) -> str:
        """Fill the field with a fresh URL-safe token and return it."""
        token = secret_values.new_token()
        self._kept = None
        self.input.value = token
        return token

    def set(self, value: Any) -> None:
        """Show a configured value (``None`` resets the declared default)."""
        s = self.setting
        self._kept = None
        if s.kind == "secret":
            if isinstance(value, str) or value is None:
                self.input.value = value or ""
                self.input.placeholder = s.help[:80]
            else:  # env reference or rotation list: keep it, say what it is
                self._kept = value
                self.input.value = ""
                self.input.placeholder = f"(from config: {json.dumps(secret_values.mask(value))})"
        elif s.kind == "choice":
            if value in s.choices:
                self.input.value = value
        elif s.kind == "int":
            self.input.value = int(value if value is not None else (s.default or 0))
        elif s.kind == "bool":
            self.input.value = bool(value if value is not None else s.default)
        else:
            self.input.value = "" if value is None else str(value)

    def get(self) -> Any:
        """The value for the listener's settings (``None`` leaves the default)."""
        value = self.input.value
        if self.setting.kind == "secret":
            if not value:
                return self._kept
            if value.startswith(ENV_PREFIX) and len(value) > len(ENV_PREFIX):
                return {"env": value[len(ENV_PREFIX):].strip()}
            return value
        if self.setting.kind == "text":
            return value if value != "" else None
        return value

    def show_error(self, message: str | None) -> None:
        _error_html(self.error, message)


class ListenerForm(widgets.VBox):
    """The Create Listener panel; ``form.listener`` is a real :class:`Listener`.

    ``server``: where "Generate URL" registers the listener (default: the
    kernel's :func:`shared_server`). ``listener``: a Listener (or its dict) to
    edit. Everything the buttons do is also a method: ``generate_url()``,
    ``refresh_providers()``, ``set_sample()``, ``export_config()``,
    ``load_config()``, ``use_event_as_sample()``.
    """

    def __init__(self, listener: Listener | dict | None = None, *, server: Server | None = None,
                 store: Any = None):
        self._server = server
        self._store_location = store
        self._loading = False
        self._generation = -1
        self._published_id: str | None = None
        self._listener: Listener | None = None
        self._cache: dict[tuple, dict] = {}
        self.fields: dict[str, SettingField] = {}
        self._sample_type = JSON_TYPE

        # -- General
        self.name = widgets.Text(description="Name *", placeholder="Orders from the shop",
                                 style=_STYLE, layout=_WIDE)
        self.description = widgets.Textarea(description="Description", rows=2, style=_STYLE,
                                            layout=_WIDE)
        self.listener_id = widgets.Text(description="ID", placeholder="from the name",
                                        tooltip="part of the URL: /hooks/{id}", style=_STYLE,
                                        layout=_WIDE)
        self.name_error, self.id_error = widgets.HTML(), widgets.HTML()

        # -- Provider
        self.provider = widgets.Dropdown(description="Provider", options=provider_options(),
                                         value="custom", style=_STYLE, layout=_WIDE)
        self.refresh_button = widgets.Button(icon="refresh", tooltip="Reload the provider list "
                                             "(shows providers registered since)",
                                             layout=widgets.Layout(width="36px"))
        self.provider_error = widgets.HTML()
        self.provider_summary = widgets.HTML()

        # -- Security
        self.verification_type = widgets.Dropdown(description="Verification type",
                                                  options=verification_type_options(),
                                                  value="none", style=_STYLE, layout=_WIDE)
        self.security = widgets.VBox()
        self.type_error = widgets.HTML()

        # -- URL
        self.generate_button = widgets.Button(description="Generate URL", button_style="primary",
                                              icon="link")
        self.url = widgets.Text(description="URL", placeholder="click Generate URL",
                                style={"description_width": "40px"},
                                layout=widgets.Layout(width="560px"))
        self.url.add_class("wk-url")
        self.url_copy = widgets.HTML()
        self.url_status = widgets.HTML()

        # -- Sample data
        self.sample_format = widgets.ToggleButtons(options=[("JSON", JSON_TYPE), ("XML", XML_TYPE)],
                                                   value=JSON_TYPE)
        self.sample_text = widgets.Textarea(placeholder='{"id": 1, "type": "order.created"}',
                                            rows=10, layout=widgets.Layout(width="420px"))
        self.sample_text.add_class("wk-sample-input")
        self.sample_json = widgets.HTML(layout=widgets.Layout(width="420px", max_height="260px",
                                                              overflow="auto"))
        self.sample_json.add_class("wk-sample-json")
        self.sample_error = widgets.HTML()
        self.event_choice = widgets.Dropdown(description="Received event", options=[],
                                             style=_STYLE, layout=_WIDE)
        self.use_event_button = widgets.Button(description="Use as sample",
                                               tooltip="Use a received event's body as sample data")

        # -- Transform rules (the editor is built on demand: it needs a valid listener)
        self.transforms_button = widgets.Button(description="Edit transform rules", icon="random",
                                                tooltip="Rules with a live preview on the sample "
                                                        "and on received events")
        self.transforms_area = widgets.VBox()
        self.transforms_editor = None

        # -- Export / load
        self.show_secrets = widgets.Checkbox(description="Show secrets", value=False, indent=False)
        self.export_button = widgets.Button(description="Export config", icon="download")
        self.load_button = widgets.Button(description="Load config", icon="upload")
        self.config_text = widgets.Textarea(rows=8, layout=widgets.Layout(width="640px"),
                                            placeholder='{"listeners": [ ... ]}')
        self.config_error = widgets.HTML()
        self.general_error = widgets.HTML()
        for w in (self.name_error, self.id_error, self.provider_error, self.type_error,
                  self.sample_error, self.config_error, self.general_error, self.url_status):
            _error_html(w, None)

        # wiring
        self.refresh_button.on_click(lambda _: self.refresh_providers())
        self.provider.observe(self._on_provider, names="value")
        self.verification_type.observe(self._on_type, names="value")
        for w in (self.name, self.description, self.listener_id):
            w.observe(self._on_change, names="value")
        self.name.observe(self._on_name, names="value")
        self.sample_format.observe(self._on_sample_format, names="value")
        self.sample_text.observe(self._on_sample, names="value")
        self.generate_button.on_click(lambda _: self.generate_url())
        self.use_event_button.on_click(lambda _: self.use_event_as_sample())
        self.transforms_button.on_click(lambda _: self.edit_transforms())
        self.export_button.on_click(lambda _: self._export_clicked())
        self.load_button.on_click(lambda _: self._load_clicked())

        self._generation = plugins.pm.generation
        self._security_key: tuple | None = None
        self._draw_security()

        def section(title):
            return widgets.HTML(f'<h4 style="margin:12px 0 4px">{title}</h4>')

        super().__init__(children=[
            widgets.HTML('<h3 style="margin:4px 0">Create listener</h3>'),
            section("General"), self.name, self.name_error, self.description,
            self.listener_id, self.id_error,
            section("Provider"), widgets.HBox([self.provider, self.refresh_button]),
            self.provider_summary, self.provider_error,
            section("Security"), self.security,
            section("URL"), widgets.HBox([self.generate_button, self.url, self.url_copy]),
            self.url_status,
            section("Sample data"), self.sample_format,
            widgets.HBox([self.sample_text, self.sample_json]), self.sample_error,
            widgets.HBox([self.event_choice, self.use_event_button]),
            section("Transform rules"), self.transforms_button, self.transforms_area,
            section("Config"), widgets.HBox([self.export_button, self.show_secrets,
                                             self.load_button]),
            self.config_text, self.config_error, self.general_error,
        ])
        self.add_class("wk-listener-form")
        if listener is not None:
            self.load_listener(listener)
        self._on_sample()

    # -- display -----------------------------------------------------------

    def _repr_mimebundle_(self, **kwargs):
        # drawn (again): pick up providers registered since the form was made
        self.refresh_providers()
        return super()._repr_mimebundle_(**kwargs)

    # -- providers and the security section ----------------------------------

    def refresh_providers(self) -> list[str]:
        """Re-read the registered providers (and verification types); returns their names."""
        self._generation = plugins.pm.generation
        options = provider_options()
        names = [n for _, n in options]
        current = self.provider.value
        self._loading, was_loading = True, self._loading
        try:
            if list(self.provider.options) != options:
                self.provider.options = options
                self.provider.value = current if current in names else "custom"
            types = verification_type_options()
            if list(self.verification_type.options) != types:
                t = self.verification_type.value
                self.verification_type.options = types
                self.verification_type.value = t if t in [n for _, n in types] else "none"
        finally:
            self._loading = was_loading
        if current not in names:
            _error_html(self.provider_error, f"provider {current!r} is no longer registered")
        self._draw_security()
        return names

    def _maybe_refresh(self) -> None:
        if plugins.pm.generation != self._generation:
            self.refresh_providers()

    def _key(self) -> tuple:
        provider = self.provider.value
        return (provider, self.verification_type.value if provider == "custom" else None)

    def _draw_security(self, force: bool = False) -> None:
        """(Re)build the security fields for the chosen provider / verification type."""
        key = self._key()
        if key == self._security_key and not force:
            return
        if self._security_key is not None and self.fields:
            self._cache[self._security_key] = {n: f.get() for n, f in self.fields.items()}
        self._security_key = key
        provider_name, type_name = key
        provider = plugins.providers.get(provider_name)
        rows: list[widgets.Widget] = []
        if provider_name == "custom":
            rows += [self.verification_type, self.type_error]
            scheme = plugins.verification_types.get(type_name or "none")
            declared = tuple(scheme.settings) if scheme else ()
            summary = scheme.summary if scheme else ""
        else:
            declared = tuple(provider.settings) if provider else ()
            summary = provider.summary if provider else ""
        self.provider_summary.value = (f'<span style="color:#555">{html.escape(summary)}</span>'
                                       if summary else "")
        for field in self.fields.values():
            field.close()
        self.fields = {}
        for setting in declared:
            label = None
            if setting.kind == "secret":
                label = {"secret_url": "Generate URL token", "token": "Generate token"}.get(
                    type_name if provider_name == "custom" else "", "Generate")
            field = SettingField(setting, label, copyable=label != "Generate")
            field.input.observe(self._on_change, names="value")
            self.fields[setting.name] = field
            rows.append(field)
        if any(s.kind == "secret" for s in declared):
            rows.append(widgets.HTML('<span style="color:#555;font-size:90%">Secrets are masked. '
                                     'Type <code>env:NAME</code> to read one from the environment '
                                     'variable NAME instead of storing it.</span>'))
        if not declared:
            rows.append(widgets.HTML('<span style="color:#555">No settings: every request is '
                                     'accepted (for local prototyping only).</span>'
                                     if provider_name == "custom" else
                                     '<span style="color:#555">This provider has no settings.</span>'))
        cached = self._cache.get(key, {})
        for name, value in cached.items():
            if name in self.fields and value is not None:
                self.fields[name].set(value)
        if key == ("custom", "secret_url") and "token" in self.fields \
                and self.fields["token"].get() is None:
            # as in the product: choosing Secret URL gives the URL its token at once
            was, self._loading = self._loading, True
            try:
                self.fields["token"].new_token()
            finally:
                self._loading = was
        self.security.children = rows

    def field(self, name: str) -> SettingField:
        """The field of a security setting by its declared name (``secret``, ``header``...)."""
        return self.fields[name]

    # -- events ------------------------------------------------------------

    def _on_name(self, change) -> None:
        self.listener_id.placeholder = slug(change["new"]) if change["new"].strip() else "from the name"

    def _on_provider(self, change) -> None:
        if self._loading:
            return
        _error_html(self.provider_error, None)
        self._draw_security()
        self._on_change()

    def _on_type(self, change) -> None:
        if self._loading:
            return
        self._draw_security()
        self._on_change()

    def _on_change(self, change=None) -> None:
        if self._loading:
            return
        self._maybe_refresh()
        listener = self._build(show_errors=True)
        if listener is not None and self._published_id is not None:
            self._publish(listener)

    def _on_sample_format(self, change) -> None:
        self._sample_type = change["new"]
        self._on_sample()

    def _on_sample(self, change=None) -> None:
        text = self.sample_text.value
        if not text.strip():
            self.sample_json.value = ""
            _error_html(self.sample_error, None)
        else:
            try:
                pretty = check_sample(self._sample_type, text, self._xml_options())
            except ValueError as exc:
                _error_html(self.sample_error, str(exc))
                self.sample_json.value = ""
            else:
                _error_html(self.sample_error, None)
                title = "as JSON" if "xml" in self._sample_type else "parsed"
                self.sample_json.value = (f'<div style="color:#555">{title}</div>'
                                          f'<pre style="margin:0;line-height:1.35">{html.escape(pretty)}</pre>')
        if change is not None:
            self._on_change()

    def _xml_options(self) -> dict:
        provider = plugins.providers.get(self.provider.value)
        return dict(getattr(provider, "parse_options", {}) or {})

    # -- building the listener -----------------------------------------------

    def verification_settings(self) -> dict:
        """The ``verification`` dict the fields describe (empty fields leave defaults)."""
        out: dict[str, Any] = {}
        if self.provider.value == "custom":
            out["type"] = self.verification_type.value
        for name, field in self.fields.items():
            value = field.get()
            if value is not None:
                out[name] = value
        return out

    def to_dict(self) -> dict:
        """The listener as config (``Listener.to_dict`` schema), straight from the fields."""
        name = self.name.value.strip()
        d: dict[str, Any] = {"id": self.listener_id.value.strip() or slug(name),
                             "name": name, "provider": self.provider.value,
                             "verification": self.verification_settings()}
        if self.description.value.strip():
            d["description"] = self.description.value.strip()
        if self.sample_text.value.strip():
            d["sample"] = {"content_type": self._sample_type, "body": self.sample_text.value}
        if self._listener is not None:  # keep what the form does not edit (transforms, flows...)
            extra = self._listener.to_dict()
            for key in ("max_body_bytes", "keep_rejected", "transforms", "transform_mode",
                        "flows", "response", "xml"):
                if key in extra:
                    d[key] = extra[key]
        return d

    def _clear_errors(self) -> None:
        for w in (self.name_error, self.id_error, self.provider_error, self.type_error,
                  self.general_error):
            _error_html(w, None)
        for f in self.fields.values():
            f.show_error(None)

    def _show_error(self, field: str, message: str) -> None:
        field = field.split(".", 1)[1] if field.startswith("listeners[") else field
        if field == "name":
            _error_html(self.name_error, message)
        elif field == "id":
            _error_html(self.id_error, f"ID {message}")
        elif field == "provider":
            _error_html(self.provider_error, message)
        elif field == "verification.type":
            _error_html(self.type_error, message)
        elif field.startswith("verification.") and field.split(".", 1)[1] in self.fields:
            self.fields[field.split(".", 1)[1]].show_error(message)
        elif field == "sample":
            _error_html(self.sample_error, message)
        else:
            _error_html(self.general_error, f"{field}: {message}" if field else message)

    def errors(self) -> dict[str, str]:
        """``{field: message}`` for what is wrong now (empty when the listener is valid)."""
        try:
            self._make()
        except ConfigError as exc:
            return {exc.field: exc.message}
        return {}

    def _make(self) -> Listener:
        d = self.to_dict()
        if not d["name"]:
            raise ConfigError("name", "is required")
        if "sample" in d:
            try:
                check_sample(self._sample_type, d["sample"]["body"], self._xml_options())
            except ValueError as exc:
                raise ConfigError("sample", str(exc)) from None
        return Listener.from_dict(d)

    def _build(self, show_errors: bool) -> Listener | None:
        try:
            listener = self._make()
        except ConfigError as exc:
            if show_errors:
                self._clear_errors()
                self._show_error(exc.field, exc.message)
            return None
        except Exception as exc:  # a plugin's check must not put a traceback in the form
            if show_errors:
                self._clear_errors()
                _error_html(self.general_error, f"{type(exc).__name__}: {exc}")
            return None
        if show_errors:
            self._clear_errors()
        if self._listener is not None and self._listener.to_dict() == listener.to_dict():
            return self._listener
        self._listener = listener
        return listener

    @property
    def listener(self) -> Listener:
        """The :class:`Listener` the form describes (raises :class:`ConfigError` when invalid).

        After "Generate URL" it is the very object the server answers with.
        """
        listener = self._build(show_errors=True)
        if listener is None:
            self._make()  # raises the ConfigError shown in the form
        return listener

    # -- transform rules ---------------------------------------------------------

    def edit_transforms(self):
        """Show a :class:`TransformEditor` for the listener; "Apply" saves its rules here.

        The preview runs on the form's sample data and on received events. When
        the URL was generated, applying updates the running listener at once.
        Returns the editor (None, with the reason shown, when the form is invalid).
        """
        from .transforms_editor import TransformEditor
        listener = self._build(show_errors=True)
        if listener is None:
            return None
        store = self._server.store if self._server is not None else None
        editor = TransformEditor(listener, store=store)
        editor.on_apply(self._transforms_applied)
        self.transforms_editor = editor
        self.transforms_area.children = (editor,)
        return editor

    def _transforms_applied(self, listener: Listener) -> None:
        self._listener = listener
        if self._published_id == listener.id and self._server is not None:
            self._publish(listener, self._server)

    # -- the server and the URL ----------------------------------------------

    @property
    def server(self) -> Server:
        """The server "Generate URL" uses (the shared one unless one was given)."""
        if self._server is None:
            self._server = shared_server(self._store_location)
        elif not self._server.running:
            self._server.start()
        return self._server

    def generate_url(self) -> str | None:
        """Register (or update) the listener on the server and return its URL.

        Starts the server when needed; for a secret URL without a token, one
        is generated first (as the product does). Returns None, with the
        messages shown inline, when the form is not valid.
        """
        self._maybe_refresh()
        if (self.provider.value == "custom" and self.verification_type.value == "secret_url"
                and "token" in self.fields and self.fields["token"].get() is None):
            self._loading = True
            try:
                self.fields["token"].new_token()
            finally:
                self._loading = False
        listener = self._build(show_errors=True)
        if listener is None:
            _error_html(self.url_status, "fix the fields marked above, then generate the URL")
            return None
        try:
            server = self.server
        except OSError as exc:
            _error_html(self.url_status, f"cannot start the server: {exc}")
            return None
        return self._publish(listener, server)

    def _publish(self, listener: Listener, server: Server | None = None) -> str | None:
        server = server or self.server
        try:
            if self._published_id and self._published_id != listener.id:
                server.remove(self._published_id)
            server.add(listener)
        except ConfigError as exc:
            self._show_error(exc.field, exc.message)
            return None
        self._published_id = listener.id
        url = server.url_for(listener)
        self.url.value = url
        self.url_copy.value = _copy_button(url)
        _error_html(self.url_status, None)
        self.refresh_events()
        return url

    @property
    def url_value(self) -> str | None:
        return self.url.value or None

    # -- sample data ---------------------------------------------------------

    def set_sample(self, content_type: str, body_text: str) -> None:
        """Use ``body_text`` as sample data (JSON or XML, by ``content_type``)."""
        if isinstance(body_text, bytes):
            body_text = body_text.decode("utf-8", "replace")
        family = XML_TYPE if "xml" in (content_type or "").lower() else JSON_TYPE
        self._loading = True
        try:
            self.sample_format.value = family
        finally:
            self._loading = False
        self._sample_type = family
        if self.sample_text.value == body_text:
            self._on_sample({"new": body_text})
        else:
            self.sample_text.value = body_text

    def refresh_events(self) -> None:
        """Reload the list of received events offered as sample data."""
        lid = self._published_id
        if lid is None or self._server is None:
            self.event_choice.options = []
            return
        events = self._server.store.events(listener=lid, status=("accepted", "duplicate"), limit=20)
        self.event_choice.options = [(f"{e.received_at[11:19]} {e.content_type or '?'} "
                                      f"{len(e.body)} B  {e.id}", e.id) for e in events]

    def use_event_as_sample(self, event: Any = None) -> bool:
        """Copy a received event's body into the sample (default: the chosen or newest one)."""
        if event is None or isinstance(event, str):
            self.refresh_events()
            event_id = event or self.event_choice.value
            if event_id is None and self.event_choice.options:
                event_id = self.event_choice.options[0][1]
            event = self._server.store.get(event_id) if (event_id and self._server) else None
        if event is None:
            _error_html(self.sample_error, "no received event yet: send a delivery first")
            return False
        try:
            text = event.body.decode("utf-8")
        except UnicodeDecodeError:
            _error_html(self.sample_error, "that event's body is not text")
            return False
        self.set_sample(event.content_type or JSON_TYPE, text)
        return True

    # -- config export / load ------------------------------------------------

    def export_config(self, show_secrets: bool = False) -> dict:
        """``{"listeners": [...]}`` for this listener; secrets masked unless asked."""
        listener = self.listener
        return {"listeners": [listener.to_dict(show_secrets=show_secrets)]}

    def export_json(self, show_secrets: bool = False) -> str:
        return json.dumps(self.export_config(show_secrets), indent=2)

    def _export_clicked(self) -> None:
        try:
            self.config_text.value = self.export_json(self.show_secrets.value)
            _error_html(self.config_error, None)
        except ConfigError as exc:
            _error_html(self.config_error, f"cannot export yet: {exc}")

    def _load_clicked(self) -> None:
        self.load_config(self.config_text.value)

    def load_config(self, source: Any, listener_id: str | None = None) -> bool:
        """Fill the form from config (dict, JSON text or file path); False with a message if invalid."""
        try:
            if isinstance(source, Listener):
                listeners = [source]
            elif isinstance(source, dict) and "listeners" not in source:
                listeners = [Listener.from_dict(source)]
            elif isinstance(source, str) and source.lstrip().startswith("{"):
                try:
                    data = json.loads(source)
                except json.JSONDecodeError as exc:
                    raise ConfigError("", f"invalid JSON at line {exc.lineno}, column {exc.colno}: "
                                          f"{exc.msg}") from None
                listeners = (load_config(data) if isinstance(data, dict) and "listeners" in data
                             else [Listener.from_dict(data)])
            else:
                listeners = load_config(source if isinstance(source, dict) else Path(source))
        except ConfigError as exc:
            _error_html(self.config_error, str(exc))
            return False
        chosen = next((l for l in listeners if l.id == listener_id), None) if listener_id else (
            listeners[0] if listeners else None)
        if chosen is None:
            _error_html(self.config_error, "no such listener in that config")
            return False
        _error_html(self.config_error, None)
        self.load_listener(chosen)
        return True

    def load_listener(self, listener: Listener | dict) -> None:
        """Show an existing listener in the form (config masked secrets stay empty)."""
        if isinstance(listener, dict):
            listener = Listener.from_dict(listener)
        self.refresh_providers()
        self._loading = True
        try:
            self.name.value = listener.name
            self.description.value = listener.description or ""
            self.listener_id.value = listener.id
            provider = plugins.providers.get(listener.provider)
            # an alias in config (svix for standard-webhooks) shows as the provider it names
            self.provider.value = provider.name if provider is not None else listener.provider
            if self.provider.value == "custom":
                self.verification_type.value = listener.verification.get("type") or "none"
            self._draw_security()
            for name, field in self.fields.items():
                value = listener.verification.get(name)
                if value == secret_values.MASK or (isinstance(value, list)
                                                   and secret_values.MASK in value):
                    value = None  # a masked export: the secret must be typed again
                field.set(value)
            sample = listener.sample or {}
            body = sample.get("body")
            if body is not None and not isinstance(body, str):
                body = json.dumps(body, indent=2)
            if body is not None:
                self._sample_type = XML_TYPE if "xml" in (sample.get("content_type") or "") else JSON_TYPE
                self.sample_format.value = self._sample_type
                self.sample_text.value = body
        finally:
            self._loading = False
        self._listener = listener
        self._on_sample()
        self._on_change()
