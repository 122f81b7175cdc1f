"""Meta (Facebook, Instagram, Messenger, WhatsApp Cloud API) webhooks."""

from __future__ import annotations

from .. import secret_values
from ..hookspecs import hookimpl
from ..model import Response, Sample, Setting
from .base import HmacHeaderProvider, secrets_of
from ._shared import echo_text


class MetaProvider(HmacHeaderProvider):
    """``X-Hub-Signature-256: sha256=<hex>`` of the body with the App Secret.

    Subscribing sends ``GET ?hub.mode=subscribe&hub.challenge=...&hub.verify_token=...``:
    the bare challenge is echoed only when the verify token matches; 403 otherwise.
    """

    name = "meta"
    label = "Meta (Facebook, Instagram, WhatsApp)"
    aliases = ("facebook", "instagram", "whatsapp")
    header = "X-Hub-Signature-256"
    prefix = "sha256="
    settings = (
        Setting("secret", "App secret", "secret", required=True,
                help="The app's App Secret; a list rotates; {\"env\": NAME} reads it from the environment."),
        Setting("verify_token", "Verify token", "secret", required=True,
                help="The token you typed when subscribing; the GET handshake must carry it."),
    )
    secret_query_params = ("hub.verify_token",)
    summary = "HMAC-SHA256 hex of the body in X-Hub-Signature-256; GET hub.challenge handshake"
    doc = {
        "headers": "`X-Hub-Signature-256: sha256=<hex>` (legacy `X-Hub-Signature: sha1=` not accepted)",
        "signed": "`body` (raw bytes: Meta escapes non-ASCII as `\\uXXXX` and signs that text)",
        "algorithm": "HMAC-SHA256 (key: App Secret), hex",
        "replay": "none",
        "handshake": "GET `hub.mode=subscribe` + `hub.verify_token` -> 200 `hub.challenge` as text; "
                     "403 on a wrong token (the token is redacted before storing)",
        "dedup": "none (batched `entry` list, no id)",
        "tested": "published SELF-COMPUTED vector; handshake with right and wrong tokens over loopback",
    }

    def handshake(self, request, settings, *, now=None):
        mode = request.query_param("hub.mode")
        if request.method != "GET" or mode is None:
            return None
        challenge = request.query_param("hub.challenge") or ""
        token = request.query_param("hub.verify_token")
        token_ok = any(secret_values.equal(token, t) for t in secrets_of(settings, "verify_token"))
        if mode == "subscribe" and token_ok and challenge:
            return echo_text(challenge)
        response = Response.json({"error": "forbidden"}, 403)
        response.reason = ("hub.verify_token does not match" if not token_ok
                           else f"hub.mode {mode!r} without hub.challenge")
        return response

    def sample(self):
        return Sample(
            b'{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"value":'
            b'{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550783881",'
            b'"phone_number_id":"106540352242922"},"contacts":[{"profile":{"name":"Sheena Nelson"},'
            b'"wa_id":"16505551234"}],"messages":[{"from":"16505551234","id":'
            b'"wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=","timestamp":"1749416383",'
            b'"type":"text","text":{"body":"Does it come in another color?"}}]},"field":"messages"}]}]}')


@hookimpl
def register_providers():
    return [MetaProvider()]
