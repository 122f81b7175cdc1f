"""The XML -> JSON playground widget, in plain pytest (ipywidgets work without a front end)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from webhook_kit.widgets.playground import (XmlJsonPlayground, build_options, parse_namespace_map,
                                            parse_names)
from webhook_kit.xmljson import XmlOptions, xml_to_data

SALESFORCE = """<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"
                  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <soapenv:Body>
    <notifications xmlns="http://soap.sforce.com/2005/09/outbound">
      <OrganizationId>00Dxx0000000000EAA</OrganizationId>
      <SessionId xsi:nil="true"/>
      <Notification>
        <Id>04lxx0000000000AAA</Id>
        <sObject xsi:type="sf:Lead" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">
          <sf:Id>00Qxx0000000000AAA</sf:Id>
          <sf:Email>lead@example.com</sf:Email>
        </sObject>
      </Notification>
    </notifications>
  </soapenv:Body>
</soapenv:Envelope>
"""
NAMESPACES = """http://schemas.xmlsoap.org/soap/envelope/=soapenv
http://soap.sforce.com/2005/09/outbound=
urn:sobject.enterprise.soap.sforce.com=sf
http://www.w3.org/2001/XMLSchema-instance=xsi"""


class FakeForm:
    """Any object with ``set_sample(content_type, body_text)`` is a form to the playground."""

    def __init__(self):
        self.samples = []

    def set_sample(self, content_type, body_text):
        self.samples.append((content_type, body_text))


def shown(p: XmlJsonPlayground):
    return json.loads(p._json.value)


def test_converts_as_you_type():
    p = XmlJsonPlayground()
    assert p._json.value == "" and p.error is None
    p._xml.value = '<order id="7"><item>a</item><item>b</item></order>'
    assert shown(p) == {"order": {"@id": "7", "item": ["a", "b"]}}
    p._xml.value = '<order id="7"><item>a</item></order>'
    assert shown(p) == {"order": {"@id": "7", "item": "a"}}
    assert p._status.value == ""


def test_options_change_the_output():
    p = XmlJsonPlayground('<order id="7"><item>a</item><note lang="en">hi</note></order>')
    p._force_list.value = "item"
    assert shown(p)["order"]["item"] == ["a"]
    p._attr_prefix.value = "_"
    p._text_key.value = "value"
    assert shown(p) == {"order": {"_id": "7", "item": ["a"], "note": {"_lang": "en", "value": "hi"}}}
    assert p.options.to_dict()["force_list"] == ["item"]


def test_whitespace_stripping():
    p = XmlJsonPlayground("<a>\n  <b>x</b>\n  tail\n</a>")
    assert shown(p)["a"]["#text"] == "tail"
    p._strip.value = False
    assert shown(p)["a"]["#text"] != "tail"
    assert "tail" in shown(p)["a"]["#text"]


def test_namespaces_with_a_map_on_salesforce_xml():
    p = XmlJsonPlayground(SALESFORCE)
    assert "soapenv:Envelope" in shown(p)
    p._force_list.value = "Notification"
    p._namespace_map.value = NAMESPACES
    data = shown(p)
    notifications = data["soapenv:Envelope"]["soapenv:Body"]["notifications"]
    assert notifications["OrganizationId"] == "00Dxx0000000000EAA"
    assert notifications["Notification"][0]["sObject"]["sf:Email"] == "lead@example.com"
    assert notifications["Notification"][0]["sObject"]["@xsi:type"] == "sf:Lead"
    assert p.options.process_namespaces  # a map implies processing, as --namespace does
    p._namespace_map.value = ""
    p._namespaces.value = True  # processing without a map: full URIs
    assert "http://schemas.xmlsoap.org/soap/envelope/:Envelope" in shown(p)


def test_malformed_xml_shows_line_and_column_inline():
    p = XmlJsonPlayground("<a><b>1</b></a>")
    good = p._json.value
    p._xml.value = "<a>\n  <b>1</b>\n  <c>\n</a>"
    assert p.error == "mismatched tag (line 4, column 3)"
    assert "line 4, column 3" in p._status.value and "Traceback" not in p._status.value
    assert p._json.value == good  # the last good JSON stays, marked as such
    assert "last well-formed" in p._status.value
    p._xml.value = "<a>1</a>"
    assert p.error is None and p._status.value == "" and shown(p) == {"a": "1"}


