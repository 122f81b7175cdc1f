"""Atlassian Connect apps (Jira, Confluence): an HS256 JWT in ``Authorization: JWT <token>``.

The token is signed with the installation's shared secret (from the app's
``installed`` lifecycle callback) and carries a ``qsh`` claim: the SHA-256 of
the request's canonical form (method, path relative to the app's base URL,
sorted query), so a token cannot be replayed against another URL. PyJWT (the
``jwt`` extra) decodes and checks the signature; the qsh and the clock are
checked here, so that a rejection can say which and by how much.
"""

from __future__ import annotations

import hashlib
import json
from urllib.parse import parse_qs, quote, urlsplit

from .. import secret_values
from ..hookspecs import hookimpl
from ..model import Request, Sample, Setting, Verdict
from .base import (Provider, SignError, missing_header, now_or, secrets_of, tolerance_setting,
                   with_header)
from ._shared import new_id

#: what to run when PyJWT is missing
JWT_HINT = 'pip install "webhook-kit[jwt]"'
#: how long a signed test delivery's token lives (Jira's own last a few minutes)
TOKEN_LIFETIME = 180


def _jwt():
    """PyJWT, imported when a listener of this provider verifies or signs."""
    try:
        import jwt
    except ImportError:
        return None
    return jwt


def canonical_request(method: str, path: str, query: str) -> str:
    """``METHOD&/path&sorted=query``: what the ``qsh`` claim hashes (Atlassian's definition).

    The path has no trailing slash (``/`` when empty) and ``&`` written as
    ``%26``; query parameters other than ``jwt`` are sorted by name, each name
    and value percent-encoded (RFC 3986, ``~`` kept), the values of a repeated
    name sorted and joined with ``,``.
    """
    canonical_path = "/" + path.strip("/").replace("&", "%26")
    params = parse_qs(query, keep_blank_values=True)
    pairs = sorted((quote(name, safe="~"), ",".join(quote(v, safe="~") for v in sorted(values)))
                   for name, values in params.items() if name != "jwt")
    return f"{method.upper()}&{canonical_path}&{'&'.join(f'{k}={v}' for k, v in pairs)}"


def query_string_hash(method: str, path: str, query: str) -> str:
    return hashlib.sha256(canonical_request(method, path, query).encode("utf-8")).hexdigest()


def app_relative_path(path: str, base_url: str | None) -> str:
    """The request path relative to the app's base URL (the whole path when it is not under it)."""
    base_path = urlsplit(base_url).path.rstrip("/") if base_url else ""
    if base_path and (path == base_path or path.startswith(base_path + "/")):
        return path[len(base_path):] or "/"
    return path


def token_of(request: Request) -> str | None:
    """The JWT from ``Authorization: JWT <token>`` (scheme in any case), else ``?jwt=``."""
    authorization = request.header("Authorization") or ""
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() == "jwt" and token.strip():
        return token.strip()
    return request.query_param("jwt")


