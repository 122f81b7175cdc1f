"""QuickBooks Online (Intuit): ``intuit-signature`` = base64 HMAC-SHA256(verifier token, body)."""

from __future__ import annotations

from ..hookspecs import hookimpl
from ..model import Sample, Setting
from .base import HmacHeaderProvider
from ._shared import batch_key, json_body


class IntuitProvider(HmacHeaderProvider):
    """Intuit QuickBooks Online webhooks (legacy eventNotifications and CloudEvents bodies)."""

    name = "intuit"
    label = "QuickBooks Online (Intuit)"
    aliases = ("quickbooks",)
    header = "intuit-signature"
    encoding = "base64"
    settings = (Setting("secret", "Verifier token", "secret", required=True,
                        help="The webhook verifier token from the developer portal (not the OAuth "
                             "client secret); a list rotates; {\"env\": NAME} reads it from the environment."),)
    summary = "HMAC-SHA256 base64 of the body in intuit-signature"
    doc = {
        "headers": "`intuit-signature: <base64>`",
        "signed": "`body`",
        "algorithm": "HMAC-SHA256 (key: the verifier token), base64",
        "replay": "none",
        "handshake": "none",
        "dedup": "CloudEvents `id` (a digest of all ids for a batch); legacy bodies: none",
        "tested": "published SELF-COMPUTED vector; real deliveries over loopback",
    }

    def delivery_id(self, request):
        body = json_body(request)
        if isinstance(body, list):  # CloudEvents: one id per event
            return batch_key(e.get("id") for e in body if isinstance(e, dict))
        return None

    def sample(self):
        return Sample(
            b'[{"specversion":"1.0","id":"88cd52ec-1b2a-4a65-9f6c-7c0e2a4c91d3","source":'
            b'"intuit.dsnBgbseACLLRZNxo2dfc4evmEJdxde58xeeYcZliOU=","type":"qbo.customer.created.v1",'
            b'"datacontenttype":"application/json","time":"2025-11-20T18:54:27.116Z",'
            b'"intuitentityid":"1234","intuitaccountid":"310687","data":{}}]')


@hookimpl
def register_providers():
    return [IntuitProvider()]
