"""``webhook-kit send`` end to end: a real ``webhook-kit serve`` process, a real ``send`` process.

``send`` signs the listener's sample (or a --data file) exactly as its
provider would, POSTs it, prints ``STATUS BODY`` and exits 0 only on 2xx.
Mistakes (unknown listener, bad config, unreadable file, nobody listening)
are one line on stderr, never a traceback.
"""

from __future__ import annotations

import json
import socket

import pytest

import webhook_kit as wk

from .serve_process import run_cli, serving

ENV = {"SEND_HMAC_SECRET": "hmac-secret-for-send", "SEND_BASIC_PASSWORD": "pa55word",
       "SEND_GITHUB_SECRET": "It's a Secret to Everybody"}

LISTENERS = [
    {"id": "hmac", "provider": "custom",
     "verification": {"type": "hmac", "algorithm": "sha256", "encoding": "base64",
                      "secret": {"env": "SEND_HMAC_SECRET"}, "header": "X-Signature",
                      "prefix": "sha256="}},
    {"id": "basic", "provider": "custom",
     "verification": {"type": "basic", "username": "shop",
                      "password": {"env": "SEND_BASIC_PASSWORD"}}},
    {"id": "surl", "provider": "custom",
     "verification": {"type": "secret_url", "token": "Zk3vV0Jx2Q7mR8sT1uW4yA6bC9dE"}},
    {"id": "tok", "provider": "custom",
     "verification": {"type": "token", "token": "body-token-123", "path": "auth.token"},
     "sample": {"content_type": "application/json",
                "body": {"auth": {"token": "body-token-123"}, "order": 1}}},
]
GITHUB = {"id": "gh", "provider": "github",
          "verification": {"secret": {"env": "SEND_GITHUB_SECRET"}}}
HAVE_GITHUB = wk.plugins.providers.get("github") is not None


def one_line_error(done) -> str:
    err = done.stderr.decode()
    assert "Traceback" not in err, err
    assert err.strip() and err.strip().count("\n") == 0, f"not one line: {err!r}"
    return err.strip()


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    folder = tmp_path_factory.mktemp("send")
    config = folder / "config.json"
    config.write_text(json.dumps({"listeners": LISTENERS + ([GITHUB] if HAVE_GITHUB else [])}))
    db = folder / "events.db"
    with serving(config, db, env=ENV) as served:
        yield {"config": config, "db": db, "served": served, "folder": folder}


def send(setup, *args, config=None, env=ENV, stdin=None):
    return run_cli("send", config or setup["config"], *args, env=env, stdin=stdin)


def hook_url(setup, listener_id: str) -> str:
    # the plain listener URL: a secret URL token is added by signing, like any credential
    return f"{setup['served'].base_url}/hooks/{listener_id}"


def stored_event(setup, event_id: str) -> dict:
    listed = run_cli("events", "--db", setup["db"], "--format", "jsonl", "--limit", "500")
    for line in listed.stdout.decode().splitlines():
        event = json.loads(line)
        if event["id"] == event_id:
            return event
    raise AssertionError(f"event {event_id} not stored")


def accepted_event(done, setup) -> dict:
    out = done.stdout.decode().strip()
    assert done.returncode == 0, (out, done.stderr.decode())
    status, _, body = out.partition(" ")
    assert status == "200"
    event = stored_event(setup, json.loads(body)["event_id"])
    assert event["status"] == "accepted"
    return event


@pytest.mark.parametrize("listener_id", [l["id"] for l in LISTENERS])
def test_sample_is_signed_and_accepted(setup, listener_id):
    event = accepted_event(send(setup, "--listener", listener_id, "--url",
                                hook_url(setup, listener_id)), setup)
    assert event["listener"] == listener_id


def test_sample_signed_for_github(setup):
    if not HAVE_GITHUB:
        pytest.skip("the github provider is not registered yet")
    event = accepted_event(send(setup, "--listener", "gh", "--url", hook_url(setup, "gh")), setup)
    assert dict(event["headers"]).get("X-Hub-Signature-256", "").startswith("sha256=")


def test_data_file_is_sent_byte_for_byte(setup):
    data = setup["folder"] / "order.json"
    raw = b'{"order": {"id": 42, "note": "caf\xc3\xa9 \xe2\x82\xac"},   "spacing":  "kept"}\n'
    data.write_bytes(raw)
    event = accepted_event(send(setup, "--listener", "hmac", "--data", data,
                                "--content-type", "application/json",
                                "--url", hook_url(setup, "hmac")), setup)
    assert event["body"].encode("utf-8") == raw  # signed and stored exactly as read
    assert event["payload"]["order"]["id"] == 42


