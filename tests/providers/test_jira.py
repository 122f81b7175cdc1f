"""Jira over real HTTP: the self-computed vector (no official one exists), our signer, rejections, dedup."""

from __future__ import annotations

from ._contract import HmacHeaderContract, duplicate_recorded, replaced, signed


class TestJira(HmacHeaderContract):
    provider = "jira"
    header = "X-Hub-Signature"
    vector = "sha256=c8981352ceabcd9046e9f31c2c4e1e413ba5726b554ba23d29f0562b37cfcc5f"
    more_rejections = (("no_prefix", "lacks the prefix"),)

    def test_retry_is_duplicate_by_webhook_identifier(self, server, listener):
        request = signed(server, listener)
        event = duplicate_recorded(server, replaced(request, X_Atlassian_Webhook_Retry="1"))
        assert event.delivery_id == request.header("X-Atlassian-Webhook-Identifier")
