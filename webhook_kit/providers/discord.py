"""Discord interactions endpoint: Ed25519 over timestamp + body; PING answered with PONG.

Needs ``cryptography`` (the ``crypto`` extra), imported only when a Discord
listener verifies or signs; without it verification is refused with the
install command in the reason.
"""

from __future__ import annotations

from ..hookspecs import hookimpl
from ..model import Response, Sample, Setting
from ._public_key import KeyFormatError, TimestampedKeyProvider, key_settings
from ._shared import answer_if_verified, field_at, json_body

SIGNATURE = "X-Signature-Ed25519"
TIMESTAMP = "X-Signature-Timestamp"
PING = 1
#: interaction type -> its deferred response type (command, modal submit: 5; component: 6)
DEFERRED = {2: 5, 5: 5, 3: 6}


def _hex_bytes(text: str, sizes: tuple[int, ...], what: str) -> bytes:
    try:
        data = bytes.fromhex(text.strip())
    except ValueError:
        raise KeyFormatError(f"is not hex ({what})") from None
    if len(data) not in sizes:
        raise KeyFormatError(f"must be {' or '.join(str(2 * s) for s in sizes)} hex digits ({what})")
    return data


def load_public_key(text: str):
    """The application's public key (64 hex digits, as the developer portal shows it)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    return Ed25519PublicKey.from_public_bytes(_hex_bytes(text, (32,), "the portal's public key"))


def load_private_key(text: str):
    """A signing key from its 32-byte seed in hex (or a 64-byte seed+public key, as NaCl writes it)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    seed = _hex_bytes(text, (32, 64), "an Ed25519 seed")[:32]
    return Ed25519PrivateKey.from_private_bytes(seed)


def new_key_pair() -> tuple[str, str]:
    """``(public hex, private seed hex)``: a fresh pair for signing test interactions."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    private = Ed25519PrivateKey.generate()
    raw = serialization.Encoding.Raw
    seed = private.private_bytes(raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())
    public = private.public_key().public_bytes(raw, serialization.PublicFormat.Raw)
    return public.hex(), seed.hex()


class DiscordProvider(TimestampedKeyProvider):
    """Discord's interactions endpoint (and its webhook-events endpoint, signed the same way).

    Discord tests a new endpoint URL with deliberately bad signatures and
    refuses the URL if any is accepted: every bad signature gets 401, and a
    PING (``{"type": 1}``) is answered ``{"type": 1}`` only when it verifies.
    """

    name = "discord"
    label = "Discord interactions"
    signature_header = SIGNATURE
    timestamp_header = TIMESTAMP
    signature_encoding = "hex"
    scheme, algorithm = "Ed25519", "ed25519"
    sender = "Discord"
    private_key_kind = "an Ed25519 seed"
    load_public_key = staticmethod(load_public_key)
    load_private_key = staticmethod(load_private_key)
    settings = (
        *key_settings("Application public key",
                      "The PUBLIC KEY from the developer portal (64 hex digits).",
                      "An Ed25519 seed (64 hex digits) whose public key is configured above, to sign "
                      "test deliveries; Discord's own key is never needed."),
        Setting("defer", "Answer with a deferred response", "bool", True,
                help="Answer commands and modal submits with type 5 and components with type 6, so "
                     "a flow can reply later through the follow-up webhook; off: the listener's "
                     "own response settings answer."),
    )
    summary = "Ed25519 over timestamp + body (public key); PING -> PONG; needs the crypto extra"
    doc = {
        "headers": "`X-Signature-Ed25519` (hex), `X-Signature-Timestamp`",
        "signed": "`timestamp + body` (no separator)",
        "algorithm": "Ed25519, hex; verified with the application's public key (`cryptography`, "
                     "extra `crypto`)",
        "replay": "300 s (Discord states none); `tolerance`",
        "handshake": 'PING `{"type":1}` -> `{"type":1}` only with a valid signature, 401 otherwise; '
                     'commands answered `{"type":5}`, components `{"type":6}` (deferred) unless `defer` is off',
        "dedup": "interaction `id` in the body",
        "tested": "discord-interactions `verify_key` accepts our signatures; the RFC 8032 TEST 1 "
                  "keyed vector reproduced and accepted over loopback",
    }

    def verify_with(self, key, signature, message):
        key.verify(signature, message)

    def sign_with(self, key, message):
        return key.sign(message)

    def handshake(self, request, settings, *, now=None):
        body = json_body(request)
        if request.method != "POST" or not isinstance(body, dict) or body.get("type") != PING:
            return None
        return answer_if_verified(self, request, settings, Response.json({"type": PING}))

    def respond(self, event, settings):
        # Discord needs an interaction response within 3 s; "deferred" ones
        # acknowledge now and leave the real reply to whatever the listener runs
        if not settings.get("defer", True) or not isinstance(event.payload, dict):
            return None
        kind = DEFERRED.get(event.payload.get("type"))
        return Response.json({"type": kind}) if kind else None

    def delivery_id(self, request):
        return field_at(json_body(request), "id")

    def sample(self):
        return Sample(
            b'{"app_permissions":"2248473465835073","application_id":"1234567890123456789",'
            b'"channel_id":"1234567890123456780","data":{"id":"1234567890123456781","name":"ping",'
            b'"type":1},"guild_id":"1234567890123456782","id":"1234567890123456783","locale":"en-US",'
            b'"member":{"user":{"id":"1234567890123456784","username":"example","global_name":'
            b'"Example"},"roles":[]},"token":"aW50ZXJhY3Rpb246MTIzNDU2Nzg5MDEyMzQ1Njc4Mzp0b2tlbg",'
            b'"type":2,"version":1}')


@hookimpl
def register_providers():
    return [DiscordProvider()]
