"""The signature debugger: real failed deliveries over loopback, explained and re-verified.

Each test sends what a sender with one usual mistake would send (signatures
computed here with hmac/hashlib, independently of the kit's signer), then
checks that the explanation of the stored event names that mistake and that
re-verifying with the suggested settings passes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import subprocess
import sys
import time

import pytest

import webhook_kit as wk
from webhook_kit.debugger import explain, reverify
from tests.providers.helpers import add_listener, deliver, last_event, stored

SECRET = "s3cret-key"
BODY = b'{"order":{"id":1001,"total":"19.99","note":"caf\xc3\xa9"}}'


def mac(body: bytes, key: str | bytes = SECRET, algorithm: str = "sha256") -> bytes:
    if isinstance(key, str):
        key = key.encode()
    return hmac.new(key, body, getattr(hashlib, algorithm)).digest()


def hmac_listener(server, **overrides) -> wk.Listener:
    verification = {"type": "hmac", "algorithm": "sha256", "encoding": "hex",
                    "secret": SECRET, "header": "X-Signature", "prefix": ""}
    verification.update(overrides)
    return add_listener(server, "custom", verification, listener_id="orders")


def rejected(server, listener, headers, body=BODY) -> wk.Event:
    reply = deliver(server, listener, body, {"Content-Type": "application/json", **headers})
    assert reply.status == 401, reply.text
    event = last_event(server, listener)
    assert event.status == "rejected"
    return event


def test_accepted_event_shows_signed_bytes_and_matching_signature(server):
    listener = hmac_listener(server)
    reply = deliver(server, listener, BODY, {"X-Signature": mac(BODY).hex()})
    assert reply.status == 200
    ex = explain(stored(server, reply), listener)
    assert ex.ok is True and ex.hints == []
    assert ex.signed_bytes == BODY
    assert ex.expected == [mac(BODY).hex()]
    assert ex.received == mac(BODY).hex()
    assert [s["ok"] for s in ex.steps if s["step"] == "signature"] == [True]


def test_wrong_encoding_base64_sent_hex_expected(server):
    listener = hmac_listener(server)
    event = rejected(server, listener, {"X-Signature": base64.b64encode(mac(BODY)).decode()})
    ex = explain(event, listener)
    assert ex.ok is False
    assert ex.hint_codes == ["encoding"]
    assert ex.hints[0]["fix"] == {"encoding": "base64"}
    assert ex.expected == [mac(BODY).hex()]  # in the listener's encoding
    assert not reverify(event, listener).ok
    assert reverify(event, listener, {"encoding": "base64"}).ok
    assert explain(event, listener, {"encoding": "base64"}).ok is True


def test_missing_prefix(server):
    listener = hmac_listener(server, prefix="sha256=")
    event = rejected(server, listener, {"X-Signature": mac(BODY).hex()})
    ex = explain(event, listener)
    assert ex.hint_codes == ["prefix_missing"]
    assert ex.expected == ["sha256=" + mac(BODY).hex()]
    assert any(s["step"] == "prefix" and s["ok"] is False for s in ex.steps)
    assert reverify(event, listener, ex.suggested_settings()).ok


def test_unexpected_prefix(server):
    listener = hmac_listener(server)
    event = rejected(server, listener, {"X-Signature": "sha256=" + mac(BODY).hex()})
    ex = explain(event, listener)
    assert ex.hint_codes == ["prefix_present"]
    assert ex.hints[0]["fix"] == {"prefix": "sha256="}
    assert reverify(event, listener, {"prefix": "sha256="}).ok


def test_reserialised_body(server):
    listener = hmac_listener(server)
    # the sender signs json.dumps(data) (", " and ": ") but its HTTP client sends compact bytes
    data = json.loads(BODY)
    signature = mac(json.dumps(data).encode()).hex()
    event = rejected(server, listener, {"X-Signature": signature})
    ex = explain(event, listener)
    assert ex.hint_codes == ["reserialised_body"]
    assert "json.dumps(json.loads(body))" in ex.hints[0]["text"]
    assert ex.hints[0]["fix"] is None  # the fix is on the sender's side
    assert ex.signed_bytes == BODY


def test_wrong_header(server):
    listener = hmac_listener(server)
    event = rejected(server, listener, {"X-Hub-Signature": mac(BODY).hex()})
    ex = explain(event, listener)
    assert ex.received is None
    assert ex.hint_codes == ["wrong_header"]
    assert ex.hints[0]["fix"]["header"].lower() == "x-hub-signature"
    assert any(s["step"] == "header" and "missing" in s["text"] for s in ex.steps)
    assert reverify(event, listener, ex.suggested_settings()).ok


def test_base64_secret_used_as_text(server):
    key_bytes = b"raw key \x00\x01 bytes"
    b64_secret = base64.b64encode(key_bytes).decode()
    listener = hmac_listener(server, secret=b64_secret)
    # the sender decodes the base64 secret and signs with its bytes
    event = rejected(server, listener, {"X-Signature": mac(BODY, key_bytes).hex()})
    ex = explain(event, listener)
    assert ex.hint_codes == ["base64_secret"]
    assert "base64-decoded" in ex.hints[0]["text"]
    assert b64_secret not in ex.to_text() and b64_secret not in json.dumps(ex.to_dict())


def test_base64_secret_with_text_key_can_be_reverified(server):
    listener = hmac_listener(server, secret=base64.b64encode(b"the-real-key").decode())
    event = rejected(server, listener, {"X-Signature": mac(BODY, b"the-real-key").hex()})
    assert explain(event, listener).hint_codes == ["base64_secret"]
    assert reverify(event, listener, {"secret": "the-real-key"}).ok


def test_wrong_algorithm(server):
    listener = hmac_listener(server)
    event = rejected(server, listener, {"X-Signature": mac(BODY, algorithm="sha1").hex()})
    ex = explain(event, listener)
    assert ex.hint_codes == ["algorithm"]
    assert reverify(event, listener, {"algorithm": "sha1"}).ok


def test_two_mistakes_at_once(server):
    listener = hmac_listener(server, prefix="sha256=")
    event = rejected(server, listener, {"X-Sig": base64.b64encode(mac(BODY, algorithm="sha1")).decode()})
    ex = explain(event, listener)
    assert set(ex.hint_codes) == {"wrong_header", "prefix_missing", "encoding", "algorithm"}
    assert reverify(event, listener, ex.suggested_settings()).ok


def test_wrong_secret_gets_no_false_hint(server):
    listener = hmac_listener(server)
    event = rejected(server, listener, {"X-Signature": mac(BODY, "other").hex()})
    ex = explain(event, listener)
    assert ex.hint_codes == ["no_match"]
    assert "secret" in ex.hints[0]["text"]
    assert reverify(event, listener, {"secret": "other"}).ok
    # an empty or masked secret in edits keeps the listener's secret
    assert not reverify(event, listener, {"secret": ""}).ok
    assert not reverify(event, listener, {"secret": "********"}).ok


def test_unsigned_delivery(server):
    listener = hmac_listener(server)
    ex = explain(rejected(server, listener, {}), listener)
    assert ex.hint_codes == ["missing_header"] and ex.received is None
    assert ex.expected == [mac(BODY).hex()]


def test_env_secret_unset_is_explained(server, monkeypatch):
    monkeypatch.setenv("DEBUGGER_TEST_SECRET", SECRET)
    listener = hmac_listener(server, secret={"env": "DEBUGGER_TEST_SECRET"})
    reply = deliver(server, listener, BODY, {"X-Signature": mac(BODY).hex()})
    assert reply.status == 200
    monkeypatch.delenv("DEBUGGER_TEST_SECRET")
    ex = explain(stored(server, reply), listener)
    assert ex.ok is False
    assert "secret_unresolved" in ex.hint_codes


def test_redacted_basic_credentials_are_reported_not_failed(server):
    listener = add_listener(server, "custom", {"type": "basic", "username": "u", "password": "p"},
                            listener_id="basic")
    auth = "Basic " + base64.b64encode(b"u:wrong").decode()
    reply = deliver(server, listener, BODY, {"Authorization": auth})
    assert reply.status == 401
    event = last_event(server, listener)
    assert event.redactions == ["header:Authorization"]
    ex = explain(event, listener)
    assert ex.ok is None and not ex.verifiable
    assert ex.hint_codes == ["redacted"]
    assert "Basic credentials do not match" in ex.to_text()
    verdict = reverify(event, listener, {"password": "wrong"})
    assert not verdict.ok and "redacted" in verdict.reason


def test_github_provider_wrong_encoding_and_override(server):
    if "github" not in wk.plugins.providers.names():
        pytest.skip("github provider not registered")
    listener = add_listener(server, "github", {"secret": SECRET})
    value = "sha256=" + base64.b64encode(mac(BODY)).decode()
    event = rejected(server, listener, {"X-Hub-Signature-256": value})
    ex = explain(event, listener)
    assert ex.header == "X-Hub-Signature-256"
    assert ex.expected == ["sha256=" + mac(BODY).hex()]
    assert ex.hint_codes == ["encoding"]
    # the override applies to a copy: the registered provider is unchanged
    assert reverify(event, listener, {"encoding": "base64"}).ok
    assert wk.plugins.providers.get("github").encoding == "hex"
    assert not reverify(event, listener).ok


def test_timestamped_plugin_provider_signed_bytes_and_clock_skew(server, plugin):
    """A throwaway plugin built on HmacHeaderProvider with a signed timestamp."""
    from webhook_kit.providers.base import check_timestamp, tolerance_setting, SECRET as SECRET_SETTING

    class Stamped(wk.HmacHeaderProvider):
        name = "stamped-test"
        header = "X-Stamp-Signature"
        settings = (SECRET_SETTING, tolerance_setting(300))

        def signed_bytes(self, request, settings):
            return (request.header("X-Stamp") or "").encode() + b"." + request.body

        def verify(self, request, settings, *, now=None):
            verdict = super().verify(request, settings, now=now)
            if not verdict.ok:
                return verdict
            stale = check_timestamp(float(request.header("X-Stamp")), settings["tolerance"], now)
            return verdict if stale is None else stale  # a rejected Verdict is falsy

    class Plugin:
        @wk.hookimpl
        def register_providers(self):
            return [Stamped()]

    plugin(Plugin(), name="stamped-test")
    listener = add_listener(server, "stamped-test", {"secret": SECRET})
    stamp = str(int(time.time()) - 1000)
    event = rejected(server, listener, {"X-Stamp": stamp,
                                        "X-Stamp-Signature": mac(stamp.encode() + b"." + BODY).hex()})
    ex = explain(event, listener)
    assert ex.signed_bytes == stamp.encode() + b"." + BODY
    assert [s["ok"] for s in ex.steps if s["step"] == "signature"] == [True]
    assert ex.hint_codes == ["clock_skew"]
    skew = next(s for s in ex.steps if s["step"] == "timestamp")
    assert "100" in skew["text"] and "tolerance 300 s" in skew["text"]
    assert reverify(event, listener, {"tolerance": 2000}).ok


@pytest.mark.parametrize("provider", ["slack", "stripe"])
def test_stale_timestamp_of_a_real_provider(server, provider):
    if provider not in wk.plugins.providers.names():
        pytest.skip(f"{provider} provider not registered yet")
    listener = add_listener(server, provider, {"secret": SECRET})
    reply = wk.send(listener, {"id": "evt_1", "type": "ping"}, url=f"{server.base_url}/hooks/{listener.id}",
                    now=time.time() - 1000)
    assert reply.status == 401, reply.text
    ex = explain(last_event(server, listener), listener)
    assert ex.ok is False
    assert "clock_skew" in ex.hint_codes
    text = next(h["text"] for h in ex.hints if h["code"] == "clock_skew")
    assert "tolerance of 300 s" in text
    assert any(f"{n} s old" in text for n in range(999, 1005))


def test_to_dict_is_json_and_to_text_readable(server):
    listener = hmac_listener(server)
    event = rejected(server, listener, {"X-Signature": base64.b64encode(mac(BODY)).decode()})
    ex = explain(event, listener)
    d = json.loads(json.dumps(ex.to_dict()))
    assert d["ok"] is False and d["hints"][0]["code"] == "encoding"
    assert d["signed_bytes"] == {"text": BODY.decode(), "encoding": "utf-8", "length": len(BODY)}
    text = ex.to_text()
    assert "[encoding]" in text and mac(BODY).hex() in text and SECRET not in text


def test_cli_events_explain(server, db_path, tmp_path):
    listener = hmac_listener(server)
    event = rejected(server, listener, {"X-Signature": "sha256=" + mac(BODY).hex()})
    config = tmp_path / "listeners.json"
    config.write_text(json.dumps({"listeners": [listener.to_dict()]}))
    done = subprocess.run([sys.executable, "-m", "webhook_kit.cli", "events", "--db", db_path,
                           "--explain", event.id, "--config", str(config)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert event.id in done.stdout
    assert "[prefix_present]" in done.stdout
    assert "Signed bytes" in done.stdout
    assert SECRET not in done.stdout


def test_cli_explain_unknown_event_is_one_line(server, db_path, tmp_path):
    config = tmp_path / "listeners.json"
    config.write_text(json.dumps({"listeners": [{"id": "orders"}]}))
    done = subprocess.run([sys.executable, "-m", "webhook_kit.cli", "events", "--db", db_path,
                           "--explain", "evt_nope", "--config", str(config)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert done.stderr.strip().count("\n") == 0 and "evt_nope" in done.stderr


# -- the SignatureDebugger widget (plain pytest: ipywidgets work without a front end) --

def front_end_state(widget) -> str:
    """Everything the widget tree would send to the browser, as text."""
    import ipywidgets
    out, todo = [], [widget]
    while todo:
        w = todo.pop()
        out.append(repr(w.get_state()))
        todo.extend(c for c in getattr(w, "children", ()) if isinstance(c, ipywidgets.Widget))
    return "\n".join(out)


def test_widget_shows_newest_rejected_event_and_reverifies(server):
    from webhook_kit.widgets.debugger_view import SignatureDebugger
    listener = hmac_listener(server)
    ok_reply = deliver(server, listener, BODY, {"X-Signature": mac(BODY).hex()})
    event = rejected(server, listener, {"X-Signature": base64.b64encode(mac(BODY)).decode()})
    deliver(server, listener, BODY, {"X-Signature": mac(BODY).hex()})  # a newer accepted one

    view = SignatureDebugger(server.store, listener)
    assert view.event.id == event.id  # the newest rejected, not the newest
    assert "verification fails" in view._verdict.value
    assert "encoding" in view._hints.value
    assert view._signed.value == BODY.decode()
    assert mac(BODY).hex() in view._comparison.value
    assert view._secret.value == "" and SECRET not in front_end_state(view)
    assert [o[1] for o in view._picker.options].count(event.id) == 1

    view._reverify.click()  # unchanged settings: still failing
    assert "verification fails" in view._result.value
    view._encoding.value = "base64"
    view._reverify.click()
    assert "verification passes" in view._result.value
    assert view.explanation.ok is True

    view._picker.value = stored(server, ok_reply).id
    assert view.explanation.ok is True and view._result.value == ""


def test_widget_suggested_settings_and_typed_secret(server):
    from webhook_kit.widgets.debugger_view import SignatureDebugger
    listener = hmac_listener(server, prefix="sha256=")
    event = rejected(server, listener, {"X-Hub-Signature": mac(BODY, "other", "sha1").hex()})
    view = SignatureDebugger(server.store, listener, event_id=event.id)
    assert view.explanation.hint_codes == ["no_match"]
    assert view._suggest.disabled
    view._secret.value = "other"
    view._reverify.click()
    assert set(view.explanation.hint_codes) == {"wrong_header", "prefix_missing", "algorithm"}
    view._suggest.click()
    assert (view._header.value.lower(), view._prefix.value, view._algorithm.value) == \
        ("x-hub-signature", "", "sha1")
    view._reverify.click()
    assert "verification passes" in view._result.value
    assert "other" not in view._result.value  # a typed secret is not echoed


def test_widget_without_events(server):
    from webhook_kit.widgets.debugger_view import SignatureDebugger, edits_from_fields
    listener = hmac_listener(server)
    view = SignatureDebugger(server.store, listener)
    assert view.event is None and "No events" in view._verdict.value
    view._reverify.click()
    assert "No event" in view._result.value
    fields = {"editable": True, "header": "X-Signature", "prefix": "", "algorithm": "sha256",
              "encoding": "hex"}
    assert edits_from_fields(fields, secret="", encoding="hex", algorithm="sha256",
                             header="X-Signature", prefix="") == {}
    assert edits_from_fields(fields, secret="k", encoding="base64", algorithm="sha256",
                             header=" X-Sig ", prefix="") == {"secret": "k", "encoding": "base64",
                                                              "header": "X-Sig"}
