"""WebSub (PubSubHubbub, e.g. YouTube push): verification of intent and signed content."""

from __future__ import annotations

from .. import secret_values
from ..hookspecs import hookimpl
from ..model import Response, Sample, Setting
from .base import SECRET, Provider, hmac_digest, secrets_of, with_header
from ._shared import echo_text, verify_hub_header

HEADER = "X-Hub-Signature"


class WebSubProvider(Provider):
    """A WebSub subscriber callback.

    The hub confirms a (un)subscription with ``GET ?hub.mode=...&hub.topic=...&hub.challenge=...``
    (plus ``hub.verify_token`` in PubSubHubbub 0.3): the challenge is echoed when the
    configured topic and verify token match, else 404 as the W3C spec asks. Content
    deliveries carry ``X-Hub-Signature: sha1=|sha256=|sha384=|sha512=<hex>`` of the body.
    """

    name = "websub"
    label = "WebSub (PubSubHubbub)"
    aliases = ("pubsubhubbub",)
    settings = (
        SECRET,
        Setting("verify_token", "Verify token", "secret", "",
                help="PubSubHubbub 0.3 hub.verify_token; when set, handshakes must carry it."),
        Setting("topic", "Topic URL", "text", "",
                help="When set, handshakes for any other hub.topic are refused."),
        Setting("algorithm", "Signing algorithm", "choice", "sha1",
                choices=("sha1", "sha256", "sha384", "sha512"),
                help="What test deliveries are signed with (YouTube's hub uses sha1); all are verified."),
    )
    secret_query_params = ("hub.verify_token",)
    summary = "X-Hub-Signature (sha1=/sha256=...) of the body; GET hub.challenge verification of intent"
    doc = {
        "headers": "`X-Hub-Signature: sha1=<hex>` (or `sha256=`, `sha384=`, `sha512=`)",
        "signed": "`body`",
        "algorithm": "HMAC (the hub's choice of SHA-1/256/384/512) keyed with `hub.secret`, hex",
        "replay": "none",
        "handshake": "GET `hub.mode` + `hub.topic` + `hub.challenge` (+ `hub.verify_token`) -> 200 "
                     "challenge as text; 404 for a wrong topic or token",
        "dedup": "none",
        "tested": "handshakes (good, wrong token, wrong topic) and sha1/sha256 deliveries over loopback",
    }

    def handshake(self, request, settings, *, now=None):
        """Answer the hub's intent verification (W3C WebSub: 404 when we did not ask)."""
        mode = request.query_param("hub.mode")
        if request.method != "GET" or mode is None:
            return None
        if mode == "denied":  # the hub tells us a subscription was refused: acknowledge
            return echo_text("")
        challenge = request.query_param("hub.challenge")
        if mode not in ("subscribe", "unsubscribe") or not challenge:
            return _refuse(f"hub.mode {mode!r} without hub.challenge" if mode in ("subscribe", "unsubscribe")
                           else f"unknown hub.mode {mode!r}")
        topic = settings.get("topic") or ""
        if topic and request.query_param("hub.topic") != topic:
            return _refuse("hub.topic does not match")
        tokens = secret_values.resolve_all(settings.get("verify_token"))  # optional
        if tokens and not any(secret_values.equal(request.query_param("hub.verify_token"), t)
                              for t in tokens):
            return _refuse("hub.verify_token does not match")
        return echo_text(challenge)

    def verify(self, request, settings, *, now=None):
        return verify_hub_header(request, settings, HEADER)

    def sign(self, request, settings, *, now=None):
        algorithm = settings.get("algorithm") or "sha1"
        digest = hmac_digest(algorithm, secrets_of(settings)[0], request.body)
        return with_header(request, HEADER, f"{algorithm}={digest.hex()}")

    def sample(self):
        return Sample(
            b'<?xml version="1.0" encoding="UTF-8"?>\n'
            b'<feed xmlns:yt="http://www.youtube.com/xml/schemas/2015" xmlns="http://www.w3.org/2005/Atom">\n'
            b'  <link rel="hub" href="https://pubsubhubbub.appspot.com"/>\n'
            b'  <link rel="self" href="https://www.youtube.com/xml/feeds/videos.xml?channel_id=CHANNEL_ID"/>\n'
            b'  <title>YouTube video feed</title>\n'
            b'  <entry>\n'
            b'    <id>yt:video:VIDEO_ID</id>\n'
            b'    <yt:videoId>VIDEO_ID</yt:videoId>\n'
            b'    <yt:channelId>CHANNEL_ID</yt:channelId>\n'
            b'    <title>Video title</title>\n'
            b'    <link rel="alternate" href="https://www.youtube.com/watch?v=VIDEO_ID"/>\n'
            b'    <author><name>Channel title</name><uri>https://www.youtube.com/channel/CHANNEL_ID</uri></author>\n'
            b'    <published>2024-01-01T00:00:00+00:00</published>\n'
            b'    <updated>2024-01-01T00:00:01+00:00</updated>\n'
            b'  </entry>\n'
            b'</feed>\n', content_type="application/atom+xml")


@hookimpl
def register_providers():
    return [WebSubProvider()]


def _refuse(reason: str) -> Response:
    response = Response.json({"error": "not found"}, 404)
    response.reason = reason
    return response
