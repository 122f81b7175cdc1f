"""The plugin manager: built-ins, installed entry points, run-time plugins.

``pm`` is the process-wide manager. Built-in modules are registered exactly
like outside plugins (by object, through the same hooks), then every
distribution's ``webhook_kit`` entry points are loaded; both on first use of
a registry or of ``pm.hook`` (:func:`ensure_loaded`), so importing the kit
stays cheap. ``register(obj)``
adds a plugin at run time: lookups (``providers()``, ``parsers()``...) are
cached per *generation*, and every register/unregister starts a new one, so a
running server sees a plugin registered from a notebook cell at once.
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
import threading
from typing import Any, Callable

import pluggy

from . import hookspecs

log = logging.getLogger("webhook_kit.plugins")

#: built-in plugin modules besides the providers package, registered through
#: the same hooks as outside plugins
BUILTIN_MODULES = (
    "webhook_kit.verification",
    "webhook_kit.parsers.builtin",
    "webhook_kit.flows",
    "webhook_kit.store",
)


def builtin_modules() -> list[str]:
    """The core modules plus every provider module (one module per provider)."""
    import pkgutil

    from . import providers as providers_pkg
    names = list(BUILTIN_MODULES)
    for info in sorted(pkgutil.iter_modules(providers_pkg.__path__), key=lambda i: i.name):
        if info.name != "base" and not info.name.startswith("_"):
            names.append(f"webhook_kit.providers.{info.name}")
    return names


class PluginError(Exception):
    """A plugin registered something invalid (duplicate name, wrong type)."""


#: built-ins and entry points registered; loading now; the manager is set up
_loaded = False
_loading = False
_armed = False
_load_lock = threading.RLock()


def ensure_loaded() -> None:
    """Register the built-ins, then the installed entry points, once per process."""
    global _loaded, _loading
    if _loaded or not _armed:
        return
    with _load_lock:
        if _loaded or _loading:  # done, or re-entered by the loading itself
            return
        _loading = True
        try:
            _load_builtins()
            _load_entry_points()
        finally:
            _loaded, _loading = True, False


class WebhookKitPluginManager(pluggy.PluginManager):
    """A pluggy manager that counts changes so that registries can refresh.

    Built-ins and entry points are loaded on first use (:func:`ensure_loaded`),
    not at import: scanning every installed distribution for entry points and
    importing every provider is most of what ``import webhook_kit`` would
    otherwise cost. Reaching ``pm.hook`` or asking which plugins are there
    loads them.
    """

    def __init__(self):
        super().__init__("webhook_kit")
        self.generation = 0
        self._lock = threading.RLock()

    @property
    def hook(self):
        ensure_loaded()
        return self._hook_relay

    @hook.setter
    def hook(self, relay):  # pluggy's __init__ sets it
        self._hook_relay = relay

    def get_plugins(self):
        ensure_loaded()
        return super().get_plugins()

    def get_plugin(self, name):
        ensure_loaded()
        return super().get_plugin(name)

    def has_plugin(self, name):
        ensure_loaded()
        return super().has_plugin(name)

    def is_registered(self, plugin):
        ensure_loaded()
        return super().is_registered(plugin)

    def list_name_plugin(self):
        ensure_loaded()
        return super().list_name_plugin()

    def list_plugin_distinfo(self):
        ensure_loaded()
        return super().list_plugin_distinfo()

    def register(self, plugin, name=None):
        with self._lock:
            result = super().register(plugin, name)
            self.generation += 1
            return result

    def unregister(self, plugin=None, name=None):
        with self._lock:
            result = super().unregister(plugin, name)
            self.generation += 1
            return result


pm = WebhookKitPluginManager()
pm.add_hookspecs(hookspecs)
_armed = True


def _load_builtins() -> None:
    for module_name in builtin_modules():
        try:
            module = importlib.import_module(module_name)
        except Exception as exc:
            # one broken module must not take every other provider down with it
            log.warning("built-in plugin %s not loaded: %s", module_name, exc)
            continue
        pm.register(module, name=module_name)


def _load_entry_points() -> None:
    if os.environ.get("WEBHOOK_KIT_NO_ENTRY_POINTS"):
        return
    from importlib.metadata import distributions

    # one entry point at a time (pluggy's loader stops at the first broken one):
    # a broken or misspelled outside plugin is reported and skipped, never fatal
    for dist in distributions():
        for ep in dist.entry_points:
            if ep.group != "webhook_kit" or pm.is_blocked(ep.name) or pm.get_plugin(ep.name):
                continue
            try:
                plugin = ep.load()
                pm.register(plugin, name=ep.name)
                pm.check_pending()
            except Exception as exc:
                if pm.get_plugin(ep.name) is not None:
                    pm.unregister(name=ep.name)
                print(f"webhook-kit: plugin {ep.name} ({dist.metadata['Name']}) not loaded: {exc}",
                      file=sys.stderr)


def register(plugin: Any, name: str | None = None) -> str:
    """Register a plugin object (module, class or instance) at run time.

    A misspelled hook name fails here, loudly, instead of silently never
    being called.
    """
    ensure_loaded()  # built-ins first, so a run-time plugin can replace one of theirs
    registered = pm.register(plugin, name=name)
    try:
        pm.check_pending()
    except pluggy.PluginValidationError:
        pm.unregister(plugin)
        raise
    return registered


def unregister(plugin: Any = None, name: str | None = None) -> None:
    """Remove a plugin registered earlier; its providers disappear at once."""
    ensure_loaded()
    pm.unregister(plugin, name=name)


def call_collecting(hook_name: str, **kwargs) -> list[tuple[str, Any]]:
    """Call a ``register_*`` hook plugin by plugin: ``[(plugin_name, item), ...]``.

    Calling each implementation on its own lets a registry record which plugin
    contributed what (pluggy's plain call returns results without owners).
    """
    hook = getattr(pm.hook, hook_name)
    out: list[tuple[str, Any]] = []
    # registration order: built-ins first, later plugins after
    for impl in reversed(hook.get_hookimpls()):
        args = {k: kwargs[k] for k in impl.argnames if k in kwargs}
        result = impl.function(**args)
        if result is None:
            continue
        owner = pm.get_name(impl.plugin) or repr(impl.plugin)
        items = result.items() if isinstance(result, dict) else result
        for item in items:
            out.append((owner, item))
    return out


#: answers a registry remembers at most (their keys can come from request headers)
MEMO_LIMIT = 256


class Registry:
    """Items of one ``register_*`` hook by name, rebuilt when plugins change."""

    def __init__(self, hook_name: str, key=lambda item: item.name, aliases=None):
        self.hook_name = hook_name
        self._key = key
        self._aliases = aliases
        self._generation = -1
        self._items: dict[str, Any] = {}
        self._owners: dict[str, str] = {}
        self._lookup: dict[str, str] = {}
        self._memo: dict = {}
        self._lock = threading.Lock()

    def _refresh(self) -> None:
        if self._generation == pm.generation and _loaded:
            return
        ensure_loaded()
        with self._lock:
            generation = pm.generation
            items, owners, lookup = {}, {}, {}
            for owner, item in call_collecting(self.hook_name):
                name = self._key(item)
                if name in items:
                    log.warning("%s %r from %s replaces the one from %s",
                                self.hook_name, name, owner, owners[name])
                items[name] = item
                owners[name] = owner
                lookup[name.lower()] = name
                for alias in (self._aliases(item) if self._aliases else ()):
                    lookup.setdefault(alias.lower(), name)
            self._items, self._owners, self._lookup = items, owners, lookup
            self._memo = {}
            self._generation = generation

    def all(self) -> dict[str, Any]:
        self._refresh()
        return dict(self._items)

    def get(self, name: str) -> Any | None:
        self._refresh()
        canonical = self._lookup.get(str(name).lower())
        return self._items.get(canonical) if canonical else None

    def owner(self, name: str) -> str | None:
        self._refresh()
        canonical = self._lookup.get(str(name).lower())
        return self._owners.get(canonical) if canonical else None

    def names(self) -> list[str]:
        return list(self.all())

    def memo(self, key, compute: Callable[[], Any]) -> Any:
        """``compute()``, remembered under ``key`` until plugins change.

        For answers drawn from the registry that every request would otherwise
        work out again (which parser handles a media type).
        """
        self._refresh()
        memo = self._memo
        try:
            return memo[key]
        except KeyError:
            value = compute()
            if len(memo) < MEMO_LIMIT:  # keys may come from senders: bounded
                memo[key] = value
            return value


providers = Registry("register_providers", aliases=lambda p: getattr(p, "aliases", ()))
verification_types = Registry("register_verification_types")
parsers = Registry("register_parsers")
actions = Registry("register_actions")
stores = Registry("register_stores", key=lambda item: item[0])


def notify(hook_name: str, **kwargs) -> None:
    """Call a notification hook, logging (never raising) a plugin's failure."""
    try:
        getattr(pm.hook, hook_name)(**kwargs)
    except Exception:
        log.exception("plugin hook %s failed", hook_name)
