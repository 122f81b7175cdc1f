"""The custom provider's verification types: basic, hmac, secret_url, token, none.

They follow the webhook listeners of integrator.io. Each is a small scheme
object with the provider contract (settings, verify, sign, redact) and is
registered through the ``register_verification_types`` hook, so a plugin can
add a type of its own the same way.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any
from urllib.parse import parse_qsl, urlencode

from . import secret_values
from .hookspecs import hookimpl
from .model import Request, Sample, Setting, Verdict
from .providers.base import (REDACTED, Provider, SignError, copy_request, digest_matches, encode_digest,
                             hmac_digest, missing_header, secrets_of, with_header)


class VerificationType(Provider):
    """A verification scheme selectable as the custom provider's ``type``."""


class BasicAuth(VerificationType):
    name = "basic"
    label = "Basic"
    summary = "HTTP Basic credentials must match"
    settings = (
        Setting("username", "Username", "text", required=True),
        Setting("password", "Password", "secret", required=True),
    )

    def _challenge(self, request: Request) -> dict:
        return {"WWW-Authenticate": f'Basic realm="{request.listener_id or "webhook"}"'}

    def verify(self, request, settings, *, now=None):
        header = request.header("Authorization")
        if header is None:
            return Verdict.reject("missing header Authorization", header="Authorization",
                                  headers=self._challenge(request))
        scheme, _, encoded = header.partition(" ")
        if scheme.lower() != "basic":
            return Verdict.reject(f"Authorization scheme is {scheme!r}, not Basic",
                                  headers=self._challenge(request))
        try:
            decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            return Verdict.reject("Authorization Basic value is not valid base64",
                                  headers=self._challenge(request))
        user, sep, password = decoded.partition(":")
        expected_user = settings.get("username") or ""
        # both compared every time, so timing does not tell which one was wrong
        user_ok = secret_values.equal(user, expected_user)
        password_ok = any(secret_values.equal(password, p) for p in secrets_of(settings, "password"))
        if sep and user_ok and password_ok:
            return Verdict.accept()
        return Verdict.reject("Basic credentials do not match", headers=self._challenge(request))

    def sign(self, request, settings, *, now=None):
        password = secrets_of(settings, "password")[0]
        token = base64.b64encode(f"{settings.get('username')}:{password}".encode()).decode()
        return with_header(request, "Authorization", f"Basic {token}")

    def redact(self, request, settings):
        if "Authorization" in request.headers:
            request.headers.set("Authorization", REDACTED)
            return ["header:Authorization"]
        return []


class HmacSignature(VerificationType):
    name = "hmac"
    label = "HMAC"
    summary = "HMAC of the exact raw body bytes, in a header"
    settings = (
        Setting("algorithm", "Algorithm", "choice", "sha256", choices=("sha1", "sha256"),
                help="SHA-1 or SHA-256"),
        Setting("encoding", "Encoding", "choice", "hex", choices=("hex", "base64"),
                help="How the digest is written in the header"),
        Setting("secret", "Secret key", "secret", required=True,
                help='The shared key; a list rotates; {"env": NAME} reads it from the environment'),
        Setting("header", "Header", "text", "X-Signature", required=True,
                help="The request header that carries the HMAC"),
        Setting("prefix", "Prefix", "text", "",
                help="Text before the digest, such as sha256=; when set, the header must carry it"),
    )

    def verify(self, request, settings, *, now=None):
        header = settings.get("header") or "X-Signature"
        received = request.header(header)
        if received is None:
            return missing_header(header)
        prefix = settings.get("prefix") or ""
        if prefix:
            if not received.startswith(prefix):
                return Verdict.reject(f"header {header} lacks the prefix {prefix!r}",
                                      header=header, prefix=prefix)
            received = received[len(prefix):]
        algorithm, encoding = settings.get("algorithm", "sha256"), settings.get("encoding", "hex")
        for secret in secrets_of(settings):
            if digest_matches(hmac_digest(algorithm, secret, request.body), received, encoding):
                return Verdict.accept()
        return Verdict.reject(f"HMAC in {header} does not match", header=header,
                              algorithm=algorithm, encoding=encoding)

    def sign(self, request, settings, *, now=None):
        secret = secrets_of(settings)[0]
        digest = hmac_digest(settings.get("algorithm", "sha256"), secret, request.body)
        value = (settings.get("prefix") or "") + encode_digest(digest, settings.get("encoding", "hex"))
        return with_header(request, settings.get("header") or "X-Signature", value)


