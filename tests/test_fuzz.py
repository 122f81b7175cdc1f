"""Fuzzing the parsers, every provider's verification, and the HTTP edge (hypothesis).

Three targets, each a plain function that takes one generated input and
returns a list of findings (empty when the input was handled properly):

- :func:`check_parse`: a body and a content type through ``parse_body``:
  a payload or a :class:`ParseError`, nothing else;
- :func:`check_pipeline`: a delivery, often first signed by the provider
  itself and then damaged, through ``Pipeline.prepare`` and the answer of
  every registered provider: never an exception, never a 5xx;
- :func:`check_http`: raw bytes on a socket to the real server: never a 5xx,
  and the server keeps answering.

The tests below run a few hundred inputs each; ``benchmarks/fuzz.py`` runs
the same targets over 100,000+ inputs and writes the count to
docs/performance.md.
"""

from __future__ import annotations

import json
import socket
from functools import lru_cache

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

import webhook_kit as wk
from webhook_kit.client import sign_delivery
from webhook_kit.parsers import ParseError, parse_body
from webhook_kit.pipeline import Pipeline

CONTENT_TYPES = ["application/json", "application/xml", "text/xml", "application/soap+xml",
                 "application/x-www-form-urlencoded", "text/plain", "", "application/vnd.x+json",
                 "application/json; charset=utf-16", "multipart/form-data; boundary=x",
                 "application/octet-stream"]
XML_OPTIONS = [None, {}, {"force_list": ["item"]}, {"attr_prefix": "", "cdata_key": "text"},
               {"process_namespaces": True}, {"strip_whitespace": False}]

# -- inputs --------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner,
                                                                max_size=5),
    max_leaves=20)

xml_names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_.\-]{0,8}(:[A-Za-z_][A-Za-z0-9]{0,5})?",
                          fullmatch=True)


@st.composite
def xml_documents(draw) -> bytes:
    def element(depth):
        name = draw(xml_names)
        attrs = "".join(f' {draw(xml_names)}="{draw(st.text(max_size=8))}"'
                        for _ in range(draw(st.integers(0, 2))))
        if depth > 3 or draw(st.booleans()):
            text = draw(st.sampled_from(["", "x", "&amp;", "<![CDATA[ <raw> ]]>", "&#x1F600;",
                                         "&undefined;", "\x00", "é"]))
            return f"<{name}{attrs}>{text}</{name}>"
        children = "".join(element(depth + 1) for _ in range(draw(st.integers(0, 3))))
        return f"<{name}{attrs}>{children}</{name}>"

    prolog = draw(st.sampled_from([
        "", '<?xml version="1.0"?>', '<?xml version="1.0" encoding="UTF-16"?>',
        '<!DOCTYPE a [<!ENTITY e "boom">]>',
        '<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>',
        '<!DOCTYPE a SYSTEM "file:///etc/passwd">']))
    return (prolog + element(0)).encode("utf-8", "surrogatepass")


def damaged(data: bytes, draw) -> bytes:
    """The bytes with a few of them flipped, cut, or repeated."""
    if not data:
        return data
    how = draw(st.sampled_from(["flip", "cut", "insert", "repeat", "keep"]))
    i = draw(st.integers(0, len(data) - 1))
    if how == "flip":
        return data[:i] + bytes([data[i] ^ draw(st.integers(1, 255))]) + data[i + 1:]
    if how == "cut":
        return data[:i]
    if how == "insert":
        return data[:i] + draw(st.binary(min_size=1, max_size=8)) + data[i:]
    if how == "repeat":
        return data[:i] + data[i:] * draw(st.integers(2, 4))
    return data


@st.composite
def bodies(draw) -> bytes:
    kind = draw(st.sampled_from(["json", "xml", "form", "binary", "deep"]))
    if kind == "json":
        data = json.dumps(draw(json_values)).encode()
    elif kind == "xml":
        data = draw(xml_documents())
    elif kind == "form":
        data = "&".join(f"{draw(st.text(max_size=6))}={draw(st.text(max_size=6))}"
                        for _ in range(draw(st.integers(0, 4)))).encode("utf-8", "surrogatepass")
    elif kind == "deep":
        depth = draw(st.integers(100, 5000))
        data = draw(st.sampled_from([b"[" * depth + b"]" * depth,
                                     b"<a>" * depth + b"</a>" * depth,
                                     b'{"a":' * depth + b"1" + b"}" * depth]))
    else:
        data = draw(st.binary(max_size=300))
    return damaged(data, draw)


