"""ListenerForm in plain pytest: set values, click, check the Listener and real deliveries."""

from __future__ import annotations

import base64
import html
import hashlib
import hmac
import json

import ipywidgets as widgets
import pytest

import webhook_kit as wk
from webhook_kit.client import post
from webhook_kit.model import Sample, Setting, Verdict
from webhook_kit.providers.base import with_header
from webhook_kit.widgets import ListenerForm

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


class WidgetCoProvider(wk.Provider):
    """A throwaway provider declaring one setting of every kind."""

    name = "widgetco"
    label = "WidgetCo"
    summary = "HMAC-SHA256 (hex) of the body in X-WidgetCo-Signature"
    settings = (
        Setting("secret", "Signing secret", "secret", required=True),
        Setting("region", "Region", "choice", "eu", choices=("eu", "us")),
        Setting("account", "Account", "text", "", help="account name"),
        Setting("tolerance", "Tolerance", "int", 300),
        Setting("strict", "Strict", "bool", True),
    )

    def verify(self, request, settings, *, now=None):
        expected = hmac.new(settings["secret"].encode(), request.body, hashlib.sha256).hexdigest()
        got = request.header("X-WidgetCo-Signature") or ""
        return Verdict.accept() if hmac.compare_digest(expected, got) else Verdict.reject("bad signature")

    def sign(self, request, settings, *, now=None):
        digest = hmac.new(settings["secret"].encode(), request.body, hashlib.sha256).hexdigest()
        return with_header(request, "X-WidgetCo-Signature", digest)

    def sample(self):
        return Sample(b'{"widget": 7}')


class WidgetCoPlugin:
    @wk.hookimpl
    def register_providers(self):
        return [WidgetCoProvider()]


@pytest.fixture
def form(server):
    f = ListenerForm(server=server)
    yield f
    f.close()


def fill_hmac(form, secret="s3cret", name="Orders"):
    form.name.value = name
    form.provider.value = "custom"
    form.verification_type.value = "hmac"
    form.field("secret").input.value = secret
    return form


def test_layout_has_the_product_sections(form):
    assert form.provider.options[0] == ("Custom", "custom")
    assert [label for label, _ in form.verification_type.options][:5] == [
        "Basic", "HMAC", "Secret URL", "Token", "None"]
    form.verification_type.value = "basic"
    assert set(form.fields) == {"username", "password"}
    assert isinstance(form.field("password").input, widgets.Password)
    form.verification_type.value = "hmac"
    assert list(form.fields) == ["algorithm", "encoding", "secret", "header", "prefix"]
    assert form.field("algorithm").input.options == (("SHA-1", "sha1"), ("SHA-256", "sha256"))
    assert form.field("encoding").input.options == (("Hexadecimal", "hex"), ("Base64", "base64"))
    assert isinstance(form.field("secret").input, widgets.Password)
    form.verification_type.value = "secret_url"
    assert form.field("token").generate.description == "Generate URL token"
    form.verification_type.value = "token"
    assert set(form.fields) == {"token", "path"}
    assert form.field("token").generate.description == "Generate token"
    form.verification_type.value = "none"
    assert form.fields == {}


def test_form_builds_the_same_listener_as_python(form):
    fill_hmac(form)
    form.description.value = "new orders"
    form.field("encoding").input.value = "base64"
    form.field("prefix").input.value = "sha256="
    listener = form.listener
    assert isinstance(listener, wk.Listener)
    python = wk.Listener("orders", name="Orders", description="new orders", verification={
        "type": "hmac", "algorithm": "sha256", "encoding": "base64", "secret": "s3cret",
        "header": "X-Signature", "prefix": "sha256="})
    assert listener.to_dict() == python.to_dict()


def test_inline_errors_name_the_field_and_never_raise_in_the_ui(form):
    form.verification_type.value = "hmac"
    form.generate_button.click()
    assert "required" in form.name_error.value
    assert form.url.value == ""
    form.name.value = "Orders"
    form.generate_button.click()
    assert "is required" in form.field("secret").error.value
    assert form.errors() == {"verification.secret": "is required"}
    with pytest.raises(wk.ConfigError) as info:
        form.listener
    assert info.value.field == "verification.secret"
    form.field("secret").input.value = "x"
    assert form.field("secret").error.value == ""
    form.listener_id.value = "bad id!"
    assert "ID" in form.id_error.value
    assert form.errors().keys() == {"id"}


