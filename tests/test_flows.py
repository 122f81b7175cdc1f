"""Flows: conditions, Python/forward/jsonl actions, plugins' actions, retries, isolation."""

from __future__ import annotations

import http.server
import json
import socket
import threading
import time

import pytest

import webhook_kit as wk
from webhook_kit import flows
from webhook_kit.flows import ActionResult, ActionType, backoff_delay, forward_headers, register_function

FAST = {"backoff": 0.05, "max_backoff": 0.2, "timeout": 2}


class Receiver:
    """A real HTTP server on 127.0.0.1 that answers from a script, then 200.

    ``script`` items: an int status to answer, or ``("sleep", seconds)`` to
    stall (the sender's timeout fires). Every request that reached it is kept.
    """

    def __init__(self, script=(), port=0):
        self.script = list(script)
        self.requests: list[dict] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver.lock:
                    step = receiver.script.pop(0) if receiver.script else 200
                    receiver.requests.append({"path": self.path, "headers": dict(self.headers.items()),
                                              "body": body, "answered": step})
                if isinstance(step, tuple):
                    time.sleep(step[1])
                    step = 200
                try:
                    self.send_response(step)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the sender timed out and hung up: that is the point of a stall

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/in"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def ok_bodies(self) -> list[bytes]:
        return [r["body"] for r in self.requests if r["answered"] == 200]

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def receiver_factory():
    made = []

    def make(script=(), port=0):
        r = Receiver(script, port)
        made.append(r)
        return r

    yield make
    for r in made:
        r.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def runs_of(server, event_id):
    assert server.dispatcher.wait_idle(60)
    return {run["flow"]: run for run in server.store.flow_runs(event_id)}


def send(server, listener, body, **kw):
    delivery = wk.send(listener, body, url=server.url_for(listener), **kw)
    assert delivery.status == 200, delivery.text
    return delivery.json()["event_id"]


# -- conditions ------------------------------------------------------------------

def test_conditions_choose_which_flows_run(server):
    seen = []
    register_function(lambda event: seen.append(event.id), name="test.seen")
    listener = server.add(wk.Listener("gh", transforms=[
        {"extract": "payload.total", "generate": "total", "type": "number"}], flows=[
        {"name": "pushes", "if": "headers.\"x-github-event\" == 'push'",
         "action": {"type": "python", "function": "test.seen"}},
        {"name": "big", "if": "output.total > `100`", "action": {"type": "python", "function": "test.seen"}},
        {"name": "tagged", "if": "query.tag", "action": {"type": "python", "function": "test.seen"}},
        {"name": "always", "action": {"type": "python", "function": "test.seen"}},
    ]))
    first = send(server, listener, {"total": "250"}, headers={"X-GitHub-Event": "push"})
    runs = runs_of(server, first)
    assert {k: v["outcome"] for k, v in runs.items()} == {
        "pushes": "ok", "big": "ok", "tagged": "skipped", "always": "ok"}
    assert runs["tagged"]["detail"] == {"condition": "query.tag"}
    second = wk.send(listener, {"total": "5"}, url=server.url_for(listener) + "?tag=x",
                     headers={"X-GitHub-Event": "issues"}).json()["event_id"]
    runs = runs_of(server, second)
    assert {k: v["outcome"] for k, v in runs.items()} == {
        "pushes": "skipped", "big": "skipped", "tagged": "ok", "always": "ok"}
    assert seen.count(first) == 3 and seen.count(second) == 2
    flows.unregister_function("test.seen")


def test_a_condition_that_fails_at_run_time_is_recorded(server):
    listener = server.add(wk.Listener("c", flows=[
        {"name": "odd", "if": "abs(payload.name)", "action": {"type": "jsonl", "path": "unused.jsonl"}}]))
    run = runs_of(server, send(server, listener, {"name": "x"}))["odd"]
    assert run["outcome"] == "error" and run["error"].startswith("condition: ")


