"""The listener form edits transform rules, with a live preview, and the running listener uses them."""

from __future__ import annotations

import pytest

pytest.importorskip("ipywidgets")

import webhook_kit as wk
from webhook_kit.widgets import ListenerForm


def test_form_transform_rules_preview_apply_and_serve(server):
    form = ListenerForm(server=server)
    form.name.value = "Orders"
    form.sample_text.value = '{"order": {"id": 7, "total": "19.90"}}'
    assert form.generate_url()
    editor = form.edit_transforms()
    assert editor is not None and form.transforms_area.children == (editor,)
    editor.add_rule("payload.order.id", "id")
    editor.add_rule("payload.order.total", "amount", type="number")
    assert editor.output == {"id": 7, "amount": 19.9}  # live preview on the form's sample
    assert editor.apply()
    assert form.listener.transforms[1]["generate"] == "amount"
    assert server.listeners.get(form.listener.id).transforms == form.listener.transforms

    reply = wk.send(form.listener, {"order": {"id": 8, "total": "5"}}, url=form.url.value)
    assert reply.status == 200
    assert server.store.get(reply.json()["event_id"]).output == {"id": 8, "amount": 5}
    assert form.to_dict()["transforms"] == form.listener.transforms


def test_edit_transforms_on_an_invalid_form_says_why(server):
    form = ListenerForm(server=server)
    assert form.edit_transforms() is None
    assert "required" in form.name_error.value
