"""Helpers for provider tests: a listener on the real server, raw deliveries over loopback."""

from __future__ import annotations

import webhook_kit as wk
from webhook_kit.client import Delivery, post


def add_listener(server: wk.Server, provider: str, verification: dict, listener_id: str | None = None,
                 **fields) -> wk.Listener:
    """Register a listener for ``provider`` on the running server and return it."""
    return server.add(wk.Listener(listener_id or provider.replace("_", "-"), provider=provider,
                                  verification=verification, **fields))


def url_of(server: wk.Server, listener: wk.Listener, query: str = "") -> str:
    """The listener's URL on the server (without a secret URL token), plus ``?query``."""
    return f"{server.base_url}/hooks/{listener.id}" + (f"?{query}" if query else "")


def deliver(server: wk.Server, listener: wk.Listener, body: bytes | str, headers: dict,
            method: str = "POST", query: str = "") -> Delivery:
    """POST raw bytes with exactly these headers (as the real application would)."""
    if isinstance(body, str):
        body = body.encode("utf-8")
    request = wk.Request(method, url_of(server, listener, query), wk.Headers(headers), body)
    return post(request)


def stored(server: wk.Server, delivery: Delivery) -> wk.Event:
    """The event stored for an accepted delivery (from its ``event_id``)."""
    return server.store.get(delivery.json()["event_id"])


def last_event(server: wk.Server, listener: wk.Listener) -> wk.Event:
    """The newest event of a listener (rejected requests have no id in their answer)."""
    return server.store.events(listener=listener.id, limit=1)[0]
