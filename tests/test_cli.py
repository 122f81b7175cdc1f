"""The webhook-kit CLI end to end, in subprocesses: serve, events, xml2json, providers, token."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest

import webhook_kit as wk
from webhook_kit.client import post

CLI = [sys.executable, "-m", "webhook_kit.cli"]


def run(*args, input=None, env=None, timeout=60):
    return subprocess.run([*CLI, *args], capture_output=True, text=True, input=input,
                          env={**os.environ, **(env or {})}, timeout=timeout)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def config(tmp_path):
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"listeners": [
        {"id": "orders", "name": "Orders", "verification": {
            "type": "hmac", "algorithm": "sha256", "encoding": "hex",
            "secret": {"env": "ORDERS_SECRET"}, "header": "X-Signature"}},
        {"id": "open", "name": "Open"},
        {"id": "hidden", "verification": {"type": "secret_url", "token": "t0ken-abc"}},
    ]}))
    return path


@pytest.fixture
def serving(config, tmp_path):
    """A real `webhook-kit serve` process; yields (port, db, process)."""
    port, db = free_port(), tmp_path / "events.db"
    proc = subprocess.Popen([*CLI, "serve", str(config), "--port", str(port), "--db", str(db)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "ORDERS_SECRET": "s3cret"})
    lines = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        if "serving" in line:
            break
    assert any("serving 3 listener(s)" in l for l in lines), (lines, proc.stderr.read() if proc.poll() is not None else "")
    yield port, db, proc, lines
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        proc.wait(20)


def test_serve_prints_urls_and_stops_cleanly_on_sigterm(serving):
    port, db, proc, lines = serving
    text = "".join(lines)
    assert f"orders: http://127.0.0.1:{port}/hooks/orders" in text
    assert f"hidden: http://127.0.0.1:{port}/hooks/hidden/t0ken-abc" in text
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(20) == 0
    assert "stopped" in proc.stdout.read()


def test_serve_stops_on_sigint(serving):
    port, db, proc, lines = serving
    proc.send_signal(signal.SIGINT)
    assert proc.wait(20) == 0
    assert proc.stderr.read().count("Traceback") == 0


def test_deliveries_then_events_jsonl_and_table(serving, config):
    port, db, proc, _ = serving
    listener = wk.load_config(config)[0]
    os.environ["ORDERS_SECRET"] = "s3cret"
    try:
        good = wk.send(listener, {"order": 1}, url=f"http://127.0.0.1:{port}/hooks/orders")
    finally:
        del os.environ["ORDERS_SECRET"]
    assert good.status == 200
    bad = post(wk.Request("POST", f"http://127.0.0.1:{port}/hooks/orders",
                          {"X-Signature": "00", "Content-Type": "application/json"}, b'{"order": 2}'))
    assert bad.status == 401
    out = run("events", "--db", str(db), "--format", "jsonl")
    assert out.returncode == 0, out.stderr
    events = [json.loads(line) for line in out.stdout.splitlines()]
    assert [e["status"] for e in events] == ["rejected", "accepted"]
    fields = {"id", "listener", "received_at", "status", "reason", "method", "path", "query",
              "headers", "body", "body_encoding", "payload"}
    assert fields <= set(events[0])
    assert events[1]["payload"] == {"order": 1} and events[1]["id"] == good.json()["event_id"]
    assert events[0]["reason"] == "HMAC in X-Signature does not match"
    assert events[1]["received_at"].endswith("Z")
    filtered = run("events", "--db", str(db), "--status", "accepted", "--format", "jsonl")
    assert len(filtered.stdout.splitlines()) == 1
    table = run("events", "--db", str(db), "--listener", "orders")
    assert table.returncode == 0
    assert table.stdout.splitlines()[0].split()[:4] == ["ID", "RECEIVED", "LISTENER", "STATUS"]
    assert "HMAC in X-Signature does not match" in table.stdout


def test_events_without_store_is_one_line_error(tmp_path):
    out = run("events", "--db", str(tmp_path / "none.db"))
    assert out.returncode == 1
    assert out.stderr.strip().startswith("webhook-kit: no event store at")
    assert len(out.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("content,message", [
    ('{"listeners": [{"id": "a", "verification": {"type": "hmac"}}]}',
     "listeners[0].verification.secret: is required"),
    ('{"listeners": [{"id": "a", "provider": "nope"}]}', "listeners[0].provider: unknown provider"),
    ('{"listeners": [', "invalid JSON at line 1"),
])
def test_serve_invalid_config_exit_2_one_line(tmp_path, content, message):
    path = tmp_path / "bad.json"
    path.write_text(content)
    out = run("serve", str(path), "--port", "0", "--db", str(tmp_path / "x.db"))
    assert out.returncode == 2
    assert message in out.stderr
    assert "Traceback" not in out.stderr and len(out.stderr.strip().splitlines()) == 1


def test_serve_missing_config_file(tmp_path):
    out = run("serve", str(tmp_path / "nope.json"))
    assert out.returncode == 2 and "not found" in out.stderr and "Traceback" not in out.stderr


def test_xml2json_file_and_stdin_with_options(tmp_path):
    xml = ('<n:root xmlns:n="urn:x"><n:item id="1">a</n:item></n:root>')
    path = tmp_path / "in.xml"
    path.write_text(xml)
    out = run("xml2json", str(path), "--compact")
    assert json.loads(out.stdout) == {"n:root": {"@xmlns:n": "urn:x", "n:item": {"@id": "1", "#text": "a"}}}
    out = run("xml2json", "-", "--namespace", "urn:x=x", "--force-list", "item", "--attr-prefix", "_",
              input=xml)
    data = json.loads(out.stdout)
    # xmltodict keeps the namespace declarations under the attribute prefix
    assert data == {"x:root": {"_xmlns": {"n": "urn:x"}, "x:item": [{"_id": "1", "#text": "a"}]}}


def test_xml2json_malformed_is_one_line_with_position():
    out = run("xml2json", "-", input="<a>\n<b></a>")
    assert out.returncode == 1
    assert "line 2" in out.stderr and "Traceback" not in out.stderr


def test_token_is_fresh_and_long():
    a, b = run("token").stdout.strip(), run("token").stdout.strip()
    assert a != b and len(a) >= 22


def test_providers_lists_custom_types_with_settings():
    out = run("providers")
    assert out.returncode == 0
    text = out.stdout
    assert text.startswith("custom")
    for t in ("type basic: username (text), password (secret)",
              "type hmac: algorithm (choice), encoding (choice), secret (secret), header (text), prefix (text)",
              "type secret_url: token (secret)", "type token: token (secret), path (text)",
              "type none: -"):
        assert t in text
    as_json = json.loads(run("providers", "--format", "json").stdout)
    assert as_json[0]["name"] == "custom"


def test_help_everywhere():
    for args in ([], ["serve"], ["events"], ["send"], ["xml2json"], ["providers"], ["token"], ["replay"]):
        out = run(*args, "--help")
        assert out.returncode == 0 and "usage: webhook-kit" in out.stdout


def test_unknown_command_is_usage_error():
    out = run("frobnicate")
    assert out.returncode == 2 and "invalid choice" in out.stderr
