"""Salesforce Outbound Messages over real HTTP: OrganizationId check, SOAP Ack, Notification Id dedup."""

from __future__ import annotations

import pytest

import webhook_kit as wk
from webhook_kit.client import post

from ._contract import HOSTILE_HEADER_VALUES, hostile_header_refused, signed
from .helpers import add_listener, deliver, last_event

ORG = "00Dxx0000000000EAA"
SAMPLE = wk.plugins.providers.get("salesforce-outbound").sample().body
SOAP = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""'}
ACK = b"<Ack>true</Ack>"

NOTIFICATION = b"""      <Notification>
        <Id>04lxx0000000000AAA</Id>"""
SECOND = b"""      <Notification>
        <Id>04lxx0000000001AAA</Id>
        <sObject xsi:type="sf:Lead" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">
          <sf:Id>00Qxx0000000001AAA</sf:Id>
          <sf:LastName>Second</sf:LastName>
        </sObject>
      </Notification>
"""
BATCH = SAMPLE.replace(b"    </notifications>", SECOND + b"    </notifications>")


@pytest.fixture
def listener(server):
    return add_listener(server, "salesforce-outbound", {"organization_id": ORG})


def test_accepted_with_soap_ack_and_one_element_list(server, listener):
    d = deliver(server, listener, SAMPLE, SOAP)
    assert d.status == 200 and ACK in d.body
    assert d.headers.get("Content-Type").startswith("text/xml")
    event = last_event(server, listener)
    assert event.status == "accepted" and event.delivery_id == "04lxx0000000000AAA"
    notes = event.payload["soapenv:Envelope"]["soapenv:Body"]["notifications"]["Notification"]
    assert isinstance(notes, list) and notes[0]["sObject"]["sf:Email"] == "lead@example.com"


def test_fifteen_character_org_id_setting(server):
    listener = add_listener(server, "salesforce-outbound", {"organization_id": ORG[:15]}, "sf15")
    assert deliver(server, listener, SAMPLE, SOAP).status == 200


def test_batch_dedup_and_redelivery_is_duplicate_still_acked(server, listener):
    first = deliver(server, listener, BATCH, SOAP)
    event = last_event(server, listener)
    assert first.status == 200 and event.delivery_id.startswith("batch:")
    assert len(event.payload["soapenv:Envelope"]["soapenv:Body"]["notifications"]["Notification"]) == 2
    again = deliver(server, listener, BATCH, SOAP)
    assert again.status == 200 and ACK in again.body  # Salesforce stops retrying only on the Ack
    assert last_event(server, listener).status == "duplicate"


@pytest.mark.parametrize("body, expected", [
    (SAMPLE.replace(ORG.encode(), b"00Dyy0000000000EAA"), "OrganizationId does not match"),
    (SAMPLE.replace(b"<OrganizationId>00Dxx0000000000EAA</OrganizationId>", b""),
     "OrganizationId missing"),
    (b'{"OrganizationId":"00Dxx0000000000EAA"}', "not a Salesforce Outbound Message envelope"),
    (b"<notifications><OrganizationId>00Dxx0000000000EAA</OrganizationId></notifications>",
     "not a Salesforce Outbound Message envelope"),
])
def test_rejected_with_reason(server, listener, body, expected):
    d = deliver(server, listener, body, SOAP)
    assert d.status == 401 and ACK not in d.body and b"Organization" not in d.body
    event = last_event(server, listener)
    assert event.status == "rejected" and expected in event.reason


def test_hostile_xml_is_rejected_not_500(server, listener):
    bomb = (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>'
            b"<x>&b;</x>")
    d = deliver(server, listener, bomb, SOAP)
    assert d.status in (400, 401)
    assert last_event(server, listener).status == "rejected"


def test_sign_fills_in_the_org_and_is_accepted(server):
    other = "00Dzz0000000000XYZ"
    listener = add_listener(server, "salesforce-outbound", {"organization_id": other}, "sf-other")
    request = signed(server, listener)
    assert other.encode() in request.body and request.header("SOAPAction") == '""'
    d = post(request)
    assert d.status == 200 and ACK in d.body


@pytest.mark.parametrize("name", ['SOAPAction'])
@pytest.mark.parametrize("value", HOSTILE_HEADER_VALUES)
def test_hostile_header_values_get_a_4xx_never_a_500(server, listener, name, value):
    hostile_header_refused(server, listener, SAMPLE, name, value)
