"""Twitch EventSub (webhook transport): HMAC of message id + timestamp + body."""

from __future__ import annotations

from ..hookspecs import hookimpl
from ..model import Sample, Setting, Verdict
from .base import Provider, hmac_digest, secrets_of, tolerance_setting, with_header
from ._shared import (answer_if_verified, any_secret_matches, bad_timestamp, echo_text, field_at,
                      first_missing, json_body, new_id, rfc3339_nanos, rfc3339_seconds, timely,
                      with_default_header)

PREFIX = "Twitch-Eventsub-Message-"
ID, TIMESTAMP, SIGNATURE, TYPE = (PREFIX + n for n in ("Id", "Timestamp", "Signature", "Type"))
VERIFICATION = "webhook_callback_verification"


class TwitchProvider(Provider):
    """``Twitch-Eventsub-Message-Signature: sha256=<hex>`` over id + timestamp + body.

    A ``webhook_callback_verification`` message is answered with its bare
    ``challenge`` (text/plain) only when its signature verifies; otherwise it
    is rejected like any bad delivery.
    """

    name = "twitch"
    label = "Twitch EventSub"
    aliases = ("twitch-eventsub",)
    settings = (Setting("secret", "Subscription secret", "secret", required=True,
                        help="The secret given when creating the subscription (10-100 ASCII "
                             "characters); a list rotates; {\"env\": NAME} reads it from the environment."),
                tolerance_setting(600))
    summary = "HMAC-SHA256 hex of message id + timestamp + body; webhook_callback_verification"
    doc = {
        "headers": "`Twitch-Eventsub-Message-Signature: sha256=<hex>`, `-Message-Id`, "
                   "`-Message-Timestamp` (RFC 3339, nanoseconds), `-Message-Type`",
        "signed": "`message_id + timestamp + body` (no separators)",
        "algorithm": "HMAC-SHA256, hex",
        "replay": "600 s (Twitch: reject messages older than 10 minutes); `tolerance`",
        "handshake": "`webhook_callback_verification` -> 200 `challenge` as text/plain, only with a "
                     "valid signature",
        "dedup": "`Twitch-Eventsub-Message-Id`",
        "tested": "published SELF-COMPUTED vector; verification challenge good and bad over loopback",
    }

    def verify(self, request, settings, *, now=None):
        missing = first_missing(request, SIGNATURE, ID, TIMESTAMP)
        if missing is not None:
            return missing
        signature, message_id, stamp = (request.header(h) for h in (SIGNATURE, ID, TIMESTAMP))
        moment = rfc3339_seconds(stamp)
        if moment is None:
            return bad_timestamp(TIMESTAMP, stamp, "an RFC 3339 time")
        if not signature.startswith("sha256="):
            return Verdict.reject(f"header {SIGNATURE} lacks the prefix 'sha256='", header=SIGNATURE)
        message = (message_id + stamp).encode("utf-8") + request.body
        if not any_secret_matches(settings, "sha256", message, [signature[7:]]):
            return Verdict.reject(f"signature in {SIGNATURE} does not match", header=SIGNATURE,
                                  algorithm="sha256", encoding="hex")
        return timely(moment, settings, now)

    def sign(self, request, settings, *, now=None):
        body = json_body(request)
        kind = VERIFICATION if field_at(body, "challenge") else "notification"
        if field_at(body, "subscription", "status") == "authorization_revoked":
            kind = "revocation"
        request = with_default_header(request, ID, new_id())
        request = with_default_header(request, TYPE, kind)
        request = with_default_header(request, PREFIX + "Retry", "0")
        for part, key in (("Type", "type"), ("Version", "version")):
            value = field_at(body, "subscription", key)
            if value:
                request = with_default_header(request, "Twitch-Eventsub-Subscription-" + part, value)
        request = with_header(request, TIMESTAMP, rfc3339_nanos(now))
        message = (request.header(ID) + request.header(TIMESTAMP)).encode("utf-8") + request.body
        digest = hmac_digest("sha256", secrets_of(settings)[0], message)
        return with_header(request, SIGNATURE, "sha256=" + digest.hex())

    def handshake(self, request, settings, *, now=None):
        if request.method != "POST" or request.header(TYPE) != VERIFICATION:
            return None
        challenge = field_at(json_body(request), "challenge")
        if challenge is None:
            return None
        return answer_if_verified(self, request, settings, echo_text(challenge))

    def delivery_id(self, request):
        return request.header(ID)

    def sample(self):
        return Sample(
            b'{"subscription":{"id":"f1c2a387-161a-49f9-a165-0f21d7a4e1c4","status":"enabled",'
            b'"type":"channel.follow","version":"2","cost":0,"condition":{"broadcaster_user_id":'
            b'"12826","moderator_user_id":"12826"},"transport":{"method":"webhook","callback":'
            b'"https://example.com/webhooks/callback"},"created_at":"2024-01-01T12:00:00.634234626Z"},'
            b'"event":{"user_id":"1337","user_login":"awesome_user","user_name":"Awesome_User",'
            b'"broadcaster_user_id":"12826","broadcaster_user_login":"twitch","broadcaster_user_name":'
            b'"Twitch","followed_at":"2024-01-01T12:00:00.634234626Z"}}')


@hookimpl
def register_providers():
    return [TwitchProvider()]
