"""Shared fixtures: a real server on a free loopback port with a real SQLite file."""

from __future__ import annotations

import pytest

import webhook_kit as wk


@pytest.fixture
def db_path(tmp_path):
    return str(tmp_path / "events.db")


@pytest.fixture
def server(db_path):
    """A started background-thread server (port 0) with its own SQLite store."""
    srv = wk.Server(store=db_path, port=0).start()
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture
def plugin():
    """Register throwaway plugin objects for one test; always unregistered after."""
    registered = []

    def register(obj, name=None):
        registered.append(wk.register(obj, name=name))
        return obj

    yield register
    for name in registered:
        try:
            wk.unregister(name=name)
        except ValueError:
            pass
