"""The notebook UI: stock ipywidgets over the same core the Python API uses.

- :class:`ListenerForm`: the Create Listener panel (``form.listener`` is a real Listener);
- :class:`EventInspector`: a live table of a listener's events, test deliveries, replay;
- :class:`SignatureDebugger`: why a rejected delivery failed, step by step;
- :class:`XmlJsonPlayground`: XML in, JSON out, as you type;
- :class:`TransformEditor`: a listener's transform rules with a live preview.

A form that is given no server starts one shared background server per
kernel (:func:`shared_server`) on a free loopback port.

Nothing in ``webhook_kit`` imports this package: the core runs without ipywidgets.
"""

from __future__ import annotations

from .form import ListenerForm, shared_server, stop_shared_server
from .inspector import EventInspector

__all__ = ["EventInspector", "ListenerForm", "SignatureDebugger", "TransformEditor",
           "XmlJsonPlayground", "shared_server", "stop_shared_server"]


def __getattr__(name):
    # imported on first use: a missing optional view must not break the form
    if name == "SignatureDebugger":
        from .debugger_view import SignatureDebugger
        return SignatureDebugger
    if name == "XmlJsonPlayground":
        from .playground import XmlJsonPlayground
        return XmlJsonPlayground
    if name == "TransformEditor":
        from .transforms_editor import TransformEditor
        return TransformEditor
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
