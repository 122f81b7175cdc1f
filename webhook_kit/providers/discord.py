"""Discord interactions endpoint: Ed25519 over timestamp + body; PING answered with PONG.

Needs ``cryptography`` (the ``crypto`` extra), imported only when a Discord
listener verifies or signs; without it verification is refused with the
install command in the reason.
"""

from __future__ import annotations

from .. import secret_values
from ..hookspecs import hookimpl
from ..model import Response, Sample, Setting, Verdict
from .base import Provider, SignError, missing_header, tolerance_setting, with_header
from ._shared_b import (CRYPTO_HINT, answer_if_verified, bad_timestamp, clock, crypto_available,
                        crypto_missing, field_at, json_body, timestamp_verdict, unix_seconds)

SIGNATURE = "X-Signature-Ed25519"
TIMESTAMP = "X-Signature-Timestamp"
PING = 1
#: interaction type -> its deferred response type (command, modal submit: 5; component: 6)
DEFERRED = {2: 5, 5: 5, 3: 6}


class KeyFormatError(ValueError):
    """A key setting that cannot be loaded (one-line reason)."""


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


class DiscordProvider(Provider):
    """Discord's interactions endpoint (and its webhook-events endpoint, signed the same way).

    Discord tests a new endpoint URL with deliberately bad signatures and
    refuses the URL if any is accepted: every bad signature gets 401, and a
    PING (``{"type": 1}``) is answered ``{"type": 1}`` only when it verifies.
    """

    name = "discord"
    label = "Discord interactions"
    settings = (
        Setting("public_key", "Application public key", "text", required=True,
                help="The PUBLIC KEY from the developer portal (64 hex digits)."),
        tolerance_setting(300),
        Setting("private_key", "Private key (test deliveries)", "secret", "",
                help="An Ed25519 seed (64 hex digits) whose public key is configured above, to sign "
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

    def check_settings(self, given):
        problems = super().check_settings(given)
        if not crypto_available():
            return problems + [("public_key", f"needs the cryptography package: {CRYPTO_HINT}")]
        checks = [("public_key", given.get("public_key"), load_public_key)]
        if isinstance(given.get("private_key"), str):  # an env ref is checked when it is used
            checks.append(("private_key", given.get("private_key"), load_private_key))
        for name, value, loader in checks:
            if isinstance(value, str) and value.strip():
                try:
                    loader(value)
                except KeyFormatError as exc:
                    problems.append((name, str(exc)))
        return problems

    def verify(self, request, settings, *, now=None):
        signature = request.header(SIGNATURE)
        if signature is None:
            return missing_header(SIGNATURE)
        stamp = request.header(TIMESTAMP)
        if stamp is None:
            return missing_header(TIMESTAMP)
        if unix_seconds(stamp) is None:
            return bad_timestamp(TIMESTAMP, stamp)
        if not crypto_available():
            return crypto_missing()
        from cryptography.exceptions import InvalidSignature
        try:
            key = load_public_key(settings.get("public_key") or "")
        except KeyFormatError as exc:
            return Verdict.reject(f"listener misconfigured: public_key {exc}", status=503)
        try:
            raw = bytes.fromhex(signature.strip())
        except ValueError:
            return Verdict.reject(f"header {SIGNATURE} is not hex", header=SIGNATURE)
        try:
            key.verify(raw, stamp.encode("ascii") + request.body)
        except (InvalidSignature, ValueError):
            return Verdict.reject(f"Ed25519 signature in {SIGNATURE} does not verify with the "
                                  "public key", header=SIGNATURE, algorithm="ed25519")
        return timestamp_verdict(int(stamp), settings, now)

    def sign(self, request, settings, *, now=None):
        if not crypto_available():
            raise SignError(f"signing Discord deliveries needs the cryptography package: {CRYPTO_HINT}")
        private = secret_values.resolve_all(settings.get("private_key"))
        if not private:
            raise SignError("set private_key (an Ed25519 seed whose public key is public_key) to "
                            "sign test deliveries; see webhook_kit.providers.discord.new_key_pair()")
        try:
            key = load_private_key(private[0])
        except KeyFormatError as exc:
            raise SignError(f"private_key {exc}") from None
        stamp = str(int(clock(now)))
        request = with_header(request, TIMESTAMP, stamp)
        return with_header(request, SIGNATURE, key.sign(stamp.encode("ascii") + request.body).hex())

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
