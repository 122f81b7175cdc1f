"""Replay and dry run: verification, transforms and flows again on stored events (1,000 of them)."""

from __future__ import annotations

import json

import pytest

import webhook_kit as wk
from webhook_kit.cli import main
from webhook_kit.pipeline import Pipeline
from webhook_kit.replay import diff, replay

SECRET, OLD_SECRET = "current-secret", "old-secret"
N = 1000


def hmac_listener(**fields) -> wk.Listener:
    return wk.Listener("orders", verification={"type": "hmac", "algorithm": "sha256", "encoding": "hex",
                                               "secret": SECRET, "header": "X-Signature"}, **fields)


def store_deliveries(store, listener, bodies, *, secret=None):
    """Sign each body (with ``secret`` instead of the listener's, if given) and store it
    through the pipeline's own stages, committing in groups (fast)."""
    signer = listener.copy()
    if secret:
        signer.verification = {**signer.verification, "secret": secret}
    pipeline = Pipeline(store)
    pending = []
    for body in bodies:
        request = wk.sign_delivery(signer, body, url=f"http://127.0.0.1:1/hooks/{listener.id}")
        prepared = pipeline.prepare(request, listener)
        keep = listener.keep_rejected if prepared.ring else None
        pending.append((prepared.event, store.add(prepared.event, keep=keep)))
    for event, future in pending:
        future.result(60)
    return [event for event, _ in pending]


@pytest.fixture
def store(db_path):
    with wk.open_store(db_path) as s:
        yield s


@pytest.fixture
def history(store):
    """1,000 accepted orders stored under the first rule set."""
    listener = hmac_listener(transforms=[{"extract": "payload.id", "generate": "id"}])
    events = store_deliveries(store, listener, [{"id": str(n), "total": f"{n}.50"} for n in range(N)])
    assert store.count(listener="orders", status="accepted") == N
    return listener, events


def edited(listener, **fields):
    copy = listener.copy()
    for key, value in fields.items():
        setattr(copy, key, value)
    copy.validate()
    return copy


def test_dry_run_over_1000_events_reports_each_change_and_saves_nothing(store, history, tmp_path):
    listener, events = history
    log = tmp_path / "flows.jsonl"
    new_rules = edited(listener, transforms=[
        {"extract": "payload.id", "generate": "id", "type": "integer"},
        {"extract": "payload.total", "generate": "total", "type": "number"}],
        flows=[{"name": "log", "action": {"type": "jsonl", "path": str(log)}}])
    ticks = []
    report = replay(store, new_rules, dry_run=True, progress=lambda done, total: ticks.append((done, total)))
    assert len(report) == N and report.dry_run
    assert ticks[0] == (1, N) and ticks[-1] == (N, N) and len(ticks) == N
    first = report.results[0]
    assert first.event_id == events[0].id  # oldest first
    assert [str(c) for c in first.changes] == ['~id: "0" -> 0', "+total = 0.5"]
    assert all(len(r.changes) == 2 and r.verification == "ok" for r in report)
    assert report.counts()["changed"] == N
    assert report.summary().startswith(f"dry run: {N} event(s), {N} would change")
    # nothing saved, no flow ran
    assert store.get(events[0].id).output == {"id": "0"}
    assert store.get(events[-1].id).output == {"id": str(N - 1)}
    assert not log.exists() and store.flow_runs(events[0].id) == []


def test_replay_over_1000_events_saves_outputs_and_runs_flows(store, history, tmp_path):
    listener, events = history
    log = tmp_path / "flows.jsonl"
    new_rules = edited(listener, transforms=[{"extract": "payload.total", "generate": "total",
                                              "type": "number"}],
                       flows=[{"name": "log", "if": "output.total > `900`",
                               "action": {"type": "jsonl", "path": str(log), "record": "output"}}])
    report = replay(store, new_rules)
    assert len(report) == N and report.counts()["changed"] == N
    assert store.get(events[5].id).output == {"total": 5.5}
    assert store.get(events[5].id).transform_error is None
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert sorted(line["total"] for line in lines) == [n + 0.5 for n in range(900, N)]
    runs = store.flow_runs(events[950].id)
    assert [(r["flow"], r["outcome"], r["detail"]["origin"]) for r in runs] == [("log", "ok", "replay")]
    assert store.flow_runs(events[3].id)[0]["outcome"] == "skipped"
    # the same rules again: nothing changes any more
    assert replay(store, new_rules, dry_run=True).counts()["changed"] == 0


