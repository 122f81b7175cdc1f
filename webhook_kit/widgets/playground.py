"""XmlJsonPlayground: paste XML, see the JSON a listener would store, as you type.

The conversion is :func:`webhook_kit.xmljson.xml_to_json` with
:class:`~webhook_kit.xmljson.XmlOptions`, the same function and options as
``webhook-kit xml2json`` and the listeners' XML parser, so what the playground
shows is what a listener stores. Malformed XML shows its line and column
inline; "JSON -> XML" converts back where the keys are valid XML names; "Use
as sample data" hands the XML to a listener form (``form.set_sample``) or a
callback. Stock ipywidgets only.
"""

from __future__ import annotations

import html
import json
from typing import Callable

import ipywidgets as widgets

from ..xmljson import XmlError, XmlOptions, data_to_xml, xml_to_json

XML_CONTENT_TYPE = "application/xml"


# -- plain functions (tested without widgets) -----------------------------------------

def parse_names(text: str) -> tuple[str, ...]:
    """``"Notification, item"`` (commas or new lines) -> ``("Notification", "item")``."""
    return tuple(dict.fromkeys(n.strip() for n in text.replace("\n", ",").split(",") if n.strip()))


def parse_namespace_map(text: str) -> dict[str, str]:
    """``URI=short`` lines -> ``{URI: short}`` (an empty short drops the namespace).

    Raises ValueError naming the line when one has no ``=``. The URI is what
    precedes the last ``=``, as in ``xml2json --namespace``.
    """
    out: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        uri, sep, short = line.rpartition("=")
        if not sep or not uri.strip():
            raise ValueError(f"namespace line {number}: write URI=short, got {line!r}")
        out[uri.strip()] = short.strip()
    return out


def build_options(*, attr_prefix: str = "@", text_key: str = "#text", force_list: str = "",
                  process_namespaces: bool = False, namespace_map: str = "",
                  strip_whitespace: bool = True) -> XmlOptions:
    """XmlOptions from the playground's fields (the same rules as the CLI's flags).

    A namespace map implies namespace processing, as ``--namespace`` implies
    ``--namespaces``. Raises ValueError for an unusable field.
    """
    if not attr_prefix:
        raise ValueError("the attribute prefix cannot be empty")
    if not text_key:
        raise ValueError("the text key cannot be empty")
    namespaces = parse_namespace_map(namespace_map)
    return XmlOptions(attr_prefix=attr_prefix, cdata_key=text_key,
                      force_list=parse_names(force_list),
                      process_namespaces=bool(process_namespaces or namespaces),
                      namespaces=namespaces, strip_whitespace=strip_whitespace)


def convert(xml: str, options: XmlOptions, indent: int | None = 2) -> tuple[str, str | None]:
    """``(json_text, None)``, or ``("", message)`` naming line and column when the XML is bad."""
    if not xml.strip():
        return "", None
    try:
        return xml_to_json(xml, options, indent=indent), None
    except XmlError as exc:
        return "", str(exc)


def back_to_xml(json_text: str, options: XmlOptions) -> tuple[str, str | None]:
    """``(xml_text, None)``, or ``("", message)`` when the JSON cannot become XML."""
    try:
        data = json.loads(json_text)
    except ValueError as exc:
        return "", f"invalid JSON: {exc}"
    try:
        return data_to_xml(data, options), None
    except ValueError as exc:
        return "", str(exc)


def error_html(message: str) -> str:
    return f'<span style="color:#cf222e">&#10008; {html.escape(message)}</span>'


# -- the widget ------------------------------------------------------------------

