"""The event store: an interface, and SQLite (stdlib, WAL) as the embedded default.

Every write goes through one writer thread that commits in groups: it takes
whatever arrived while the previous commit ran and commits it in one
transaction (no timer), with ``synchronous=FULL`` so a commit is on disk
before the caller's future resolves. The server sends a 2xx only after that.
A failing disk (full, read-only) fails the futures with :class:`StoreUnavailable`
and the next batch tries again, so service resumes on its own.

Other stores plug in through the ``register_stores`` hook and
:func:`open_store` picks one by the location's scheme.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import sqlite3
import threading
from concurrent.futures import Future
from pathlib import Path
from typing import Any, Callable, Iterable

from .hookspecs import hookimpl
from .model import Event

log = logging.getLogger("webhook_kit.store")


class StoreUnavailable(RuntimeError):
    """The store cannot write now (disk full, read-only, locked); senders should retry."""


class EventStore:
    """What the pipeline, CLI and widgets need from a store.

    ``add`` returns a future that resolves to the status actually stored
    (``duplicate`` when an accepted event with the same delivery id exists)
    once the event is durable.
    """

    def add(self, event: Event, *, keep: int | None = None) -> Future:
        raise NotImplementedError

    def update(self, event_id: str, **fields) -> Future:
        raise NotImplementedError

    def record_flow_run(self, run: dict) -> Future:
        raise NotImplementedError

    def get(self, event_id: str) -> Event | None:
        raise NotImplementedError

    def events(self, *, listener: str | None = None, status: str | Iterable[str] | None = None,
               limit: int | None = 100, after_seq: int | None = None,
               newest_first: bool = True) -> list[Event]:
        raise NotImplementedError

    def count(self, *, listener: str | None = None, status: str | None = None) -> int:
        raise NotImplementedError

    def flow_runs(self, event_id: str) -> list[dict]:
        raise NotImplementedError

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    listener TEXT NOT NULL,
    received_at TEXT NOT NULL,
    status TEXT NOT NULL,
    reason TEXT,
    method TEXT NOT NULL,
    path TEXT NOT NULL,
    query TEXT NOT NULL,
    url TEXT NOT NULL DEFAULT '',
    headers TEXT NOT NULL,
    body BLOB NOT NULL,
    content_type TEXT NOT NULL DEFAULT '',
    payload TEXT,
    delivery_id TEXT,
    redactions TEXT NOT NULL DEFAULT '[]',
    details TEXT NOT NULL DEFAULT '{}',
    output TEXT,
    transform_error TEXT,
    http_status INTEGER
);
CREATE INDEX IF NOT EXISTS events_by_listener ON events(listener, seq);
CREATE INDEX IF NOT EXISTS events_ring ON events(listener, status, seq);
CREATE UNIQUE INDEX IF NOT EXISTS events_dedup ON events(listener, delivery_id)
    WHERE status = 'accepted' AND delivery_id IS NOT NULL;
CREATE TABLE IF NOT EXISTS flow_runs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT NOT NULL,
    flow TEXT NOT NULL,
    outcome TEXT NOT NULL,
    error TEXT,
    attempts INTEGER NOT NULL DEFAULT 1,
    started_at TEXT,
    finished_at TEXT,
    detail TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS flow_runs_by_event ON flow_runs(event_id, seq);
"""

#: statuses kept only in a bounded ring per listener (anyone can send them)
RING_STATUSES = ("rejected", "handshake")

_COLUMNS = ("id", "listener", "received_at", "status", "reason", "method", "path", "query",
            "url", "headers", "body", "content_type", "payload", "delivery_id", "redactions",
            "details", "output", "transform_error", "http_status")
_JSON_COLUMNS = {"headers", "payload", "redactions", "details", "output"}


#: built once: ``json.dumps`` with options builds a new encoder on every call
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


#: events with a body larger than this are serialized in pieces, so that a
#: 1 MB payload does not hold the GIL (and so the event loop) all at once
LARGE_EVENT_BYTES = 64 * 1024


def _dumps(value: Any, chunked: bool = False) -> str:
    if chunked:
        # the pure-Python encoder yields pieces and other threads get the GIL
        # between them; the C one-shot encoder holds it for the whole value
        return "".join(_ENCODER.iterencode(value))
    return _ENCODER.encode(value)