def test_entities_are_refused_with_a_message():
    p = XmlJsonPlayground('<!DOCTYPE a [<!ENTITY x "boom">]><a>&x;</a>')
    assert p.error and "entity" in p.error.lower()
    assert p._json.value == ""


def test_bad_namespace_line_is_reported():
    p = XmlJsonPlayground("<a/>")
    p._namespace_map.value = "http://example.com/ns=ex\nno-equals-sign"
    assert p.error == "namespace line 2: write URI=short, got 'no-equals-sign'"
    assert "namespace line 2" in p._status.value
    p._attr_prefix.value = ""
    assert "attribute prefix" in p.error


def test_json_back_to_xml():
    p = XmlJsonPlayground('<order id="7"><item>a</item></order>')
    p._json.value = json.dumps({"order": {"@id": "8", "item": ["a", "b"]}})
    p._to_xml.click()
    assert xml_to_data(p._xml.value) == {"order": {"@id": "8", "item": ["a", "b"]}}
    assert shown(p) == {"order": {"@id": "8", "item": ["a", "b"]}}  # re-converted from the new XML


@pytest.mark.parametrize("text,message", [
    ('{"a": {"1bad": "x"}}', "cannot be an XML element"),
    ('{"a": 1, "b": 2}', "exactly one root element"),
    ("{not json", "invalid JSON"),
])
def test_json_back_to_xml_refuses_what_xml_cannot_hold(text, message):
    p = XmlJsonPlayground("<a>1</a>")
    p._json.value = text
    p._to_xml.click()
    assert message in p.error and message in p._status.value
    assert p._xml.value == "<a>1</a>"  # untouched


def test_use_as_sample_calls_the_form_and_the_callback():
    form, calls = FakeForm(), []
    p = XmlJsonPlayground(SALESFORCE, form=form, on_use=lambda ct, body: calls.append((ct, body)))
    assert not p._use.disabled
    p._use.click()
    assert form.samples == [("application/xml", SALESFORCE)]
    assert calls == [("application/xml", SALESFORCE)]
    assert "used as the sample" in p._status.value
    p._xml.value = "<a>"
    p._use.click()
    assert len(form.samples) == 1 and "fix the XML first" in p._status.value


def test_use_as_sample_is_disabled_without_a_target():
    assert XmlJsonPlayground("<a/>")._use.disabled


def test_plain_functions():
    assert parse_names("Notification, item\nrow,,item") == ("Notification", "item", "row")
    assert parse_namespace_map("# comment\n\nhttp://x.org/a?b=c=x\nurn:y=") == {
        "http://x.org/a?b=c": "x", "urn:y": ""}
    options = build_options(force_list="Notification", namespace_map="urn:y=y")
    assert options == XmlOptions(force_list=("Notification",), process_namespaces=True,
                                 namespaces={"urn:y": "y"})


def test_same_output_as_the_cli(tmp_path):
    p = XmlJsonPlayground(SALESFORCE)
    p._force_list.value = "Notification"
    p._namespace_map.value = NAMESPACES
    source = tmp_path / "sf.xml"
    source.write_text(SALESFORCE)
    args = [sys.executable, "-m", "webhook_kit.cli", "xml2json", str(source),
            "--force-list", "Notification"]
    for line in NAMESPACES.splitlines():
        args += ["--namespace", line]
    done = subprocess.run(args, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == shown(p)
    assert done.stdout.strip() == p._json.value.strip()


def test_use_as_sample_with_the_real_listener_form():
    form_module = pytest.importorskip("webhook_kit.widgets.form")
    import webhook_kit as wk
    form = form_module.ListenerForm(wk.Listener("leads", name="Leads"))
    p = XmlJsonPlayground(SALESFORCE, form=form)
    p._use.click()
    assert form.listener.sample == {"content_type": "application/xml", "body": SALESFORCE}
