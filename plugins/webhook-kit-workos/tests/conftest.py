"""A real webhook_kit server on a free loopback port, with its own SQLite file."""

import pytest

import webhook_kit as wk


@pytest.fixture
def server(tmp_path):
    srv = wk.Server(store=str(tmp_path / "events.db"), port=0).start()
    try:
        yield srv
    finally:
        srv.stop()
