"""Microsoft Graph change notifications: validationToken handshake and clientState check."""

from __future__ import annotations

import json
import re

from .. import secret_values
from ..hookspecs import hookimpl
from ..model import Sample, Setting, Verdict
from .base import REDACTED, Provider, SignError, copy_request, secrets_of
from ._shared import echo_text, json_body

#: "clientState": "<value>" in the raw JSON (any spacing, escaped quotes kept inside the value)
CLIENT_STATE = re.compile(rb'("clientState"\s*:\s*")((?:[^"\\]|\\.)*)(")')


class MicrosoftGraphProvider(Provider):
    """Graph subscriptions: no signature; every notification carries the ``clientState`` you chose.

    Creating a subscription POSTs to ``notificationUrl?validationToken=<token>``,
    answered 200 text/plain with the decoded token. Notifications are
    ``{"value": [...]}``; each item's ``clientState`` must equal the secret.
    The clientState is blanked in the stored body and payload.
    """

    name = "microsoft-graph"
    label = "Microsoft Graph"
    aliases = ("graph", "msgraph")
    settings = (Setting("secret", "Client state", "secret", required=True,
                        help="The clientState given when creating the subscription (up to 128 "
                             "characters); a list rotates; {\"env\": NAME} reads it from the environment."),)
    summary = "clientState in every notification must match; POST ?validationToken= echo"
    doc = {
        "headers": "none (the `clientState` field of each `value` item; redacted before storing)",
        "signed": "nothing (shared-secret equality in the body)",
        "algorithm": "constant-time comparison of `clientState`",
        "replay": "none",
        "handshake": "POST `?validationToken=` -> 200 text/plain, the decoded token",
        "dedup": "none (notifications carry no id)",
        "tested": "validation handshake and notifications with right, wrong and missing clientState over loopback",
    }

    def handshake(self, request, settings, *, now=None):
        token = request.query_param("validationToken")
        if token is None:
            return None
        return echo_text(token)

    def verify(self, request, settings, *, now=None):
        body = json_body(request)
        items = body.get("value") if isinstance(body, dict) else None
        if not isinstance(items, list) or not items:
            return Verdict.reject('body has no "value" list of notifications', field="value")
        secrets = secrets_of(settings)
        for i, item in enumerate(items):
            state = item.get("clientState") if isinstance(item, dict) else None
            if not isinstance(state, str):
                return Verdict.reject(f"notification {i} has no clientState", field="clientState",
                                      index=i)
            if not any(secret_values.equal(state, s) for s in secrets):
                return Verdict.reject(f"clientState of notification {i} does not match",
                                      field="clientState", index=i)
        return Verdict.accept(notifications=len(items))

    def sign(self, request, settings, *, now=None):
        body = json_body(request)
        items = body.get("value") if isinstance(body, dict) else None
        if not isinstance(items, list):
            raise SignError('a Graph notification body is {"value": [...]}')
        secret = secrets_of(settings)[0]
        for item in items:
            if isinstance(item, dict):
                item["clientState"] = secret
        return copy_request(request, body=json.dumps(body).encode("utf-8"))

    def redact(self, request, settings):
        notes = super().redact(request, settings)
        body, count = CLIENT_STATE.subn(lambda m: m.group(1) + REDACTED.encode() + m.group(3),
                                        request.body)
        if count:
            request.body = body
            notes.append("body:clientState")
        items = request.payload.get("value") if isinstance(request.payload, dict) else None
        for item in items if isinstance(items, list) else ():
            if isinstance(item, dict) and "clientState" in item:
                item["clientState"] = REDACTED
        return notes

    def sample(self):
        return Sample(
            b'{"value":[{"id":"lsgTZMr9KwAAA","subscriptionId":"7f105c7d-2dc5-4530-97cd-4e7ae6534c07",'
            b'"subscriptionExpirationDateTime":"2024-01-03T11:00:00.0000000Z","clientState":'
            b'"secretClientValue","changeType":"created","resource":"Users/{user-guid}/Messages/'
            b'{long-id}","tenantId":"84bd8158-6d4d-4958-8b9f-9d6445542f95","resourceData":'
            b'{"@odata.type":"#Microsoft.Graph.Message","@odata.id":"Users/{user-guid}/Messages/'
            b'{long-id}","@odata.etag":"W/\\"CQAAABYAAADkrWGo7bouTKlsgTZMr9KwAAAUWRHf\\"","id":"{long-id}"}}]}')


@hookimpl
def register_providers():
    return [MicrosoftGraphProvider()]
