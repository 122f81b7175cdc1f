"""Transform rules: JMESPath extract, dotted generate, defaults, casts, modes; stored on events."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import webhook_kit as wk
from webhook_kit.cli import main
from webhook_kit.transforms import CastError, apply_to_event, cast, document, preview
from webhook_kit.xmljson import xml_to_data

ORDER = {
    "order": {
        "id": "1001", "total": "19.99", "paid": "yes", "placed": 1714564800,
        "customer": {"name": "Ada", "address": {"city": "Lyon"}},
        "items": [{"sku": "A-1", "qty": "2", "price": 5.5}, {"sku": "B-2", "qty": "1", "price": 8.99}],
    }
}


def run(rules, payload=ORDER, mode="replace", headers=None, query=None):
    return preview(rules, mode, payload, headers, query)


# -- rule semantics ------------------------------------------------------------

def test_nested_paths_in_and_out():
    result = run([
        {"extract": "payload.order.customer.address.city", "generate": "customer.city"},
        {"extract": "payload.order.customer.name", "generate": "customer.name"},
        {"extract": "payload.order.id", "generate": "id"},
    ])
    assert result.ok
    assert result.output == {"customer": {"city": "Lyon", "name": "Ada"}, "id": "1001"}


def test_arrays_projections_and_functions():
    result = run([
        {"extract": "payload.order.items[*].sku", "generate": "skus"},
        {"extract": "payload.order.items[0].sku", "generate": "first"},
        {"extract": "payload.order.items[-1].sku", "generate": "last"},
        {"extract": "payload.order.items[?price > `6`].sku", "generate": "dear"},
        {"extract": "sum(payload.order.items[*].price)", "generate": "sum"},
        {"extract": "length(payload.order.items)", "generate": "lines"},
        {"extract": "payload.order.items[*].{sku: sku, n: qty}", "generate": "lines_short"},
    ])
    assert result.ok, result.errors
    out = result.output
    assert out["skus"] == ["A-1", "B-2"]
    assert (out["first"], out["last"], out["dear"]) == ("A-1", "B-2", ["B-2"])
    assert out["sum"] == pytest.approx(14.49)
    assert out["lines"] == 2
    assert out["lines_short"] == [{"sku": "A-1", "n": "2"}, {"sku": "B-2", "n": "1"}]


def test_missing_fields_are_left_out_unless_a_default_is_given():
    result = run([
        {"extract": "payload.order.coupon", "generate": "coupon"},
        {"extract": "payload.order.coupon", "generate": "discount.code", "default": "NONE"},
        {"extract": "payload.nothing.here[0].deep", "generate": "deep", "default": 0, "type": "integer"},
        {"extract": "payload.order.id", "generate": "id", "default": "unused"},
    ])
    assert result.ok
    assert result.output == {"discount": {"code": "NONE"}, "deep": 0, "id": "1001"}


@pytest.mark.parametrize("kind, value, expected", [
    ("integer", "1001", 1001), ("integer", 7.0, 7), ("integer", " 42 ", 42),
    ("number", "19.99", 19.99), ("number", "3", 3), ("number", 2, 2),
    ("string", 12, "12"), ("string", True, "true"), ("string", {"a": 1}, '{"a":1}'),
    ("boolean", "yes", True), ("boolean", "FALSE", False), ("boolean", 1, True), ("boolean", "0", False),
    ("datetime", 1714564800, "2024-05-01T12:00:00Z"),
    ("datetime", 1714564800123, "2024-05-01T12:00:00.123000Z"),
    ("datetime", "2024-05-01T14:00:00+02:00", "2024-05-01T12:00:00Z"),
    ("datetime", "2024-05-01T12:00:00Z", "2024-05-01T12:00:00Z"),
    ("datetime", "2024-05-01 12:00", "2024-05-01T12:00:00Z"),
    ("datetime", "Wed, 01 May 2024 12:00:00 GMT", "2024-05-01T12:00:00Z"),
    ("integer", ["1", "2"], [1, 2]),
])
def test_casts(kind, value, expected):
    assert cast(value, kind) == expected
    assert type(cast(value, kind)) is type(expected)


@pytest.mark.parametrize("kind, value", [
    ("integer", "1.5"), ("integer", "ten"), ("integer", True), ("number", "nan"), ("number", "1_000"),
    ("number", {"a": 1}), ("boolean", "maybe"), ("boolean", 2), ("datetime", "yesterday"), ("datetime", False),
])
def test_impossible_casts_fail_clearly(kind, value):
    with pytest.raises(CastError, match=f"to {kind}"):
        cast(value, kind)


def test_a_failing_rule_is_reported_and_the_others_still_apply():
    result = run([
        {"extract": "payload.order.id", "generate": "id", "type": "integer"},
        {"extract": "payload.order.customer.name", "generate": "n", "type": "integer"},
        {"extract": "abs(payload.order.customer)", "generate": "bad"},
        {"extract": "payload.order.total", "generate": "total", "type": "number"},
    ])
    assert result.output == {"id": 1001, "total": 19.99}
    assert len(result.errors) == 2
    assert result.errors[0].startswith("transforms[1] (payload.order.customer.name -> n): cannot cast")
    assert result.errors[1].startswith("transforms[2]")


def test_a_rule_never_overwrites_a_value_by_nesting_under_it():
    result = run([{"extract": "payload.order.id", "generate": "order"},
                  {"extract": "payload.order.total", "generate": "order.total"}])
    assert result.output == {"order": "1001"}
    assert result.errors == ['transforms[1] (payload.order.total -> order.total): cannot set order.total: '
                             'order already holds "1001"']


def test_merge_mode_keeps_the_payload_and_sets_generated_fields_on_top():
    payload = {"id": "9", "amount": "3.50", "meta": {"a": 1}}
    result = run([{"extract": "payload.amount", "generate": "amount", "type": "number"},
                  {"extract": "payload.id", "generate": "meta.id", "type": "integer"}],
                 payload=payload, mode="merge")
    assert result.output == {"id": "9", "amount": 3.5, "meta": {"a": 1, "id": 9}}
    assert payload == {"id": "9", "amount": "3.50", "meta": {"a": 1}}  # the payload is not touched


def test_merge_mode_on_a_list_payload_says_so():
    result = run([{"extract": "length(payload)", "generate": "n"}], payload=[1, 2], mode="merge")
    assert result.output == {"n": 2}
    assert "merge mode needs a JSON object payload" in result.error


def test_headers_are_lower_cased_and_query_is_readable():
    doc = document({"a": 1}, [("X-GitHub-Event", "push"), ("Accept", "a"), ("accept", "b")],
                   "page=2&tag=x&tag=y")
    assert doc["headers"] == {"x-github-event": "push", "accept": "a, b"}
    assert doc["query"] == {"page": "2", "tag": ["x", "y"]}
    result = run([{"extract": 'headers."x-github-event"', "generate": "event"},
                  {"extract": "query.page", "generate": "page", "type": "integer"},
                  {"extract": "query.tag", "generate": "tags"}],
                 headers=[("X-GitHub-Event", "push")], query="page=2&tag=x&tag=y")
    assert result.output == {"event": "push", "page": 2, "tags": ["x", "y"]}


def test_xml_derived_payload_keys():
    xml = (b'<order id="77" xmlns:x="urn:x"><note lang="en">rush <b/> it</note>'
           b'<item sku="A"><qty>2</qty></item></order>')
    payload = xml_to_data(xml, {"force_list": ["item"]})
    result = run([
        {"extract": 'payload.order."@id"', "generate": "id", "type": "integer"},
        {"extract": 'payload.order.note."@lang"', "generate": "note.lang"},
        {"extract": 'payload.order.note."#text"', "generate": "note.text"},
        {"extract": 'payload.order.item[*]."@sku"', "generate": "skus"},
        {"extract": "payload.order.item[*].qty", "generate": "qty", "type": "integer"},
    ], payload=payload)
    assert result.ok, result.errors
    assert result.output == {"id": 77, "note": {"lang": "en", "text": "rush  it"},
                             "skus": ["A"], "qty": [2]}


# -- config ---------------------------------------------------------------------

@pytest.mark.parametrize("rules, field, words", [
    ([{"extract": "payload.order.@id", "generate": "id"}], "transforms[0].extract", 'quote XML keys'),
    ([{"extract": "headers.x-github-event", "generate": "e"}], "transforms[0].extract", "quote such keys"),
    ([{"extract": "a", "generate": "b"}, {"extract": "a[", "generate": "b"}], "transforms[1].extract",
     "incomplete"),
    ([{"extract": "nope(a)", "generate": "b"}], "transforms[0].extract", "unknown function nope()"),
    ([{"extract": "a"}], "transforms[0].generate", "required"),
    ([{"extract": "a", "generate": "x..y"}], "transforms[0].generate", "dotted path"),
    ([{"extract": "a", "generate": "x", "type": "float"}], "transforms[0].type", "one of"),
    ([{"extract": "a", "generate": "x", "type": "integer", "default": "abc"}], "transforms[0].default",
     "cannot cast"),
    ([{"extract": "a", "generate": "x", "map": {}}], "transforms[0].map", "unknown field"),
    (["payload.a"], "transforms[0]", "extract"),
])
def test_bad_rules_name_the_field(rules, field, words):
    with pytest.raises(wk.ConfigError) as info:
        wk.load_config({"listeners": [{"id": "o", "transforms": rules}]})
    assert info.value.field == f"listeners[0].{field}"
    assert words in str(info.value)


def test_config_round_trip_keeps_rules_and_mode(tmp_path):
    rules = [{"extract": "payload.a", "generate": "x.y", "default": 0, "type": "integer"},
             {"extract": 'payload."@id"', "generate": "id"}]
    listener = wk.Listener("o", transforms=rules, transform_mode="merge")
    path = tmp_path / "config.json"
    wk.save_config([listener], path)
    again = wk.load_config(path)[0]
    assert again.transforms == rules and again.transform_mode == "merge"
    assert again.to_dict() == listener.to_dict()


def test_cli_reports_a_bad_rule_in_one_line(tmp_path, capsys):
    config = tmp_path / "bad.json"
    config.write_text(json.dumps({"listeners": [{"id": "o", "transforms": [
        {"extract": "payload.a", "generate": "a"}, {"extract": "payload.a", "generate": "b"},
        {"extract": "payload..a", "generate": "c"}]}]}))
    assert main(["send", str(config), "--listener", "o"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("webhook-kit: config error: listeners[0].transforms[2].extract: "
                          "invalid JMESPath 'payload..a'")


def test_cli_error_through_the_console_script(tmp_path):
    config = tmp_path / "bad.json"
    config.write_text(json.dumps({"listeners": [{"id": "o", "transforms": [
        {"extract": "payload.a", "generate": "a", "type": "money"}]}]}))
    proc = subprocess.run([sys.executable, "-m", "webhook_kit.cli", "serve", str(config), "--port", "0"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "webhook-kit: config error: listeners[0].transforms[0].type: must be one of "
        "string, number, integer, boolean, datetime"]


# -- on real deliveries ---------------------------------------------------------------

def test_output_is_stored_with_the_event_and_shown_by_events(server, db_path, capsys):
    listener = server.add(wk.Listener("orders", transforms=[
        {"extract": "payload.order.id", "generate": "id", "type": "integer"},
        {"extract": 'headers."x-shop"', "generate": "shop", "default": "main"},
        {"extract": "query.src", "generate": "src"},
    ]))
    delivery = wk.send(listener, ORDER, url=server.url_for(listener) + "?src=web")
    assert delivery.status == 200
    event = server.store.get(delivery.json()["event_id"])
    assert event.output == {"id": 1001, "shop": "main", "src": "web"}
    assert event.transform_error is None
    assert main(["events", "--db", db_path, "--format", "jsonl"]) == 0
    line = json.loads(capsys.readouterr().out.splitlines()[0])
    assert line["output"] == {"id": 1001, "shop": "main", "src": "web"}
    assert main(["events", "--db", db_path]) == 0
    assert '{"id": 1001, "shop": "main"' in capsys.readouterr().out  # the table shortens it


def test_a_failing_rule_never_loses_the_event(server):
    listener = server.add(wk.Listener("orders", transforms=[
        {"extract": "payload.order.customer.name", "generate": "n", "type": "integer"},
        {"extract": "payload.order.id", "generate": "id"}]))
    delivery = wk.send(listener, ORDER, url=server.url_for(listener))
    assert delivery.status == 200
    event = server.store.get(delivery.json()["event_id"])
    assert event.status == "accepted"
    assert event.payload == ORDER
    assert event.output == {"id": "1001"}
    assert "transforms[0]" in event.transform_error and "cannot cast" in event.transform_error


def test_xml_delivery_with_force_list(server):
    listener = server.add(wk.Listener("xml", xml={"force_list": ["line"]}, transforms=[
        {"extract": 'payload.order."@id"', "generate": "id", "type": "integer"},
        {"extract": 'payload.order.line[*]."@sku"', "generate": "skus"}]))
    delivery = wk.send(listener, '<order id="3"><line sku="Z"/></order>', content_type="application/xml",
                       url=server.url_for(listener))
    assert delivery.status == 200
    assert server.store.get(delivery.json()["event_id"]).output == {"id": 3, "skus": ["Z"]}


def test_apply_to_event_survives_a_broken_listener():
    listener = wk.Listener("o", transforms=[{"extract": "a..b", "generate": "x"}])  # never validated
    event = wk.Event("evt_1", "o", "2024-01-01T00:00:00Z", "accepted", None, "POST", "/hooks/o", "",
                     [], b"{}", payload={})
    apply_to_event(listener, event)
    assert event.output is None
    assert "transforms[0].extract" in event.transform_error


# -- the editor ---------------------------------------------------------------------

def test_editor_previews_on_the_sample_and_on_captured_events(server):
    from webhook_kit.widgets.transforms_editor import TransformEditor
    listener = server.add(wk.Listener("ed", sample={"content_type": "application/xml",
                                                    "body": '<order id="5"><total>3.50</total></order>'},
                                      transforms=[{"extract": 'payload.order."@id"', "generate": "id",
                                                   "type": "integer"}]))
    wk.send(listener, '<order id="6"><total>9</total></order>', content_type="application/xml",
            url=server.url_for(listener))
    editor = TransformEditor(listener, server.store)
    assert editor.output == {"id": 5} and editor.error is None
    editor.add_rule("payload.order.total", "total", type="number")
    assert editor.output == {"id": 5, "total": 3.5}
    # a bad expression shows its problem and leaves the listener alone
    editor._rows.children[1].extract.value = "payload.order.@total"
    assert editor.output is None and "transforms[1].extract" in editor.error
    assert editor.apply() is False
    assert len(listener.transforms) == 1
    editor._rows.children[1].extract.value = "payload.order.total"
    # captured events are offered as sources
    captured = [value for _label, value in editor._source.options if value != "sample"]
    assert len(captured) == 1
    editor._source.value = captured[0]
    assert editor.output == {"id": 6, "total": 9}
    editor.mode = "merge"
    assert editor.output["order"]["total"] == "9" and editor.output["total"] == 9
    applied = []
    editor.on_apply(applied.append)
    assert editor.apply() is True
    assert listener.transform_mode == "merge" and len(listener.transforms) == 2
    assert applied == [listener]
    report = editor.try_on_history()
    assert len(report) == 1 and report.dry_run
    assert editor._progress.value == 1
    assert report.results[0].changes  # stored output had no total; the edited rules add it
    assert server.store.get(captured[0]).output == {"id": 6}  # a dry run saves nothing


# -- whatever arrives, rules never raise ------------------------------------------------

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given, settings, strategies as st  # noqa: E402

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4),
    max_leaves=20)

ANY_RULES = [{"extract": f"payload.{path}", "generate": f"out.{i}", "type": kind}
             for i, (path, kind) in enumerate([(p, k) for p in ("a", "a.b", "a[0]", "a[*].b", "\"@id\"")
                                               for k in ("string", "number", "integer", "boolean",
                                                         "datetime")])] + [
    {"extract": "sum(payload.a)", "generate": "sum"}, {"extract": "length(payload)", "generate": "n"}]


@settings(max_examples=150, deadline=None)
@given(payload=json_values, mode=st.sampled_from(["replace", "merge"]))
def test_any_payload_gives_an_output_or_named_errors_never_an_exception(payload, mode):
    result = preview(ANY_RULES, mode, {"a": payload, "@id": payload} if mode == "merge" else payload)
    assert isinstance(result.output, dict)
    json.dumps(result.output)  # storable as JSON
    for error in result.errors:
        assert error.startswith("transforms[") or error.startswith("merge mode")


@given(st.integers(min_value=-10**15, max_value=10**15))
def test_integer_text_round_trips(n):
    assert cast(str(n), "integer") == n and cast(str(n), "number") == n
    assert cast(cast(n, "string"), "integer") == n
