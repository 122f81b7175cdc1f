"""Payload parsing by content type, over HTTP: JSON, XML, form, text, binary, and bad input."""

from __future__ import annotations

import json

import pytest

import webhook_kit as wk
from webhook_kit.parsers import ParseError, parse_body, sniff
from tests.providers.helpers import deliver, last_event, stored


@pytest.fixture
def open_listener(server):
    return server.add(wk.Listener("open", name="Open"))


def test_json(server, open_listener):
    reply = deliver(server, open_listener, b'{"a": [1, 2]}', {"Content-Type": "application/json; charset=utf-8"})
    assert stored(server, reply).payload == {"a": [1, 2]}


def test_xml_to_json_conventions(server, open_listener):
    xml = b'<order id="7"><item>a</item><item>b</item><note lang="en">hi</note></order>'
    reply = deliver(server, open_listener, xml, {"Content-Type": "text/xml"})
    assert stored(server, reply).payload == {
        "order": {"@id": "7", "item": ["a", "b"], "note": {"@lang": "en", "#text": "hi"}}}


def test_listener_xml_options_force_list(server):
    listener = server.add(wk.Listener("x", xml={"force_list": ["item"]}))
    reply = deliver(server, listener, b"<order><item>a</item></order>", {"Content-Type": "application/xml"})
    assert stored(server, reply).payload == {"order": {"item": ["a"]}}


def test_form(server, open_listener):
    reply = deliver(server, open_listener, b"a=1&b=x+y&a=2",
                    {"Content-Type": "application/x-www-form-urlencoded"})
    assert stored(server, reply).payload == {"a": ["1", "2"], "b": "x y"}


def test_text_and_binary_kept(server, open_listener):
    reply = deliver(server, open_listener, b"just text", {"Content-Type": "text/plain"})
    assert stored(server, reply).payload == "just text"
    blob = bytes(range(256))
    reply = deliver(server, open_listener, blob, {"Content-Type": "application/octet-stream"})
    event = stored(server, reply)
    assert event.body == blob
    assert event.to_dict()["body_encoding"] == "base64"
    assert "base64" in event.payload


@pytest.mark.parametrize("body,expected", [
    (b' {"a":1}', "application/json"), (b"[1]", "application/json"),
    (b"<a/>", "application/xml"), (b"a=1&b=2", "application/x-www-form-urlencoded"),
    (b"hello world", "text/plain"), (b"\xff\xfe\x00", "application/octet-stream"),
])
def test_sniffing_when_no_content_type(body, expected):
    assert sniff(body) == expected


def test_sniffed_over_http(server, open_listener):
    reply = deliver(server, open_listener, b"<a><b>1</b></a>", {})
    assert stored(server, reply).payload == {"a": {"b": "1"}}


@pytest.mark.parametrize("body,ctype,line,column", [
    (b'{"a": 1,\n "b": }', "application/json", 2, 7),
    (b"<a>\n  <b></a>", "application/xml", 2, 8),
    (b'{"a": "\xff"}', "application/json", 1, 8),
])
def test_parse_errors_are_400_with_position(server, open_listener, body, ctype, line, column):
    reply = deliver(server, open_listener, body, {"Content-Type": ctype})
    assert reply.status == 400
    data = reply.json()
    assert data["line"] == line and data["column"] == column and data["error"]
    event = last_event(server, open_listener)
    assert event.status == "rejected" and event.reason.startswith("unparseable")
    assert event.body == body


HOSTILE = [
    (b'<!DOCTYPE a [<!ENTITY x "xxxxxxxx"><!ENTITY y "&x;&x;&x;&x;">]><a>&y;</a>', "application/xml"),
    (b'<!DOCTYPE a [<!ENTITY ext SYSTEM "file:///etc/passwd">]><a>&ext;</a>', "application/xml"),
    (b"<a>" * 5000 + b"</a>" * 5000, "application/xml"),
    (b"[" * 100000 + b"]" * 100000, "application/json"),
    (b"", "application/json"),
    (b"\x00\x01\x02", "application/json"),
    (b"<a", "text/xml"),
]


@pytest.mark.parametrize("body,ctype", HOSTILE)
def test_hostile_bodies_get_400_and_server_keeps_serving(server, open_listener, body, ctype):
    reply = deliver(server, open_listener, body, {"Content-Type": ctype})
    assert reply.status == 400, reply.text
    assert "error" in reply.json()
    assert b"root:" not in reply.body
    ok = deliver(server, open_listener, b'{"fine": true}', {"Content-Type": "application/json"})
    assert ok.status == 200


def test_parse_body_function_directly():
    assert parse_body(b'{"a":1}', "application/vnd.api+json").payload == {"a": 1}
    assert parse_body(b"<a>1</a>", "application/atom+xml").payload == {"a": "1"}
    with pytest.raises(ParseError) as info:
        parse_body(b"{", "application/json")
    assert info.value.line == 1


def test_parser_plugin_registered_at_run_time(server, open_listener, plugin):
    from webhook_kit.parsers import Parser

    class Csv(Parser):
        name = "csv"
        media_types = ("text/csv",)

        def parse(self, body, options=None):
            lines = body.decode().splitlines()
            head = lines[0].split(",")
            return [dict(zip(head, line.split(","))) for line in lines[1:]]

    class CsvPlugin:
        @wk.hookimpl
        def register_parsers(self):
            return [Csv()]

    # text/csv was kept as text before: the parser chosen per media type is remembered
    # only until plugins change
    before = deliver(server, open_listener, b"a,b\n1,2\n", {"Content-Type": "text/csv"})
    assert stored(server, before).payload == "a,b\n1,2\n"
    plugin(CsvPlugin(), "csv-plugin")
    reply = deliver(server, open_listener, b"a,b\n1,2\n", {"Content-Type": "text/csv"})
    assert stored(server, reply).payload == [{"a": "1", "b": "2"}]
    # unregistered again by the fixture; json still works
    assert json.loads(reply.body)["event_id"].startswith("evt_")


def test_parser_choice_memo_is_bounded_against_made_up_media_types():
    from webhook_kit.plugins import MEMO_LIMIT, parsers
    for n in range(MEMO_LIMIT * 3):
        assert parse_body(b"x", f"application/x-made-up-{n}").parser == "text"
    assert len(parsers._memo) <= MEMO_LIMIT
