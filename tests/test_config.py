"""Listener config: the schema shared by to_dict/from_dict and the config file; clear errors."""

from __future__ import annotations

import json

import pytest

import webhook_kit as wk
from webhook_kit.listener import ConfigError, load_config, save_config


def test_round_trip_same_schema(tmp_path):
    listener = wk.Listener("orders", name="Orders", description="new orders",
                           verification={"type": "hmac", "algorithm": "sha1", "encoding": "base64",
                                         "secret": {"env": "ORDERS_SECRET"}, "header": "X-Sig"},
                           max_body_bytes=2048)
    d = listener.to_dict()
    assert d == {"id": "orders", "name": "Orders", "description": "new orders", "provider": "custom",
                 "verification": {"type": "hmac", "algorithm": "sha1", "encoding": "base64",
                                  "secret": {"env": "ORDERS_SECRET"}, "header": "X-Sig"},
                 "max_body_bytes": 2048}
    assert wk.Listener.from_dict(d) == listener
    path = tmp_path / "config.json"
    save_config([listener], path)
    assert load_config(path) == [listener]


def test_defaults():
    listener = wk.Listener.from_dict({"id": "x"})
    assert listener.provider == "custom" and listener.name == "x"
    assert listener.verification == {"type": "none"}
    assert listener.max_body_bytes == 10 * 1024 * 1024


def test_masked_export_keeps_env_refs():
    listener = wk.Listener("b", verification={"type": "basic", "username": "u", "password": "p4ss"})
    assert listener.to_dict(show_secrets=False)["verification"]["password"] == "********"
    assert listener.to_dict(show_secrets=False)["verification"]["username"] == "u"
    env = wk.Listener("h", verification={"type": "hmac", "secret": {"env": "S"}, "header": "X"})
    assert env.to_dict(show_secrets=False)["verification"]["secret"] == {"env": "S"}


@pytest.mark.parametrize("config,field", [
    ({"listeners": [{"name": "no id"}]}, "listeners[0].id"),
    ({"listeners": [{"id": "bad id!"}]}, "listeners[0].id"),
    ({"listeners": [{"id": "a", "provider": "nosuch"}]}, "listeners[0].provider"),
    ({"listeners": [{"id": "a", "verification": {"type": "magic"}}]}, "listeners[0].verification.type"),
    ({"listeners": [{"id": "a", "verification": {"type": "hmac", "header": "X"}}]},
     "listeners[0].verification.secret"),
    ({"listeners": [{"id": "a", "verification": {"type": "hmac", "secret": "s", "algorithm": "md5"}}]},
     "listeners[0].verification.algorithm"),
    ({"listeners": [{"id": "a", "verification": {"type": "hmac", "secret": 5}}]},
     "listeners[0].verification.secret"),
    ({"listeners": [{"id": "a", "max_body_bytes": "big"}]}, "listeners[0].max_body_bytes"),
    ({"listeners": [{"id": "a", "colour": "red"}]}, "listeners[0].colour"),
    ({"listeners": [{"id": "a"}, {"id": "a"}]}, "listeners[1].id"),
    ({"listeners": "nope"}, "listeners"),
    ({}, "listeners"),
])
def test_invalid_config_names_the_field(config, field):
    with pytest.raises(ConfigError) as info:
        load_config(config)
    assert info.value.field == field
    assert str(info.value).startswith(field)


def test_invalid_json_file(tmp_path):
    path = tmp_path / "c.json"
    path.write_text('{"listeners": [}')
    with pytest.raises(ConfigError, match="line 1, column 16"):
        load_config(path)
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "missing.json")


def test_listener_url_path_follows_secret_url_token():
    listener = wk.Listener("s", verification={"type": "secret_url", "token": "tok"})
    assert listener.path() == "/hooks/s/tok"
    listener.verification["token"] = "new"
    assert listener.path() == "/hooks/s/new"
    assert wk.Listener("p").path() == "/hooks/p"