def test_generate_url_registers_and_a_signed_delivery_is_stored(form, server):
    fill_hmac(form)
    form.generate_button.click()
    assert form.url.value == f"{server.base_url}/hooks/orders"
    assert server.listeners.get("orders") is form.listener
    delivery = wk.send(form.listener, {"id": 1}, url=form.url.value)
    assert delivery.status == 200
    event = server.store.get(delivery.json()["event_id"])
    assert event.status == "accepted" and event.payload == {"id": 1}
    # the exact header an independent HMAC computes
    expected = hmac.new(b"s3cret", event.body, hashlib.sha256).hexdigest()
    assert event.header_map["X-Signature"] == expected


def test_changing_security_updates_the_url(form, server):
    fill_hmac(form)
    plain = form.generate_url()
    form.verification_type.value = "secret_url"
    token = form.field("token").input.value
    assert token  # generated because the URL needs one
    assert form.url.value == f"{plain}/{token}"
    assert server.url_for("orders") == form.url.value
    form.field("token").generate.click()
    new_token = form.field("token").input.value
    assert new_token != token and form.url.value.endswith("/" + new_token)
    assert post(wk.Request("POST", f"{plain}/{token}", {"Content-Type": "application/json"},
                           b"{}")).status == 404
    assert post(wk.Request("POST", form.url.value, {"Content-Type": "application/json"},
                           b"{}")).status == 200
    # a new name (and so a new id) moves the listener
    form.name.value = "Shop orders"
    assert "shop-orders" in form.url.value
    assert "orders" not in server.listeners and "shop-orders" in server.listeners


def test_basic_auth_delivery_from_the_form(form, server):
    form.name.value = "Basic one"
    form.verification_type.value = "basic"
    form.field("username").input.value = "alice"
    form.field("password").input.value = "pw"
    url = form.generate_url()
    ok = wk.send(form.listener, {"a": 1}, url=url)
    assert ok.status == 200
    creds = base64.b64encode(b"alice:wrong").decode()
    bad = post(wk.Request("POST", url, {"Authorization": f"Basic {creds}",
                                        "Content-Type": "application/json"}, b"{}"))
    assert bad.status == 401 and "WWW-Authenticate" in bad.headers


def test_token_type_with_generated_token(form, server):
    form.name.value = "Tok"
    form.verification_type.value = "token"
    form.field("token").generate.click()
    form.field("path").input.value = "myAuth.token"
    url = form.generate_url()
    delivery = wk.send(form.listener, {"myAuth": {}, "x": 1}, url=url)
    assert delivery.status == 200
    event = server.store.get(delivery.json()["event_id"])
    assert event.payload["myAuth"]["token"] == "[redacted]"


def test_plugin_registered_at_run_time_gets_a_form(form, server, plugin):
    assert "widgetco" not in [n for _, n in form.provider.options]
    plugin(WidgetCoPlugin(), name="widgetco-test")
    names = form.refresh_providers()
    assert "widgetco" in names
    assert form.provider.options[0] == ("Custom", "custom")
    assert ("WidgetCo", "widgetco") in form.provider.options
    form.provider.value = "widgetco"
    kinds = {n: type(f.input) for n, f in form.fields.items()}
    assert kinds == {"secret": widgets.Password, "region": widgets.Dropdown,
                     "account": widgets.Text, "tolerance": widgets.IntText,
                     "strict": widgets.Checkbox}
    assert "WidgetCo" in form.provider_summary.value or "X-WidgetCo" in form.provider_summary.value
    form.name.value = "Widgets"
    form.field("secret").input.value = "k"
    form.field("region").input.value = "us"
    form.field("tolerance").input.value = 60
    form.field("strict").input.value = False
    listener = form.listener
    assert listener.provider == "widgetco"
    assert listener.verification == {"secret": "k", "region": "us", "tolerance": 60, "strict": False}
    url = form.generate_url()
    delivery = wk.send(listener, url=url)  # the provider's own sample, signed by the provider
    assert delivery.status == 200
    assert server.store.get(delivery.json()["event_id"]).payload == {"widget": 7}