class JiraConnectProvider(Provider):
    """Webhooks to an Atlassian Connect app: HS256 JWT with a query string hash."""

    name = "jira-connect"
    label = "Jira / Confluence (Atlassian Connect app)"
    aliases = ("atlassian-connect",)
    settings = (
        Setting("shared_secret", "Shared secret", "secret", required=True,
                help="The sharedSecret of the installation (from the installed lifecycle "
                     "callback); a list rotates; {\"env\": NAME} reads it from the environment."),
        Setting("client_key", "Client key", "text", "",
                help="The installation's clientKey; when set, the token's iss claim must be it."),
        Setting("base_url", "App base URL", "text", "",
                help="The baseUrl of the app descriptor: the query string hash covers the path "
                     "relative to it (empty: the path from the host's root)."),
        tolerance_setting(300),
    )
    secret_query_params = ("jwt",)
    summary = "HS256 JWT in Authorization: JWT ..., with the qsh claim over method, path and query"
    doc = {
        "headers": "`Authorization: JWT <token>` (or `?jwt=`); both redacted before storing",
        "signed": "JWT claims `iss`, `iat`, `exp`, `qsh` = SHA-256 of `METHOD&/relative/path&sorted"
                  "=query` (the `jwt` parameter left out)",
        "algorithm": "HS256 (key: the installation's shared secret), checked by PyJWT (`jwt` extra); "
                     "`iss` must equal `client_key` when set",
        "replay": "`exp` and `iat` with 300 s of leeway; the qsh pins the URL",
        "handshake": "none (the lifecycle callbacks are ordinary deliveries)",
        "dedup": "X-Atlassian-Webhook-Identifier when sent",
        "tested": "Atlassian's atlassian-jwt library signs and our server accepts; its "
                  "Authenticator accepts what our signer makes",
    }

    def check_settings(self, given):
        problems = super().check_settings(given)
        if _jwt() is None:
            problems.append(("shared_secret", f"verifying needs PyJWT: {JWT_HINT}"))
        return problems

    def verify(self, request, settings, *, now=None):
        token = token_of(request)
        if token is None:
            return missing_header("Authorization")
        secrets = secrets_of(settings, "shared_secret")
        jwt = _jwt()
        if jwt is None:
            return Verdict.reject(f"cannot verify: the PyJWT package is missing ({JWT_HINT})",
                                  status=503, missing="PyJWT")
        claims = None
        for secret in secrets:
            try:
                # the clock is checked below, against ``now`` and with the skew in the reason
                claims = jwt.decode(token, key=secret, algorithms=["HS256"], options={
                    "verify_exp": False, "verify_iat": False, "verify_nbf": False,
                    "verify_aud": False, "require": ["iss", "iat", "exp", "qsh"]})
                break
            except jwt.InvalidSignatureError:
                continue
            except jwt.MissingRequiredClaimError as exc:
                return Verdict.reject(f"JWT lacks the {exc.claim!r} claim", header="Authorization")
            except jwt.InvalidAlgorithmError:
                return Verdict.reject("JWT is not signed with HS256", header="Authorization")
            except jwt.PyJWTError as exc:
                return Verdict.reject(f"malformed JWT: {exc}", header="Authorization")
        if claims is None:
            return Verdict.reject("JWT signature does not match the shared secret",
                                  header="Authorization")
        client_key = settings.get("client_key")
        if client_key and claims.get("iss") != client_key:
            return Verdict.reject(f"JWT iss {str(claims.get('iss'))[:60]!r} is not the client key",
                                  header="Authorization")
        path = app_relative_path(request.path, settings.get("base_url"))
        expected = query_string_hash(request.method, path, request.query)
        if not secret_values.equal(str(claims.get("qsh")), expected):
            # the hashes and the canonical form are kept on the event (the token itself is
            # redacted): what the sender hashed differs in method, base URL, path or query
            return Verdict.reject("JWT qsh does not match this request's method, path and query",
                                  header="Authorization", expected_qsh=expected,
                                  received_qsh=str(claims.get("qsh"))[:64],
                                  canonical_request=canonical_request(request.method, path,
                                                                      request.query))
        return self._timely(claims, settings, now)

    @staticmethod
    def _timely(claims: dict, settings: dict, now: float | None) -> Verdict:
        leeway = int(settings.get("tolerance") or 0)
        clock = now_or(now)
        try:
            expires, issued = float(claims["exp"]), float(claims["iat"])
        except (TypeError, ValueError):
            return Verdict.reject("JWT exp or iat is not a number", header="Authorization")
        if clock > expires + leeway:
            return Verdict.reject(f"JWT expired {int(clock - expires)} s ago (tolerance {leeway} s)",
                                  skew_seconds=round(clock - expires, 3), tolerance=leeway)
        if issued > clock + leeway:
            return Verdict.reject(f"JWT issued {int(issued - clock)} s ahead (tolerance {leeway} s)",
                                  skew_seconds=round(clock - issued, 3), tolerance=leeway)
        return Verdict.accept(client_key=claims.get("iss"))

    def sign(self, request, settings, *, now=None):
        jwt = _jwt()
        if jwt is None:
            raise SignError(f"cannot sign: the PyJWT package is missing ({JWT_HINT})")
        issued = int(now_or(now))
        path = app_relative_path(request.path, settings.get("base_url"))
        claims = {"iss": settings.get("client_key") or "jira:test-installation",
                  "iat": issued, "exp": issued + TOKEN_LIFETIME,
                  "qsh": query_string_hash(request.method, path, request.query)}
        token = jwt.encode(claims, secrets_of(settings, "shared_secret")[0], algorithm="HS256")
        signed = with_header(request, "Authorization", f"JWT {token}")
        if signed.header("X-Atlassian-Webhook-Identifier") is None:
            signed = with_header(signed, "X-Atlassian-Webhook-Identifier", new_id())
        return signed

    def delivery_id(self, request):
        return request.header("X-Atlassian-Webhook-Identifier")

    def sample(self):
        body = {"timestamp": 1700000000000, "webhookEvent": "jira:issue_updated",
                "issue_event_type_name": "issue_generic",
                "user": {"accountId": "5b10a2844c20165700ede21g", "displayName": "Mia Krystof"},
                "issue": {"id": "10002", "key": "PROJ-42",
                          "fields": {"summary": "Checkout fails on Safari",
                                     "status": {"name": "In Progress"}}},
                "changelog": {"items": [{"field": "status", "fromString": "To Do",
                                         "toString": "In Progress"}]}}
        return Sample(json.dumps(body), headers={"User-Agent": "Atlassian Connect"})


@hookimpl
def register_providers():
    return [JiraConnectProvider()]
