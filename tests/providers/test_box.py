"""Box over real HTTP: Box's SDK test vector, box-sdk-gen both ways, rejections, dedup on the body id."""

from __future__ import annotations

import time
from datetime import datetime, timezone

import pytest

from webhook_kit.model import Headers, Request

from ._contract import (accepted, duplicate_recorded, garbage_is_refused_not_crashed,
                          hostile_inputs_never_raise, provider, rejected, replaced, send, signed,
                          tampered, without)
from .helpers import add_listener, deliver

utils = pytest.importorskip("box_sdk_gen.internal.utils", reason="box-sdk-gen not importable")
webhooks = pytest.importorskip("box_sdk_gen.managers.webhooks", reason="box-sdk-gen not importable")

BODY = ('{"type":"webhook_event","webhook":{"id":"1234567890"},"trigger":"FILE.UPLOADED",'
        '"source":{"id":"1234567890","type":"file","name":"Test.txt"}}')
STAMP = "2020-01-01T00:00:00-07:00"
PRIMARY, SECONDARY = "SamplePrimaryKey", "SampleSecondaryKey"
PRIMARY_SIG = "6TfeAW3A1PASkgboxxA5yqHNKOwFyMWuEXny/FPD5hI="
SECONDARY_SIG = "v+1CD1Jdo3muIcbpv5lxxgPglOqMfsNHPV899xWYydo="
FIXED = {"box-signature-version": "1", "box-signature-algorithm": "HmacSHA256"}


@pytest.fixture
def listener(server):
    return add_listener(server, "box", {"secret": PRIMARY, "secondary_key": SECONDARY})


def box_headers(body: str, stamp: str, key: str = PRIMARY, which: str = "primary") -> dict:
    headers = {**FIXED, "box-delivery-timestamp": stamp}
    headers[f"box-signature-{which}"] = utils.compute_webhook_signature(body, headers, key)
    return {"Content-Type": "application/json", **headers}


def test_sdk_vector_with_pinned_clock(listener):
    p, settings = provider("box"), listener.settings()
    when = datetime.fromisoformat(STAMP).timestamp()
    for name, sig in (("BOX-SIGNATURE-PRIMARY", PRIMARY_SIG), ("BOX-SIGNATURE-SECONDARY", SECONDARY_SIG)):
        request = Request("POST", "http://x/", Headers({**FIXED, "BOX-DELIVERY-TIMESTAMP": STAMP, name: sig}), BODY)
        assert p.verify(request, settings, now=when + 60).ok
    signed_here = p.sign(Request("POST", "http://x/", Headers(), BODY), {"secret": PRIMARY}, now=when)
    assert utils.compute_webhook_signature(BODY, {**FIXED, "box-delivery-timestamp": signed_here.header(
        "BOX-DELIVERY-TIMESTAMP")}, PRIMARY) == signed_here.header("BOX-SIGNATURE-PRIMARY")


def test_vector_over_http_is_refused_for_age_only(server, listener):
    d = deliver(server, listener, BODY, {**FIXED, "Content-Type": "application/json",
                                         "box-delivery-timestamp": STAMP, "box-signature-primary": PRIMARY_SIG})
    assert rejected(server, listener, d, "timestamp too old").details["skew_seconds"] > 600


@pytest.mark.parametrize("key, which", [(PRIMARY, "primary"), (SECONDARY, "secondary")])
def test_sdk_signs_and_our_server_accepts(server, listener, key, which):
    body = BODY.replace('"type":"webhook_event"', f'"id":"e-{which}","type":"webhook_event"')
    stamp = datetime.now(timezone.utc).isoformat(timespec="seconds")
    event = accepted(server, deliver(server, listener, body, box_headers(body, stamp, key, which)))
    assert event.delivery_id == f"e-{which}"


def test_non_ascii_body_escaped_form_is_accepted(server, listener):
    body = '{"id":"e-1","type":"webhook_event","source":{"name":"Résumé ✓.txt"}}'
    stamp = datetime.now(timezone.utc).isoformat(timespec="seconds")
    headers = {**FIXED, "box-delivery-timestamp": stamp}
    headers["box-signature-primary"] = utils.compute_webhook_signature(body, headers, PRIMARY, escape_body=True)
    accepted(server, deliver(server, listener, body, {"Content-Type": "application/json", **headers}))


def test_our_signer_and_the_sdk_verifier_agree(server, listener):
    request = signed(server, listener)
    headers = {k.lower(): v for k, v in request.headers.items()}
    validate = webhooks.WebhooksManager.validate_message
    assert validate(request.body.decode(), headers, PRIMARY, secondary_key=SECONDARY)
    assert validate(request.body.decode(), headers, "wrong", secondary_key=SECONDARY)  # via the secondary
    accepted(server, send(request))


@pytest.mark.parametrize("case, reason", [
    ("tampered", "does not match"),
    ("wrong_secret", "does not match"),
    ("missing", "missing header BOX-SIGNATURE-PRIMARY"),
    ("missing_ts", "missing header BOX-DELIVERY-TIMESTAMP"),
    ("bad_ts", "is not an RFC 3339 timestamp"),
    ("stale", "timestamp too old"),
    ("version", "header BOX-SIGNATURE-VERSION is not 1"),
])
def test_rejected_with_reason(server, listener, case, reason):
    request = signed(server, listener)
    if case == "tampered":
        request = tampered(request)
    elif case == "wrong_secret":
        request = replaced(request, BOX_SIGNATURE_PRIMARY=utils.compute_webhook_signature(
            request.body.decode(), {**FIXED, "box-delivery-timestamp": request.header("BOX-DELIVERY-TIMESTAMP")}, "x"),
            BOX_SIGNATURE_SECONDARY="AAAA")
    elif case == "missing":
        request = without(request, "BOX-SIGNATURE-PRIMARY", "BOX-SIGNATURE-SECONDARY")
    elif case == "missing_ts":
        request = without(request, "BOX-DELIVERY-TIMESTAMP")
    elif case == "bad_ts":
        request = replaced(request, BOX_DELIVERY_TIMESTAMP="last tuesday")
    elif case == "stale":
        request = signed(server, listener, now=time.time() - 601)
    elif case == "version":
        request = replaced(request, BOX_SIGNATURE_VERSION="2")
    rejected(server, listener, send(request), reason)


def test_rotation_list_in_secret_matches(server):
    listener = add_listener(server, "box", {"secret": ["NewPrimaryKey", PRIMARY]})
    stamp = datetime.now(timezone.utc).isoformat(timespec="seconds")
    accepted(server, deliver(server, listener, BODY, box_headers(BODY, stamp)))


def test_retry_with_new_delivery_id_is_duplicate(server, listener):
    first = signed(server, listener)
    duplicate_recorded(server, first)
    retry = replaced(signed(server, listener, first.body), BOX_DELIVERY_ID="another-delivery")
    second = send(retry)
    assert second.status == 200 and second.json().get("duplicate") is True


def test_hostile_input_never_raises(server):
    assert hostile_inputs_never_raise("box", {"secret": "s", "secondary_key": "t"}) > 100
    garbage_is_refused_not_crashed(server, add_listener(server, "box", {"secret": "s", "secondary_key": "t"},
                                                        "hostile"))
