"""Checks shared by the batch-A provider tests, all over real loopback HTTP to the ``server`` fixture.

Each helper asserts one part of the provider contract: accepted and stored,
rejected with the failed check named on the stored event (never in the answer),
a redelivery recorded as ``duplicate``.
"""

from __future__ import annotations

import webhook_kit as wk
from webhook_kit.client import Delivery, post, sign_delivery
from webhook_kit.providers.base import copy_request

from .helpers import last_event, stored, url_of


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


def rejected(server, listener, delivery: Delivery, reason_part: str, status: int = 401) -> wk.Event:
    """The answer is a bare refusal; the stored event says which check failed."""
    assert delivery.status == status, delivery.text
    event = last_event(server, listener)
    assert event.status == "rejected"
    assert reason_part in (event.reason or ""), event.reason
    assert reason_part not in delivery.text and "header" not in delivery.text
    return event


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
