"""Listener: one webhook endpoint's configuration, and the config file that holds them.

``Listener.to_dict()`` / ``from_dict()`` use the same schema as the config
file's ``listeners`` entries. Invalid config raises :class:`ConfigError`, whose
message names the field.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import secret_values

DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024
DEFAULT_REJECTED_KEEP = 1000
ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")


class ConfigError(ValueError):
    """Invalid listener configuration; ``field`` names the offending field."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field
        self.message = message


def config_entries(value, where: str, allowed: tuple, shape: str, kind: str,
                   sequences: tuple = (list, tuple)):
    """Yield ``(path, entry)`` for a config list of objects (transform rules, flows).

    Refuses a value that is not a list, an entry that is not an object and an
    unknown field, each with a :class:`ConfigError` naming where it is.
    """
    if not isinstance(value, sequences):
        raise ConfigError(where, f"must be a list of {kind}")
    for i, entry in enumerate(value):
        here = f"{where}[{i}]"
        if not isinstance(entry, dict):
            raise ConfigError(here, f"must be {shape}")
        for key in entry:
            if key not in allowed:
                raise ConfigError(f"{here}.{key}", f"unknown field ({kind} take {', '.join(allowed)})")
        yield here, entry


def provider_for(name: str):
    from .plugins import providers
    return providers.get(name)


@dataclass
class Listener:
    """A webhook listener: name, description, provider, verification and more.

    ``verification`` holds the provider's settings (for ``custom``, a ``type``
    and that type's settings). ``sample`` is ``{"content_type", "body"}``;
    ``transforms``, ``flows`` and ``response`` are described in docs/.
    """

    id: str
    name: str = ""
    description: str = ""
    provider: str = "custom"
    verification: dict = field(default_factory=lambda: {"type": "none"})
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    sample: dict | None = None
    transforms: list = field(default_factory=list)
    transform_mode: str = "replace"
    flows: list = field(default_factory=list)
    response: dict = field(default_factory=dict)
    xml: dict = field(default_factory=dict)
    keep_rejected: int = DEFAULT_REJECTED_KEEP

    def __post_init__(self):
        if not self.name:
            self.name = self.id

    # -- provider access ---------------------------------------------------

    @property
    def provider_obj(self):
        """The registered provider object (looked up now, so run-time plugins count)."""
        provider = provider_for(self.provider)
        if provider is None:
            raise ConfigError("provider", f"unknown provider {self.provider!r}")
        return provider

    def settings(self) -> dict:
        """The verification settings with the provider's declared defaults filled in."""
        return self.provider_obj.settings_with_defaults(self.verification)

    def path(self) -> str:
        """The URL path, with the secret URL token when the listener has one."""
        p = f"/hooks/{self.id}"
        token = self.url_token()
        return f"{p}/{token}" if token else p

    def url_token(self) -> str | None:
        if self.provider == "custom" and self.verification.get("type") == "secret_url":
            try:
                return secret_values.resolve_all(self.verification.get("token"))[0]
            except (secret_values.SecretError, IndexError):
                return None
        return None

    def parse_options(self, provider=None) -> dict:
        """Options for the parsers: the provider's XML hints, then the listener's own.

        ``provider``: the provider object when the caller has it already.
        """
        provider = provider or provider_for(self.provider)
        xml = dict(getattr(provider, "parse_options", {}) or {})
        xml.update(self.xml or {})
        return {"xml": xml}

    # -- (de)serialisation -------------------------------------------------

    def to_dict(self, *, show_secrets: bool = True) -> dict:
        d: dict[str, Any] = {"id": self.id, "name": self.name}
        if self.description:
            d["description"] = self.description
        d["provider"] = self.provider
        d["verification"] = copy.deepcopy(self.verification)
        if not show_secrets:
            d["verification"] = mask_secrets(self.provider, d["verification"])
        if self.max_body_bytes != DEFAULT_MAX_BODY_BYTES:
            d["max_body_bytes"] = self.max_body_bytes
        if self.keep_rejected != DEFAULT_REJECTED_KEEP:
            d["keep_rejected"] = self.keep_rejected
        for key in ("sample", "transforms", "flows", "response", "xml"):
            value = getattr(self, key)
            if value:
                d[key] = copy.deepcopy(value)
        if self.transform_mode != "replace":
            d["transform_mode"] = self.transform_mode
        return d

    @classmethod
    def from_dict(cls, d: Any, where: str = "") -> "Listener":
        """Build and validate a listener; raises :class:`ConfigError` naming the field."""
        prefix = f"{where}." if where else ""
        if not isinstance(d, dict):
            raise ConfigError(where or "listener", "must be a JSON object")
        known = set(cls.__dataclass_fields__)
        for key in d:
            if key not in known:
                raise ConfigError(f"{prefix}{key}", "unknown field")
        lid = d.get("id")
        if not isinstance(lid, str) or not ID_RE.match(lid):
            raise ConfigError(f"{prefix}id", "required: letters, digits, '_', '.', '-' (at most 64)")
        for key in ("name", "description", "provider", "transform_mode"):
            if key in d and not isinstance(d[key], str):
                raise ConfigError(f"{prefix}{key}", "must be text")
        verification = d.get("verification", {"type": "none"} if d.get("provider", "custom") == "custom" else {})
        if not isinstance(verification, dict):
            raise ConfigError(f"{prefix}verification", "must be a JSON object")
        for key in ("max_body_bytes", "keep_rejected"):
            if key in d and (isinstance(d[key], bool) or not isinstance(d[key], int) or d[key] < 1):
                raise ConfigError(f"{prefix}{key}", "must be a positive whole number")
        for key in ("transforms", "flows"):
            if key in d and not isinstance(d[key], list):
                raise ConfigError(f"{prefix}{key}", "must be a list")
        for key in ("response", "xml"):
            if key in d and not isinstance(d[key], dict):
                raise ConfigError(f"{prefix}{key}", "must be a JSON object")
        if d.get("sample") is not None and not isinstance(d["sample"], dict):
            raise ConfigError(f"{prefix}sample", 'must be {"content_type": ..., "body": ...}')
        listener = cls(**{k: copy.deepcopy(v) for k, v in d.items() if k != "verification"},
                       verification=copy.deepcopy(verification))
        listener.validate(where)
        return listener

    def validate(self, where: str = "") -> None:
        prefix = f"{where}." if where else ""
        provider = provider_for(self.provider)
        if provider is None:
            from .plugins import providers
            raise ConfigError(f"{prefix}provider", f"unknown provider {self.provider!r} "
                              f"(known: {', '.join(sorted(providers.names()))})")
        for name, message in provider.check_settings(self.verification):
            raise ConfigError(f"{prefix}verification.{name}", message)
        if self.transform_mode not in ("replace", "merge"):
            raise ConfigError(f"{prefix}transform_mode", "must be replace or merge")
        validator = _extra_validators.get("listener")
        if validator:
            validator(self, prefix)

    def copy(self) -> "Listener":
        return Listener(**copy.deepcopy(self.__dict__))


