"""The SQLite event store: durability, the rejected ring, dedup, queries, reopening."""

from __future__ import annotations

import sqlite3
import threading

import pytest

import webhook_kit as wk
from webhook_kit.model import Event, new_event_id, utc_now_iso


def make_event(listener="l", status="accepted", delivery_id=None, body=b"{}", payload=None, **kw):
    return Event(id=new_event_id(), listener=listener, received_at=utc_now_iso(), status=status,
                 reason=None if status == "accepted" else "bad", method="POST",
                 path=f"/hooks/{listener}", query="", headers=[("Content-Type", "application/json")],
                 body=body, payload=payload, delivery_id=delivery_id, **kw)


def test_round_trip_and_reopen(db_path):
    store = wk.SQLiteStore(db_path)
    event = make_event(body=bytes(range(256)))
    assert store.add(event).result(10) == "accepted"
    store.close()
    store = wk.open_store(db_path)
    got = store.get(event.id)
    assert got.body == bytes(range(256))
    assert got.headers == [("Content-Type", "application/json")]
    assert got.to_dict()["body_encoding"] == "base64"
    store.close()


def test_wal_and_full_sync(db_path):
    store = wk.SQLiteStore(db_path)
    conn = store._connect()
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    conn.close()
    store.close()


def test_rejected_ring_is_bounded_per_listener(db_path):
    store = wk.SQLiteStore(db_path)
    futures = [store.add(make_event("a", "rejected"), keep=10) for _ in range(50)]
    futures += [store.add(make_event("b", "rejected"), keep=10) for _ in range(5)]
    futures += [store.add(make_event("a", "accepted")) for _ in range(20)]
    for f in futures:
        f.result(10)
    assert store.count(listener="a", status="rejected") == 10
    assert store.count(listener="b", status="rejected") == 5
    assert store.count(listener="a", status="accepted") == 20  # accepted ones are never trimmed
    newest = store.events(listener="a", status="rejected", limit=10)
    assert newest[0].seq > newest[-1].seq
    store.close()


def test_duplicate_delivery_id(db_path):
    store = wk.SQLiteStore(db_path)
    first = make_event(delivery_id="d-1")
    assert store.add(first).result(10) == "accepted"
    again = make_event(delivery_id="d-1")
    assert store.add(again).result(10) == "duplicate"
    assert store.get(again.id).status == "duplicate"
    other_listener = make_event("other", delivery_id="d-1")
    assert store.add(other_listener).result(10) == "accepted"
    store.close()


def test_many_writers_group_commit(db_path):
    store = wk.SQLiteStore(db_path)
    futures = []
    lock = threading.Lock()

    def writer():
        for _ in range(100):
            f = store.add(make_event())
            with lock:
                futures.append(f)

    threads = [threading.Thread(target=writer) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(f.result(30) == "accepted" for f in futures)
    assert store.count() == 400
    store.close()
    conn = sqlite3.connect(db_path)
    assert conn.execute("SELECT COUNT(*) FROM events").fetchone()[0] == 400


def test_one_bad_item_does_not_sink_its_batch(db_path):
    store = wk.SQLiteStore(db_path)
    event = make_event()
    store.add(event).result(10)
    clash = make_event()
    clash.id = event.id  # same primary id: an integrity error for this item only
    good = make_event()
    f_clash, f_good = store.add(clash), store.add(good)
    with pytest.raises(sqlite3.IntegrityError):
        f_clash.result(10)
    assert f_good.result(10) == "accepted"
    store.close()


def test_query_filters(db_path):
    store = wk.SQLiteStore(db_path)
    for status in ("accepted", "rejected", "accepted", "handshake"):
        store.add(make_event("q", status)).result(10)
    assert [e.status for e in store.events(listener="q", newest_first=False)] == [
        "accepted", "rejected", "accepted", "handshake"]
    assert len(store.events(status=["accepted", "handshake"])) == 3
    first = store.events(listener="q", newest_first=False, limit=1)[0]
    assert len(store.events(after_seq=first.seq)) == 3
    store.close()


def test_update_and_flow_runs(db_path):
    store = wk.SQLiteStore(db_path)
    event = make_event()
    store.add(event).result(10)
    store.update(event.id, output={"x": 1}).result(10)
    assert store.get(event.id).output == {"x": 1}
    store.record_flow_run({"event_id": event.id, "flow": "f", "outcome": "ok", "attempts": 2}).result(10)
    runs = store.flow_runs(event.id)
    assert runs[0]["flow"] == "f" and runs[0]["attempts"] == 2
    with pytest.raises(ValueError):
        store.update(event.id, body=b"no")
    store.close()


def test_closed_store_refuses_writes(db_path):
    store = wk.SQLiteStore(db_path)
    store.close()
    with pytest.raises(wk.StoreUnavailable):
        store.add(make_event()).result(1)


def test_open_store_by_scheme(db_path, plugin):
    store = wk.open_store(f"sqlite://{db_path}")
    assert isinstance(store, wk.SQLiteStore) and store.path == db_path
    store.close()
    with pytest.raises(ValueError, match="no event store for scheme"):
        wk.open_store("nosuch://x")

    class MemoryPlugin:
        @wk.hookimpl
        def register_stores(self):
            return {"mem": lambda location: wk.SQLiteStore(":memory:")}

    plugin(MemoryPlugin(), "mem-store")
    mem = wk.open_store("mem://anything")
    assert isinstance(mem, wk.SQLiteStore)
    mem.close()


def test_add_batch_one_transaction_each_future_its_own_answer(db_path):
    from concurrent.futures import Future
    store = wk.SQLiteStore(db_path)
    events = [make_event(delivery_id="same"), make_event(delivery_id="same"),
              make_event("r", "rejected"), make_event()]
    futures = [Future() for _ in events]
    store.add_batch([(e, 5 if e.status == "rejected" else None, f) for e, f in zip(events, futures)])
    assert [f.result(10) for f in futures] == ["accepted", "duplicate", "rejected", "accepted"]
    assert store.count() == 4
    clash = make_event()
    clash.id = events[0].id  # fails alone; the others in its group still commit
    good, bad_future, good_future = make_event(), Future(), Future()
    store.add_batch([(clash, None, bad_future), (good, None, good_future)])
    with pytest.raises(sqlite3.IntegrityError):
        bad_future.result(10)
    assert good_future.result(10) == "accepted"
    store.close()
