"""Twilio: ``X-Twilio-Signature`` = base64 HMAC of the URL plus sorted POST params (or ``bodySHA256``)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import parse_qsl, urlencode, urlsplit

from ..hookspecs import hookimpl
from ..model import Sample, Setting, Verdict
from .base import (PUBLIC_URL, SECRET, Provider, copy_request, digest_matches, hmac_digest,
                   missing_header, secrets_of, with_header)
from ._shared import (fresh_hex, new_id, signed_url, signing_secret, url_with_params,
                      with_default_header, with_port, without_port)

HEADER = "X-Twilio-Signature"
SETTINGS_HEADER = "X-Twilio-Webhooks-Signature-Settings"
NAMES = {"HMAC_SHA1": "sha1", "HMAC_SHA256": "sha256"}

ALGORITHM = Setting("algorithm", "Algorithm", "choice", "auto", choices=("auto", "sha1", "sha256"),
                    help="auto: HMAC-SHA256 when X-Twilio-Webhooks-Signature-Settings says so, else "
                         "HMAC-SHA1 (Auth Token). sha256 is for SharedKey signing.")
KEY_ID = Setting("key_id", "SharedKey id", "text", "",
                 help="The SharedKey id test deliveries name in X-Twilio-Webhooks-Signature-Settings.")


def algorithm_in(settings_header: str | None) -> str | None:
    """The algorithm a SharedKey request names (``None``: not named, ``"?"``: unknown)."""
    for part in (settings_header or "").split(","):
        name, sep, value = part.partition("=")
        if sep and name.strip() == "algorithm" and value.strip():
            return NAMES.get(value.strip().upper(), "?")
    return None


def body_sha256(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


class TwilioProvider(Provider):
    """Twilio Voice, Messaging and other products (form posts, and JSON with bodySHA256)."""

    name = "twilio"
    label = "Twilio"
    settings = (SECRET, PUBLIC_URL, ALGORITHM, KEY_ID)
    summary = "HMAC-SHA1 (or SHA-256) base64 of URL + sorted form params in X-Twilio-Signature"
    doc = {
        "headers": "X-Twilio-Signature (+ X-Twilio-Webhooks-Signature-Settings for SharedKey), "
                   "I-Twilio-Idempotency-Token",
        "signed": "url + each form param name+value sorted; JSON: url with bodySHA256=<hex sha256 of body>",
        "algorithm": "HMAC-SHA1 base64 with the Auth Token; HMAC-SHA256 base64 with a SharedKey "
                     "(setting or the settings header); URL tried with and without its default port",
        "replay": "none",
        "handshake": "none",
        "dedup": "I-Twilio-Idempotency-Token",
        "tested": "Twilio docs and twilio-python vectors (ports, duplicates, bodySHA256, SHA-256); "
                  "twilio RequestValidator signs and validates",
    }

    def algorithm_for(self, request, settings) -> str | None:
        chosen = settings.get("algorithm") or "auto"
        if chosen != "auto":
            return chosen
        return algorithm_in(request.header(SETTINGS_HEADER)) or "sha1"

    def string_to_sign(self, request, url: str) -> bytes:
        """The URL, plus sorted form params unless the URL carries bodySHA256 (JSON bodies)."""
        if "bodySHA256" in dict(_query(url)) or request.method == "GET":
            return url.encode("utf-8")
        params = request.form_params() if request.content_type == "application/x-www-form-urlencoded" else []
        return url_with_params(url, params).encode("utf-8")

    def verify(self, request, settings, *, now=None):
        received = request.header(HEADER)
        if received is None:
            return missing_header(HEADER)
        algorithm = self.algorithm_for(request, settings)
        if algorithm not in ("sha1", "sha256"):
            return Verdict.reject(f"header {SETTINGS_HEADER} names an unknown algorithm",
                                  header=SETTINGS_HEADER)
        url = signed_url(request, settings)
        declared = dict(_query(url)).get("bodySHA256")
        if declared is not None and not hmac.compare_digest(
                declared.lower().encode("utf-8", "replace"), body_sha256(request.body).encode()):
            return Verdict.reject("body does not match bodySHA256 in the URL", check="bodySHA256")
        if (declared is None and request.body and request.method != "GET"
                and request.content_type != "application/x-www-form-urlencoded"):
            # only form params and bodySHA256 bring a body under the signature
            return Verdict.reject("body is not signed: a non-form body needs bodySHA256 in the URL",
                                  check="bodySHA256")
        candidates = {without_port(url), with_port(url)}
        for secret in secrets_of(settings):
            for candidate in candidates:
                digest = hmac_digest(algorithm, secret, self.string_to_sign(request, candidate))
                if digest_matches(digest, received, "base64"):
                    return Verdict.accept(algorithm=algorithm)
        return Verdict.reject(f"signature in {HEADER} does not match", header=HEADER,
                              algorithm=algorithm, url=url)

    def sign(self, request, settings, *, now=None):
        algorithm = settings.get("algorithm") or "auto"
        algorithm = "sha1" if algorithm == "auto" else algorithm
        if (request.content_type not in ("", "application/x-www-form-urlencoded")
                and request.method != "GET" and request.query_param("bodySHA256") is None):
            # JSON and other bodies: Twilio adds the body hash to the query it signs
            sep = "&" if "?" in request.url else "?"
            query = urlencode({"bodySHA256": body_sha256(request.body)})
            request = copy_request(request, url=f"{request.url}{sep}{query}")
        url = signed_url(request, settings)
        digest = hmac_digest(algorithm, signing_secret(settings), self.string_to_sign(request, url))
        signed = with_header(request, HEADER, base64.b64encode(digest).decode("ascii"))
        if algorithm == "sha256":
            key = settings.get("key_id") or "webhooks_sharedkey"
            signed = with_header(signed, SETTINGS_HEADER, f"key={key},algorithm=HMAC_SHA256")
        return with_default_header(signed, "I-Twilio-Idempotency-Token", new_id())

    def delivery_id(self, request):
        return request.header("I-Twilio-Idempotency-Token")

    def sample(self):
        params = [("ToCountry", "US"), ("ToState", "CA"), ("SmsMessageSid", f"SM{fresh_hex(16)}"),
                  ("NumMedia", "0"), ("ToCity", "SAN FRANCISCO"), ("FromZip", "94105"),
                  ("SmsSid", "SM11111111111111111111111111111111"), ("FromState", "CA"),
                  ("SmsStatus", "received"), ("Body", "Hello from Twilio"), ("FromCountry", "US"),
                  ("To", "+14155550100"), ("MessagingServiceSid", ""), ("NumSegments", "1"),
                  ("MessageSid", "SM11111111111111111111111111111111"),
                  ("AccountSid", "AC00000000000000000000000000000000"), ("From", "+14155550199"),
                  ("ApiVersion", "2010-04-01")]
        return Sample(urlencode(params), "application/x-www-form-urlencoded",
                      {"User-Agent": "TwilioProxy/1.1"})


def _query(url: str) -> list[tuple[str, str]]:
    return parse_qsl(urlsplit(url).query, keep_blank_values=True)


@hookimpl
def register_providers():
    return [TwilioProvider()]
