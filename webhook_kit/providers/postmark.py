"""Postmark: no payload signature; HTTP Basic credentials embedded in the webhook URL."""

from __future__ import annotations

from ..hookspecs import hookimpl
from ..model import Sample, Setting
from ..verification import BasicAuth
from .base import Provider
from ._shared import field_at, json_body

#: the time field that, with RecordType and MessageID, identifies one Postmark event
EVENT_TIME_FIELDS = ("DeliveredAt", "BouncedAt", "ReceivedAt", "ChangedAt", "Date")

BASIC = BasicAuth()


class PostmarkProvider(Provider):
    """Postmark webhooks (delivery, bounce, open, click, spam, subscription, inbound).

    Postmark signs nothing: the webhook URL carries ``user:pass@``, which
    arrives as ``Authorization: Basic``. The header is redacted before storing.
    """

    name = "postmark"
    label = "Postmark"
    settings = (
        Setting("username", "Username", "text", required=True,
                help="The user name in the webhook URL (https://user:pass@host/...)."),
        Setting("password", "Password", "secret", required=True,
                help="The password in the webhook URL; a list rotates; {\"env\": NAME} reads it "
                     "from the environment."),
    )
    secret_headers = ("Authorization",)
    summary = "HTTP Basic credentials from the webhook URL (Postmark signs no payload)"
    doc = {
        "headers": "`Authorization: Basic ...` (from `https://user:pass@host/...`; redacted before storing)",
        "signed": "nothing",
        "algorithm": "constant-time comparison of user name and password",
        "replay": "none",
        "handshake": "none",
        "dedup": "`RecordType` + `MessageID` + the event time (`DeliveredAt`, `BouncedAt`, `ReceivedAt`...)",
        "tested": "real deliveries over loopback with right, wrong and missing credentials",
    }

    def verify(self, request, settings, *, now=None):
        return BASIC.verify(request, settings, now=now)

    def sign(self, request, settings, *, now=None):
        return BASIC.sign(request, settings, now=now)

    def delivery_id(self, request):
        body = json_body(request)
        message = field_at(body, "MessageID")
        if message is None:
            return None
        when = next((field_at(body, f) for f in EVENT_TIME_FIELDS if field_at(body, f)), "")
        return f"{field_at(body, 'RecordType') or 'Inbound'}:{message}:{when}"

    def sample(self):
        return Sample(
            b'{"RecordType":"Delivery","ServerID":23,"MessageStream":"outbound","MessageID":'
            b'"883953f4-6105-42a2-a16a-77a8eac79483","Recipient":"john@example.com","Tag":"welcome-email",'
            b'"DeliveredAt":"2024-01-01T12:00:00Z","Details":"Test delivery webhook details",'
            b'"Metadata":{"a_key":"a_value","b_key":"b_value"}}')


@hookimpl
def register_providers():
    return [PostmarkProvider()]