# -- python actions and isolation ----------------------------------------------------

def test_a_flow_that_raises_affects_neither_the_answer_nor_other_flows(server, tmp_path):
    calls = []

    def boom(payload):
        raise ZeroDivisionError("no orders today")

    def record(event, output, headers):
        calls.append((event.id, output, headers.get("content-type")))
        return {"seen": True}

    log = tmp_path / "out" / "deliveries.jsonl"
    listener = server.add(wk.Listener("iso", flows=[
        {"name": "boom", "action": {"type": "python", "function": boom}},
        {"name": "log", "action": {"type": "jsonl", "path": str(log)}},
        {"name": "record", "action": {"type": "python", "function": record}},
    ]))
    event_id = send(server, listener, {"n": 1})
    runs = runs_of(server, event_id)
    assert runs["boom"]["outcome"] == "error"
    assert runs["boom"]["error"] == "ZeroDivisionError: no orders today"
    assert runs["log"]["outcome"] == "ok" and runs["record"]["outcome"] == "ok"
    assert runs["record"]["detail"] == {"result": {"seen": True}}
    assert calls == [(event_id, None, "application/json")]
    line = json.loads(log.read_text().splitlines()[0])
    assert line["event_id"] == event_id and line["payload"] == {"n": 1}
    assert server.store.get(event_id).status == "accepted"


def test_the_senders_answer_never_waits_for_a_flow(server):
    release = threading.Event()
    started = threading.Event()

    def slow(event):
        started.set()
        release.wait(30)

    listener = server.add(wk.Listener("slow", flows=[{"name": "slow", "action": {"type": "python",
                                                                                  "function": slow}}]))
    first = send(server, listener, {"n": 1})
    assert started.wait(10)  # the flow is running, and blocked
    second = send(server, listener, {"n": 2})  # answered while the flow still blocks
    assert server.store.flow_runs(first) == []  # proof: the first flow has not finished yet
    assert server.store.get(second).status == "accepted"
    release.set()
    assert runs_of(server, first)["slow"]["outcome"] == "ok"
    assert runs_of(server, second)["slow"]["outcome"] == "ok"


def test_a_callable_in_config_is_replaced_by_its_registered_name(server, tmp_path):
    def on_order(event):
        return event.id

    listener = server.add(wk.Listener("fn", flows=[{"name": "f", "action": {"type": "python",
                                                                             "function": on_order}}]))
    ref = listener.flows[0]["action"]["function"]
    assert isinstance(ref, str) and ref.endswith("on_order")
    json.dumps(listener.to_dict())  # the config stays JSON
    event_id = send(server, listener, {})
    assert runs_of(server, event_id)["f"]["detail"] == {"result": event_id}


def payload_size(payload):
    """Named by import path in a config below."""
    return len(payload)


def test_python_action_by_import_path(server):
    listener = server.add(wk.Listener("imp", flows=[
        {"name": "size", "action": {"type": "python", "function": f"{__name__}:payload_size"}},
        {"name": "missing", "action": {"type": "python", "function": "json:no_such_function"}}]))
    runs = runs_of(server, send(server, listener, {"a": 1, "b": 2}))
    assert runs["size"]["outcome"] == "ok" and runs["size"]["detail"] == {"result": 2}
    assert runs["missing"]["outcome"] == "error" and "cannot import json:no_such_function" in runs["missing"]["error"]


