"""After the commit: a slow flow holds up neither the sender nor other deliveries' flows."""

from __future__ import annotations

import threading
import time

import webhook_kit as wk
from webhook_kit import flows


def test_slow_flow_does_not_block_other_flows_or_the_answer(server):
    release = threading.Event()
    finished = []

    def slow(event, **_):
        release.wait(20)
        finished.append(("slow", time.monotonic()))

    def quick(event, **_):
        finished.append(("quick", time.monotonic()))

    slow_listener = server.add(wk.Listener("slow", flows=[
        {"name": "slow", "action": flows.python_action(slow, "dispatch-test-slow")}]))
    quick_listener = server.add(wk.Listener("quick", flows=[
        {"name": "quick", "action": flows.python_action(quick, "dispatch-test-quick")}]))

    t0 = time.monotonic()
    assert wk.send(slow_listener, {"n": 1}, url=server.url_for(slow_listener)).status == 200
    assert time.monotonic() - t0 < 5  # the sender's answer never waits for the flow
    assert wk.send(quick_listener, {"n": 2}, url=server.url_for(quick_listener)).status == 200
    deadline = time.monotonic() + 10
    while not finished and time.monotonic() < deadline:
        time.sleep(0.02)
    assert [name for name, _ in finished] == ["quick"]  # ran while "slow" still waits
    release.set()
    assert server.dispatcher.wait_idle(20)
    assert [name for name, _ in finished] == ["quick", "slow"]
    slow_event = server.store.events(listener="slow")[0]
    assert server.store.flow_runs(slow_event.id)[0]["outcome"] == "ok"


def test_flows_of_one_listener_run_in_arrival_order(server):
    seen = []

    def record(event, **_):
        time.sleep(0.01)
        seen.append(event.payload["n"])

    listener = server.add(wk.Listener("ordered", flows=[
        {"name": "record", "action": flows.python_action(record, "dispatch-test-order")}]))
    for n in range(20):
        assert wk.send(listener, {"n": n}, url=server.url_for(listener)).status == 200
    assert server.dispatcher.wait_idle(30)
    assert seen == list(range(20))
