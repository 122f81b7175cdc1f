"""Signed test deliveries: signed exactly as the provider would, sent over real HTTP.

``sign_delivery`` builds the request (the listener's sample when no body is
given) and lets the listener's provider sign it; ``send`` posts it. The CLI's
``webhook-kit send`` and the notebook's "Send test delivery" button are both
one call to ``send``.
"""

from __future__ import annotations

import http.client
import inspect
import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from .listener import Listener
from .model import Headers, Request, Sample

DEFAULT_BASE_URL = "http://127.0.0.1:8080"


@dataclass
class Delivery:
    """What came back from a sent delivery."""

    status: int
    headers: Headers
    body: bytes
    request: Request = field(repr=False)

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    def __str__(self) -> str:
        return f"{self.status} {self.text}"


def _body_bytes(body: Any, content_type: str | None) -> tuple[bytes, str]:
    if isinstance(body, (dict, list)):
        return json.dumps(body).encode("utf-8"), content_type or "application/json"
    if isinstance(body, str):
        body = body.encode("utf-8")
    return bytes(body), content_type or ""


def sample_for(listener: Listener) -> Sample:
    """The listener's own sample data, else its provider's sample."""
    if listener.sample and listener.sample.get("body") is not None:
        body, ctype = _body_bytes(listener.sample["body"], listener.sample.get("content_type"))
        return Sample(body, ctype or "application/json")
    provider = listener.provider_obj
    if "settings" in inspect.signature(provider.sample).parameters:
        return provider.sample(listener.settings())
    return provider.sample()


def sign_delivery(listener: Listener, body: Any = None, *, content_type: str | None = None,
                  url: str | None = None, headers: dict | None = None, method: str | None = None,
                  now: float | None = None) -> Request:
    """The request the provider would send for ``body`` to ``url``, signed.

    ``url`` defaults to ``http://127.0.0.1:8080/hooks/{id}``; a secret URL
    token is added by signing, like any other credential.
    """
    if body is None:
        sample = sample_for(listener)
        body_bytes, ctype = sample.body, content_type or sample.content_type
        extra = dict(sample.headers)
        method = method or sample.method
    else:
        body_bytes, ctype = _body_bytes(body, content_type)
        extra = {}
    h = Headers()
    if ctype:
        h.set("Content-Type", ctype)
    for k, v in {**extra, **(headers or {})}.items():
        h.set(k, v)
    request = Request(method or "POST", url or f"{DEFAULT_BASE_URL}/hooks/{listener.id}", h,
                      body_bytes, listener_id=listener.id)
    return listener.provider_obj.sign(request, listener.settings(), now=now)


def post(request: Request, timeout: float = 30) -> Delivery:
    """Send a prepared request over HTTP(S) and read the whole answer."""
    parts = urlsplit(request.url)
    conn_cls = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    conn = conn_cls(parts.hostname, parts.port, timeout=timeout)
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    try:
        conn.putrequest(request.method, target, skip_accept_encoding=True)
        names = {n.lower() for n, _ in request.headers}
        for name, value in request.headers:
            conn.putheader(name, value)
        if "content-length" not in names and (request.body or request.method in ("POST", "PUT")):
            conn.putheader("Content-Length", str(len(request.body)))
        conn.endheaders(request.body or None)
        resp = conn.getresponse()
        return Delivery(resp.status, Headers(resp.getheaders()), resp.read(), request)
    finally:
        conn.close()


def send(listener: Listener, body: Any = None, *, url: str | None = None,
         content_type: str | None = None, headers: dict | None = None,
         method: str | None = None, timeout: float = 30, now: float | None = None) -> Delivery:
    """Sign ``body`` (or the sample) as the listener's provider would, and POST it."""
    return post(sign_delivery(listener, body, content_type=content_type, url=url,
                              headers=headers, method=method, now=now), timeout)
