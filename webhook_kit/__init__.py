"""webhook_kit: design, test and run webhook listeners from Python, notebook first.

Quick start::

    import webhook_kit as wk
    server = wk.Server(store="events.db", port=0).start()
    orders = server.add(wk.Listener("orders", verification={
        "type": "hmac", "algorithm": "sha256", "encoding": "hex",
        "secret": {"env": "ORDERS_SECRET"}, "header": "X-Signature"}))
    print(server.url_for(orders))
    wk.send(orders, {"id": 1}, url=server.url_for(orders))
    server.store.events(listener="orders")

The UI lives in ``webhook_kit.widgets`` and is never imported from here.
"""

import importlib

from .hookspecs import hookimpl
from .listener import ConfigError, Listener, load_config, save_config
from .model import Event, Headers, Request, Response, Sample, Setting, Verdict
from .providers.base import HmacHeaderProvider, Provider
from .store import EventStore, SQLiteStore, StoreUnavailable, open_store
from .verification import VerificationType
from . import plugins
from .plugins import register, unregister

__version__ = "0.1.0"

#: loaded on first use: Tornado and http.client are most of the import time,
#: and a script that only reads the event store needs neither
_LAZY = {"Server": "server", "Delivery": "client", "send": "client", "sign_delivery": "client"}


def __getattr__(name):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'webhook_kit' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY))

__all__ = [
    "ConfigError", "Delivery", "Event", "EventStore", "Headers", "HmacHeaderProvider",
    "Listener", "Provider", "Request", "Response", "SQLiteStore", "Sample", "Server",
    "Setting", "StoreUnavailable", "VerificationType", "Verdict", "hookimpl", "load_config",
    "open_store", "plugins", "register", "save_config", "send", "sign_delivery", "unregister",
]
