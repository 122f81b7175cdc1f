"""The inspector's "Re-run rules & flows": replay from the notebook, with a progress bar."""

from __future__ import annotations

import pytest

pytest.importorskip("ipywidgets")

import webhook_kit as wk
from webhook_kit.widgets import EventInspector


def test_rerun_dry_run_then_for_real(server):
    listener = server.add(wk.Listener("orders", transforms=[
        {"extract": "payload.id", "generate": "order_id"}]))
    for i in range(5):
        assert wk.send(listener, {"id": i, "total": f"{i}.50"}, url=server.url_for(listener)).status == 200
    inspector = EventInspector(server, "orders")
    try:
        edited = listener.copy()
        edited.transforms = [{"extract": "payload.id", "generate": "order_id"},
                             {"extract": "payload.total", "generate": "total", "type": "number"}]
        report = inspector.rerun(dry_run=True, listener=edited)
        assert len(report) == 5 and len(report.changed) == 5
        assert inspector.progress.value == 5 and inspector.progress.max == 5
        assert "dry run: 5 event(s), 5 would change" in inspector.rerun_report.value
        assert all(e.output == {"order_id": e.payload["id"]} for e in server.store.events(listener="orders"))

        inspector.rerun(dry_run=False, listener=edited)
        outputs = sorted((e.output["order_id"], e.output["total"])
                         for e in server.store.events(listener="orders"))
        assert outputs == [(i, i + 0.5) for i in range(5)]
    finally:
        inspector.close()


def test_rerun_button_uses_the_dry_run_box(server):
    listener = server.add(wk.Listener("b", transforms=[{"extract": "payload.a", "generate": "a"}]))
    wk.send(listener, {"a": 1}, url=server.url_for(listener))
    inspector = EventInspector(server, "b")
    try:
        assert inspector.dry_run.value is True
        inspector.rerun_button.click()
        assert "dry run: 1 event(s)" in inspector.rerun_report.value
    finally:
        inspector.close()
