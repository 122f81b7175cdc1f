"""The plugin core: run-time registration, notifications, owners, loud failures."""

from __future__ import annotations

import threading

import pluggy
import pytest

import webhook_kit as wk
from webhook_kit import plugins
from webhook_kit.model import Verdict
from tests.providers.helpers import deliver


class Recorder:
    """A plugin that records every notification it receives."""

    def __init__(self):
        self.calls = []
        self.seen = threading.Event()

    @wk.hookimpl
    def event_recorded(self, event):
        self.calls.append(("recorded", event.status))

    @wk.hookimpl
    def event_accepted(self, event, listener):
        self.calls.append(("accepted", listener.id))
        self.seen.set()

    @wk.hookimpl
    def event_rejected(self, event, listener):
        self.calls.append(("rejected", event.reason))


def test_notifications_after_commit(server, plugin):
    recorder = plugin(Recorder(), "recorder")
    listener = server.add(wk.Listener("n", verification={"type": "hmac", "secret": "k", "header": "X-S"}))
    assert wk.send(listener, {"a": 1}, url=server.url_for(listener)).status == 200
    assert deliver(server, listener, b"{}", {"X-S": "00"}).status == 401
    server.dispatcher.wait_idle(10)
    assert ("recorded", "accepted") in recorder.calls
    assert ("accepted", "n") in recorder.calls
    assert ("rejected", "HMAC in X-S does not match") in recorder.calls


def test_failing_notification_plugin_does_not_touch_the_answer(server, plugin):
    class Broken:
        @wk.hookimpl
        def event_accepted(self, event):
            raise RuntimeError("plugin bug")

    plugin(Broken(), "broken")
    listener = server.add(wk.Listener("b"))
    assert deliver(server, listener, b"{}", {}).status == 200
    assert deliver(server, listener, b"{}", {}).status == 200
    server.dispatcher.wait_idle(10)


def test_verification_type_registered_at_run_time_used_by_running_server(server, plugin):
    class HeaderEquals(wk.VerificationType):
        name = "header_equals"
        label = "Header equals"
        settings = (wk.Setting("header", "Header", "text", "X-Key", required=True),
                    wk.Setting("value", "Value", "secret", required=True))

        def verify(self, request, settings, *, now=None):
            got = request.header(settings["header"])
            if got is not None and wk.secret_values.equal(got, settings["value"]):
                return Verdict.accept()
            return Verdict.reject(f"header {settings['header']} does not equal the value")

        def sign(self, request, settings, *, now=None):
            from webhook_kit.providers import with_header
            return with_header(request, settings["header"], settings["value"])

    class TypePlugin:
        @wk.hookimpl
        def register_verification_types(self):
            return [HeaderEquals()]

    with pytest.raises(wk.ConfigError):
        wk.Listener.from_dict({"id": "k", "verification": {"type": "header_equals", "value": "v"}})
    plugin(TypePlugin(), "header-equals")
    listener = server.add(wk.Listener.from_dict(
        {"id": "k", "verification": {"type": "header_equals", "value": "v"}}))
    assert wk.send(listener, {"a": 1}, url=server.url_for(listener)).status == 200
    assert deliver(server, listener, b"{}", {"X-Key": "nope"}).status == 401
    assert plugins.verification_types.owner("header_equals") == "header-equals"


def test_provider_registered_at_run_time_then_gone(server, plugin):
    class Echo(wk.HmacHeaderProvider):
        name = "echo-co"
        label = "Echo Co"
        header = "X-Echo-Signature"

    class EchoPlugin:
        @wk.hookimpl
        def register_providers(self):
            return [Echo()]

    name = wk.register(EchoPlugin(), name="echo-plugin")
    try:
        listener = server.add(wk.Listener("echo", provider="echo-co", verification={"secret": "s"}))
        assert wk.send(listener, {"x": 1}, url=server.url_for(listener)).status == 200
        assert plugins.providers.owner("echo-co") == "echo-plugin"
    finally:
        wk.unregister(name=name)
    assert plugins.providers.get("echo-co") is None
    # the listener still exists, its provider does not: a clear 503, never a 500
    assert deliver(server, listener, b"{}", {}).status == 503


def test_misspelled_hook_fails_loudly():
    class Typo:
        @wk.hookimpl
        def register_provider(self):  # missing "s"
            return []

    with pytest.raises(pluggy.PluginValidationError):
        wk.register(Typo(), name="typo")
    assert plugins.pm.get_plugin("typo") is None


def test_builtins_registered_like_outside_plugins():
    names = {plugins.pm.get_name(p) for p in plugins.pm.get_plugins()}
    assert {"webhook_kit.verification", "webhook_kit.parsers.builtin",
            "webhook_kit.providers.custom"} <= names
    assert plugins.providers.owner("custom") == "webhook_kit.providers.custom"
    assert plugins.parsers.owner("xml") == "webhook_kit.parsers.builtin"


def test_setting_kinds_are_checked():
    with pytest.raises(ValueError):
        wk.Setting("x", "X", "colour")
