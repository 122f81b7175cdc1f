"""The plugin contract: every extension point of webhook_kit, in one place.

Plugins implement these with ``@webhook_kit.hookimpl`` and are found through
the ``webhook_kit`` entry-point group, or registered at run time with
``webhook_kit.plugins.register(obj)``. Built-in providers, verification types
and parsers use exactly these hooks. Hooks are called with keyword arguments;
an implementation may accept only the arguments it needs. docs/plugins.md
documents each hook with an example.
"""

from __future__ import annotations

import pluggy

hookspec = pluggy.HookspecMarker("webhook_kit")
hookimpl = pluggy.HookimplMarker("webhook_kit")


# -- registration ---------------------------------------------------------

@hookspec
def register_providers():
    """Return a list of :class:`webhook_kit.providers.Provider` instances.

    Each provider has a unique ``name`` (and optional ``aliases``), declares its
    settings, and implements ``verify``, ``sign`` and optionally ``handshake``,
    ``delivery_id``, ``sample`` and ``respond``.
    """


@hookspec
def register_verification_types():
    """Return a list of :class:`webhook_kit.verification.VerificationType` instances.

    These are the choices of the ``custom`` provider's ``verification.type``
    (built in: ``basic``, ``hmac``, ``secret_url``, ``token``, ``none``).
    """


@hookspec
def register_parsers():
    """Return a list of :class:`webhook_kit.parsers.Parser` instances.

    A parser names the media types it handles (``application/json``,
    ``*/xml``, a ``+xml`` suffix...) and turns raw body bytes into a payload,
    raising :class:`webhook_kit.parsers.ParseError` with line and column.
    """


@hookspec
def register_actions():
    """Return a list of :class:`webhook_kit.flows.ActionType` instances.

    An action type is what a flow does with an accepted delivery (call a
    function, forward to a URL, append to a file...), configured by name.
    """


@hookspec
def register_stores():
    """Return a dict ``{scheme: factory}`` of event store factories.

    ``factory(location: str) -> EventStore`` opens the store for a location
    such as ``sqlite:///events.db``; ``webhook_kit.store.open_store`` picks
    the factory by the location's scheme.
    """


# -- notification ---------------------------------------------------------

@hookspec
def event_recorded(event, listener):
    """Called once for every stored event, whatever its status.

    :param event: the :class:`webhook_kit.model.Event` as committed.
    :param listener: the :class:`webhook_kit.listener.Listener` it arrived on.

    Runs after the commit, off the request path: the sender's answer never
    waits for it, and an exception here is logged, not sent to the sender.
    """


@hookspec
def event_accepted(event, listener):
    """Called after an accepted delivery is committed (not for duplicates).

    :param event: the committed :class:`webhook_kit.model.Event`.
    :param listener: the :class:`webhook_kit.listener.Listener`.
    """


@hookspec
def event_rejected(event, listener):
    """Called after a rejected request is recorded, with ``event.reason`` set.

    :param event: the recorded :class:`webhook_kit.model.Event`.
    :param listener: the :class:`webhook_kit.listener.Listener`.
    """
