"""Checks shared by the provider tests, all over real loopback HTTP to the ``server`` fixture.

Each helper asserts one part of the provider contract: accepted and stored,
rejected with the failed check named on the stored event (never in the answer),
a redelivery recorded as ``duplicate``, hostile input answered 4xx and never
raising. :class:`HmacHeaderContract` is the whole test module of a provider
whose HMAC of the body stands in one header, proven by a self-computed vector.
"""

from __future__ import annotations

import sys

import pytest

import webhook_kit as wk
from webhook_kit.client import Delivery, post, sign_delivery
from webhook_kit.providers.base import copy_request

from .helpers import add_listener, deliver, last_event, stored, url_of


def provider(name: str):
    return wk.plugins.providers.get(name)


def signed(server, listener, body=None, *, content_type=None, query="", headers=None, now=None,
           method=None) -> wk.Request:
    """Our signer's request for ``body`` (the sample when None) to the listener on ``server``."""
    return sign_delivery(listener, body, content_type=content_type, url=url_of(server, listener, query),
                         headers=headers, now=now, method=method)


def accepted(server, delivery: Delivery) -> wk.Event:
    assert delivery.status == 200, delivery.text
    event = stored(server, delivery)
    assert event.status == "accepted"
    return event


def rejected(server, listener, delivery: Delivery, reason_part: str, status: int = 401, *,
             exact: bool = False) -> wk.Event:
    """The answer is a bare refusal; the stored event says which check failed.

    ``exact``: the stored reason is ``reason_part`` itself, not only contains it.
    """
    assert delivery.status == status, delivery.text
    event = last_event(server, listener)
    assert event.status == "rejected"
    if exact:
        assert event.reason == reason_part, event.reason
    else:
        assert reason_part in (event.reason or ""), event.reason
    assert reason_part not in delivery.text and "header" not in delivery.text
    return event


#: the pipeline's whole answer to a request that fails verification
REFUSAL = {"error": "verification failed"}


def refused(server, listener, delivery: Delivery, reason_part: str, *, exact: bool = False) -> wk.Event:
    """:func:`rejected` with status 401 and exactly :data:`REFUSAL` as the answer."""
    assert delivery.status == 401 and delivery.json() == REFUSAL, delivery.text
    return rejected(server, listener, delivery, reason_part, exact=exact)


def tampered(request: wk.Request) -> wk.Request:
    """The same signed request with one more byte of content (still parseable)."""
    extra = b"&tampered=1" if request.content_type == "application/x-www-form-urlencoded" else b" "
    return copy_request(request, body=request.body + extra)


def without(request: wk.Request, *names: str) -> wk.Request:
    headers = request.headers.copy()
    for name in names:
        headers.remove(name)
    return copy_request(request, headers=headers)


def replaced(request: wk.Request, **headers: str) -> wk.Request:
    """A copy with headers set; ``_`` in a keyword stands for ``-``."""
    copy = request.headers.copy()
    for name, value in headers.items():
        copy.set(name.replace("_", "-"), value)
    return copy_request(request, headers=copy)


def duplicate_recorded(server, request: wk.Request) -> wk.Event:
    """Posting the same delivery twice: the second is answered 200 and stored as duplicate."""
    first = accepted(server, post(request))
    second = post(request)
    assert second.status == 200, second.text
    assert second.json().get("duplicate") is True
    event = stored(server, second)
    assert event.status == "duplicate" and event.delivery_id == first.delivery_id
    assert event.delivery_id
    return event


def redelivered(server, request: wk.Request) -> tuple[Delivery, Delivery]:
    """Posting the same delivery twice: the first stored as accepted, the second (200) as duplicate."""
    first, second = post(request), post(request)
    assert stored(server, first).status == "accepted"
    assert second.status == 200 and stored(server, second).status == "duplicate"
    return first, second


def send(request: wk.Request) -> Delivery:
    return post(request)


HOSTILE_VALUES = ("", " ", "\u00ff\u00fe\u00e9", "=" * 2000, "t=,v1=,,", "v0=", "sha256=", "sha1=zz", "v1,",
                  "v1,!!!", "-1", "1e400", "9" * 40, "2021-02-30T25:61:00Z", "NaN", "key=,algorithm=")
HOSTILE_BODIES = (b"", b"\xff\xfe\x00", b"[" * 5000, b'{"id": {"nested": []}, "event_id": [1]}',
                  b"mandrill_events=%ZZ&&=", b"null")


def hostile_inputs_never_raise(name: str, settings: dict) -> int:
    """Every header the signer sets, and the body, replaced by hostile values: verify,
    handshake and delivery_id return normally (a Verdict, a Response or None, an id or None).
    Returns how many requests were tried."""
    p = provider(name)
    settings = p.settings_with_defaults(settings)
    base = p.sign(wk.Request("POST", "http://127.0.0.1:1/hooks/x?a=1", wk.Headers(
        {"Content-Type": p.sample().content_type}), p.sample().body), settings)
    tried = 0
    requests = [copy_request(base, body=body) for body in HOSTILE_BODIES]
    requests += [copy_request(base, url="http://h:abc/x?bodySHA256=zz&challenge=")]
    for header_name, _ in base.headers.items():
        for value in HOSTILE_VALUES:
            requests.append(replaced(base, **{header_name.replace("-", "_"): value}))
    for request in requests:
        for method in ("POST", "GET", "HEAD"):
            request.method = method
            verdict = p.verify(request, settings)
            assert isinstance(verdict, wk.Verdict)
            assert verdict.ok or isinstance(verdict.reason, str)
            answer = p.handshake(request, settings)
            assert answer is None or isinstance(answer, wk.Response)
            p.delivery_id(request)
            tried += 1
    return tried


