"""DocuSign Connect for webhook_kit: XML (legacy) or JSON notifications, HMAC-signed.

With HMAC security on, DocuSign Connect adds one header per active Connect
key: ``X-DocuSign-Signature-1``, ``X-DocuSign-Signature-2``... each the
base64 of HMAC-SHA256 (key, raw body). A delivery is genuine when any of these
headers matches any configured key, so keys can be rotated one at a time.
Connect signs nothing else (no timestamp), so it has no replay window.

Installed, this distribution registers the ``docusign`` provider through the
``webhook_kit`` entry-point group.
"""

from __future__ import annotations

import re
from typing import Any

from webhook_kit import Provider, Request, Sample, Setting, Verdict, hookimpl
from webhook_kit.providers import (copy_request, digest_matches, encode_digest, hmac_digest,
                                   missing_header, secrets_of)
from webhook_kit.secret_values import SecretError

__version__ = "0.1.0"

HEADER_PREFIX = "X-DocuSign-Signature-"
_SIGNATURE_HEADER = re.compile(r"x-docusign-signature-([1-9][0-9]{0,2})\Z", re.IGNORECASE)
#: Connect allows up to 100 keys; headers past that are not looked at
MAX_SIGNATURES = 100

KEYS = Setting("secret", "Connect HMAC keys", "secret", required=True,
               help="The Connect HMAC key; a list of keys when several are active "
                    "(any one may match; test deliveries carry one header per key). "
                    '{"env": NAME} reads it from the environment.')


def signature_headers(request: Request) -> list[tuple[str, str]]:
    """The ``X-DocuSign-Signature-N`` headers of a request, in the order received."""
    found = [(n, v) for n, v in request.headers if _SIGNATURE_HEADER.match(n)]
    return found[:MAX_SIGNATURES]


class DocuSignConnectProvider(Provider):
    """DocuSign Connect notifications (XML or JSON), HMAC-SHA256 base64 per key."""

    name = "docusign"
    label = "DocuSign Connect"
    settings = (KEYS,)
    summary = "HMAC-SHA256 base64 of the body, one X-DocuSign-Signature-N header per Connect key"
    # envelopes with one recipient or one document still give lists
    parse_options = {"force_list": ("RecipientStatus", "DocumentPDF", "CustomField")}
    doc = {
        "headers": "`X-DocuSign-Signature-1` ... `-N` (one per Connect key)",
        "signed": "`body`",
        "algorithm": "HMAC-SHA256, base64",
        "replay": "none (nothing time-bound is signed)",
        "handshake": "none",
        "dedup": "envelope id + status + time generated",
        "tested": "the HMAC recipe of DocuSign's Connect guide, computed with `hmac`",
    }

    def verify(self, request: Request, settings: dict, *, now: float | None = None) -> Verdict:
        received = signature_headers(request)
        if not received:
            return missing_header(HEADER_PREFIX + "1")
        # one digest per key, then every header against every digest
        expected = [hmac_digest("sha256", key, request.body) for key in secrets_of(settings)]
        for header, value in received:
            for digest in expected:
                if digest_matches(digest, value, "base64"):
                    return Verdict.accept(header=header)
        return Verdict.reject("no X-DocuSign-Signature-N header matches a Connect key",
                              headers_checked=[h for h, _ in received],
                              algorithm="sha256", encoding="base64")

    def sign(self, request: Request, settings: dict, *, now: float | None = None) -> Request:
        try:
            keys = secrets_of(settings)
        except SecretError as exc:
            raise SecretError(f"no Connect HMAC key to sign with: {exc}") from None
        headers = request.headers.copy()
        for existing, _ in signature_headers(request):
            headers.remove(existing)
        for n, key in enumerate(keys, start=1):
            headers.set(f"{HEADER_PREFIX}{n}",
                        encode_digest(hmac_digest("sha256", key, request.body), "base64"))
        # Connect names the algorithm of the signature headers here
        headers.set("X-Authorization-Digest", "HMACSHA256")
        return copy_request(request, headers=headers)

    def delivery_id(self, request: Request) -> str | None:
        return delivery_id_of(request.payload)

    def sample(self) -> Sample:
        return Sample(SAMPLE_XML, "text/xml; charset=utf-8")


def _child(node: Any, name: str) -> Any:
    """``node[name]``, also when namespaces were expanded (``uri:name``)."""
    if not isinstance(node, dict):
        return None
    if name in node:
        return node[name]
    for key, value in node.items():
        if isinstance(key, str) and key.endswith(":" + name):
            return value
    return None


def _text(value: Any) -> str | None:
    if isinstance(value, dict):
        value = value.get("#text")
    return value if isinstance(value, str) and value else None


def delivery_id_of(payload: Any) -> str | None:
    """Envelope id, status and generation time: the same for a redelivery of one notice."""
    status = _child(_child(payload, "DocuSignEnvelopeInformation"), "EnvelopeStatus")
    if isinstance(status, dict):  # legacy XML
        parts = [_text(_child(status, k)) for k in ("EnvelopeID", "Status", "TimeGenerated")]
    elif isinstance(payload, dict) and isinstance(payload.get("data"), dict):  # JSON (Connect 2.x)
        parts = [_text(payload["data"].get("envelopeId")), _text(payload.get("event")),
                 _text(payload.get("generatedDateTime"))]
    else:
        return None
    if not parts[0]:
        return None
    return ":".join(p or "" for p in parts)


SAMPLE_XML = b"""<?xml version="1.0" encoding="utf-8"?>
<DocuSignEnvelopeInformation xmlns:xsd="http://www.w3.org/2001/XMLSchema" \
xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns="http://www.docusign.net/API/3.0">
  <EnvelopeStatus>
    <RecipientStatuses>
      <RecipientStatus>
        <Type>Signer</Type>
        <Email>signer@example.com</Email>
        <UserName>Sam Signer</UserName>
        <RoutingOrder>1</RoutingOrder>
        <Status>Completed</Status>
      </RecipientStatus>
    </RecipientStatuses>
    <TimeGenerated>2026-11-28T10:15:30.1234567</TimeGenerated>
    <EnvelopeID>3f1c9a52-7d1e-4b8a-9c1b-2a6f0e5d4c3b</EnvelopeID>
    <Subject>Please sign: order 1001</Subject>
    <Status>Completed</Status>
    <Created>2026-11-28T10:01:02.53</Created>
    <Completed>2026-11-28T10:15:29.937</Completed>
  </EnvelopeStatus>
  <DocumentPDFs>
    <DocumentPDF>
      <Name>order-1001.pdf</Name>
      <PDFBytes>JVBERi0xLjQKJcfsj6IKMSAwIG9iago8PC9UeXBlL0NhdGFsb2c+PgplbmRvYmoK</PDFBytes>
    </DocumentPDF>
  </DocumentPDFs>
</DocuSignEnvelopeInformation>
"""


@hookimpl
def register_providers():
    return [DocuSignConnectProvider()]
