"""Response shaping: status, media type and a body template per listener; providers still win."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

import webhook_kit as wk
from webhook_kit.client import post
from webhook_kit.responses import render


def deliver(server, listener, body, **kw):
    return wk.send(listener, body, url=server.url_for(listener), **kw)


def test_default_answer_without_shaping(server):
    listener = server.add(wk.Listener("plain"))
    delivery = deliver(server, listener, {"a": 1})
    assert delivery.status == 200 and set(delivery.json()) == {"event_id"}


def test_json_template_string_with_typed_and_escaped_values(server):
    listener = server.add(wk.Listener("j", transforms=[{"extract": "payload.n", "generate": "n",
                                                        "type": "integer"}], response={
        "status": 202, "media_type": "json",
        "body": '{"received": "{event_id}", "by": "{listener}", "count": {output.n}, '
                '"note": "{payload.note}", "tags": {payload.tags}, "missing": {payload.nope}}'}))
    note = 'say "hi"\n\\ </end>'
    delivery = deliver(server, listener, {"n": "3", "note": note, "tags": ["a", "b"]})
    assert delivery.status == 202
    assert delivery.headers["Content-Type"] == "application/json"
    body = delivery.json()
    event = server.store.get(body["received"])
    assert event is not None and event.status == "accepted"
    assert body == {"received": event.id, "by": "j", "count": 3, "note": note, "tags": ["a", "b"],
                    "missing": None}


def test_json_object_body_keeps_types_of_whole_placeholders(server):
    listener = server.add(wk.Listener("obj", response={"body": {
        "ok": True, "id": "{id}", "order": "{payload.order}", "label": "order {payload.order.id}!",
        "first": "{payload.order.items.0}", "last": "{payload.order.items.-1}"}}))
    delivery = deliver(server, listener, {"order": {"id": 5, "items": ["x", "y"]}})
    assert delivery.status == 200
    body = delivery.json()
    assert body["ok"] is True and body["order"] == {"id": 5, "items": ["x", "y"]}
    assert body["label"] == "order 5!" and (body["first"], body["last"]) == ("x", "y")
    assert server.store.get(body["id"]) is not None


def test_xml_answer_escapes_values(server):
    listener = server.add(wk.Listener("x", response={
        "media_type": "xml",
        "body": '<ack event="{event_id}"><id>{payload.order.@id}</id>'
                '<note>{payload.order.note}</note></ack>'}))
    delivery = deliver(server, listener, '<order id="9"><note>a &lt; b &amp; "c"</note></order>',
                       content_type="application/xml")
    assert delivery.status == 200
    assert delivery.headers["Content-Type"] == "application/xml; charset=utf-8"
    root = ET.fromstring(delivery.body)  # well-formed, whatever the payload held
    assert root.find("id").text == "9"
    assert root.find("note").text == 'a < b & "c"'
    assert server.store.get(root.get("event")).payload["order"]["@id"] == "9"


def test_text_answer_and_literal_braces(server):
    listener = server.add(wk.Listener("t", response={"media_type": "text",
                                                     "body": "{{ok}} {event_id} from {headers.x-shop}"}))
    delivery = deliver(server, listener, {}, headers={"X-Shop": "north"})
    assert delivery.headers["Content-Type"] == "text/plain; charset=utf-8"
    literal, event_id, rest = delivery.text.split(" ", 2)
    assert literal == "{ok}" and event_id.startswith("evt_") and rest == "from north"


def test_204_has_no_body(server):
    listener = server.add(wk.Listener("n", response={"status": 204}))
    delivery = deliver(server, listener, {"a": 1})
    assert delivery.status == 204 and delivery.body == b""
    assert server.store.events(listener="n")[0].status == "accepted"


def test_a_provider_answer_still_wins(server, plugin):
    class SoapProvider(wk.Provider):
        name = "soapy"
        settings = ()

        def verify(self, request, settings, *, now=None):
            return wk.Verdict.accept()

        def sign(self, request, settings, *, now=None):
            return request

        def respond(self, event, settings):
            return wk.Response.text("<Ack>true</Ack>", content_type="text/xml")

    class Plugin:
        @wk.hookimpl
        def register_providers(self):
            return [SoapProvider()]

    plugin(Plugin())
    listener = server.add(wk.Listener("soap", provider="soapy", response={"status": 202, "media_type": "text",
                                                                         "body": "shaped"}))
    delivery = deliver(server, listener, "<x/>", content_type="text/xml")
    assert (delivery.status, delivery.text) == (200, "<Ack>true</Ack>")


def test_rejections_are_not_shaped(server):
    listener = server.add(wk.Listener("r", verification={"type": "hmac", "algorithm": "sha256",
                                                         "encoding": "hex", "secret": "k",
                                                         "header": "X-Sig"},
                                      response={"status": 202, "media_type": "text", "body": "thanks"}))
    bad = post(wk.Request("POST", server.url_for(listener), wk.Headers({"X-Sig": "00"}), b"{}"))
    assert bad.status == 401 and bad.json() == {"error": "verification failed"}
    assert deliver(server, listener, {}).text == "thanks"


def test_duplicates_can_be_told_apart_in_the_template():
    values = {"event_id": "evt_1", "status": "duplicate", "payload": {"a": [1, {"b": "<"}]}}
    assert render("{status}:{payload.a.1.b}", values, "xml") == "duplicate:&lt;"
    assert render('{"s": "{status}", "v": {payload.a}}', values, "json") == '{"s": "duplicate", "v": [1, {"b": "<"}]}'


@pytest.mark.parametrize("response, field, words", [
    ({"status": 201}, "response.status", "200, 202, 204"),
    ({"status": True}, "response.status", "200, 202, 204"),
    ({"media_type": "html"}, "response.media_type", "json, xml, text"),
    ({"status": 204, "body": "x"}, "response.body", "no body"),
    ({"media_type": "text", "body": "hi {secret}"}, "response.body", "unknown placeholder {secret}"),
    ({"media_type": "text", "body": "a { b"}, "response.body", "unbalanced brace"),
    ({"media_type": "json", "body": '{"id": {event_id}'}, "response.body", "not valid JSON"),
    ({"media_type": "xml", "body": {"a": 1}}, "response.body", "template string"),
    ({"headers": {}}, "response.headers", "unknown field"),
])
def test_bad_response_settings_name_the_field(response, field, words):
    with pytest.raises(wk.ConfigError) as info:
        wk.load_config({"listeners": [{"id": "o", "response": response}]})
    assert info.value.field == f"listeners[0].{field}"
    assert words in info.value.message


def test_response_round_trips_through_a_config_file(tmp_path):
    response = {"status": 202, "media_type": "xml", "body": "<ok id=\"{event_id}\"/>"}
    path = tmp_path / "c.json"
    wk.save_config([wk.Listener("o", response=response)], path)
    assert wk.load_config(path)[0].response == response
    assert json.loads(path.read_text())["listeners"][0]["response"] == response
