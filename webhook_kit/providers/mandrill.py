"""Mandrill (Mailchimp Transactional): base64 HMAC-SHA1 of the URL plus sorted POST params; HEAD probe."""

from __future__ import annotations

import json
import time
from urllib.parse import urlencode

from ..hookspecs import hookimpl
from ..model import Sample
from .base import PUBLIC_URL, SECRET, HmacHeaderProvider, with_header
from ._shared import fresh_hex, head_probe, joined_ids, signed_url, signing_secret, url_with_params


class MandrillProvider(HmacHeaderProvider):
    """Mandrill webhooks: form posts of ``mandrill_events=<JSON array>``."""

    name = "mandrill"
    label = "Mandrill (Mailchimp Transactional)"
    aliases = ("mailchimp-transactional",)
    header = "X-Mandrill-Signature"
    algorithm = "sha1"
    encoding = "base64"
    settings = (SECRET, PUBLIC_URL)
    summary = "HMAC-SHA1 base64 of URL + sorted form params in X-Mandrill-Signature; HEAD probe"
    doc = {
        "headers": "X-Mandrill-Signature",
        "signed": "url + each POST param key+value, sorted by key (in practice mandrill_events + JSON)",
        "algorithm": "HMAC-SHA1, base64; key = the webhook key",
        "replay": "none (events carry ts, unsigned by any window)",
        "handshake": "HEAD answered 200 (sent when the webhook is added)",
        "dedup": "the events' _id values",
        "tested": "self-computed vector (no official vector; the SDK has no webhook helper)",
    }

    def signed_bytes(self, request, settings):
        return url_with_params(signed_url(request, settings), request.form_params()).encode("utf-8")

    def handshake(self, request, settings, *, now=None):
        return head_probe(request)

    def sign(self, request, settings, *, now=None):
        return with_header(request, self.header, self.compute(request, settings, signing_secret(settings)))

    def delivery_id(self, request):
        for name, value in request.form_params():
            if name == "mandrill_events":
                try:
                    events = json.loads(value)
                except ValueError:
                    return None
                if not isinstance(events, list):
                    return None
                return joined_ids(e["_id"] for e in events if isinstance(e, dict) and e.get("_id"))
        return None

    def sample(self):
        ts = int(time.time())
        events = [{"event": "send", "_id": fresh_hex(16), "ts": ts,
                   "msg": {"ts": ts, "subject": "Your order has shipped", "email": "jane@example.com",
                           "sender": "shop@example.com", "tags": ["shipping"], "state": "sent",
                           "_id": "7761629a0bf24e3bb5f6ba9b2e3e2a56"}}]
        return Sample(urlencode({"mandrill_events": json.dumps(events)}),
                      "application/x-www-form-urlencoded", {"User-Agent": "Mandrill-Webhook/1.0"})


@hookimpl
def register_providers():
    return [MandrillProvider()]