#: byte strings that tend to matter to parsers and HTTP framing
TOKENS = [b"<", b">", b"&", b"&amp;", b"&#0;", b"]]>", b"<![CDATA[", b"<!ENTITY x 'y'>", b'"',
          b"{", b"}", b"[", b"]", b":", b",", b"\\u0000", b"\x00", b"\xff\xfe", b"%", b"%zz", b"=",
          b"\r\n", b"\r\n\r\n", b"\n", b"0\r\n\r\n", b"Content-Length: 5\r\n", b"1e999",
          b"-0", b"NaN", b"\xef\xbb\xbf", b"\xc3", b"\xf0\x9f\x98"]


def mutate(data: bytes, rng, rounds: int | None = None) -> bytes:
    """A fast random variant of ``data`` (flips, cuts, inserts, repeats, tokens).

    The big fuzz run derives many of these from each hypothesis-generated
    seed: hypothesis brings structure, the mutator brings volume.
    """
    for _ in range(rounds or rng.randint(1, 4)):
        if not data:
            data = rng.choice(TOKENS)
            continue
        i = rng.randrange(len(data))
        op = rng.randrange(6)
        if op == 0:
            data = data[:i] + bytes([data[i] ^ (1 << rng.randrange(8))]) + data[i + 1:]
        elif op == 1:
            data = data[:i]
        elif op == 2:
            data = data[:i] + bytes(rng.randrange(256) for _ in range(rng.randint(1, 8))) + data[i:]
        elif op == 3:
            data = data[:i] + data[i + rng.randint(1, 16):]
        elif op == 4:
            j = min(len(data), i + rng.randint(1, 32))
            data = data[:j] + data[i:j] * rng.randint(1, 8) + data[j:]
        else:
            data = data[:i] + rng.choice(TOKENS) + data[i:]
    return data


def mutated_delivery(listener: wk.Listener, rng) -> wk.Request:
    """The provider's signed sample (or a bare one) with its body or one header damaged."""
    base = signed_sample(listener) or wk.Request(
        "POST", f"http://127.0.0.1:9/hooks/{listener.id}",
        wk.Headers({"Content-Type": "application/json"}), b'{"a": 1}')
    request = _copy(base)
    names = [n for n, _ in request.headers.items()]
    if rng.random() < 0.5 or not names:
        request.body = mutate(request.body, rng)
    else:
        name = rng.choice(names)
        value = (request.headers.get(name) or "").encode("latin-1", "replace")
        request.headers.set(name, mutate(value, rng).decode("latin-1"))
    return request


# -- target 1: parsers ------------------------------------------------------------

def check_parse(body: bytes, content_type: str, options: dict | None) -> list[str]:
    try:
        parse_body(body, content_type, options)
    except ParseError as exc:
        if not str(exc):
            return [f"ParseError without a message for {body[:60]!r}"]
    except Exception as exc:  # anything else would reach the sender as a 500
        return [f"parse_body({body[:60]!r}, {content_type!r}) raised {type(exc).__name__}: {exc}"]
    return []


# -- target 2: every provider's verification, through the pipeline ------------------

SECRET = "fuzz-secret-0123456789abcdef"


def _value_for(setting) -> object:
    if setting.kind == "secret":
        return SECRET
    if setting.kind == "choice":
        return setting.default or (setting.choices[0] if setting.choices else "")
    if setting.kind == "int":
        return setting.default if setting.default is not None else 300
    if setting.kind == "bool":
        return bool(setting.default)
    return setting.default or "X-Fuzz"


@lru_cache(maxsize=None)
def listeners() -> tuple:
    """A listener per provider (and per custom verification type), with usable settings."""
    out = []
    for name, provider in sorted(wk.plugins.providers.all().items()):
        if name == "custom":
            for vtype in ("basic", "hmac", "secret_url", "token", "none"):
                scheme = wk.plugins.verification_types.get(vtype)
                verification = {"type": vtype}
                verification.update({s.name: _value_for(s) for s in scheme.settings
                                     if s.required or s.default is None})
                if vtype == "token":
                    verification["path"] = "auth.token"
                out.append(wk.Listener(f"custom-{vtype}".replace("_", "-"), provider="custom",
                                       verification=verification))
            continue
        verification = {s.name: _value_for(s) for s in provider.settings
                        if s.required or s.kind == "secret"}
        out.append(wk.Listener(name.replace("_", "-"), provider=name, verification=verification))
    return tuple(out)


_signed: dict[str, wk.Request | None] = {}
_misconfigured: dict[str, bool] = {}


def signed_sample(listener: wk.Listener) -> wk.Request | None:
    """The provider's own sample, signed by the provider (None when it cannot sign)."""
    if listener.id not in _signed:
        try:
            _signed[listener.id] = sign_delivery(
                listener, url=f"http://127.0.0.1:9/hooks/{listener.id}")
        except Exception:
            _signed[listener.id] = None
    return _signed[listener.id]


