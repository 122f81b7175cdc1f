"""Secret settings: literals, ``{"env": NAME}`` references, rotation lists, masking.

A secret setting is resolved only when it is needed (at verification or
signing time), so an environment variable set later in a notebook is seen.
Comparisons go through :func:`equal`, which is constant-time.
"""

from __future__ import annotations

import hmac
import os
import secrets
from typing import Any

MASK = "********"


class SecretError(ValueError):
    """A secret setting cannot be resolved (for instance an unset env var)."""


def is_env_ref(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {"env"} and isinstance(value["env"], str)


def resolve(value: Any) -> str | None:
    """One secret's text: a literal string, or the named environment variable."""
    if value is None or value == "":
        return None
    if is_env_ref(value):
        name = value["env"]
        if name not in os.environ:
            raise SecretError(f"environment variable {name} is not set")
        if not os.environ[name]:
            raise SecretError(f"environment variable {name} is empty")
        return os.environ[name]
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8")
    if isinstance(value, str):
        return value
    raise SecretError("a secret must be a string or {\"env\": NAME}")


def resolve_all(value: Any) -> list[str]:
    """Every candidate secret: a list means rotation (any one may match)."""
    if isinstance(value, (list, tuple)):
        out = [resolve(v) for v in value]
        return [v for v in out if v]
    one = resolve(value)
    return [one] if one else []


def equal(a: str | bytes | None, b: str | bytes | None) -> bool:
    """Constant-time comparison of two secrets or signatures."""
    if a is None or b is None:
        return False
    if isinstance(a, str):
        a = a.encode("utf-8")
    if isinstance(b, str):
        b = b.encode("utf-8")
    return hmac.compare_digest(a, b)


def new_token(nbytes: int = 24) -> str:
    """A fresh URL-safe token (24 bytes = 192 bits by default)."""
    return secrets.token_urlsafe(nbytes)


def mask(value: Any) -> Any:
    """What may be shown or exported of a secret setting: env refs stay, literals go."""
    if value is None or value == "":
        return value
    if is_env_ref(value):
        return value
    if isinstance(value, (list, tuple)):
        return [mask(v) for v in value]
    return MASK
