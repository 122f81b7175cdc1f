"""Shopify over real HTTP: the self-computed vector (no official one exists), our signer, rejections, dedup."""

from __future__ import annotations

from ._contract import HmacHeaderContract, accepted, duplicate_recorded, send, signed, without


class TestShopify(HmacHeaderContract):
    provider = "shopify"
    header = "X-Shopify-Hmac-Sha256"
    vector = "yJgTUs6rzZBG6fMcLE4eQTulcmtVS6I9KfBWKzfPzF8="
    more_rejections = (("not_base64", "does not match"),)

    def test_redelivery_is_duplicate_by_event_id(self, server, listener):
        request = signed(server, listener)
        assert duplicate_recorded(server, request).delivery_id == request.header("X-Shopify-Event-Id")

    def test_webhook_id_is_the_dedup_id_for_older_api_versions(self, server, listener):
        request = without(signed(server, listener), "X-Shopify-Event-Id")
        assert duplicate_recorded(server, request).delivery_id == request.header("X-Shopify-Webhook-Id")

    def test_xml_body_signed_the_same_way(self, server, listener):
        xml = '<?xml version="1.0" encoding="UTF-8"?><order><id type="integer">450789469</id></order>'
        event = accepted(server, send(signed(server, listener, xml, content_type="application/xml")))
        assert event.payload["order"]["id"]