def misconfigured(listener: wk.Listener) -> bool:
    """Generic settings are not enough for some providers (a public key, say): they say 503."""
    if listener.id not in _misconfigured:
        request = signed_sample(listener) or wk.Request(
            "POST", f"http://127.0.0.1:9/hooks/{listener.id}", wk.Headers(), b"{}")
        prepared = Pipeline(None).prepare(_copy(request), listener)
        _misconfigured[listener.id] = (prepared.response is not None
                                       and prepared.response.status == 503)
    return _misconfigured[listener.id]


def _copy(request: wk.Request) -> wk.Request:
    return wk.Request(request.method, request.url, wk.Headers(request.headers.items()),
                      request.body, path_token=request.path_token)


@st.composite
def deliveries(draw):
    listener = draw(st.sampled_from(listeners()))
    base = signed_sample(listener)
    if base is None or draw(st.integers(0, 4)) == 0:
        headers = wk.Headers(draw(st.lists(st.tuples(
            st.sampled_from(["Content-Type", "X-Signature", "Authorization", "X-Hub-Signature-256",
                             "Stripe-Signature", "X-Timestamp", "webhook-id", "webhook-signature",
                             "X-Fuzz", "Content-Length"]),
            st.text(max_size=40).map(lambda t: t.encode("latin-1", "replace").decode("latin-1"))),
            max_size=6)))
        request = wk.Request(draw(st.sampled_from(["POST", "GET", "PUT", "HEAD", "OPTIONS"])),
                             f"http://127.0.0.1:9/hooks/{listener.id}"
                             + draw(st.sampled_from(["", "?a=b", "?crc_token=x&hub.challenge=y",
                                                     "?validationToken=abc"])),
                             headers, draw(bodies()),
                             path_token=draw(st.sampled_from([None, "tok", SECRET])))
        return listener, request
    request = _copy(base)
    how = draw(st.sampled_from(["body", "header", "drop", "duplicate", "none"]))
    names = [n for n, _ in request.headers.items()]
    if how == "body":
        request.body = damaged(request.body, draw)
    elif how == "header" and names:
        name = draw(st.sampled_from(names))
        value = request.headers.get(name) or ""
        request.headers.set(name, damaged(value.encode("latin-1", "replace"), draw)
                            .decode("latin-1"))
    elif how == "drop" and names:
        request.headers.remove(draw(st.sampled_from(names)))
    elif how == "duplicate" and names:
        name = draw(st.sampled_from(names))
        request.headers.add(name, draw(st.text(max_size=20)))
    return listener, request


def check_pipeline(listener: wk.Listener, request: wk.Request) -> list[str]:
    pipeline = Pipeline(None)
    try:
        prepared = pipeline.prepare(request, listener)
        response = prepared.response
        if response is None:
            response = pipeline.accepted_response(prepared.event, listener)
        json.dumps(prepared.event.to_dict())  # what the store and the inspector will need
    except Exception as exc:
        return [f"{listener.provider}: {type(exc).__name__}: {exc}"]
    if response.status >= 500 and not (response.status == 503 and misconfigured(listener)):
        return [f"{listener.provider}: answered {response.status} ({prepared.event.reason})"]
    return []


# -- target 3: the HTTP edge ----------------------------------------------------------

@st.composite
def raw_requests(draw, listener_ids=("orders", "open", "nope")) -> bytes:
    if draw(st.integers(0, 9)) == 0:
        return draw(st.binary(min_size=1, max_size=200))
    method = draw(st.sampled_from(["POST", "GET", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD",
                                   "TRACE", "CONNECT", "BREW", "", "P\x00ST"]))
    path = draw(st.sampled_from(
        [f"/hooks/{lid}" for lid in listener_ids]
        + ["/hooks/orders/tok", "/hooks/", "/hooks//x", "/healthz", "/", "*", "/hooks/%00",
           "/hooks/orders?a=%ZZ", "/hooks/../etc/passwd", "http://evil/hooks/orders",
           "/hooks/" + "a" * 300]))
    version = draw(st.sampled_from(["HTTP/1.1", "HTTP/1.1", "HTTP/1.0", "HTTP/2.0", "HTTP/x",
                                    ""]))
    body = draw(bodies())
    headers = [("Host", draw(st.sampled_from(["127.0.0.1", "", "a b", "[::1", "x:99999",
                                              "évil"])))]
    headers += draw(st.lists(st.tuples(
        st.sampled_from(["Content-Type", "X-Signature", "Authorization", "Expect",
                         "Transfer-Encoding", "Content-Encoding", "X-Forwarded-For", "Cookie",
                         "Bad Name", "X-Fuzz"]),
        st.text(max_size=30)), max_size=5))
    framing = draw(st.sampled_from(["length", "length", "chunked", "wrong-length", "none"]))
    if framing == "length":
        headers.append(("Content-Length", str(len(body))))
    elif framing == "wrong-length":
        headers.append(("Content-Length", draw(st.sampled_from(
            ["-1", "abc", "1e3", str(len(body)) + ", 5", "99999999999999999999", "0"]))))
    elif framing == "chunked":
        headers.append(("Transfer-Encoding", "chunked"))
        chunk = draw(st.sampled_from(["ok", "bad-size", "no-end"]))
        if chunk == "ok":
            body = f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n"
        elif chunk == "bad-size":
            body = b"zz\r\n" + body + b"\r\n0\r\n\r\n"
        else:
            body = f"{len(body) + 10:x}\r\n".encode() + body
    headers.append(("Connection", "close"))
    head = f"{method} {path} {version}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers)
    return head.encode("utf-8", "surrogatepass") + b"\r\n" + body