def test_edited_settings_accept_what_a_rotated_secret_rejected(store, tmp_path):
    listener = hmac_listener(transforms=[{"extract": "payload.n", "generate": "n"}])
    good = store_deliveries(store, listener, [{"n": n} for n in range(5)])
    old = store_deliveries(store, listener, [{"n": n} for n in range(5, 10)], secret=OLD_SECRET)
    assert {e.status for e in old} == {"rejected"} and old[0].output is None
    # a dry run with the old secret back in rotation: would be accepted, nothing saved yet
    rotation = {**listener.verification, "secret": [SECRET, OLD_SECRET]}
    preview = replay(store, listener, ids=[e.id for e in old], settings=rotation, dry_run=True)
    assert [(r.status_before, r.status_after, r.verification) for r in preview] == [
        ("rejected", "accepted", "ok")] * 5
    assert preview.results[0].output_after == {"n": 5}
    assert store.get(old[0].id).status == "rejected"
    # for real, with a flow
    calls = []
    with_flow = edited(listener, flows=[{"name": "py", "action": {"type": "python",
                                                                  "function": lambda output: calls.append(output)}}])
    report = replay(store, with_flow, settings=rotation)
    assert report.counts()["accepted"] == 10 and report.counts()["rejected"] == 0
    stored = store.get(old[2].id)
    assert (stored.status, stored.reason, stored.output) == ("accepted", None, {"n": 7})
    assert sorted(c["n"] for c in calls) == list(range(10))
    # with the current settings only, the old ones are judged rejected again
    again = replay(store, listener, ids=[old[0].id, good[0].id], dry_run=True)
    assert [r.status_after for r in again] == ["rejected", "accepted"]
    assert again.results[0].verification.startswith("failed: ")


def test_an_event_that_fails_under_edited_settings_is_saved_as_rejected(store):
    listener = hmac_listener()
    [event] = store_deliveries(store, listener, [{"n": 1}])
    other = edited(listener, verification={**listener.verification, "secret": "another"})
    [result] = replay(store, other, ids=event.id)
    assert result.status_after == "rejected" and result.verification.startswith("failed: ")
    stored = store.get(event.id)
    assert stored.status == "rejected"
    assert stored.reason == result.verification.removeprefix("failed: ")


def test_redacted_credentials_cannot_be_verified_again(store):
    listener = wk.Listener("b", verification={"type": "basic", "username": "u", "password": "p"},
                           transforms=[{"extract": "payload.a", "generate": "a"}])
    [event] = store_deliveries(store, listener, [{"a": 1}])
    assert event.redactions == ["header:Authorization"]
    [result] = replay(store, edited(listener, transforms=[{"extract": "payload.a", "generate": "b"}]))
    assert result.verification.startswith("unverifiable: credentials were redacted")
    assert result.status_after == "accepted"
    assert store.get(event.id).output == {"b": 1}


def test_duplicates_and_other_listeners_are_left_alone(store):
    listener = hmac_listener()
    [event] = store_deliveries(store, listener, [{"n": 1}])
    store.update(event.id, status="duplicate").result(10)
    [result] = replay(store, listener, ids=[event.id])
    assert result.note == "not replayed: duplicate" and not result.saved
    assert len(replay(store, listener)) == 0  # only accepted and rejected by default
    other = wk.Listener("other")
    with pytest.raises(LookupError, match="belongs to listener 'orders'"):
        replay(store, other, ids=[event.id])
    with pytest.raises(LookupError, match="no event evt_nope"):
        replay(store, listener, ids=["evt_nope"])


def test_diff_names_paths():
    before = {"a": 1, "b": {"c": "x", "d": [1]}, "gone": True}
    after = {"a": 1.0, "b": {"c": "y", "d": [1]}, "new": None}
    assert [str(c) for c in diff(before, after)] == [
        "~a: 1 -> 1.0", '~b.c: "x" -> "y"', "-gone (was true)", "+new = null"]
    assert diff(None, {"a": 1})[0].path == "(output)"


# -- the CLI -----------------------------------------------------------------------

@pytest.fixture
def config(tmp_path):
    path = tmp_path / "config.json"
    listener = hmac_listener(transforms=[{"extract": "payload.id", "generate": "id", "type": "integer"}])
    wk.save_config([listener, wk.Listener("other")], path)
    return str(path)


def test_cli_dry_run_and_replay(store, history, config, db_path, capsys):
    assert main(["replay", config, "--db", db_path, "--listener", "orders", "--dry-run", "--limit", "3"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 4
    assert out[0].startswith(history[1][0].id) and out[0].endswith('output: ~id: "0" -> 0')
    assert out[-1] == "dry run: 3 event(s), 3 would change; 3 accepted, 0 rejected, 0 with transform errors"
    assert store.get(history[1][0].id).output == {"id": "0"}
    target = history[1][10].id
    assert main(["replay", config, "--db", db_path, "--id", target, "--no-flows"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-1].startswith("1 event(s), 1 changed")
    assert store.get(target).output == {"id": 10}


def test_cli_errors_are_one_line(store, history, config, db_path, capsys):
    assert main(["replay", config, "--db", db_path, "--listener", "orders", "--id", "evt_missing"]) == 1
    assert capsys.readouterr().err == "webhook-kit: no event evt_missing\n"
    assert main(["replay", config, "--db", db_path, "--listener", "nope"]) == 2
    assert capsys.readouterr().err.startswith("webhook-kit: no listener 'nope'")
    assert main(["replay", config, "--db", db_path]) == 2
    assert "--listener is needed" in capsys.readouterr().err
