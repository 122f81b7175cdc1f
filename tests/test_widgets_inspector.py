"""EventInspector in plain pytest: real deliveries over loopback, the table, details, replay."""

from __future__ import annotations

import asyncio
import json

import pytest

import webhook_kit as wk
from webhook_kit.client import post
from webhook_kit.widgets import EventInspector, ListenerForm

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

HMAC = {"type": "hmac", "algorithm": "sha256", "encoding": "hex", "secret": "s3cret",
        "header": "X-Signature"}


@pytest.fixture
def orders(server):
    return server.add(wk.Listener("orders", verification=dict(HMAC),
                                  sample={"content_type": "application/json",
                                          "body": '{"order": 1}'}))


@pytest.fixture
def inspector(server, orders):
    view = EventInspector(server, "orders")
    yield view
    view.close()


def settle(server, inspector):
    """Wait for the server to hand its events over, then show them (no loop in pytest)."""
    server.dispatcher.wait_idle(10)
    return inspector.pump()


def test_events_arrive_through_the_hook_and_show_in_the_table(server, orders, inspector):
    assert inspector.rows == []
    delivery = wk.send(orders, {"id": 1}, url=server.url_for(orders))
    assert delivery.status == 200
    assert settle(server, inspector) == 1
    [row] = inspector.rows
    assert "accepted" in row and "application/json" in row and "9 B" in row
    assert inspector.visible()[0].id == delivery.json()["event_id"]


def test_other_listeners_events_are_not_shown(server, orders, inspector):
    other = server.add(wk.Listener("other"))
    wk.send(other, {"x": 1}, url=server.url_for(other))
    assert settle(server, inspector) == 0
    assert inspector.rows == []


def test_rejected_event_shows_reason_details_and_debug_area(server, orders, inspector):
    bad = orders.copy()
    bad.verification["secret"] = "wrong"
    delivery = wk.send(bad, {"id": 2}, url=server.url_for(orders))
    assert delivery.status == 401
    settle(server, inspector)
    [row] = inspector.rows
    assert "rejected" in row and "401" in row and "HMAC in X-Signature" in row
    event = inspector.select()
    assert event.status == "rejected"
    assert "X-Signature" in inspector.detail.value and "&quot;id&quot;: 2" in inspector.detail.value
    from webhook_kit.widgets import SignatureDebugger
    assert any(isinstance(w, SignatureDebugger) for w in inspector.debug_area.children), \
        "a rejected event offers the signature debugger"
    # an accepted one does not
    wk.send(orders, {"id": 3}, url=server.url_for(orders))
    settle(server, inspector)
    inspector.select()
    assert inspector.selected.status == "accepted"
    assert inspector.debug_area.children == ()
    assert "Parsed payload" in inspector.detail.value and "&quot;id&quot;: 3" in inspector.detail.value


def test_filter_by_status(server, orders, inspector):
    wk.send(orders, {"ok": True}, url=server.url_for(orders))
    post(wk.Request("POST", server.url_for(orders), {"Content-Type": "application/json"}, b"{}"))
    settle(server, inspector)
    assert len(inspector.rows) == 2
    inspector.status_filter.value = "rejected"
    assert len(inspector.rows) == 1 and "rejected" in inspector.rows[0]
    inspector.status_filter.value = "accepted"
    assert len(inspector.rows) == 1 and "accepted" in inspector.rows[0]
    inspector.status_filter.value = "all"
    assert len(inspector.rows) == 2


def test_send_test_delivery_button_signs_the_sample(server, orders, inspector):
    inspector.send_button.click()
    assert "200" in inspector.message.value
    settle(server, inspector)
    event = inspector.visible()[0]
    assert event.status == "accepted" and event.payload == {"order": 1}


def test_send_test_delivery_for_a_listener_not_on_the_server(server):
    view = EventInspector(server, "missing")
    try:
        assert view.send_test_delivery() is None
        assert "generate its URL" in view.message.value
    finally:
        view.close()


def test_replay_resends_the_stored_raw_request(server, orders, inspector):
    first = wk.send(orders, {"id": 9}, url=server.url_for(orders))
    settle(server, inspector)
    inspector.select(first.json()["event_id"])
    inspector.replay_button.click()
    assert "replay of" in inspector.message.value and "200" in inspector.message.value
    settle(server, inspector)
    events = inspector.visible()
    assert len(events) == 2
    assert events[0].body == events[1].body
    assert events[0].header_map["X-Signature"] == events[1].header_map["X-Signature"]