class XmlJsonPlayground(widgets.VBox):
    """XML in, JSON out, updated as you type; options as in ``webhook-kit xml2json``.

    ``form`` is any object with ``set_sample(content_type, body_text)`` (the
    listener form); ``on_use(content_type, body_text)`` is called too. Both
    receive the XML exactly as typed: the listener converts it with its own
    XML options (see :attr:`options` for the ones chosen here).
    """

    def __init__(self, xml: str = "", *, form=None, on_use: Callable[[str, str], None] | None = None,
                 force_list: str = "", namespace_map: str = "", **kwargs):
        self._form = form
        self._on_use_callback = on_use
        self._options = XmlOptions()
        wide = widgets.Layout(width="100%")

        self._xml = widgets.Textarea(value=xml, placeholder="Paste XML here", continuous_update=True,
                                     layout=widgets.Layout(width="100%", height="16em"))
        self._attr_prefix = widgets.Text(value="@", description="Attr prefix")
        self._text_key = widgets.Text(value="#text", description="Text key")
        self._force_list = widgets.Text(value=force_list, description="Force list",
                                        placeholder="Notification, item")
        self._strip = widgets.Checkbox(value=True, description="Strip whitespace", indent=False)
        self._namespaces = widgets.Checkbox(value=bool(namespace_map), description="Process namespaces",
                                            indent=False)
        self._namespace_map = widgets.Textarea(value=namespace_map, description="Namespaces",
                                               placeholder="http://soap.sforce.com/2005/09/outbound=sf",
                                               layout=widgets.Layout(width="100%", height="5em"))
        self._status = widgets.HTML()
        self._json = widgets.Textarea(placeholder="JSON appears here", layout=widgets.Layout(width="100%", height="16em"))
        self._to_xml = widgets.Button(description="JSON \u2192 XML", tooltip="Convert the JSON back to XML")
        self._use = widgets.Button(description="Use as sample data", button_style="primary",
                                   disabled=form is None and on_use is None,
                                   tooltip="Give this XML to the listener form as its sample")

        for field in (self._xml, self._attr_prefix, self._text_key, self._force_list, self._strip,
                      self._namespaces, self._namespace_map):
            field.observe(self._on_change, names="value")
        self._to_xml.on_click(self._on_to_xml)
        self._use.on_click(self._on_use)

        options_box = widgets.VBox([
            widgets.HBox([self._attr_prefix, self._text_key, self._force_list]),
            widgets.HBox([self._strip, self._namespaces]),
            self._namespace_map,
        ])
        super().__init__(children=[
            widgets.HTML("<b>XML</b>"), self._xml, options_box, self._status,
            widgets.HTML("<b>JSON</b>"), self._json, widgets.HBox([self._to_xml, self._use]),
        ], layout=kwargs.pop("layout", wide), **kwargs)
        self._update()

    # -- state a caller may read or set ---------------------------------------------

    @property
    def xml(self) -> str:
        return self._xml.value

    @xml.setter
    def xml(self, text: str) -> None:
        self._xml.value = text

    @property
    def json(self) -> str:
        """The JSON shown (while the XML is malformed: that of the last well-formed XML)."""
        return self._json.value

    @property
    def options(self) -> XmlOptions:
        """The conversion options chosen (usable as a listener's ``xml`` settings: ``.to_dict()``)."""
        return self._options

    @property
    def error(self) -> str | None:
        """The message shown for malformed XML or unusable options, else None."""
        return self._error

    # -- handlers --------------------------------------------------------------------

    def _on_change(self, _change=None) -> None:
        self._update()

    def _on_to_xml(self, _button=None) -> None:
        xml, error = back_to_xml(self._json.value, self._options)
        if error:
            self._error = error
            self._status.value = error_html(f"JSON \u2192 XML: {error}")
            return
        self._xml.value = xml  # observed: the JSON is converted again from it

    def _on_use(self, _button=None) -> None:
        if self._error or not self._xml.value.strip():
            self._status.value = error_html("fix the XML first: only well-formed XML can be a sample")
            return
        if self._form is not None:
            self._form.set_sample(XML_CONTENT_TYPE, self._xml.value)
        if self._on_use_callback is not None:
            self._on_use_callback(XML_CONTENT_TYPE, self._xml.value)
        self._status.value = '<span style="color:#1a7f37">&#10004; used as the sample data</span>'

    # -- conversion --------------------------------------------------------------------

    def _update(self) -> None:
        self._error: str | None = None
        try:
            self._options = build_options(
                attr_prefix=self._attr_prefix.value, text_key=self._text_key.value,
                force_list=self._force_list.value, process_namespaces=self._namespaces.value,
                namespace_map=self._namespace_map.value, strip_whitespace=self._strip.value)
        except ValueError as exc:
            self._error = str(exc)
            self._status.value = error_html(str(exc))
            return
        text, error = convert(self._xml.value, self._options)
        self._error = error
        if error:
            # the last good JSON stays (typing passes through malformed states),
            # and the message says it is stale
            self._status.value = error_html(f"invalid XML: {error}" + (
                " (the JSON below is from the last well-formed XML)" if self._json.value else ""))
            return
        self._json.value = text
        self._status.value = ""