def test_flows_run_only_for_accepted_deliveries_never_duplicates(server, plugin):
    class IdProvider(wk.Provider):
        name = "with-ids"
        settings = ()

        def verify(self, request, settings, *, now=None):
            if request.header("X-Ok") != "yes":
                return wk.Verdict.reject("no X-Ok")
            return wk.Verdict.accept()

        def sign(self, request, settings, *, now=None):
            request.headers.set("X-Ok", "yes")
            return request

        def delivery_id(self, request):
            return request.header("X-Id")

    class Plugin:
        @wk.hookimpl
        def register_providers(self):
            return [IdProvider()]

    plugin(Plugin())
    calls = []
    listener = server.add(wk.Listener("ids", provider="with-ids", flows=[
        {"name": "count", "action": {"type": "python", "function": lambda event: calls.append(event.id)}}]))
    url = server.url_for(listener)
    first = wk.send(listener, {"a": 1}, url=url, headers={"X-Id": "d-1"})
    again = wk.send(listener, {"a": 1}, url=url, headers={"X-Id": "d-1"})
    assert again.json().get("duplicate") is True
    from webhook_kit.client import post
    rejected = post(wk.Request("POST", url, wk.Headers({"Content-Type": "application/json"}), b"{}"))
    assert rejected.status == 401
    assert server.dispatcher.wait_idle(30)
    assert calls == [first.json()["event_id"]]
    assert server.store.flow_runs(again.json()["event_id"]) == []


# -- forward ------------------------------------------------------------------------

def test_forward_retries_500s_then_succeeds_with_every_attempt_recorded(server, receiver_factory):
    receiver = receiver_factory([500, 503])
    listener = server.add(wk.Listener("fw", verification={"type": "hmac", "algorithm": "sha256",
                                                          "encoding": "hex", "secret": "s3cret",
                                                          "header": "X-Signature"},
                                      flows=[{"name": "out", "action": {"type": "forward",
                                                                        "url": receiver.url, **FAST}}]))
    body = b'{"order": 1,   "note": "exact bytes"}'
    event_id = send(server, listener, body, content_type="application/json")
    run = runs_of(server, event_id)["out"]
    assert run["outcome"] == "ok" and run["attempts"] == 3
    assert [a["status"] for a in run["detail"]["attempts"]] == [500, 503, 200]
    assert all(a["retry_in_s"] > 0 for a in run["detail"]["attempts"][:2])
    assert [r["answered"] for r in receiver.requests] == [500, 503, 200]
    last = receiver.requests[-1]
    assert last["body"] == body  # the original raw bytes
    assert last["headers"]["X-Signature"] == wk.sign_delivery(listener, body, content_type="application/json").headers["X-Signature"]
    assert last["headers"]["X-Webhook-Kit-Event"] == event_id
    assert last["headers"]["Content-Type"] == "application/json"


def test_forward_survives_timeouts_and_refused_connections(server, receiver_factory):
    port = free_port()  # nothing listens here yet: the first attempts are refused
    forwarding = threading.Event()
    listener = server.add(wk.Listener("down", flows=[
        {"name": "gate", "action": {"type": "python", "function": lambda event: forwarding.set()}},
        {"name": "out", "action": {
            "type": "forward", "url": f"http://127.0.0.1:{port}/in", "timeout": 0.5, "max_attempts": 12,
            "backoff": 0.1, "max_backoff": 0.4}}]))
    event_id = send(server, listener, {"id": 1})
    assert forwarding.wait(30)  # the forward starts now; a refusal takes no time
    time.sleep(0.3)
    receiver = receiver_factory([("sleep", 1.5)], port=port)  # comes up, stalls once, then answers
    run = runs_of(server, event_id)["out"]
    assert run["outcome"] == "ok", run
    errors = [a.get("error", "") for a in run["detail"]["attempts"]]
    assert "ConnectionRefusedError" in errors[0]
    assert any(e.startswith("timed out after 0.5s") for e in errors)
    assert run["detail"]["attempts"][-1]["status"] == 200
    assert run["attempts"] == len(errors) >= 3
    assert json.loads(receiver.ok_bodies()[-1]) == {"id": 1}