def _event_row(event: Event, chunked: bool = False) -> tuple:
    """The values of ``_COLUMNS`` for ``event``, in that order."""
    payload, output = event.payload, event.output
    return (
        event.id, event.listener, event.received_at, event.status, event.reason, event.method,
        event.path, event.query, event.url, _dumps(event.headers), bytes(event.body),
        event.content_type, None if payload is None else _dumps(payload, chunked),
        event.delivery_id, _dumps(event.redactions),
        _dumps(event.details), None if output is None else _dumps(output, chunked),
        event.transform_error, event.http_status,
    )


def _row_event(row: sqlite3.Row) -> Event:
    d = {k: row[k] for k in row.keys()}
    for k in _JSON_COLUMNS:
        if d.get(k) is not None:
            d[k] = json.loads(d[k])
    d["headers"] = [tuple(p) for p in d["headers"]]
    d["body"] = bytes(d["body"])
    return Event(**d)


_ROW_PLACEHOLDERS = f"({', '.join('?' * len(_COLUMNS))})"
_INSERT = f"INSERT INTO events ({', '.join(_COLUMNS)}) VALUES {_ROW_PLACEHOLDERS}"
#: rows per multi-row INSERT (SQLite allows 32,766 parameters; 19 per row)
MULTI_ROWS = 256


def _trim_ring(conn: sqlite3.Connection, listener: str, status: str, keep: int) -> None:
    """Keep only the newest ``keep`` events of this listener and status."""
    conn.execute(
        "DELETE FROM events WHERE listener = ? AND status = ? AND seq <= "
        "(SELECT seq FROM events WHERE listener = ? AND status = ? "
        " ORDER BY seq DESC LIMIT 1 OFFSET ?)",
        (listener, status, listener, status, keep))


