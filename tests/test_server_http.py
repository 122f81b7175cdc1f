"""The HTTP contract of the real server, over loopback: answers, limits, live listener changes."""

from __future__ import annotations

import http.client
import json
import socket
import threading
from urllib.parse import urlsplit

import pytest

import webhook_kit as wk
from webhook_kit.client import post
from tests.providers.helpers import deliver, last_event, stored


def raw_http(server, data: bytes, read_timeout: float = 5) -> bytes:
    """Send raw bytes on a fresh connection; read one whole answer (or until close/timeout)."""
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=read_timeout)
    try:
        sock.sendall(data)
        received = b""
        while True:
            try:
                chunk = sock.recv(65536)
            except socket.timeout:
                break
            if not chunk:
                break
            received += chunk
            head, sep, body = received.partition(b"\r\n\r\n")
            if sep:
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        if len(body) >= int(line.split(b":")[1]):
                            return received
        return received
    finally:
        sock.close()


def test_healthz(server):
    reply = post(wk.Request("GET", f"{server.base_url}/healthz"))
    assert reply.status == 200 and reply.json()["status"] == "ok"


def test_accepted_answer_is_200_with_event_id_after_commit(server):
    listener = server.add(wk.Listener("a"))
    reply = deliver(server, listener, b'{"x": 1}', {"Content-Type": "application/json"})
    assert reply.status == 200
    event_id = reply.json()["event_id"]
    # committed before the answer: a fresh connection to the file sees it
    import sqlite3
    conn = sqlite3.connect(server.store.path)
    assert conn.execute("SELECT status FROM events WHERE id = ?", (event_id,)).fetchone() == ("accepted",)
    conn.close()


def test_unknown_listener_and_unknown_path_are_404(server):
    assert post(wk.Request("POST", f"{server.base_url}/hooks/nobody", {}, b"{}")).status == 404
    assert post(wk.Request("GET", f"{server.base_url}/elsewhere")).status == 404
    assert server.store.count() == 0  # nothing stored for listeners that do not exist


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH", "OPTIONS"])
def test_other_methods_are_405_and_recorded(server, method):
    listener = server.add(wk.Listener("a"))
    reply = post(wk.Request(method, f"{server.base_url}/hooks/a", {}, b""))
    assert reply.status == 405
    assert "POST" in reply.headers["Allow"]
    assert last_event(server, listener).reason == f"method {method} not allowed"


def test_body_over_limit_is_413_without_reading_it(server):
    listener = server.add(wk.Listener("small", max_body_bytes=1000))
    ok = deliver(server, listener, b'{"a": "' + b"x" * 900 + b'"}', {"Content-Type": "application/json"})
    assert ok.status == 200
    # declares 50 MB but sends only a little: the server answers at once without waiting for it
    head = (b"POST /hooks/small HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 50000000\r\n\r\n" + b"x" * 100)
    answer = raw_http(server, head)
    assert answer.startswith(b"HTTP/1.1 413")
    assert b"body too large" in answer
    server.store.flush()  # the refusal is recorded without delaying the answer
    event = last_event(server, listener)
    assert event.status == "rejected" and "exceeds max_body_bytes 1000" in event.reason
    assert event.body == b""


def test_chunked_body_over_limit_is_413(server):
    listener = server.add(wk.Listener("small", max_body_bytes=1000))
    chunk = b"x" * 600
    data = (b"POST /hooks/small HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
            + b"%x\r\n" % len(chunk) + chunk + b"\r\n" + b"%x\r\n" % len(chunk) + chunk + b"\r\n")
    answer = raw_http(server, data)
    assert answer.startswith(b"HTTP/1.1 413")
    server.store.flush()
    assert "exceeds max_body_bytes" in last_event(server, listener).reason


def test_default_limit_is_10_mb(server):
    listener = server.add(wk.Listener("a"))
    assert listener.max_body_bytes == 10 * 1024 * 1024
    big = b'{"a": "' + b"x" * (10 * 1024 * 1024) + b'"}'
    assert deliver(server, listener, big, {"Content-Type": "application/json"}).status == 413


def test_large_body_under_limit_parsed_off_the_loop(server):
    listener = server.add(wk.Listener("a"))
    items = "".join(f"<item n='{i}'>v{i}</item>" for i in range(20000))
    reply = deliver(server, listener, f"<list>{items}</list>", {"Content-Type": "application/xml"})
    assert reply.status == 200
    assert len(stored(server, reply).payload["list"]["item"]) == 20000