class SecretUrl(VerificationType):
    name = "secret_url"
    label = "Secret URL"
    summary = "a generated token is part of the URL: /hooks/{listener}/{token}"
    settings = (
        Setting("token", "URL token", "secret", required=True,
                help="Generated with secrets.token_urlsafe; part of the listener's URL"),
    )

    def verify(self, request, settings, *, now=None):
        if not request.path_token:
            return Verdict.reject("URL token missing from the path", status=404)
        if any(secret_values.equal(request.path_token, t) for t in secrets_of(settings, "token")):
            return Verdict.accept()
        return Verdict.reject("URL token does not match", status=404)

    def sign(self, request, settings, *, now=None):
        token = secrets_of(settings, "token")[0]
        base, _, query = request.url.partition("?")
        if request.path_token is None:
            base = base.rstrip("/") + "/" + token
        return copy_request(request, url=base + (f"?{query}" if query else ""), path_token=token)

    def redact(self, request, settings):
        if request.path_token:
            request.url = request.url.replace("/" + request.path_token, "/" + REDACTED, 1)
            request.path_token = REDACTED
            return ["path:token"]
        return []


def get_path(data: Any, path: str) -> Any:
    """The value at a dotted path such as ``myAuth.token`` (list items by index)."""
    for part in path.split("."):
        if isinstance(data, dict) and part in data:
            data = data[part]
        elif isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        else:
            return None
    return data


def set_path(data: Any, path: str, value: Any) -> bool:
    parts = path.split(".")
    for part in parts[:-1]:
        if isinstance(data, dict):
            data = data.setdefault(part, {})
        elif isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        else:
            return False
    if isinstance(data, dict):
        data[parts[-1]] = value
        return True
    return False


class BodyToken(VerificationType):
    name = "token"
    label = "Token"
    summary = "the parsed body holds the token at a dotted path"
    needs_payload = True
    settings = (
        Setting("token", "Token", "secret", required=True, help="Provided or generated"),
        Setting("path", "Path", "text", "token", required=True,
                help="Dotted path in the body, such as myAuth.token (XML: in its JSON form)"),
    )

    def verify(self, request, settings, *, now=None):
        path = settings.get("path") or "token"
        found = get_path(request.payload, path)
        if found is None:
            return Verdict.reject(f"no token at path {path}", path=path)
        if isinstance(found, dict) and "#text" in found:  # XML element with attributes
            found = found["#text"]
        if not isinstance(found, (str, int)):
            return Verdict.reject(f"value at path {path} is not a token", path=path)
        if any(secret_values.equal(str(found), t) for t in secrets_of(settings, "token")):
            return Verdict.accept()
        return Verdict.reject(f"token at path {path} does not match", path=path)

    def sign(self, request, settings, *, now=None):
        token = secrets_of(settings, "token")[0]
        path = settings.get("path") or "token"
        ctype = request.content_type
        if "json" in ctype or (not ctype and request.body.lstrip()[:1] in (b"{", b"")):
            data = json.loads(request.body or b"{}")
            if not set_path(data, path, token):
                raise SignError(f"cannot place the token at {path} in this JSON body")
            return copy_request(request, body=json.dumps(data).encode())
        if "x-www-form-urlencoded" in ctype:
            fields = [(k, v) for k, v in parse_qsl(request.body.decode(), keep_blank_values=True)
                      if k != path]
            fields.append((path, token))
            return copy_request(request, body=urlencode(fields).encode())
        if token.encode() in request.body:
            return request  # the body (XML, say) already carries it
        raise SignError(f"put the token in this {ctype or 'body'} at {path} yourself; "
                        "only JSON and form bodies are filled in")

    def redact(self, request, settings):
        notes = []
        path = settings.get("path") or "token"
        try:
            tokens = secrets_of(settings, "token")
        except secret_values.SecretError:
            tokens = []
        found = get_path(request.payload, path)
        if isinstance(found, (str, int)) and str(found):
            tokens.append(str(found))
            set_path(request.payload, path, REDACTED)
            notes.append(f"payload:{path}")
        elif isinstance(found, dict) and "#text" in found:
            tokens.append(str(found["#text"]))
            found["#text"] = REDACTED
            notes.append(f"payload:{path}")
        for token in {t for t in tokens if t}:
            raw = token.encode("utf-8")
            if raw in request.body:
                request.body = request.body.replace(raw, REDACTED.encode())
                if f"body:{path}" not in notes:
                    notes.append(f"body:{path}")
        return notes


class NoVerification(VerificationType):
    name = "none"
    label = "None"
    summary = "explicit opt-out, for local prototyping"
    settings = ()

    def verify(self, request, settings, *, now=None):
        return Verdict.accept()

    def sign(self, request, settings, *, now=None):
        return request


BUILTIN_TYPES = (BasicAuth(), HmacSignature(), SecretUrl(), BodyToken(), NoVerification())


@hookimpl
def register_verification_types():
    return list(BUILTIN_TYPES)


def generic_sample() -> Sample:
    return Sample(b'{"id":"evt_1","type":"order.created","order":{"id":1001,"total":"19.99"}}')
