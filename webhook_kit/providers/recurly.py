"""Recurly: signed JSON webhooks, or legacy XML webhooks behind HTTP Basic auth."""

from __future__ import annotations

from ..hookspecs import hookimpl
from ..model import Sample, Setting, Verdict
from ..verification import BasicAuth
from .base import (Provider, hmac_digest, missing_header, now_or, secrets_of, tolerance_setting,
                   with_header)
from ._shared import any_secret_matches, bad_timestamp, field_at, json_body, timely, unix_seconds

HEADER = "recurly-signature"
BASIC = BasicAuth()

XML_SAMPLE = b"""<?xml version="1.0" encoding="UTF-8"?>
<successful_payment_notification>
  <account>
    <account_code>1</account_code>
    <username nil="true"></username>
    <email>verena@example.com</email>
    <first_name>Verena</first_name>
    <company_name nil="true"></company_name>
  </account>
  <transaction>
    <id>a5143c1d3a6f4a8287d0e2cc1d4c0427</id>
    <action>purchase</action>
    <amount_in_cents type="integer">1000</amount_in_cents>
    <status>success</status>
    <test type="boolean">true</test>
    <voidable type="boolean">true</voidable>
    <date type="datetime">2009-11-22T13:10:38Z</date>
  </transaction>
</successful_payment_notification>
"""


class RecurlyProvider(Provider):
    """One provider for both Recurly webhook formats; the ``format`` setting chooses.

    A Recurly endpoint is configured for one format, so the listener says which:
    ``json`` checks ``recurly-signature: <ts ms>,<hex>[,<hex>...]`` (HMAC-SHA256 of
    ``ts + "." + body``); ``xml`` checks HTTP Basic credentials, since Recurly
    signs no XML payload. Choosing by the request instead would let a sender
    pick the weaker check.
    """

    name = "recurly"
    label = "Recurly"
    settings = (
        Setting("format", "Webhook format", "choice", "json", choices=("json", "xml"),
                help="json: signed with recurly-signature; xml (legacy): HTTP Basic credentials."),
        Setting("secret", "Secret key", "secret",
                help="json: the endpoint's signing secret; a list rotates; {\"env\": NAME} reads "
                     "it from the environment."),
        tolerance_setting(300),
        Setting("username", "Username", "text", help="xml: the HTTP Basic user name."),
        Setting("password", "Password", "secret", help="xml: the HTTP Basic password."),
    )
    secret_headers = ("Authorization",)
    summary = "json: HMAC-SHA256 hex of ts_ms.body in recurly-signature; xml: HTTP Basic"
    doc = {
        "headers": "json: `recurly-signature: <ts ms>,<hex>[,<hex>...]`; xml: `Authorization: Basic` "
                   "(redacted before storing)",
        "signed": 'json: `ts_ms + "." + body`; xml: nothing (Recurly signs no XML)',
        "algorithm": "json: HMAC-SHA256, hex (several during rotation); xml: credential equality",
        "replay": "json: 300 s (the client libraries' tolerance); `tolerance`",
        "handshake": "none",
        "dedup": "json: `id` in the body; xml: none",
        "tested": "published SELF-COMPUTED vector; JSON and XML deliveries over loopback "
                  "(the `recurly` package has no webhook helper)",
    }

    @staticmethod
    def is_xml(settings: dict) -> bool:
        return (settings.get("format") or "json") == "xml"

    def check_settings(self, given):
        problems = super().check_settings(given)
        if given.get("format") == "xml":
            for name in ("username", "password"):
                if given.get(name) in (None, "", []):
                    problems.append((name, "is required for the xml format"))
        elif given.get("secret") in (None, "", []):
            problems.append(("secret", "is required for the json format"))
        return problems

    def verify(self, request, settings, *, now=None):
        if self.is_xml(settings):
            return BASIC.verify(request, settings, now=now)
        value = request.header(HEADER)
        if value is None:
            return missing_header(HEADER)
        ts, *signatures = [p.strip() for p in value.split(",")]
        if unix_seconds(ts, digits=15) is None:
            return bad_timestamp(HEADER, ts, "a millisecond unix timestamp")
        if not signatures:
            return Verdict.reject(f"header {HEADER} has no signature after the timestamp", header=HEADER)
        if not any_secret_matches(settings, "sha256", ts.encode("ascii") + b"." + request.body,
                                  signatures):
            return Verdict.reject(f"signature in {HEADER} does not match", header=HEADER,
                                  algorithm="sha256", encoding="hex")
        return timely(int(ts) / 1000, settings, now)

    def sign(self, request, settings, *, now=None):
        if self.is_xml(settings):
            return BASIC.sign(request, settings, now=now)
        ts = str(int(now_or(now) * 1000))
        message = ts.encode("ascii") + b"." + request.body
        # during a key rotation Recurly signs with every active key
        digests = [hmac_digest("sha256", s, message).hex() for s in secrets_of(settings)]
        return with_header(request, HEADER, ",".join([ts] + digests))

    def delivery_id(self, request):
        body = json_body(request)
        return field_at(body, "id") if isinstance(body, dict) else None

    def sample(self, settings=None):
        if settings and settings.get("format") == "xml":
            return self.xml_sample()
        return Sample(
            b'{"id":"rrkk8rj1vo0i","object_type":"account","site_id":"ow34ff1ez6nx",'
            b'"event_type":"created","event_time":"2024-01-01T12:00:00Z","account_code":"1"}')

    def xml_sample(self) -> Sample:
        """A legacy XML notification (successful payment), for listeners with format xml."""
        return Sample(XML_SAMPLE, content_type="application/xml")


@hookimpl
def register_providers():
    return [RecurlyProvider()]
