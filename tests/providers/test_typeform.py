"""Typeform over real HTTP: the self-computed vector (no official one exists), our signer, rejections, dedup."""

from __future__ import annotations

from ._contract import HmacHeaderContract, duplicate_recorded, signed


class TestTypeform(HmacHeaderContract):
    provider = "typeform"
    header = "Typeform-Signature"
    vector = "sha256=yJgTUs6rzZBG6fMcLE4eQTulcmtVS6I9KfBWKzfPzF8="
    more_rejections = (("no_prefix", "lacks the prefix"),)

    def test_redelivery_is_duplicate(self, server, listener):
        duplicate_recorded(server, signed(server, listener))