def garbage_is_refused_not_crashed(server, listener) -> None:
    """Over HTTP, a delivery with mangled signature headers gets a 4xx, never a 500."""
    request = signed(server, listener)
    mangled = request.headers.copy()
    for header_name, _ in request.headers.items():
        if header_name.lower() not in ("content-type", "user-agent"):
            mangled.set(header_name, "\u00ff=,v1=;t=NaN")
    delivery = post(copy_request(request, headers=mangled))
    assert 400 <= delivery.status < 500, delivery.text


#: header values that no sender writes: each must get a 4xx (and a stored reason), never a 500
HOSTILE_HEADER_VALUES = ["", ";;,,", "sha256=", "ts=;h1=,t=,v1=zz", "9" * 40 + ",00", "\u00e9\u00e8",
                         "x" * 4000]


def hostile_header_refused(server, listener, body: bytes, name: str, value: str) -> None:
    """``name: value`` alone (with ``body``, then with bytes that are no text) gets a 4xx and a reason."""
    for bad_body in (body, b"\xff\xfe\x00"):
        d = deliver(server, listener, bad_body, {"Content-Type": "application/json", name: value})
        assert 400 <= d.status < 500, (d.status, d.text)
        assert last_event(server, listener).reason


def headers_signed_by(listener, body: bytes, *names: str, now: float | None = None) -> dict:
    """The JSON content type and the ``names`` headers of our signer's delivery of ``body``."""
    request = sign_delivery(listener, body, now=now)
    return {"Content-Type": "application/json", **{name: request.header(name) for name in names}}


#: what a public-key provider tells the user to run when ``cryptography`` is missing
CRYPTO_HINT = 'pip install "webhook-kit[crypto]"'


def crypto_missing_explained(server, listener, body: bytes, headers: dict, monkeypatch) -> None:
    """With ``cryptography`` gone, a signed delivery gets a bare 503 whose stored reason (and the
    settings check) names the install command."""
    for name in [m for m in sys.modules if m == "cryptography" or m.startswith("cryptography.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "cryptography", None)  # import now fails as if not installed
    d = deliver(server, listener, body, headers)
    assert d.status == 503 and "cryptography" not in d.text
    assert CRYPTO_HINT in last_event(server, listener).reason
    problems = provider(listener.provider).check_settings({"public_key": listener.verification["public_key"]})
    assert any(CRYPTO_HINT in message for _, message in problems)


class HmacHeaderContract:
    """The tests of a provider that signs the body with an HMAC in one header (Intercom, Typeform,
    Jira, Shopify), proven by a self-computed vector (none of them publishes one).

    A provider's test module subclasses it as ``Test<Provider>`` and sets the
    class attributes; pytest runs every test below once per subclass (this
    class itself, not named ``Test...``, is never collected).
    """

    provider = ""
    header = ""
    #: the signature header's value for :attr:`body` under :attr:`secret`
    vector = ""
    secret = "test_secret"
    body = '{"id":"evt_1","type":"ping"}'
    #: more ``(case, reason part)`` rows for :meth:`test_rejected_with_reason` (see :meth:`mangled`)
    more_rejections: tuple[tuple[str, str], ...] = ()

    def pytest_generate_tests(self, metafunc):
        if metafunc.function.__name__ == "test_rejected_with_reason":
            metafunc.parametrize("case, reason", [
                ("tampered", f"signature in {self.header} does not match"),
                ("wrong_secret", f"signature in {self.header} does not match"),
                ("missing", f"missing header {self.header}"),
                *self.more_rejections,
            ])

    @pytest.fixture
    def listener(self, server):
        return add_listener(server, self.provider, {"secret": self.secret})

    def mangled(self, request: wk.Request, case: str) -> wk.Request:
        """``request`` broken as ``case`` says."""
        name = self.header.replace("-", "_")
        if case == "tampered":
            return tampered(request)
        if case == "wrong_secret":
            return replaced(request, **{name: provider(self.provider).sign(
                request, {"secret": "other"}).header(self.header)})
        if case == "missing":
            return without(request, self.header)
        if case == "no_prefix":
            return replaced(request, **{name: request.header(self.header).split("=", 1)[-1]})
        if case == "not_base64":
            return replaced(request, **{name: "not base64!"})
        raise ValueError(f"unknown case {case!r}")

    def test_vector_accepted_and_reproduced_by_our_signer(self, server, listener):
        accepted(server, deliver(server, listener, self.body,
                                 {"Content-Type": "application/json", self.header: self.vector}))
        assert signed(server, listener, self.body).header(self.header) == self.vector

    def test_sample_signed_and_accepted(self, server, listener):
        accepted(server, send(signed(server, listener)))

    def test_rejected_with_reason(self, server, listener, case, reason):
        rejected(server, listener, send(self.mangled(signed(server, listener), case)), reason)

    def test_rotation_any_secret_matches(self, server):
        listener = add_listener(server, self.provider, {"secret": ["new-secret", self.secret]})
        accepted(server, deliver(server, listener, self.body,
                                 {"Content-Type": "application/json", self.header: self.vector}))

    def test_hostile_input_never_raises(self, server):
        assert hostile_inputs_never_raise(self.provider, {"secret": "s"}) > 100
        garbage_is_refused_not_crashed(server, add_listener(server, self.provider, {"secret": "s"}, "hostile"))