def test_nothing_is_lost_while_the_target_fails_and_recovers(server, receiver_factory):
    receiver = receiver_factory([500] * 6)
    listener = server.add(wk.Listener("many", flows=[{"name": "out", "action": {
        "type": "forward", "url": receiver.url, "max_attempts": 10, **FAST}}]))
    ids = [send(server, listener, {"n": n}) for n in range(8)]
    assert server.dispatcher.wait_idle(120)
    delivered = sorted(json.loads(b)["n"] for b in receiver.ok_bodies())
    assert delivered == list(range(8))
    attempts = [server.store.flow_runs(i)[0]["attempts"] for i in ids]
    assert all(server.store.flow_runs(i)[0]["outcome"] == "ok" for i in ids)
    assert sum(attempts) == 8 + 6  # every 500 was retried, and each retry recorded


def test_forward_gives_up_after_max_attempts_and_on_client_errors(server, receiver_factory):
    failing = receiver_factory([500] * 10)
    missing = receiver_factory([404])
    listener = server.add(wk.Listener("gives-up", flows=[
        {"name": "flaky", "action": {"type": "forward", "url": failing.url, "max_attempts": 3, **FAST}},
        {"name": "gone", "action": {"type": "forward", "url": missing.url, **FAST}},
    ]))
    event_id = send(server, listener, {})
    runs = runs_of(server, event_id)
    assert runs["flaky"]["outcome"] == "error" and runs["flaky"]["attempts"] == 3
    assert runs["flaky"]["error"].endswith("failed after 3 attempt(s): HTTP 500 Internal Server Error")
    assert runs["gone"]["outcome"] == "error" and runs["gone"]["attempts"] == 1  # 404: no retry
    assert len(missing.requests) == 1
    assert server.store.get(event_id).status == "accepted"


def test_forward_output_and_drops_credentials(server, receiver_factory, monkeypatch):
    monkeypatch.setenv("DOWNSTREAM_TOKEN", "tok-123")
    receiver = receiver_factory()
    listener = server.add(wk.Listener("basic", verification={"type": "basic", "username": "u",
                                                             "password": "p"},
                                      transforms=[{"extract": "payload.a", "generate": "x.a"}],
                                      flows=[
        {"name": "raw", "action": {"type": "forward", "url": receiver.url}},
        {"name": "shaped", "action": {"type": "forward", "url": receiver.url + "?kind=out", "body": "output",
                                      "headers": {"Authorization": {"env": "DOWNSTREAM_TOKEN"}}}}]))
    send(server, listener, {"a": 7}, headers={"Cookie": "session=1", "Connection": "keep-alive, X-Hop",
                                              "X-Hop": "1", "X-Keep": "yes"})
    assert server.dispatcher.wait_idle(30)
    raw, shaped = receiver.requests
    names = {n.lower() for n in raw["headers"]}
    assert "authorization" not in names and "cookie" not in names and "x-hop" not in names
    assert raw["headers"]["X-Keep"] == "yes"
    assert json.loads(raw["body"]) == {"a": 7}
    assert shaped["path"] == "/in?kind=out"
    assert json.loads(shaped["body"]) == {"x": {"a": 7}}
    assert shaped["headers"]["Authorization"] == "tok-123"


def test_forward_headers_drop_hop_by_hop_and_redacted_values():
    event = wk.Event("evt_1", "l", "t", "accepted", None, "POST", "/", "", [
        ("Host", "a"), ("Content-Length", "3"), ("Transfer-Encoding", "chunked"), ("X-Token", "[redacted]"),
        ("Authorization", "Bearer x"), ("Content-Type", "text/plain"), ("X-Signature", "abc")], b"abc")
    assert forward_headers(event) == [("Content-Type", "text/plain"), ("X-Signature", "abc")]


def test_backoff_is_exponential_capped_and_jittered():
    import random
    rng = random.Random(7)
    delays = [backoff_delay(n, 0.5, 4, rng) for n in range(1, 8)]
    for n, d in enumerate(delays, 1):
        step = min(4, 0.5 * 2 ** (n - 1))
        assert step / 2 <= d <= step
    assert len({round(d, 6) for d in delays}) == len(delays)  # jitter: no two alike


# -- plugins' actions ----------------------------------------------------------------

