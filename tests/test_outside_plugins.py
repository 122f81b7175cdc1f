"""Outside provider plugins (plugins/webhook-kit-*): installed, listed, serving real deliveries.

The two example distributions are installed with pip when they are not yet
(.ci/run installs them too), then found through their ``webhook_kit`` entry
points by a fresh ``webhook-kit`` process and by this one. A provider object
registered at run time with ``webhook_kit.register()`` is used by a running
server at once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import importlib
import importlib.metadata
import importlib.util
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

import webhook_kit as wk
from webhook_kit.client import post
from webhook_kit.plugins import pm

from .serve_process import run_cli, serving

ROOT = Path(__file__).resolve().parents[1]
#: provider name -> (distribution, import name)
PLUGINS = {
    "workos": ("webhook-kit-workos", "webhook_kit_workos"),
    "docusign": ("webhook-kit-docusign", "webhook_kit_docusign"),
}


def _installed(distribution: str) -> bool:
    try:
        importlib.metadata.distribution(distribution)
        return True
    except importlib.metadata.PackageNotFoundError:
        return False


def _pip_install_editable(folder: Path) -> None:
    base = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps"]
    # without build isolation first (offline); an old setuptools lacking bdist_wheel needs it
    for extra in (["--no-build-isolation"], []):
        done = subprocess.run([*base, *extra, "-e", str(folder)], capture_output=True, text=True,
                              timeout=300)
        if done.returncode == 0:
            return
    pytest.fail(f"pip install -e {folder} failed: {done.stderr.strip().splitlines()[-1:]}")


@pytest.fixture(scope="module")
def outside_plugins():
    """Both example plugins installed and registered in this process; undone after."""
    for distribution, module in PLUGINS.values():
        if not _installed(distribution):
            _pip_install_editable(ROOT / "plugins" / distribution)
    importlib.invalidate_caches()
    for distribution, module in PLUGINS.values():
        # an editable install made by this process is on sys.path only in new processes
        if importlib.util.find_spec(module) is None:
            sys.path.insert(0, str(ROOT / "plugins" / distribution))
    before = {name for name, _ in pm.list_name_plugin()}
    pm.load_setuptools_entrypoints("webhook_kit")  # what the kit does at start-up
    added = [name for name, _ in pm.list_name_plugin() if name not in before]
    try:
        yield {name: importlib.import_module(module) for name, (_, module) in PLUGINS.items()}
    finally:
        for name in added:
            wk.unregister(name=name)


def test_installed_plugins_are_listed_by_webhook_kit_providers(outside_plugins):
    text = run_cli("providers")
    assert text.returncode == 0, text.stderr
    out = text.stdout.decode()
    # the owner in brackets is the entry point's name, not a built-in module
    assert "workos: WorkOS [workos]" in out
    assert "docusign: DocuSign Connect [docusign]" in out
    listed = {d["name"]: d for d in json.loads(run_cli("providers", "--format", "json").stdout)}
    assert [s["name"] for s in listed["workos"]["settings"]] == ["secret", "tolerance"]
    assert [s["name"] for s in listed["docusign"]["settings"]] == ["secret"]


def _workos_header(secret: str, body: bytes, ms: int) -> str:
    digest = hmac.new(secret.encode(), f"{ms}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={ms}, v1={digest}"


def _docusign_header(key: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(key.encode(), body, hashlib.sha256).digest()).decode()


def test_a_served_config_uses_the_plugins(outside_plugins, tmp_path):
    """A fresh ``webhook-kit serve`` loads the plugins by entry point and verifies with them."""
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"listeners": [
        {"id": "workos", "provider": "workos", "verification": {"secret": {"env": "WORKOS_SECRET"}}},
        {"id": "envelopes", "provider": "docusign",
         "verification": {"secret": ["key-one", {"env": "DOCUSIGN_KEY"}]}},
    ]}))
    env = {"WORKOS_SECRET": "whsec_outside", "DOCUSIGN_KEY": "key-two"}
    db = tmp_path / "events.db"
    with serving(config, db, env=env) as served:
        assert set(served.urls) == {"workos", "envelopes"}
        workos_url, docusign_url = served.urls["workos"], served.urls["envelopes"]

        # signed by the plugins' own sign() through `webhook-kit send`
        for listener in ("workos", "envelopes"):
            sent = run_cli("send", config, "--listener", listener, "--url", served.urls[listener],
                           env=env)
            assert sent.returncode == 0, sent.stderr
            assert sent.stdout.decode().startswith("200 ")

        # signed by hand from each provider's documented recipe
        body = b'{"id":"event_hand","event":"user.created"}'
        ok = post(wk.Request("POST", workos_url, wk.Headers({
            "Content-Type": "application/json",
            "WorkOS-Signature": _workos_header("whsec_outside", body, int(time.time() * 1000))}),
            body))
        assert ok.status == 200, ok.text
        xml = outside_plugins["docusign"].SAMPLE_XML.replace(b"Completed", b"Sent")
        ok = post(wk.Request("POST", docusign_url, wk.Headers({
            "Content-Type": "text/xml", "X-DocuSign-Signature-1": _docusign_header("key-two", xml)}),
            xml))
        assert ok.status == 200, ok.text

        # bad signatures are refused
        bad = post(wk.Request("POST", workos_url, wk.Headers({
            "Content-Type": "application/json",
            "WorkOS-Signature": _workos_header("wrong", body, int(time.time() * 1000))}), body))
        assert bad.status == 401
        bad = post(wk.Request("POST", docusign_url, wk.Headers({
            "Content-Type": "text/xml", "X-DocuSign-Signature-1": _docusign_header("key-two", xml)}),
            xml + b"<!-- tampered -->"))
        assert bad.status == 401

    listed = run_cli("events", "--db", db, "--format", "jsonl", "--limit", "10")
    events = [json.loads(line) for line in listed.stdout.decode().splitlines()]
    by_status = {}
    for e in events:
        by_status.setdefault((e["listener"], e["status"]), []).append(e)
    assert len(by_status[("workos", "accepted")]) == 2
    assert len(by_status[("envelopes", "accepted")]) == 2
    assert "does not match" in by_status[("workos", "rejected")][0]["reason"]
    assert "no X-DocuSign-Signature-N header matches" in by_status[("envelopes", "rejected")][0]["reason"]
    envelope = by_status[("envelopes", "accepted")][0]["payload"]["DocuSignEnvelopeInformation"]
    assert isinstance(envelope["EnvelopeStatus"]["RecipientStatuses"]["RecipientStatus"], list)


def test_plugins_serve_in_process_through_the_same_registry(outside_plugins, server):
    workos = server.add(wk.Listener("workos", provider="workos", verification={"secret": "s3"}))
    docusign = server.add(wk.Listener("docusign", provider="docusign",
                                      verification={"secret": ["k1", "k2"]}))
    assert wk.send(workos, url=server.url_for(workos)).status == 200
    signed = wk.sign_delivery(docusign, url=server.url_for(docusign))
    # one header per configured key, as Connect sends with two active keys
    assert signed.headers["X-DocuSign-Signature-2"] == _docusign_header("k2", signed.body)
    assert post(signed).status == 200


# -- a provider registered at run time -------------------------------------------------

class AcmeProvider(wk.HmacHeaderProvider):
    """A throwaway provider: HMAC-SHA256 hex of the body in X-Acme-Signature."""

    name = "acme-runtime"
    label = "Acme (registered at run time)"
    header = "X-Acme-Signature"
    prefix = "sha256="


class AcmePlugin:
    @wk.hookimpl
    def register_providers(self):
        return [AcmeProvider()]


def test_a_provider_registered_at_run_time_is_used_at_once(server, plugin):
    listener = wk.Listener("acme", provider="acme-runtime", verification={"secret": "acme-key"})
    with pytest.raises(wk.ConfigError, match="unknown provider 'acme-runtime'"):
        server.add(listener)

    plugin(AcmePlugin(), name="acme-runtime-plugin")  # while the server runs
    server.add(listener)
    url = server.url_for(listener)
    body = b'{"order": 7}'
    digest = hmac.new(b"acme-key", body, hashlib.sha256).hexdigest()
    good = post(wk.Request("POST", url, wk.Headers({"Content-Type": "application/json",
                                                    "X-Acme-Signature": f"sha256={digest}"}), body))
    assert good.status == 200, good.text
    assert server.store.get(good.json()["event_id"]).payload == {"order": 7}
    bad = post(wk.Request("POST", url, wk.Headers({"Content-Type": "application/json",
                                                   "X-Acme-Signature": "sha256=" + "0" * 64}), body))
    assert bad.status == 401

    wk.unregister(name="acme-runtime-plugin")  # gone at once too
    gone = post(wk.Request("POST", url, wk.Headers({"Content-Type": "application/json",
                                                    "X-Acme-Signature": f"sha256={digest}"}), body))
    assert gone.status == 503
    assert wk.plugins.providers.get("acme-runtime") is None
