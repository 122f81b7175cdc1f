"""HubSpot: signature v1 and v2 (plain SHA-256 with the secret prepended) and v3 (HMAC, timestamped)."""

from __future__ import annotations

import base64
import hashlib
import json
import time
from urllib.parse import unquote

from ..hookspecs import hookimpl
from ..model import Sample, Setting, Verdict
from .base import (PUBLIC_URL, SECRET, Provider, digest_matches, hmac_digest,
                   missing_header, secrets_of, tolerance_setting, with_header)
from ._shared import (bad_timestamp, first_missing, joined_ids, json_body, signed_url, signing_secret,
                      timely, unix_seconds)

V1_HEADER = "X-HubSpot-Signature"
VERSION_HEADER = "X-HubSpot-Signature-Version"
V3_HEADER = "X-HubSpot-Signature-v3"
TIMESTAMP = "X-HubSpot-Request-Timestamp"

VERSION = Setting("version", "Signature version", "choice", "auto", choices=("auto", "v1", "v2", "v3"),
                  help="auto: v3 when X-HubSpot-Signature-v3 is present, else what "
                       "X-HubSpot-Signature-Version says (v1 when absent). Test deliveries use v3.")

#: the escapes HubSpot's v3 docs say to decode in the URI before signing
_V3_DECODED = ("%3A", "%2F", "%3F", "%40", "%21", "%24", "%27", "%28", "%29", "%2A", "%2C", "%3B")


def v3_uris(uri: str) -> list[str]:
    """The URI as received, and with HubSpot's listed escapes decoded (either may be signed)."""
    decoded = uri
    for escape in _V3_DECODED:
        for form in (escape, escape.lower()):
            decoded = decoded.replace(form, unquote(escape))
    return [uri] if decoded == uri else [uri, decoded]


def plain_digest(secret: str, *parts: bytes) -> bytes:
    return hashlib.sha256(secret.encode("utf-8") + b"".join(parts)).digest()


class HubSpotProvider(Provider):
    """HubSpot app webhooks, workflow webhooks and CRM cards (key: the app's client secret)."""

    name = "hubspot"
    label = "HubSpot"
    settings = (SECRET, PUBLIC_URL, tolerance_setting(300), VERSION)
    summary = "v3: HMAC-SHA256 base64 of method+uri+body+timestamp; v1/v2: SHA-256 of secret+..."
    doc = {
        "headers": f"{V3_HEADER} + {TIMESTAMP} (ms); {V1_HEADER} + {VERSION_HEADER} (v1, v2)",
        "signed": "v1: secret + body; v2: secret + method + uri + body; v3: method + uri + body + timestamp",
        "algorithm": "v1/v2: plain SHA-256 hex (not an HMAC, so open to length extension: pin v3 "
                     "where the sender supports it); v3: HMAC-SHA256 base64; version chosen by "
                     "headers unless pinned by the version setting",
        "replay": "v3: 300 s, past only (as hubspot-api-client)",
        "handshake": "none",
        "dedup": "the body's eventId values",
        "tested": "hubspot-api-python vectors (v1, v2 POST/GET, v3); hubspot-api-client "
                  "Signature.get_signature signs and Signature.is_valid verifies",
    }

    def version_for(self, request, settings) -> str:
        pinned = settings.get("version") or "auto"
        if pinned != "auto":
            return pinned
        if request.header(V3_HEADER) is not None:
            return "v3"
        declared = (request.header(VERSION_HEADER) or "v1").strip().lower()
        return declared if declared in ("v1", "v2") else "?"

    def verify(self, request, settings, *, now=None):
        version = self.version_for(request, settings)
        if version == "?":
            return Verdict.reject(f"header {VERSION_HEADER} names an unknown version", header=VERSION_HEADER)
        if version == "v3":
            return self._verify_v3(request, settings, now)
        received = request.header(V1_HEADER)
        if received is None:
            return missing_header(V1_HEADER)
        uri = signed_url(request, settings).encode("utf-8")
        for secret in secrets_of(settings):
            parts = (request.body,) if version == "v1" else (request.method.encode(), uri, request.body)
            if digest_matches(plain_digest(secret, *parts), received, "hex"):
                return Verdict.accept(version=version)
        return Verdict.reject(f"{version} signature in {V1_HEADER} does not match", header=V1_HEADER,
                              version=version)

    def _verify_v3(self, request, settings, now):
        missing = first_missing(request, V3_HEADER, TIMESTAMP)
        if missing is not None:
            return missing
        received, stamp = request.header(V3_HEADER), request.header(TIMESTAMP)
        millis = unix_seconds(stamp, digits=15)
        if millis is None:
            return bad_timestamp(TIMESTAMP, stamp, "a unix timestamp in milliseconds")
        matched = False
        for uri in v3_uris(signed_url(request, settings)):
            message = request.method.encode() + uri.encode("utf-8") + request.body + stamp.strip().encode()
            if any(digest_matches(hmac_digest("sha256", s, message), received, "base64")
                   for s in secrets_of(settings)):
                matched = True
                break
        if not matched:
            return Verdict.reject(f"v3 signature in {V3_HEADER} does not match", header=V3_HEADER,
                                  version="v3")
        return timely(millis / 1000, settings, now, future=False, verdict=Verdict.accept(version="v3"))

    def sign(self, request, settings, *, now=None):
        version = settings.get("version") or "auto"
        secret = signing_secret(settings)
        uri = signed_url(request, settings)
        if version in ("auto", "v3"):
            stamp = str(int((time.time() if now is None else now) * 1000))
            message = request.method.encode() + uri.encode("utf-8") + request.body + stamp.encode()
            digest = base64.b64encode(hmac_digest("sha256", secret, message)).decode("ascii")
            return with_header(with_header(request, TIMESTAMP, stamp), V3_HEADER, digest)
        parts = (request.body,) if version == "v1" else (request.method.encode(), uri.encode(), request.body)
        signed = with_header(request, V1_HEADER, plain_digest(secret, *parts).hex())
        return with_header(signed, VERSION_HEADER, version)

    def delivery_id(self, request):
        body = json_body(request)
        events = body if isinstance(body, list) else [body]
        return joined_ids(e["eventId"] for e in events
                          if isinstance(e, dict) and e.get("eventId") is not None)

    def sample(self):
        now_ms = int(time.time() * 1000)
        body = [{"eventId": now_ms % 10**10, "subscriptionId": 2391, "portalId": 62515,
                 "appId": 1160452, "occurredAt": now_ms, "subscriptionType": "contact.propertyChange",
                 "attemptNumber": 0, "objectId": 123, "propertyName": "email",
                 "propertyValue": "sample@example.com", "changeSource": "CRM"}]
        return Sample(json.dumps(body),
                      headers={"User-Agent": "HubSpot Connect 2.0 (http://dev.hubspot.com/)"})


@hookimpl
def register_providers():
    return [HubSpotProvider()]