def test_a_plugin_contributes_an_action_type(server, plugin):
    seen = []

    class Collect(ActionType):
        name = "collect"
        settings = (wk.Setting("bucket", "Bucket", "text", required=True),)

        def run(self, ctx):
            seen.append((ctx.config["bucket"], ctx.payload))
            return ActionResult(1, {"bucket": ctx.config["bucket"]})

    class Plugin:
        @wk.hookimpl
        def register_actions(self):
            return [Collect()]

    with pytest.raises(wk.ConfigError, match=r"flows\[0\]\.action\.type: unknown action type 'collect'"):
        wk.Listener.from_dict({"id": "p", "flows": [{"name": "c", "action": {"type": "collect"}}]})
    plugin(Plugin())
    with pytest.raises(wk.ConfigError, match=r"flows\[0\]\.action\.bucket: is required"):
        wk.Listener.from_dict({"id": "p", "flows": [{"name": "c", "action": {"type": "collect"}}]})
    listener = server.add(wk.Listener.from_dict({"id": "p", "flows": [
        {"name": "c", "action": {"type": "collect", "bucket": "b1"}}]}))
    event_id = send(server, listener, {"k": 1})
    assert runs_of(server, event_id)["c"]["detail"] == {"bucket": "b1"}
    assert seen == [("b1", {"k": 1})]


# -- config ----------------------------------------------------------------------------

@pytest.mark.parametrize("flow, field, words", [
    ({"action": {"type": "jsonl", "path": "x"}}, "flows[0].name", "required"),
    ({"name": "a", "if": "payload.@id", "action": {"type": "jsonl", "path": "x"}}, "flows[0].if", "quote XML"),
    ({"name": "a"}, "flows[0].action", "required"),
    ({"name": "a", "action": {"type": "email"}}, "flows[0].action.type", "unknown action type 'email'"),
    ({"name": "a", "action": {"type": "forward", "url": "ftp://x"}}, "flows[0].action.url", "http"),
    ({"name": "a", "action": {"type": "forward", "url": "http://x", "max_attempts": 0}},
     "flows[0].action.max_attempts", "from 1"),
    ({"name": "a", "action": {"type": "forward", "url": "http://x", "body": "both"}},
     "flows[0].action.body", "raw or output"),
    ({"name": "a", "action": {"type": "jsonl"}}, "flows[0].action.path", "required"),
    ({"name": "a", "action": {"type": "python", "function": "never.registered"}},
     "flows[0].action.function", "no Python function"),
    ({"name": "a", "then": 1, "action": {"type": "jsonl", "path": "x"}}, "flows[0].then", "unknown field"),
])
def test_bad_flows_name_the_field(flow, field, words):
    with pytest.raises(wk.ConfigError) as info:
        wk.load_config({"listeners": [{"id": "o", "flows": [flow]}]})
    assert info.value.field == f"listeners[0].{field}"
    assert words in info.value.message


def test_duplicate_flow_names_are_refused():
    flow = {"name": "a", "action": {"type": "jsonl", "path": "x"}}
    with pytest.raises(wk.ConfigError, match=r"flows\[1\]\.name: duplicate"):
        wk.Listener.from_dict({"id": "o", "flows": [flow, flow]})


def test_flows_round_trip_through_a_config_file(tmp_path):
    flows_config = [
        {"name": "pushes", "if": "headers.\"x-github-event\" == 'push'",
         "action": {"type": "forward", "url": "http://127.0.0.1:9/in", "body": "output", "max_attempts": 3,
                    "headers": {"X-Key": {"env": "KEY"}}}},
        {"name": "log", "action": {"type": "jsonl", "path": "logs/deliveries.jsonl", "record": "payload"}},
        {"name": "py", "action": {"type": "python", "function": "json:dumps"}},
    ]
    path = tmp_path / "c.json"
    wk.save_config([wk.Listener("o", flows=flows_config)], path)
    assert wk.load_config(path)[0].flows == flows_config