def test_listeners_added_changed_removed_while_running(server):
    assert deliver(server, wk.Listener("later"), b"{}", {}).status == 404
    listener = server.add(wk.Listener("later"))
    assert deliver(server, listener, b"{}", {}).status == 200
    server.add(wk.Listener("later", verification={"type": "hmac", "secret": "k", "header": "X-Sig"}))
    assert deliver(server, listener, b"{}", {}).status == 401
    server.remove("later")
    assert deliver(server, listener, b"{}", {}).status == 404


def test_concurrent_deliveries_all_stored(server):
    listener = server.add(wk.Listener("many", verification={"type": "hmac", "secret": "k",
                                                           "header": "X-Sig"}))
    results = []

    def worker(n):
        for i in range(25):
            reply = wk.send(listener, {"worker": n, "i": i}, url=f"{server.base_url}/hooks/many")
            results.append((reply.status, reply.json()["event_id"]))

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 200 and all(status == 200 for status, _ in results)
    ids = {event_id for _, event_id in results}
    assert len(ids) == 200
    assert server.store.count(listener="many", status="accepted") == 200


def test_keep_alive_connection_serves_many(server):
    server.add(wk.Listener("ka"))
    conn = http.client.HTTPConnection("127.0.0.1", server.port)
    for i in range(5):
        conn.request("POST", "/hooks/ka", body=json.dumps({"i": i}), headers={"Content-Type": "application/json"})
        resp = conn.getresponse()
        assert resp.status == 200
        resp.read()
    conn.close()


def test_malformed_http_does_not_break_the_server(server):
    listener = server.add(wk.Listener("a"))
    for junk in (b"GARBAGE\r\n\r\n", b"POST /hooks/a HTTP/1.1\r\nContent-Length: abc\r\n\r\n",
                 b"POST /hooks/a HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n"):
        answer = raw_http(server, junk, read_timeout=2)
        assert not answer.startswith(b"HTTP/1.1 5")
    assert deliver(server, listener, b"{}", {}).status == 200


def test_url_for_and_base_url(server):
    listener = server.add(wk.Listener("u", verification={"type": "secret_url", "token": "abc"}))
    url = server.url_for("u")
    parts = urlsplit(url)
    assert parts.hostname == "127.0.0.1" and parts.port == server.port
    assert parts.path == "/hooks/u/abc"
    with pytest.raises(KeyError):
        server.url_for("missing")
    assert listener.path() == "/hooks/u/abc"


@pytest.mark.parametrize("host", [b"[abc", b"x:99999999", b"a b", b""])
def test_hostile_host_header_is_not_a_500(server, host):
    listener = server.add(wk.Listener("h"))
    data = (b"POST /hooks/h HTTP/1.1\r\nHost: " + host + b"\r\nContent-Type: application/json\r\n"
            b"Content-Length: 2\r\n\r\n{}")
    answer = raw_http(server, data)
    assert answer.startswith(b"HTTP/1.1 200") or answer.startswith(b"HTTP/1.1 400"), answer[:80]
    server.store.flush()
    if answer.startswith(b"HTTP/1.1 200"):
        assert last_event(server, listener).url.startswith("http://127.0.0.1:")


def test_stored_payload_column_holds_the_redacted_value(server):
    listener = server.add(wk.Listener("jt", verification={"type": "token", "token": "T-9",
                                                          "path": "auth.token"}))
    reply = deliver(server, listener, b'{"auth": {"token": "T-9"}, "n": 1}',
                    {"Content-Type": "application/json"})
    assert reply.status == 200
    import sqlite3
    with sqlite3.connect(server.store.path) as conn:
        (text,) = conn.execute("SELECT payload FROM events WHERE id = ?",
                               (reply.json()["event_id"],)).fetchone()
    assert "T-9" not in text and json.loads(text) == {"auth": {"token": "[redacted]"}, "n": 1}


def test_behind_a_proxy_xheaders_give_the_senders_scheme(db_path):
    """``xheaders=True`` (behind a TLS-terminating proxy): the stored URL, which URL-signing
    providers verify against, has the scheme the sender used."""
    with wk.Server(store=db_path, port=0, xheaders=True) as proxied:
        listener = proxied.add(wk.Listener("px"))
        reply = deliver(proxied, listener, b'{"a": 1}', {"Content-Type": "application/json",
                                                         "X-Forwarded-Proto": "https",
                                                         "X-Real-Ip": "203.0.113.9"})
        assert reply.status == 200
        assert stored(proxied, reply).url.startswith("https://127.0.0.1:")
    with wk.Server(store=db_path, port=0) as direct:  # not trusted unless asked
        listener = direct.add(wk.Listener("px"))
        reply = deliver(direct, listener, b'{"a": 1}', {"Content-Type": "application/json",
                                                        "X-Forwarded-Proto": "https"})
        assert stored(direct, reply).url.startswith("http://127.0.0.1:")
