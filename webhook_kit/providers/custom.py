"""The ``custom`` provider: the user picks a verification type and its settings."""

from __future__ import annotations

from ..hookspecs import hookimpl
from ..model import Setting, Verdict
from ..verification import generic_sample
from .base import Provider


def _types():
    # imported on first use: plugins.py imports this module while it loads the built-ins
    global _registry
    if _registry is None:
        from ..plugins import verification_types
        _registry = verification_types
    return _registry


_registry = None


class CustomProvider(Provider):
    """Dispatches to the verification type named by ``verification.type``."""

    name = "custom"
    label = "Custom"
    summary = "basic, hmac, secret_url, token or none, configured by hand"

    @property
    def settings(self):
        return (Setting("type", "Verification type", "choice", "none",
                        choices=tuple(_types().names()), required=True),)

    def scheme(self, settings: dict):
        """The verification type object for these settings (None when unknown)."""
        return _types().get(settings.get("type") or "none")

    def settings_with_defaults(self, given):
        scheme = self.scheme(given or {})
        out = {"type": (given or {}).get("type") or "none"}
        if scheme is not None:
            out.update(scheme.settings_with_defaults(given))
        out.update({k: v for k, v in (given or {}).items() if v is not None})
        return out

    def check_settings(self, given):
        scheme = self.scheme(given)
        if scheme is None:
            return [("type", f"unknown verification type {given.get('type')!r}; "
                             f"choose one of {', '.join(_types().names())}")]
        return scheme.check_settings(given)

    def needs_payload_for(self, settings) -> bool:
        scheme = self.scheme(settings)
        return bool(scheme and scheme.needs_payload)

    def verify(self, request, settings, *, now=None):
        scheme = self.scheme(settings)
        if scheme is None:
            return Verdict.reject(f"unknown verification type {settings.get('type')!r}")
        return scheme.verify(request, settings, now=now)

    def sign(self, request, settings, *, now=None):
        return self.scheme(settings).sign(request, settings, now=now)

    def redact(self, request, settings):
        scheme = self.scheme(settings)
        return scheme.redact(request, settings) if scheme else []

    def sample(self):
        return generic_sample()

    def describe(self):
        d = super().describe()
        d["verification_types"] = [t.describe() for t in _types().all().values()]
        return d


@hookimpl
def register_providers():
    return [CustomProvider()]
