"""X (Twitter) Account Activity API: CRC handshake and signed event deliveries."""

from __future__ import annotations

import base64

from ..hookspecs import hookimpl
from ..model import Response, Sample, Setting
from .base import HmacHeaderProvider, hmac_digest, secrets_of


class XTwitterProvider(HmacHeaderProvider):
    """``x-twitter-webhooks-signature: sha256=<base64>`` of the body with the consumer secret.

    X sends ``GET ?crc_token=...`` when the webhook is registered and hourly after;
    the answer is ``{"response_token": "sha256=" + base64(HMAC-SHA256(secret, crc_token))}``.
    """

    name = "x-twitter"
    label = "X (Twitter)"
    aliases = ("twitter",)
    header = "x-twitter-webhooks-signature"
    prefix = "sha256="
    encoding = "base64"
    settings = (Setting("secret", "Consumer secret", "secret", required=True,
                        help="The app's API key secret (consumer secret); the first of a list answers "
                             "the CRC; {\"env\": NAME} reads it from the environment."),)
    summary = "HMAC-SHA256 base64 of the body in x-twitter-webhooks-signature; GET crc_token"
    doc = {
        "headers": "`x-twitter-webhooks-signature: sha256=<base64>`",
        "signed": "`body`; the CRC answer signs `crc_token`",
        "algorithm": "HMAC-SHA256 (key: consumer secret), base64",
        "replay": "none",
        "handshake": 'GET `crc_token` -> `{"response_token": "sha256=<base64 HMAC>"}`',
        "dedup": "none (no id header)",
        "tested": "published SELF-COMPUTED CRC vector; real deliveries over loopback",
    }

    @staticmethod
    def response_token(secret: str, crc_token: str) -> str:
        digest = hmac_digest("sha256", secret, crc_token.encode("utf-8"))
        return "sha256=" + base64.b64encode(digest).decode("ascii")

    def handshake(self, request, settings, *, now=None):
        crc = request.query_param("crc_token")
        if request.method != "GET" or crc is None:
            return None
        if not crc:
            return Response.json({"error": "empty crc_token"}, 400)
        return Response.json({"response_token": self.response_token(secrets_of(settings)[0], crc)})

    def sample(self):
        return Sample(
            b'{"for_user_id":"2244994945","tweet_create_events":[{"created_at":'
            b'"Wed Jan 01 12:00:00 +0000 2024","id":1742123456789012345,"id_str":"1742123456789012345",'
            b'"text":"@XDevelopers hello","user":{"id":6253282,"id_str":"6253282","name":"X API",'
            b'"screen_name":"API"}}]}')


@hookimpl
def register_providers():
    return [XTwitterProvider()]