def test_any_interaction_picks_up_new_providers(form, plugin):
    plugin(WidgetCoPlugin(), name="widgetco-test-2")
    form.name.value = "x"  # no refresh button pressed
    assert ("WidgetCo", "widgetco") in form.provider.options


def test_refresh_button_and_unregistered_provider(form, plugin):
    obj = plugin(WidgetCoPlugin(), name="widgetco-test-3")
    form.refresh_button.click()
    form.provider.value = "widgetco"
    wk.unregister(obj)
    form.refresh_button.click()
    assert form.provider.value == "custom"
    assert "no longer registered" in form.provider_error.value


def test_sample_json_and_xml_with_positions(form):
    form.sample_format.value = "application/xml"
    form.sample_text.value = "<order id='1'><item>a</item><item>b</item></order>"
    shown = form.sample_json.value
    assert "&quot;@id&quot;" in shown and "&quot;item&quot;" in shown
    assert form.sample_error.value == ""
    form.sample_text.value = "<order>\n  <item>a</item>\n</ordr>"
    assert "line 3, column" in form.sample_error.value
    form.sample_format.value = "application/json"
    form.sample_text.value = '{"a": 1,\n "b": }'
    assert "invalid JSON" in form.sample_error.value and "line 2, column 7" in form.sample_error.value
    form.name.value = "S"
    assert form.errors().keys() == {"sample"}
    form.set_sample("text/xml", "<a>1</a>")
    assert form.sample_format.value == "application/xml"
    assert form.sample_error.value == "" and "&quot;a&quot;" in form.sample_json.value
    assert form.listener.sample == {"content_type": "application/xml", "body": "<a>1</a>"}


def test_sample_is_what_the_test_delivery_sends(form, server):
    fill_hmac(form)
    form.set_sample("application/xml", "<ping><n>1</n></ping>")
    url = form.generate_url()
    delivery = wk.send(form.listener, url=url)
    assert delivery.status == 200
    event = server.store.get(delivery.json()["event_id"])
    assert event.payload == {"ping": {"n": "1"}}


def test_use_a_received_event_as_sample(form, server):
    fill_hmac(form)
    url = form.generate_url()
    assert form.use_event_as_sample() is False
    assert "no received event" in form.sample_error.value
    wk.send(form.listener, {"real": "delivery"}, url=url)
    form.refresh_events()
    assert len(form.event_choice.options) == 1
    form.use_event_button.click()
    assert json.loads(form.sample_text.value) == {"real": "delivery"}
    assert form.sample_format.value == "application/json"


def test_export_masks_secrets_and_load_round_trips(form, server):
    fill_hmac(form, secret="topsecret")
    form.description.value = "d"
    form.set_sample("application/json", '{"n": 1}')
    form.export_button.click()
    masked = json.loads(form.config_text.value)
    assert masked["listeners"][0]["verification"]["secret"] == "********"
    assert "topsecret" not in form.config_text.value
    form.show_secrets.value = True
    form.export_button.click()
    full = json.loads(form.config_text.value)
    assert full["listeners"][0]["verification"]["secret"] == "topsecret"
    assert wk.load_config(full)[0].to_dict() == form.listener.to_dict()

    other = ListenerForm(server=server)
    try:
        other.config_text.value = json.dumps(full)
        other.load_button.click()
        assert other.config_error.value == ""
        assert other.listener.to_dict() == form.listener.to_dict()
        # a masked export loads with the secret left to type again
        assert other.load_config(masked)
        assert other.field("secret").input.value == ""
        assert other.errors() == {"verification.secret": "is required"}
        assert not other.load_config('{"listeners": [{"id": "x", "provider": "nope"}]}')
        assert "unknown provider" in other.config_error.value
        assert not other.load_config('{"listeners": [')
        assert "line 1" in other.config_error.value
    finally:
        other.close()


