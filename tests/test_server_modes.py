"""The three ways to run: a background thread, the running asyncio loop, the foreground CLI."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time

import pytest

import webhook_kit as wk
from webhook_kit.client import post

SENDER = """
import sys, time, urllib.request
t = time.monotonic()
req = urllib.request.Request(sys.argv[1], data=b'{"from": "subprocess"}', method="POST",
                             headers={"Content-Type": "application/json"})
with urllib.request.urlopen(req, timeout=10) as r:
    print(r.status, round(time.monotonic() - t, 3))
"""


def test_thread_mode_answers_while_the_calling_thread_is_busy(db_path):
    """Like a busy notebook cell: the main thread computes; deliveries are still answered."""
    server = wk.Server(store=db_path, port=0).start()
    try:
        assert server.mode == "thread"
        server.add(wk.Listener("busy"))
        sender = subprocess.Popen([sys.executable, "-c", SENDER, server.url_for("busy")],
                                  stdout=subprocess.PIPE, text=True)
        # busy for as long as it takes (a loaded machine starts the sender slowly),
        # checking only that the answer came while this thread never yielded
        deadline = time.monotonic() + 30
        n = 0
        while time.monotonic() < deadline:  # pure-Python busy work on this thread
            n += sum(i * i for i in range(1000))
            if sender.poll() is not None:
                break
        answered_while_busy = sender.poll() is not None
        out = sender.communicate(timeout=10)[0]
        assert answered_while_busy, "the delivery waited for the busy thread"
        assert out.startswith("200")
        assert server.store.count(listener="busy") == 1
    finally:
        server.stop()
    assert not server.running


def test_loop_mode_serves_on_the_running_loop(db_path):
    async def main():
        server = wk.Server(store=db_path, port=0)
        server.start(mode="loop")
        assert server.mode == "loop"
        listener = server.add(wk.Listener("onloop"))
        loop = asyncio.get_running_loop()
        # the client runs on a worker thread while this loop stays free to serve
        reply = await loop.run_in_executor(None, lambda: wk.send(listener, {"a": 1},
                                                                 url=server.url_for(listener)))
        server.stop()
        return reply, server

    reply, server = asyncio.run(main())
    assert reply.status == 200
    store = wk.open_store(db_path)
    try:
        assert store.get(reply.json()["event_id"]).payload == {"a": 1}
    finally:
        store.close()


def test_loop_mode_needs_a_running_loop(db_path):
    server = wk.Server(store=db_path, port=0)
    with pytest.raises(RuntimeError, match="running asyncio loop"):
        server.start(mode="loop")
    server.stop()


def test_port_in_use_is_a_clear_error(db_path, server):
    other = wk.Server(store=db_path + "2", port=server.port)
    with pytest.raises(OSError, match="cannot listen"):
        other.start()
    other.stop()


def test_context_manager_stops_cleanly(db_path):
    with wk.Server(store=db_path, port=0) as server:
        server.add(wk.Listener("cm"))
        assert post(wk.Request("POST", server.url_for("cm"), {}, b"{}")).status == 200
        port = server.port
    with pytest.raises(OSError):
        post(wk.Request("POST", f"http://127.0.0.1:{port}/hooks/cm", {}, b"{}"), timeout=2)


def test_a_store_passed_in_stays_open_after_stop(db_path):
    store = wk.open_store(db_path)
    server = wk.Server(store=store, port=0).start()
    server.add(wk.Listener("r"))
    assert post(wk.Request("POST", server.url_for("r"), {}, b"{}")).status == 200
    server.stop()
    assert store.count(listener="r") == 1  # the caller's store: still usable
    store.close()


def test_thread_mode_lowers_the_switch_interval_while_it_runs_and_gives_it_back(db_path):
    import sys

    from webhook_kit.server import THREAD_SWITCH_INTERVAL
    before = sys.getswitchinterval()
    first = wk.Server(store=db_path, port=0).start()
    second = wk.Server(store=":memory:", port=0).start()
    try:
        assert sys.getswitchinterval() == pytest.approx(min(before, THREAD_SWITCH_INTERVAL))
        first.stop()
        assert sys.getswitchinterval() == pytest.approx(min(before, THREAD_SWITCH_INTERVAL))
    finally:
        second.stop()
    assert sys.getswitchinterval() == before  # the last one gave it back
    with wk.Server(store=db_path, port=0).start(switch_interval=None):
        assert sys.getswitchinterval() == before  # left alone when asked
