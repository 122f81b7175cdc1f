"""Twilio SendGrid signed Event Webhook: ECDSA P-256 / SHA-256 over timestamp + body.

Needs ``cryptography`` (the ``crypto`` extra), imported only when a SendGrid
listener verifies or signs; without it verification is refused with the
install command in the reason.
"""

from __future__ import annotations

import base64
import binascii

from ..hookspecs import hookimpl
from ..model import Sample
from ._public_key import KeyFormatError, TimestampedKeyProvider, key_settings
from ._shared import batch_key, json_body

SIGNATURE = "X-Twilio-Email-Event-Webhook-Signature"
TIMESTAMP = "X-Twilio-Email-Event-Webhook-Timestamp"


def _key_bytes(text: str) -> tuple[bytes, bool]:
    """``(data, is_pem)`` of a key given as PEM or as bare base64 DER (SendGrid's UI form)."""
    text = text.strip()
    if text.startswith("-----BEGIN"):
        return text.encode("utf-8"), True
    try:
        return base64.b64decode("".join(text.split()), validate=True), False
    except (binascii.Error, ValueError):
        raise KeyFormatError("is neither PEM nor base64 DER") from None


def load_public_key(text: str):
    """The P-256 public key from SendGrid's base64 DER (or PEM) text."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    data, pem = _key_bytes(text)
    try:
        key = (serialization.load_pem_public_key(data) if pem
               else serialization.load_der_public_key(data))
    except (ValueError, TypeError):
        raise KeyFormatError("is not a public key (expected base64 DER SubjectPublicKeyInfo)") from None
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
        raise KeyFormatError("is not a P-256 (secp256r1) ECDSA public key")
    return key


def load_private_key(text: str):
    """A P-256 private key from PEM (PKCS#8 or SEC1) or base64 DER PKCS#8."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    data, pem = _key_bytes(text)
    try:
        key = (serialization.load_pem_private_key(data, None) if pem
               else serialization.load_der_private_key(data, None))
    except (ValueError, TypeError):
        raise KeyFormatError("is not an unencrypted private key") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise KeyFormatError("is not a P-256 (secp256r1) ECDSA private key")
    return key


def _ecdsa_sha256():
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    return ec.ECDSA(hashes.SHA256())


def new_key_pair() -> tuple[str, str]:
    """``(public base64 DER, private PEM)``: a fresh pair for signing test deliveries.

    SendGrid never hands out its private key; a listener that should accept
    our own test deliveries is given this public key instead.
    """
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    private = ec.generate_private_key(ec.SECP256R1())
    public = private.public_key().public_bytes(serialization.Encoding.DER,
                                               serialization.PublicFormat.SubjectPublicKeyInfo)
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return base64.b64encode(public).decode("ascii"), pem.decode("ascii")


class SendGridProvider(TimestampedKeyProvider):
    """SendGrid Event Webhook with "Signed Event Webhook Requests" on."""

    name = "sendgrid"
    label = "Twilio SendGrid Event Webhook"
    signature_header = SIGNATURE
    timestamp_header = TIMESTAMP
    signature_encoding = "base64"
    scheme, algorithm = "ECDSA", "ecdsa-p256-sha256"
    sender = "SendGrid"
    private_key_kind = "a P-256 key"
    load_public_key = staticmethod(load_public_key)
    load_private_key = staticmethod(load_private_key)
    settings = key_settings("Verification key", "The public key SendGrid shows (base64 DER), or PEM.",
                            "A P-256 private key (PEM) whose public key is configured above, to sign "
                            "test deliveries; SendGrid's own key is never needed.")
    summary = "ECDSA P-256 SHA-256 over timestamp + body (public key); needs the crypto extra"
    doc = {
        "headers": "`X-Twilio-Email-Event-Webhook-Signature` (base64 DER), "
                   "`X-Twilio-Email-Event-Webhook-Timestamp` (unix s)",
        "signed": "`timestamp + body` (no separator)",
        "algorithm": "ECDSA P-256 with SHA-256, DER, base64; verified with the public key "
                     "(`cryptography`, extra `crypto`)",
        "replay": "300 s (SendGrid states none); `tolerance`",
        "handshake": "none",
        "dedup": "`sg_event_id` of the events (a digest of all ids for a batch)",
        "tested": "sendgrid's `EventWebhook.verify_signature` accepts our signatures; SendGrid's "
                  "published vector accepted and its negative key rejected over loopback",
    }

    def signed_bytes(self, stamp, body):
        return stamp.strip().encode("ascii") + body

    def verify_with(self, key, signature, message):
        key.verify(signature, message, _ecdsa_sha256())

    def sign_with(self, key, message):
        return key.sign(message, _ecdsa_sha256())

    def delivery_id(self, request):
        body = json_body(request)
        if not isinstance(body, list):
            return None
        return batch_key(e.get("sg_event_id") for e in body if isinstance(e, dict))

    def sample(self):
        return Sample(
            b'[{"email":"example@test.com","timestamp":1700000000,"smtp-id":'
            b'"<14c5d75ce93.dfd.64b469@ismtpd-555>","event":"delivered","category":["cat facts"],'
            b'"sg_event_id":"ZGVsaXZlcmVkLTAtMjcxNjg3MjctS0VrVjlLRmtTOGVEdDlsY0d0SVNWZy0w",'
            b'"sg_message_id":"14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0",'
            b'"response":"250 OK"},{"email":"example@test.com","timestamp":1700000005,'
            b'"event":"open","sg_event_id":"b3Blbi0wLTI3MTY4NzI3LUtFa1Y5S0ZrUzhlRHQ5bGNHdElTVmctMA",'
            b'"sg_message_id":"14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0",'
            b'"useragent":"Mozilla/5.0","ip":"255.255.255.255"}]')


@hookimpl
def register_providers():
    return [SendGridProvider()]