def test_env_reference_secret(form, server, monkeypatch):
    monkeypatch.setenv("FORM_TEST_SECRET", "from-env")
    fill_hmac(form, secret="env:FORM_TEST_SECRET")
    assert form.listener.verification["secret"] == {"env": "FORM_TEST_SECRET"}
    assert form.export_config()["listeners"][0]["verification"]["secret"] == {"env": "FORM_TEST_SECRET"}
    url = form.generate_url()
    assert wk.send(form.listener, {"a": 1}, url=url).status == 200
    other = ListenerForm(form.listener, server=server)
    try:
        assert other.field("secret").input.value == ""
        assert "FORM_TEST_SECRET" in other.field("secret").input.placeholder
        assert other.listener.verification["secret"] == {"env": "FORM_TEST_SECRET"}
    finally:
        other.close()


def test_the_form_starts_a_shared_server_when_given_none(tmp_path, monkeypatch):
    from webhook_kit.widgets import form as form_module
    monkeypatch.setenv("WEBHOOK_KIT_DB", str(tmp_path / "shared.db"))
    form_module.stop_shared_server()
    f = ListenerForm()
    try:
        f.name.value = "Shared"
        url = f.generate_url()
        assert url.startswith("http://127.0.0.1:") and url.endswith("/hooks/shared")
        assert f.server is form_module.shared_server()
        assert wk.send(f.listener, {"a": 1}, url=url).status == 200
    finally:
        f.close()
        form_module.stop_shared_server()


def test_id_placeholder_and_token_copy_affordance(form):
    form.name.value = "New orders!"
    assert form.listener_id.placeholder == "new-orders"
    assert form.listener.id == "new-orders"
    form.verification_type.value = "token"
    token_field = form.field("token")
    assert token_field.copy is not None and token_field.copy.value == ""
    token = token_field.new_token()
    assert "navigator.clipboard.writeText" in token_field.copy.value and token in token_field.copy.value
    form.verification_type.value = "hmac"
    assert form.field("secret").copy is None  # a chosen secret is not offered for copying


def _buttons(widget):
    if isinstance(widget, widgets.Button):
        yield widget
    for child in getattr(widget, "children", ()):
        yield from _buttons(child)


def test_playground_use_as_sample_fills_the_form(form, server):
    from webhook_kit.widgets import XmlJsonPlayground
    xml = "<order id='3'><item>a</item></order>"
    playground = XmlJsonPlayground(xml, form=form)
    try:
        [use] = [b for b in _buttons(playground) if b.description == "Use as sample data"]
        use.click()
        assert form.sample_format.value == "application/xml"
        assert form.sample_text.value == xml
        assert "&quot;@id&quot;: &quot;3&quot;" in form.sample_json.value
        fill_hmac(form)
        delivery = wk.send(form.listener, url=form.generate_url())
        assert server.store.get(delivery.json()["event_id"]).payload == {
            "order": {"@id": "3", "item": "a"}}
    finally:
        playground.close()


def test_every_registered_provider_gets_a_working_form(server):
    """Drawn only from declarations: each provider's form builds a listener or says why, inline."""
    from webhook_kit.widgets import EventInspector
    form = ListenerForm(server=server)
    sent = 0
    try:
        for label, name in form.provider.options:
            form.provider.value = name
            form.name.value = f"p-{name}"
            for field in form.fields.values():
                if field.setting.required and field.get() in (None, "") \
                        and field.setting.kind in ("secret", "text"):
                    field.input.value = "dummy-value-123"
            errors = form.errors()
            url = form.generate_url()
            if errors:
                assert url is None
                shown = [f.error.value for f in form.fields.values()] + [
                    form.general_error.value, form.type_error.value]
                assert any(html.escape(message) in text for message in errors.values()
                           for text in shown), name
                continue
            inspector = EventInspector(server, form.listener.id)
            try:
                delivery = inspector.send_test_delivery()
                message = inspector.message.value
            finally:
                inspector.close()
            if delivery is None:  # a dummy value the signer refuses (a whsec_ key, say): one line
                assert "not sent: " in message and "Traceback" not in message, name
                continue
            assert delivery.status < 300, (name, delivery)
            sent += 1
    finally:
        form.close()
    assert sent >= 1
