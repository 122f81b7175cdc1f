"""The docs stay true: every hook and every provider contract member is in docs/plugins.md,
and docs/providers.md is what ``python -m webhook_kit.docs_providers`` generates."""

from __future__ import annotations

import inspect
import re
import subprocess
import sys
from pathlib import Path

import pluggy
import pytest

import webhook_kit
from webhook_kit import docs_providers, hookspecs
from webhook_kit import providers as provider_helpers
from webhook_kit.providers.base import HmacHeaderProvider, Provider

ROOT = Path(__file__).resolve().parents[1]
PLUGINS_MD = ROOT / "docs" / "plugins.md"
PROVIDERS_MD = ROOT / "docs" / "providers.md"


def hookspec_signatures() -> dict[str, str]:
    """``{name: "name(arg, ...)"}`` for every hook pluggy finds in hookspecs.py."""
    manager = pluggy.PluginManager("webhook_kit")
    manager.add_hookspecs(hookspecs)
    out = {}
    for name in dir(manager.hook):
        caller = getattr(manager.hook, name)
        if isinstance(caller, pluggy.HookCaller) and caller.spec is not None:
            out[name] = f"{name}({', '.join(caller.spec.argnames)})"
    return out


def section(text: str, heading: str) -> str:
    """The text under ``heading`` up to the next heading of the same level."""
    level = heading.split(" ", 1)[0]
    start = text.index(heading + "\n")
    nxt = re.search(rf"^{level} ", text[start + len(heading):], re.M)
    return text[start:start + len(heading) + nxt.start()] if nxt else text[start:]


def public_members(cls) -> list[str]:
    names = set(getattr(cls, "__annotations__", {}))
    names |= {n for n, v in vars(cls).items() if not n.startswith("_")}
    return sorted(n for n in names if not n.startswith("_"))


@pytest.fixture(scope="module")
def plugins_md() -> str:
    return PLUGINS_MD.read_text(encoding="utf-8")


def test_the_hookspecs_are_found():
    hooks = hookspec_signatures()
    # sanity: the parser sees the hooks the kit calls, with their arguments
    assert hooks["register_providers"] == "register_providers()"
    assert hooks["event_accepted"] == "event_accepted(event, listener)"


def test_every_hook_is_documented_with_signature_arguments_return_and_example(plugins_md):
    hooks_part = section(plugins_md, "## Hooks")
    missing = []
    for name, signature in sorted(hookspec_signatures().items()):
        heading = f"### `{signature}`"
        if heading + "\n" not in hooks_part:
            missing.append(f"{signature}: no heading {heading!r}")
            continue
        body = section(hooks_part, heading)
        for part in ("**Arguments:**", "**Returns:**", "**Called:**", "```python", "@hookimpl"):
            if part not in body:
                missing.append(f"{signature}: no {part}")
        if f"def {name}(" not in body:
            missing.append(f"{signature}: the example does not implement {name}")
    assert not missing, "docs/plugins.md is missing hook documentation:\n" + "\n".join(missing)


def test_no_documented_hook_is_gone(plugins_md):
    hooks = set(hookspec_signatures())
    documented = set(re.findall(r"^### `(\w+)\(", section(plugins_md, "## Hooks"), re.M))
    assert documented <= hooks, f"documented but not in hookspecs.py: {sorted(documented - hooks)}"


def test_every_provider_attribute_and_method_is_documented(plugins_md):
    contract = section(plugins_md, "## The provider contract")
    missing = []
    for cls in (Provider, HmacHeaderProvider):
        for name in public_members(cls):
            member = getattr(cls, name)
            if callable(member) and not isinstance(member, type):
                params = list(inspect.signature(member).parameters)
                # documented as `name(args...)` with its parameters (self left out)
                wanted = f"`{name}({', '.join(p for p in params if p != 'self')}"
                first = ", ".join(p for p in params if p != "self").split(",")[0]
                if f"`{name}(" not in contract or (first and f"`{name}({first}" not in contract):
                    missing.append(f"{cls.__name__}.{name}: expected {wanted}...`")
            elif f"`{name}`" not in contract:
                missing.append(f"{cls.__name__}.{name}")
    assert not missing, "docs/plugins.md does not document:\n" + "\n".join(missing)


def test_every_public_provider_helper_is_documented(plugins_md):
    contract = section(plugins_md, "## The provider contract")
    helpers = [n for n in dir(provider_helpers) if not n.startswith("_")
               and getattr(provider_helpers, n).__class__.__name__ != "module"
               and getattr(getattr(provider_helpers, n), "__module__", "").startswith(
                   "webhook_kit.providers.base")
               or n in ("SECRET", "PUBLIC_URL")]
    missing = [n for n in helpers if f"`{n}" not in contract]
    assert not missing, f"helpers exported by webhook_kit.providers but not documented: {missing}"


def test_the_public_names_a_plugin_uses_exist(plugins_md):
    packaging = section(plugins_md, "## Packaging a plugin")
    for name in re.findall(r"`(\w+)`", packaging.split("Import only the public", 1)[1]
                           .split("(`", 1)[1].split(")", 1)[0]):
        assert hasattr(webhook_kit, name), f"docs name webhook_kit.{name}, which does not exist"


def test_providers_md_is_generated(plugins_md):
    expected = docs_providers.render()
    current = PROVIDERS_MD.read_text(encoding="utf-8") if PROVIDERS_MD.exists() else ""
    assert current == expected, ("docs/providers.md is out of date: run "
                                 "python -m webhook_kit.docs_providers")


def test_providers_md_has_a_full_row_for_every_builtin():
    rows = {}
    for name, provider in docs_providers.builtin_providers().items():
        if name != "custom":
            rows[name] = [k for k in docs_providers.DOC_KEYS if not provider.doc.get(k)]
    incomplete = {name: keys for name, keys in rows.items() if keys}
    assert rows, "no built-in providers found"
    assert not incomplete, f"built-in providers whose doc lacks keys: {incomplete}"


def test_providers_md_lists_builtins_only_and_the_custom_types():
    text = docs_providers.render()
    for name in docs_providers.builtin_providers():
        if name != "custom":
            assert f"| **{name}**" in text
    for vtype in ("basic", "hmac", "secret_url", "token", "none"):
        assert f"| **{vtype}** |" in text
    # an outside plugin registered at run time does not change the page
    class Outside(Provider):
        name = "outside-test"
        doc = {k: "x" for k in docs_providers.DOC_KEYS}

    class Plugin:
        @webhook_kit.hookimpl
        def register_providers(self):
            return [Outside()]

    webhook_kit.register(Plugin(), name="outside-test-plugin")
    try:
        assert docs_providers.render() == text
    finally:
        webhook_kit.unregister(name="outside-test-plugin")


def test_check_mode_tells_a_stale_file(tmp_path):
    stale = tmp_path / "providers.md"
    stale.write_text("old\n")
    args = [sys.executable, "-m", "webhook_kit.docs_providers", "--check", "--output", str(stale)]
    done = subprocess.run(args, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert "out of date" in done.stderr and "Traceback" not in done.stderr
    written = subprocess.run(args[:3] + ["--output", str(stale)], capture_output=True, text=True,
                             timeout=60)
    assert written.returncode == 0
    assert subprocess.run(args, capture_output=True, timeout=60).returncode == 0
