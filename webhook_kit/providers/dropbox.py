"""Dropbox: HMAC-SHA256 hex of the raw body in ``X-Dropbox-Signature``; GET ``?challenge=`` echo."""

from __future__ import annotations

import json

from ..hookspecs import hookimpl
from ..model import Response, Sample
from .base import HmacHeaderProvider


class DropboxProvider(HmacHeaderProvider):
    """Dropbox app webhooks (notifications name accounts, not files)."""

    name = "dropbox"
    label = "Dropbox"
    header = "X-Dropbox-Signature"
    summary = "HMAC-SHA256 hex of the raw body in X-Dropbox-Signature; GET challenge echo"
    doc = {
        "headers": "X-Dropbox-Signature",
        "signed": "body",
        "algorithm": "HMAC-SHA256, hex; key = the app secret",
        "replay": "none",
        "handshake": "GET ?challenge= echoed as text/plain with X-Content-Type-Options: nosniff",
        "dedup": "none (notifications carry no id)",
        "tested": "self-computed vector (no official vector or SDK helper)",
    }

    def handshake(self, request, settings, *, now=None):
        if request.method != "GET":
            return None
        challenge = request.query_param("challenge")
        if challenge is None:
            return None
        return Response(200, {"Content-Type": "text/plain; charset=utf-8",
                              "X-Content-Type-Options": "nosniff"}, challenge.encode("utf-8"))

    def sample(self):
        body = {"list_folder": {"accounts": ["dbid:AAH4f99T0taONIb-OurWxbNQ6ywGRopQngc"]},
                "delta": {"users": [12345678]}}
        return Sample(json.dumps(body), headers={"User-Agent": "DropboxWebhooks/1.0"})


@hookimpl
def register_providers():
    return [DropboxProvider()]
