"""Shopify: HMAC-SHA256 base64 of the raw body (JSON or XML) in ``X-Shopify-Hmac-Sha256``."""

from __future__ import annotations

import json

from ..hookspecs import hookimpl
from ..model import Sample
from .base import HmacHeaderProvider
from ._shared import iso_now, new_id, with_default_header


class ShopifyProvider(HmacHeaderProvider):
    """Shopify app and shop-admin webhooks (key: the app's client secret)."""

    name = "shopify"
    label = "Shopify"
    header = "X-Shopify-Hmac-Sha256"
    encoding = "base64"
    summary = "HMAC-SHA256 base64 of the raw body in X-Shopify-Hmac-Sha256"
    doc = {
        "headers": "X-Shopify-Hmac-Sha256, X-Shopify-Topic, X-Shopify-Event-Id, X-Shopify-Webhook-Id",
        "signed": "body (JSON or XML)",
        "algorithm": "HMAC-SHA256, base64",
        "replay": "none (X-Shopify-Triggered-At is not signed)",
        "handshake": "none",
        "dedup": "X-Shopify-Event-Id, else X-Shopify-Webhook-Id",
        "tested": "self-computed vector (Shopify publishes none; no SDK helper)",
    }

    def delivery_id(self, request):
        return request.header("X-Shopify-Event-Id") or request.header("X-Shopify-Webhook-Id")

    def sign(self, request, settings, *, now=None):
        signed = super().sign(request, settings, now=now)
        signed = with_default_header(signed, "X-Shopify-Webhook-Id", new_id())
        signed = with_default_header(signed, "X-Shopify-Event-Id", new_id())
        return with_default_header(signed, "X-Shopify-Triggered-At",
                                   iso_now(now, micro=True))

    def sample(self):
        body = {"id": 820982911946154508, "email": "jon@example.com", "name": "#9999",
                "created_at": "2024-01-01T12:00:00-05:00", "currency": "USD",
                "total_price": "403.00", "financial_status": "paid",
                "line_items": [{"id": 866550311766439020, "title": "IPod Nano - 8GB",
                                "quantity": 1, "price": "199.00", "sku": "IPOD2008PINK"}]}
        return Sample(json.dumps(body), headers={
            "X-Shopify-Topic": "orders/create", "X-Shopify-Shop-Domain": "example.myshopify.com",
            "X-Shopify-API-Version": "2024-07"})


@hookimpl
def register_providers():
    return [ShopifyProvider()]
