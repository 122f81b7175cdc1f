"""Intercom over real HTTP: the self-computed vector (no official one exists), our signer, rejections, dedup."""

from __future__ import annotations

from ._contract import HmacHeaderContract, duplicate_recorded, signed


class TestIntercom(HmacHeaderContract):
    provider = "intercom"
    header = "X-Hub-Signature"
    vector = "sha1=9dd5322b18a546d70d3e78bfac2d16da307799c8"
    more_rejections = (("no_prefix", "lacks the prefix"),)

    def test_redelivery_is_duplicate(self, server, listener):
        duplicate_recorded(server, signed(server, listener))
