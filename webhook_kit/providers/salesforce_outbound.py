"""Salesforce Outbound Messages: a SOAP 1.1 envelope; OrganizationId check; SOAP Ack answer."""

from __future__ import annotations

import re

from .. import secret_values
from ..hookspecs import hookimpl
from ..model import Response, Sample, Setting, Verdict
from ..xmljson import XmlError, XmlOptions, xml_to_data
from .base import Provider, SignError, copy_request
from ._shared import batch_key

OUTBOUND_NS = "http://soap.sforce.com/2005/09/outbound"
PARSE_OPTIONS = {"force_list": ("Notification",)}

ACK = (b'<?xml version="1.0" encoding="UTF-8"?>'
       b'<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">'
       b'<soapenv:Body><notificationsResponse xmlns="http://soap.sforce.com/2005/09/outbound">'
       b'<Ack>true</Ack></notificationsResponse></soapenv:Body></soapenv:Envelope>')

SAMPLE = b"""<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"
                  xmlns:xsd="http://www.w3.org/2001/XMLSchema"
                  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <soapenv:Body>
    <notifications xmlns="http://soap.sforce.com/2005/09/outbound">
      <OrganizationId>00Dxx0000000000EAA</OrganizationId>
      <ActionId>04kxx0000000000AAA</ActionId>
      <SessionId xsi:nil="true"/>
      <EnterpriseUrl>https://example.my.salesforce.com/services/Soap/c/60.0/00Dxx0000000000</EnterpriseUrl>
      <PartnerUrl>https://example.my.salesforce.com/services/Soap/u/60.0/00Dxx0000000000</PartnerUrl>
      <Notification>
        <Id>04lxx0000000000AAA</Id>
        <sObject xsi:type="sf:Lead" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">
          <sf:Id>00Qxx0000000000AAA</sf:Id>
          <sf:Email>lead@example.com</sf:Email>
          <sf:LastName>Example</sf:LastName>
        </sObject>
      </Notification>
    </notifications>
  </soapenv:Body>
</soapenv:Envelope>
"""

_ORG_ELEMENT = re.compile(rb"(<(?:[\w.-]+:)?OrganizationId>)([^<]*)(</(?:[\w.-]+:)?OrganizationId>)")


def _local(key: str) -> str:
    return key.rsplit(":", 1)[-1]


def _child(node, name: str):
    """The child of a parsed element whose local name is ``name`` (any namespace prefix)."""
    if not isinstance(node, dict):
        return None
    for key, value in node.items():
        if not key.startswith(("@", "#")) and _local(key) == name:
            return value
    return None


def _text(node) -> str | None:
    if isinstance(node, dict):
        node = node.get("#text")
    return node.strip() if isinstance(node, str) else None


def notifications_of(payload) -> dict | None:
    """The ``notifications`` element of a parsed Outbound Message envelope, or None."""
    body = _child(_child(payload, "Envelope"), "Body")
    found = _child(body, "notifications")
    return found if isinstance(found, dict) else None


def org_ids_match(received: str, expected: str) -> bool:
    """Case-sensitive equality; a configured 15-character id matches the sent 18-character form."""
    if len(expected) == 15 and len(received) == 18:
        received = received[:15]
    return secret_values.equal(received, expected)


class SalesforceOutboundProvider(Provider):
    """Outbound Messages carry no signature: the one thing to check is ``OrganizationId``.

    (Mutual TLS and Salesforce's IP ranges belong to the proxy in front.) Every
    accepted message is answered with the SOAP ``<Ack>true</Ack>`` Salesforce
    requires; without it Salesforce retries for up to 24 hours.
    """

    name = "salesforce-outbound"
    label = "Salesforce Outbound Message"
    aliases = ("salesforce",)
    settings = (Setting("organization_id", "Organization ID", "text", required=True,
                        help="Your org's id (15 or 18 characters, 00D...); messages from any other "
                             "org are rejected."),)
    parse_options = PARSE_OPTIONS
    summary = "SOAP envelope; OrganizationId must match; answered with the SOAP Ack"
    doc = {
        "headers": '`Content-Type: text/xml; charset=utf-8`, `SOAPAction: ""`',
        "signed": "nothing: `OrganizationId` in the envelope is checked (add mTLS / IP allowlist at the proxy)",
        "algorithm": "equality of the organization id (15- or 18-character form)",
        "replay": "none",
        "handshake": "none; every accepted message is answered with the SOAP `<Ack>true</Ack>`",
        "dedup": "`Notification/Id` (a digest of all ids for a batch of 2..100)",
        "tested": "real-shaped SOAP envelopes over loopback: Ack answer, wrong org, batches, redelivery",
    }

    @staticmethod
    def _notifications(request):
        # parsed here with fixed options: the listener's own XML options (another
        # cdata key, say) change the payload's shape but not what is checked
        try:
            payload = xml_to_data(request.body, XmlOptions.from_dict(PARSE_OPTIONS))
        except (XmlError, ValueError, RecursionError):
            return None
        return notifications_of(payload)

    def verify(self, request, settings, *, now=None):
        notifications = self._notifications(request)
        if notifications is None:
            return Verdict.reject("body is not a Salesforce Outbound Message envelope "
                                  "(soapenv:Envelope/Body/notifications)", field="notifications")
        received = _text(_child(notifications, "OrganizationId"))
        if not received:
            return Verdict.reject("OrganizationId missing from the message", field="OrganizationId")
        if org_ids_match(received, settings.get("organization_id") or ""):
            return Verdict.accept()
        return Verdict.reject("OrganizationId does not match the expected organization",
                              field="OrganizationId", received=received)

    def sign(self, request, settings, *, now=None):
        org = (settings.get("organization_id") or "").encode("ascii", "replace")
        body, count = _ORG_ELEMENT.subn(lambda m: m.group(1) + org + m.group(3), request.body)
        if not count:
            raise SignError("the body has no <OrganizationId> element to fill in")
        signed = copy_request(request, body=body)
        signed.headers.set("Content-Type", "text/xml; charset=utf-8")
        if "SOAPAction" not in signed.headers:
            signed.headers.set("SOAPAction", '""')
        return signed

    def delivery_id(self, request):
        notifications = self._notifications(request)
        items = _child(notifications, "Notification") if notifications else None
        if isinstance(items, dict):
            items = [items]
        if not isinstance(items, list):
            return None
        return batch_key(_text(_child(item, "Id")) for item in items)

    def respond(self, event, settings):
        return Response(200, {"Content-Type": "text/xml; charset=utf-8"}, ACK)

    def sample(self):
        return Sample(SAMPLE, content_type="text/xml; charset=utf-8", headers={"SOAPAction": '""'})


@hookimpl
def register_providers():
    return [SalesforceOutboundProvider()]
