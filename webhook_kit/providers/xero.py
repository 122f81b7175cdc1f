"""Xero: ``x-xero-signature`` = base64 HMAC-SHA256(webhook key, body); intent-to-receive."""

from __future__ import annotations

from ..hookspecs import hookimpl
from ..model import Sample, Setting
from .base import HmacHeaderProvider
from ._shared import answer_if_verified, empty_response, json_body


class XeroProvider(HmacHeaderProvider):
    """Xero webhooks.

    Xero's "intent to receive" check sends signed test deliveries (events: [])
    with good and deliberately bad signatures, and activates the subscription
    only when good ones get 200 with an EMPTY body and bad ones get 401. Every
    answer here has an empty body; an intent-to-receive ping with a valid
    signature is recorded as a handshake.
    """

    name = "xero"
    label = "Xero"
    header = "x-xero-signature"
    encoding = "base64"
    settings = (Setting("secret", "Webhook key", "secret", required=True,
                        help="The webhook signing key shown in the Xero developer portal; a list "
                             "rotates; {\"env\": NAME} reads it from the environment."),)
    summary = "HMAC-SHA256 base64 of the body in x-xero-signature; intent to receive"
    doc = {
        "headers": "`x-xero-signature: <base64>`",
        "signed": "`body`",
        "algorithm": "HMAC-SHA256, base64",
        "replay": "none",
        "handshake": "intent to receive: `events: []` pings; 200 with an empty body only for a "
                     "valid signature, 401 otherwise",
        "dedup": "none (no stable id)",
        "tested": "published SELF-COMPUTED vector; intent-to-receive good and bad pings over loopback",
    }

    def handshake(self, request, settings, *, now=None):
        body = json_body(request)
        if request.method != "POST" or not isinstance(body, dict) or body.get("events") != []:
            return None
        return answer_if_verified(self, request, settings, empty_response(200))

    def respond(self, event, settings):
        return empty_response(200)

    def sample(self):
        return Sample(
            b'{"events":[{"resourceUrl":"https://api.xero.com/api.xro/2.0/Contacts/'
            b'717f2bfc-c6d4-41fd-b238-3f2f0c0cf777","resourceId":"717f2bfc-c6d4-41fd-b238-3f2f0c0cf777",'
            b'"eventDateUtc":"2024-01-01T12:00:00.123","eventType":"CREATE","eventCategory":"CONTACT",'
            b'"tenantId":"c2cc9b6e-9458-4c7d-93cc-f02b81b0594f","tenantType":"ORGANISATION"}],'
            b'"firstEventSequence":1,"lastEventSequence":1,"entropy":"S0m3r4Nd0mt3xt"}')


@hookimpl
def register_providers():
    return [XeroProvider()]