def test_refresh_reads_the_store(server, orders, inspector):
    wk.send(orders, {"a": 1}, url=server.url_for(orders))
    server.dispatcher.wait_idle(10)
    inspector.refresh_button.click()
    assert len(inspector.rows) == 1
    fresh = EventInspector(server, orders)  # a Listener is accepted too
    try:
        assert fresh.rows == inspector.rows
    finally:
        fresh.close()


def test_close_unregisters_the_relay(server, orders):
    before = len(wk.plugins.pm.get_plugins())
    view = EventInspector(server, "orders")
    assert len(wk.plugins.pm.get_plugins()) == before + 1
    view.close()
    assert len(wk.plugins.pm.get_plugins()) == before


def test_live_updates_on_a_running_loop_without_pumping(server, orders):
    """As in a kernel: the inspector is built on the loop, deliveries come from other threads."""

    async def scenario():
        view = EventInspector(server, "orders")
        try:
            loop = asyncio.get_running_loop()
            for i in range(3):
                delivery = await loop.run_in_executor(
                    None, lambda: wk.send(orders, {"n": i}, url=server.url_for(orders)))
                assert delivery.ok
            for _ in range(200):  # the loop stays free; the relay calls pump() on it
                if len(view.rows) == 3:
                    break
                await asyncio.sleep(0.02)
            return list(view.rows)
        finally:
            view.close()

    rows = asyncio.run(scenario())
    assert len(rows) == 3 and all("accepted" in r for r in rows)


def test_form_and_inspector_together(server):
    form = ListenerForm(server=server)
    try:
        form.name.value = "Together"
        form.verification_type.value = "hmac"
        form.field("secret").input.value = "k"
        form.set_sample("application/xml", "<order><id>5</id></order>")
        form.generate_button.click()
        view = EventInspector(server, form.listener)
        try:
            view.send_button.click()
            settle(server, view)
            event = view.visible()[0]
            assert event.status == "accepted" and event.payload == {"order": {"id": "5"}}
            form.use_event_as_sample(event.id)
            assert form.sample_text.value == "<order><id>5</id></order>"
        finally:
            view.close()
    finally:
        form.close()


def test_event_rows_are_json_safe_for_the_page(server, orders, inspector):
    post(wk.Request("POST", server.url_for(orders), {"Content-Type": "application/json"},
                    b'{"x": "<script>"}'))
    settle(server, inspector)
    inspector.select()
    assert "<script>" not in inspector.detail.value
    json.dumps(inspector.table.options)


def test_a_second_server_with_the_same_listener_id_does_not_leak_in(server, orders, inspector,
                                                                     tmp_path):
    other = wk.Server(store=str(tmp_path / "other.db"), port=0).start()
    try:
        twin = other.add(orders.copy())
        assert wk.send(twin, {"twin": True}, url=other.url_for(twin)).status == 200
        other.dispatcher.wait_idle(10)
        assert settle(server, inspector) == 0
        assert inspector.rows == []
    finally:
        other.stop()


def test_buttons_do_not_block_a_server_running_on_the_same_loop(db_path):
    """With start(mode="loop") the server shares the kernel's loop: sends go to a worker thread."""

    async def scenario():
        server = wk.Server(store=db_path, port=0).start(mode="loop")
        try:
            server.add(wk.Listener("same-loop", verification=dict(HMAC)))
            view = EventInspector(server, "same-loop")
            try:
                pending = view.send_test_delivery({"n": 1})
                assert isinstance(pending, asyncio.Future)
                delivery = await asyncio.wait_for(pending, 10)
                assert delivery.status == 200
                await asyncio.sleep(0)  # the done callback runs on the loop
                assert "test delivery: 200" in view.message.value
                for _ in range(200):
                    if view.rows:
                        break
                    await asyncio.sleep(0.02)
                assert "accepted" in view.rows[0]
                view.select()
                replayed = await asyncio.wait_for(view.replay(), 10)
                assert replayed.status == 200
            finally:
                view.close()
        finally:
            server.stop()

    asyncio.run(scenario())
