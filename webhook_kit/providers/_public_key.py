"""Public-key signature schemes over ``timestamp + body`` (Discord, SendGrid); not a plugin.

``cryptography`` (the ``crypto`` extra) is imported only when such a listener
verifies or signs; without it verification is refused with the install
command in the reason, and signing with a one-line error.
"""

from __future__ import annotations

from .. import secret_values
from ..model import Request, Setting, Verdict
from .base import Provider, SignError, decode_signature, encode_digest, now_or, tolerance_setting, with_header
from ._shared import bad_timestamp, first_missing, timely, unix_seconds

#: what to run when a public-key provider cannot find ``cryptography``
CRYPTO_HINT = 'pip install "webhook-kit[crypto]"'


class KeyFormatError(ValueError):
    """A key setting that cannot be loaded (one-line reason)."""


def crypto_available() -> bool:
    """Whether ``cryptography`` (the ``crypto`` extra) can be imported."""
    try:
        import cryptography.hazmat.primitives.asymmetric  # noqa: F401
    except ImportError:
        return False
    return True


def crypto_missing() -> Verdict:
    return Verdict.reject(f"cannot verify: the cryptography package is missing ({CRYPTO_HINT})",
                          status=503, missing="cryptography")


def key_settings(public_label: str, public_help: str, private_help: str) -> tuple[Setting, ...]:
    """``public_key`` (required), ``tolerance`` (300 s) and ``private_key`` (test deliveries only)."""
    return (
        Setting("public_key", public_label, "text", required=True, help=public_help),
        tolerance_setting(300),
        Setting("private_key", "Private key (test deliveries)", "secret", "", help=private_help),
    )


class TimestampedKeyProvider(Provider):
    """A signature made with a private key over ``timestamp + body``, verified with the public key.

    Subclasses name the two headers, how the signature is written
    (``signature_encoding``: hex or base64), and supply the key loaders
    (raising :class:`KeyFormatError`) and the scheme's ``verify_with`` /
    ``sign_with``; :func:`key_settings` declares the settings they read. The
    provider's module offers ``new_key_pair()`` for test deliveries.
    """

    signature_header = ""
    timestamp_header = ""
    signature_encoding = "hex"
    #: the scheme as reasons name it (``"Ed25519"``) and as the rejection's details do
    scheme = ""
    algorithm = ""
    #: who signs, for the error when ``cryptography`` is missing (``"Discord"``)
    sender = ""
    #: what the private key is, for the error when none is configured (``"an Ed25519 seed"``)
    private_key_kind = "a private key"

    @staticmethod
    def load_public_key(text: str):
        raise NotImplementedError

    @staticmethod
    def load_private_key(text: str):
        raise NotImplementedError

    def signed_bytes(self, stamp: str, body: bytes) -> bytes:
        return stamp.encode("ascii") + body

    def verify_with(self, key, signature: bytes, message: bytes) -> None:
        """Raise ``InvalidSignature`` (or ValueError) unless ``signature`` is valid."""
        raise NotImplementedError

    def sign_with(self, key, message: bytes) -> bytes:
        raise NotImplementedError

    def check_settings(self, given):
        problems = super().check_settings(given)
        if not crypto_available():
            return problems + [("public_key", f"needs the cryptography package: {CRYPTO_HINT}")]
        for name, loader in (("public_key", self.load_public_key), ("private_key", self.load_private_key)):
            value = given.get(name)
            if isinstance(value, str) and value.strip():  # an env ref is checked when it is used
                try:
                    loader(value)
                except KeyFormatError as exc:
                    problems.append((name, str(exc)))
        return problems

    def verify(self, request: Request, settings: dict, *, now: float | None = None) -> Verdict:
        header = self.signature_header
        missing = first_missing(request, header, self.timestamp_header)
        if missing is not None:
            return missing
        signature, stamp = request.header(header), request.header(self.timestamp_header)
        if unix_seconds(stamp) is None:
            return bad_timestamp(self.timestamp_header, stamp)
        if not crypto_available():
            return crypto_missing()
        from cryptography.exceptions import InvalidSignature
        try:
            key = self.load_public_key(settings.get("public_key") or "")
        except KeyFormatError as exc:
            return Verdict.reject(f"listener misconfigured: public_key {exc}", status=503)
        raw = decode_signature(signature, self.signature_encoding)
        if raw is None:
            return Verdict.reject(f"header {header} is not {self.signature_encoding}", header=header)
        try:
            self.verify_with(key, raw, self.signed_bytes(stamp, request.body))
        except (InvalidSignature, ValueError):
            return Verdict.reject(f"{self.scheme} signature in {header} does not verify with the "
                                  "public key", header=header, algorithm=self.algorithm)
        return timely(int(stamp), settings, now)

    def sign(self, request: Request, settings: dict, *, now: float | None = None) -> Request:
        if not crypto_available():
            raise SignError(f"signing {self.sender} deliveries needs the cryptography package: "
                            f"{CRYPTO_HINT}")
        private = secret_values.resolve_all(settings.get("private_key"))
        if not private:
            raise SignError(f"set private_key ({self.private_key_kind} whose public key is public_key) "
                            f"to sign test deliveries; see {type(self).__module__}.new_key_pair()")
        try:
            key = self.load_private_key(private[0])
        except KeyFormatError as exc:
            raise SignError(f"private_key {exc}") from None
        stamp = str(int(now_or(now)))
        signature = self.sign_with(key, self.signed_bytes(stamp, request.body))
        request = with_header(request, self.timestamp_header, stamp)
        return with_header(request, self.signature_header,
                           encode_digest(signature, self.signature_encoding))