def check_http(port: int, raw: bytes, timeout: float = 1.0) -> list[str]:
    """Send raw bytes; a 5xx status line (or a server that stops answering) is a finding."""
    data = b""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.settimeout(timeout)
            try:
                sock.sendall(raw)
                while len(data) < 64 * 1024:
                    chunk = sock.recv(65536)
                    if not chunk:
                        break
                    data += chunk
            except (socket.timeout, ConnectionError):
                pass  # an incomplete request waits for more, or the server hung up: both fine
    except OSError as exc:
        return [f"cannot connect: {exc}"]
    findings = []
    for line in data.split(b"\r\n"):
        if line.startswith(b"HTTP/1.") and len(line) >= 12 and line[9:10] == b"5":
            findings.append(f"{line.decode('latin-1')} for {raw[:120]!r}")
    return findings


def server_alive(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            return sock.recv(100).startswith(b"HTTP/1.1 200")
    except OSError:
        return False


def fuzz_server(store: str) -> wk.Server:
    """The server the HTTP target runs against: an HMAC listener and an open one."""
    server = wk.Server(store=store, port=0).start()
    server.add(wk.Listener("orders", verification={
        "type": "hmac", "algorithm": "sha256", "encoding": "hex", "secret": SECRET,
        "header": "X-Signature"}, max_body_bytes=4096))
    server.add(wk.Listener("open", verification={"type": "none"}))
    return server


# -- the tests ------------------------------------------------------------------------

SUITE = settings(max_examples=300, deadline=None, database=None, phases=[Phase.generate],
                 suppress_health_check=list(HealthCheck))


@SUITE
@given(body=bodies(), content_type=st.sampled_from(CONTENT_TYPES),
       options=st.sampled_from(XML_OPTIONS))
def test_parsers_answer_a_payload_or_a_parse_error(body, content_type, options):
    assert check_parse(body, content_type, options) == []


@SUITE
@given(delivery=deliveries())
def test_every_provider_rejects_damaged_deliveries_without_a_5xx(delivery):
    assert check_pipeline(*delivery) == []


def test_signed_samples_still_pass():
    """The damage is what fails, not the fuzz setup: undamaged signed samples are accepted."""
    accepted = 0
    for listener in listeners():
        request = signed_sample(listener)
        if request is None or misconfigured(listener):
            continue
        prepared = Pipeline(None).prepare(_copy(request), listener)
        if prepared.response is None:
            accepted += 1
    assert accepted >= len(listeners()) // 2, accepted


@pytest.fixture(scope="module")
def fuzz_port(tmp_path_factory):
    server = fuzz_server(str(tmp_path_factory.mktemp("fuzz") / "events.db"))
    yield server.port
    assert server_alive(server.port)
    server.stop()


@settings(max_examples=150, deadline=None, database=None, phases=[Phase.generate],
          suppress_health_check=list(HealthCheck))
@given(raw=raw_requests())
def test_http_edge_never_answers_5xx(fuzz_port, raw):
    assert check_http(fuzz_port, raw) == []
    # findings aside, the server must still be there for the next sender
    if raw.startswith(b"POST /hooks/orders"):
        assert server_alive(fuzz_port)


def test_entity_expansion_is_refused():
    """The billion laughs is refused (a ParseError), never expanded."""
    laughs = (b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">'
              + b"".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">'.encode()
                         for i in range(9))
              + b"]><l>&j;</l>")
    with pytest.raises(ParseError):
        parse_body(laughs, "application/xml", None)


# -- what the big run found -------------------------------------------------------------

UNKNOWN_ENCODING = b'<?xml version="1.0" encoding="UPF-16"?><C>x</C>'


def test_unknown_xml_encoding_is_a_parse_error():
    """Found by benchmarks/fuzz.py: expat raises LookupError for an unknown encoding."""
    assert check_parse(UNKNOWN_ENCODING, "application/xml", None) == []


def test_unknown_xml_encoding_is_answered_400(fuzz_port):
    raw = (b"POST /hooks/open HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/xml\r\n"
           b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(UNKNOWN_ENCODING)
           + UNKNOWN_ENCODING)
    assert check_http(fuzz_port, raw) == []