#: hooks for other modules (transforms, flows, responses) to validate their
#: part of a listener without this module importing them
_extra_validators: dict[str, Any] = {}


def mask_secrets(provider_name: str, verification: dict) -> dict:
    """``verification`` with every secret-kind setting masked (env refs kept)."""
    provider = provider_for(provider_name)
    out = dict(verification)
    if provider is None:
        return out
    kinds = {s.name: s.kind for s in provider.settings}
    if provider_name == "custom":
        scheme = provider.scheme(verification)
        if scheme is not None:
            kinds.update({s.name: s.kind for s in scheme.settings})
    for key, kind in kinds.items():
        if kind == "secret" and key in out:
            out[key] = secret_values.mask(out[key])
    return out


def load_config(source: str | Path | dict) -> list[Listener]:
    """Listeners from a config file path, JSON text or a parsed dict."""
    if isinstance(source, dict):
        data = source
    else:
        path = Path(source)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ConfigError("", f"config file {source} not found") from None
        except OSError as exc:
            raise ConfigError("", f"cannot read config file {source}: {exc.strerror}") from None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError("", f"{source}: invalid JSON at line {exc.lineno}, "
                                  f"column {exc.colno}: {exc.msg}") from None
    if not isinstance(data, dict) or not isinstance(data.get("listeners"), list):
        raise ConfigError("listeners", 'the config must be {"listeners": [ ... ]}')
    listeners, seen = [], set()
    for i, entry in enumerate(data["listeners"]):
        listener = Listener.from_dict(entry, where=f"listeners[{i}]")
        if listener.id in seen:
            raise ConfigError(f"listeners[{i}].id", f"duplicate id {listener.id!r}")
        seen.add(listener.id)
        listeners.append(listener)
    return listeners


def save_config(listeners: list[Listener], path: str | Path, *, show_secrets: bool = True) -> None:
    data = {"listeners": [l.to_dict(show_secrets=show_secrets) for l in listeners]}
    Path(path).write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