def test_xml_data_with_content_type_and_stdin(setup):
    xml = b"<order><id>7</id><item>a</item><item>b</item></order>"
    event = accepted_event(send(setup, "--listener", "basic", "--data", "-",
                                "--content-type", "application/xml",
                                "--url", hook_url(setup, "basic"), stdin=xml), setup)
    assert event["payload"] == {"order": {"id": "7", "item": ["a", "b"]}}
    assert event["content_type"] == "application/xml"
    # the credentials were sent, and redacted before storing
    assert dict(event["headers"])["Authorization"] == "[redacted]"


def test_secret_url_token_is_added_by_signing_and_not_stored(setup):
    event = accepted_event(send(setup, "--listener", "surl", "--url", hook_url(setup, "surl")),
                           setup)
    assert "Zk3vV0Jx2Q7mR8sT1uW4yA6bC9dE" not in json.dumps(event)


def test_wrong_secret_prints_401_and_exits_non_zero(setup):
    client_side = setup["folder"] / "wrong.json"
    wrong = json.loads(json.dumps(LISTENERS[0]))
    wrong["verification"]["secret"] = "not-the-servers-secret"
    client_side.write_text(json.dumps({"listeners": [wrong]}))
    done = send(setup, "--listener", "hmac", "--url", hook_url(setup, "hmac"), config=client_side)
    assert done.returncode != 0
    assert done.stdout.decode().startswith("401 ")
    assert "verification failed" in done.stdout.decode()


def test_unknown_listener_url_prints_404(setup):
    done = send(setup, "--listener", "hmac", "--url", hook_url(setup, "no-such-listener"))
    assert done.returncode != 0
    assert done.stdout.decode().startswith("404 ")


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_connection_refused_is_one_line(setup):
    url = f"http://127.0.0.1:{_closed_port()}/hooks/hmac"
    done = send(setup, "--listener", "hmac", "--url", url)
    assert done.returncode != 0
    assert "cannot reach" in one_line_error(done) and url in done.stderr.decode()


def test_default_url_is_port_8080(setup):
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", 8080)) == 0:
            pytest.skip("something listens on 127.0.0.1:8080 here")
    done = send(setup, "--listener", "hmac")
    assert done.returncode != 0
    assert "http://127.0.0.1:8080/hooks/hmac" in one_line_error(done)


def test_unknown_listener_is_one_line(setup):
    done = send(setup, "--listener", "nope")
    assert done.returncode == 2
    err = one_line_error(done)
    assert "no listener 'nope'" in err and "hmac" in err  # names the ones there are


@pytest.mark.parametrize("content, expected", [
    ("{not json", "invalid JSON at line 1"),
    ('{"listeners": [{"id": "x", "provider": "no-such-provider"}]}', "provider"),
    ('{"listeners": [{"id": "x", "verification": {"type": "hmac"}}]}', "secret"),
    ('{"hooks": []}', "listeners"),
])
def test_bad_config_is_one_line(setup, content, expected):
    config = setup["folder"] / "bad.json"
    config.write_text(content)
    done = send(setup, "--listener", "x", config=config)
    assert done.returncode == 2
    err = one_line_error(done)
    assert "config error" in err and expected in err


def test_missing_config_file_is_one_line(setup):
    done = send(setup, "--listener", "x", config=setup["folder"] / "absent.json")
    assert done.returncode == 2
    assert "not found" in one_line_error(done)


def test_unreadable_data_file_is_one_line(setup):
    done = send(setup, "--listener", "hmac", "--data", setup["folder"] / "absent.bin",
                "--url", hook_url(setup, "hmac"))
    assert done.returncode != 0
    assert "cannot read" in one_line_error(done)
    folder = send(setup, "--listener", "hmac", "--data", setup["folder"],
                  "--url", hook_url(setup, "hmac"))
    assert folder.returncode != 0
    assert "cannot read" in one_line_error(folder)


def test_unset_secret_variable_is_one_line(setup, monkeypatch):
    monkeypatch.delenv("SEND_HMAC_SECRET", raising=False)
    env = {k: v for k, v in ENV.items() if k != "SEND_HMAC_SECRET"}
    done = send(setup, "--listener", "hmac", "--url", hook_url(setup, "hmac"), env=env)
    assert done.returncode != 0
    err = one_line_error(done)
    assert "cannot sign" in err and "SEND_HMAC_SECRET is not set" in err


def test_empty_secret_variable_is_a_clear_one_line(setup):
    done = send(setup, "--listener", "hmac", "--url", hook_url(setup, "hmac"),
                env={**ENV, "SEND_HMAC_SECRET": ""})
    assert done.returncode != 0
    assert "cannot sign" in one_line_error(done)


def test_help_names_the_options():
    done = run_cli("send", "--help")
    assert done.returncode == 0
    for option in ("--listener", "--data", "--content-type", "--url"):
        assert option in done.stdout.decode()