class SQLiteStore(EventStore):
    """Events in one SQLite file (WAL, synchronous=FULL), written by one thread."""

    def __init__(self, path: str | os.PathLike = "webhook_kit.db", *, synchronous: str = "FULL"):
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).expanduser().parent.mkdir(parents=True, exist_ok=True)
        self.synchronous = synchronous
        self._queue: "queue.Queue[tuple[Callable, Future, bool] | None]" = queue.Queue()
        self._local = threading.local()
        self._closed = False
        self._write_conn: sqlite3.Connection | None = None
        conn = self._connect()
        try:
            with conn:
                conn.executescript(SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise StoreUnavailable(f"cannot open event store {self.path}: {exc}") from None
        finally:
            conn.close()
        self._writer = threading.Thread(target=self._write_loop, name="webhook-kit-store",
                                        daemon=True)
        self._writer.start()

    # -- connections -------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=30, check_same_thread=False,
                               isolation_level=None)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(f"PRAGMA synchronous={self.synchronous}")
        conn.execute("PRAGMA busy_timeout=30000")
        return conn

    def _reader(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = self._connect()
        return conn

    # -- the writer thread -------------------------------------------------

    def _submit(self, fn: Callable[[sqlite3.Connection], Any], *, atomic: bool = False) -> Future:
        """Queue ``fn(conn)`` for the writer; the future resolves once it is committed.

        ``atomic=True`` says that ``fn`` leaves no change behind when it raises
        (one statement, or a retry after a failed one), so it needs no savepoint
        of its own: three fewer statements per event on the hot path.
        """
        future: Future = Future()
        if self._closed:
            future.set_exception(StoreUnavailable("event store is closed"))
            return future
        self._queue.put((fn, future, atomic))
        return future

    def _submit_many(self, items: list) -> None:
        """Queue several ``(fn, future, atomic)`` as one entry: they share one transaction."""
        if self._closed:
            for _, future, _ in items:
                future.set_exception(StoreUnavailable("event store is closed"))
            return
        self._queue.put(items)

    def _write_loop(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                break
            batch = list(item) if isinstance(item, list) else [item]
            stop = False
            # group commit: everything that queued up while the last commit ran
            while len(batch) < 512:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    stop = True
                    break
                if isinstance(nxt, list):  # a group handed over by add_batch
                    batch.extend(nxt)
                else:
                    batch.append(nxt)
            self._write_batch(batch)
            if stop:
                break
        if self._write_conn is not None:
            self._write_conn.close()

    def _write_batch(self, batch: list) -> None:
        results: list[tuple[Future, Any, BaseException | None]] = []
        try:
            if self._write_conn is None:
                self._write_conn = self._connect()
            conn = self._write_conn
            conn.execute("BEGIN IMMEDIATE")
            i = 0
            while i < len(batch):
                # a run of plain event inserts goes in as one multi-row INSERT: one
                # statement, so the writer gives up the GIL once, not once per row
                j = i
                while j < len(batch) and j - i < MULTI_ROWS and \
                        getattr(batch[j][0], "row", None) is not None:
                    j += 1
                if j - i > 1 and self._insert_many(conn, batch[i:j], results):
                    i = j
                    continue
                fn, future, atomic = batch[i]
                i += 1
                if not atomic:
                    conn.execute("SAVEPOINT item")
                try:
                    value = fn(conn)
                except sqlite3.OperationalError:
                    raise  # disk full, read-only, I/O: the whole batch fails below
                except Exception as exc:  # one bad item must not sink the others
                    if not atomic:
                        conn.execute("ROLLBACK TO item")
                        conn.execute("RELEASE item")
                    results.append((future, None, exc))
                    continue
                if not atomic:
                    conn.execute("RELEASE item")
                results.append((future, value, None))
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            log.warning("event store write failed: %s", exc)
            try:
                if self._write_conn is not None:
                    self._write_conn.close()
            except sqlite3.Error:
                pass
            self._write_conn = None  # reopen next time: the file may be writable again
            error = StoreUnavailable(f"event store cannot write: {exc}")
            for _, future, _ in batch:
                if not future.done():
                    future.set_exception(error)
            return
        for future, value, exc in results:
            if exc is not None:
                future.set_exception(exc)
            else:
                future.set_result(value)

    def _insert_many(self, conn: sqlite3.Connection, items: list, results: list) -> bool:
        """Insert the events of ``items`` with one statement; False (nothing left behind)
        when one of them clashes, so that the caller inserts them one by one."""
        conn.execute("SAVEPOINT many")
        try:
            sql = _INSERT + (", " + _ROW_PLACEHOLDERS) * (len(items) - 1)
            cur = conn.execute(sql, [value for fn, _, _ in items for value in fn.row])
        except sqlite3.IntegrityError:  # a duplicate delivery id or event id among them
            conn.execute("ROLLBACK TO many")
            conn.execute("RELEASE many")
            return False
        # one writer, AUTOINCREMENT: the rows got consecutive seqs ending at lastrowid
        first = cur.lastrowid - len(items) + 1
        rings = set()
        for n, (fn, future, _) in enumerate(items):
            event = fn.event
            event.seq = first + n
            if event.status in RING_STATUSES and fn.keep:
                rings.add((event.listener, event.status, fn.keep))
            results.append((future, event.status, None))
        for ring in rings:
            _trim_ring(conn, *ring)
        conn.execute("RELEASE many")
        return True

    # -- writes ------------------------------------------------------------

    def add(self, event: Event, *, keep: int | None = None) -> Future:
        # a failed INSERT leaves nothing behind and the ring DELETE comes last
        return self._submit(self._insert_fn(event, keep), atomic=True)

    def add_batch(self, items: list[tuple[Event, int | None, Future]]) -> None:
        """Add several events in one transaction; each ``Future`` resolves as ``add``'s would.

        The server hands over every delivery that one turn of its event loop
        prepared, so a burst commits once instead of once per delivery.
        """
        self._submit_many([(self._insert_fn(event, keep), future, True)
                           for event, keep, future in items])

    def _insert_fn(self, event: Event, keep: int | None) -> Callable[[sqlite3.Connection], str]:
        # serialized by the caller, never by the writer, so that one large event
        # does not hold up the commits of the small ones queued behind it (the
        # server calls this from its large-body thread for large bodies)
        row = _event_row(event, chunked=len(event.body) > LARGE_EVENT_BYTES)

        def insert(conn: sqlite3.Connection) -> str:
            status = event.status
            try:
                cur = conn.execute(_INSERT, row)
            except sqlite3.IntegrityError:
                if status != "accepted" or not event.delivery_id:
                    raise
                # a redelivery of an accepted delivery id: kept, marked duplicate
                status = event.status = "duplicate"
                fixed = list(row)
                fixed[_COLUMNS.index("status")] = status
                cur = conn.execute(_INSERT, fixed)
            event.seq = cur.lastrowid
            if status in RING_STATUSES and keep:
                _trim_ring(conn, event.listener, status, keep)
            return status

        # what _write_batch needs to fold this insert into a multi-row one
        insert.row, insert.event, insert.keep = row, event, keep
        return insert

    def update(self, event_id: str, **fields) -> Future:
        allowed = {"status", "reason", "payload", "output", "transform_error", "details",
                   "http_status"}
        bad = set(fields) - allowed
        if bad:
            raise ValueError(f"cannot update {', '.join(sorted(bad))}")
        values = [(_dumps(v) if (k in _JSON_COLUMNS and v is not None) else v)
                  for k, v in fields.items()]
        sql = f"UPDATE events SET {', '.join(f'{k} = ?' for k in fields)} WHERE id = ?"
        return self._submit(lambda conn: conn.execute(sql, (*values, event_id)).rowcount, atomic=True)

    def record_flow_run(self, run: dict) -> Future:
        row = (run["event_id"], run["flow"], run["outcome"], run.get("error"),
               int(run.get("attempts", 1)), run.get("started_at"), run.get("finished_at"),
               _dumps(run.get("detail", {})))
        return self._submit(lambda conn: conn.execute(
            "INSERT INTO flow_runs (event_id, flow, outcome, error, attempts, started_at, "
            "finished_at, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", row).lastrowid, atomic=True)

    def flush(self, timeout: float = 30) -> None:
        """Wait until every write queued so far is committed."""
        self._submit(lambda conn: None).result(timeout)

    # -- reads -------------------------------------------------------------

    def get(self, event_id: str) -> Event | None:
        row = self._reader().execute("SELECT * FROM events WHERE id = ?", (event_id,)).fetchone()
        return _row_event(row) if row else None

    def events(self, *, listener=None, status=None, limit=100, after_seq=None,
               newest_first=True) -> list[Event]:
        where, args = [], []
        if listener:
            where.append("listener = ?")
            args.append(listener)
        if status:
            statuses = [status] if isinstance(status, str) else list(status)
            where.append(f"status IN ({', '.join('?' * len(statuses))})")
            args.extend(statuses)
        if after_seq is not None:
            where.append("seq > ?")
            args.append(after_seq)
        sql = "SELECT * FROM events"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY seq " + ("DESC" if newest_first else "ASC")
        if limit:
            sql += " LIMIT ?"
            args.append(int(limit))
        return [_row_event(r) for r in self._reader().execute(sql, args)]

    def count(self, *, listener=None, status=None) -> int:
        where, args = [], []
        if listener:
            where.append("listener = ?")
            args.append(listener)
        if status:
            where.append("status = ?")
            args.append(status)
        sql = "SELECT COUNT(*) FROM events" + (" WHERE " + " AND ".join(where) if where else "")
        return self._reader().execute(sql, args).fetchone()[0]

    def flow_runs(self, event_id: str) -> list[dict]:
        rows = self._reader().execute(
            "SELECT * FROM flow_runs WHERE event_id = ? ORDER BY seq", (event_id,)).fetchall()
        out = []
        for r in rows:
            d = {k: r[k] for k in r.keys()}
            d["detail"] = json.loads(d["detail"])
            out.append(d)
        return out

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._queue.put(None)
        self._writer.join(timeout=30)
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None


def open_store(location: str | os.PathLike | EventStore | None = None) -> EventStore:
    """An event store for ``location``: a path, ``sqlite:///path``, or ``scheme:...`` of a plugin."""
    if isinstance(location, EventStore):
        return location
    location = str(location or os.environ.get("WEBHOOK_KIT_DB") or "webhook_kit.db")
    scheme, sep, rest = location.partition("://")
    if not sep or len(scheme) < 2:  # a plain path (or a Windows drive letter)
        return SQLiteStore(location)
    from .plugins import stores
    factory = stores.get(scheme)
    if factory is None:
        raise ValueError(f"no event store for scheme {scheme!r} (known: {', '.join(stores.names())})")
    return factory[1](location)


def _open_sqlite(location: str) -> SQLiteStore:
    return SQLiteStore(location.partition("://")[2] or "webhook_kit.db")


@hookimpl
def register_stores():
    return {"sqlite": _open_sqlite}
