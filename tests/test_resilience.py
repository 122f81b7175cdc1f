"""Resilience: hostile floods, SIGKILL mid-load, a full disk, a read-only database.

Everything runs for real: loopback HTTP against the real server (in a thread,
or ``webhook-kit serve`` as a subprocess), a real SQLite file, a real small
filesystem (tmpfs) that really fills up, and a database file that the kernel
really refuses to write (``chattr +i``, which stops root too, unlike chmod).
The full-disk and read-only tests need root, ``mount`` and ``chattr``; they
are skipped where those are missing.

The long soak (10 minutes, RSS sampled) is ``benchmarks/soak.py``; the short
version here is marked slow.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import os
import shutil
import sqlite3
import subprocess
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

import webhook_kit as wk
from tests.serve_process import serving

SECRET = "resilience-secret"
HMAC_SETTINGS = {"type": "hmac", "algorithm": "sha256", "encoding": "hex", "secret": SECRET,
                 "header": "X-Signature"}


def signed(body: bytes) -> dict:
    return {"Content-Type": "application/json",
            "X-Signature": hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()}


class Sender:
    """One keep-alive loopback connection posting raw bytes (reconnects after a close)."""

    def __init__(self, base_url: str, timeout: float = 30):
        parts = urlsplit(base_url)
        self.host, self.port, self.timeout = parts.hostname, parts.port, timeout
        self.conn: http.client.HTTPConnection | None = None

    def post(self, path: str, body: bytes, headers: dict) -> tuple[int, bytes]:
        reused = self.conn is not None
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        try:
            self.conn.request("POST", path, body=body, headers=headers)
            response = self.conn.getresponse()
            data = response.read()
        except (ConnectionError, http.client.RemoteDisconnected):
            self.close()
            if reused:  # the server may close a kept-alive connection: once more, afresh
                return self.post(path, body, headers)
            raise
        except Exception:
            self.close()
            raise
        if response.getheader("Connection", "").lower() == "close":
            self.close()
        return response.status, data

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def used_bytes(db: str) -> int:
    """Bytes of the database file in use by data (free pages excluded), after a checkpoint."""
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        pages, free, size = (conn.execute(f"PRAGMA {p}").fetchone()[0]
                             for p in ("page_count", "freelist_count", "page_size"))
    return (pages - free) * size


def files_bytes(db: str) -> int:
    return sum(os.path.getsize(p) for p in (db, db + "-wal") if os.path.exists(p))


# -- a flood of rejected requests ------------------------------------------------

def test_rejected_flood_keeps_storage_bounded(server, db_path):
    """Bad signatures are kept in a ring per listener: the database stops growing."""
    keep = 25
    for lid in ("ring-a", "ring-b"):
        server.add(wk.Listener(lid, verification=HMAC_SETTINGS, keep_rejected=keep))
    sender = Sender(server.base_url)
    body = json.dumps({"junk": "x" * 900}).encode()
    bad = {"Content-Type": "application/json", "X-Signature": "0" * 64}

    def flood(n: int) -> None:
        for i in range(n):
            status, _ = sender.post(f"/hooks/ring-{'ab'[i % 2]}", body, bad)
            assert status == 401
        server.store.flush()

    sizes = []
    for _ in range(3):
        flood(300)
        sizes.append((used_bytes(db_path), files_bytes(db_path)))
    # per listener, only the newest `keep` rejected events remain
    for lid in ("ring-a", "ring-b"):
        assert server.store.count(listener=lid, status="rejected") == keep
    # the third flood adds nothing: freed pages are reused, the files stay as they were
    assert sizes[2][0] <= sizes[1][0] + 8192, sizes
    assert sizes[2][1] <= sizes[1][1] + 8192, sizes

    # a good delivery still goes through, and is never pushed out by the ring
    good = json.dumps({"order": 1}).encode()
    status, answer = sender.post("/hooks/ring-a", good, signed(good))
    assert status == 200
    flood(100)
    assert server.store.get(json.loads(answer)["event_id"]).status == "accepted"

    # unknown listeners are answered 404 and store nothing at all
    before = server.store.count()
    for _ in range(100):
        assert sender.post("/hooks/no-such-listener", body, bad)[0] == 404
    server.store.flush()
    assert server.store.count() == before
    sender.close()


# -- SIGKILL during load -----------------------------------------------------------

def test_sigkill_during_load_loses_no_acknowledged_delivery(tmp_path):
    """kill -9 mid-load; every event_id answered 200 is in the SQLite file afterwards."""
    config = tmp_path / "listeners.json"
    config.write_text(json.dumps({"listeners": [
        {"id": "orders", "provider": "custom", "verification": HMAC_SETTINGS}]}))
    db = tmp_path / "events.db"
    acknowledged: list[str] = []
    failures: list[str] = []
    stop = threading.Event()

    with serving(config, db) as served:
        def client(n: int) -> None:
            sender = Sender(served.base_url, timeout=10)
            i = 0
            while not stop.is_set():
                i += 1
                body = json.dumps({"client": n, "seq": i, "pad": "p" * 200}).encode()
                try:
                    status, answer = sender.post("/hooks/orders", body, signed(body))
                except (OSError, http.client.HTTPException):
                    if stop.is_set():
                        return
                    time.sleep(0.01)  # the server is gone or going: keep trying until told
                    continue
                if status == 200:
                    acknowledged.append(json.loads(answer)["event_id"])
                else:
                    failures.append(f"{status} {answer[:100]!r}")
            sender.close()

        threads = [threading.Thread(target=client, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 30
        while len(acknowledged) < 300 and time.monotonic() < deadline:
            time.sleep(0.05)
        served.process.kill()  # SIGKILL: no shutdown, no final commit, no flush
        served.process.wait(10)
        killed_at = len(acknowledged)
        time.sleep(0.3)  # clients see the resets
        stop.set()
        for t in threads:
            t.join(15)

    assert not failures, failures[:5]
    assert killed_at >= 100, f"only {killed_at} deliveries acknowledged before the kill"
    # a fresh process opens the file (WAL recovery) and finds every acknowledged id
    with sqlite3.connect(db) as conn:
        stored = {row[0] for row in conn.execute(
            "SELECT id FROM events WHERE listener = 'orders' AND status = 'accepted'")}
    missing = set(acknowledged) - stored
    assert not missing, f"{len(missing)} of {len(acknowledged)} acknowledged deliveries lost"
    # and the kit itself reopens the same file and serves it
    with wk.SQLiteStore(str(db)) as store:
        assert store.count(listener="orders", status="accepted") == len(stored)


# -- a full disk, a read-only database -------------------------------------------

def _can(tool: str) -> bool:
    return os.geteuid() == 0 and shutil.which(tool) is not None


@pytest.fixture
def small_disk(tmp_path):
    """A real 2 MB tmpfs mounted for the test (root only), unmounted after."""
    if not _can("mount"):
        pytest.skip("needs root and mount for a real small filesystem")
    mount_point = tmp_path / "small"
    mount_point.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount_point)],
                          capture_output=True, text=True)
    if done.returncode:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], capture_output=True)


def fill(directory: Path) -> Path:
    """Write a file until the filesystem is full (ENOSPC), and return it."""
    filler = directory / "filler"
    chunk = b"\0" * 4096
    with open(filler, "wb", buffering=0) as f:
        try:
            while True:
                f.write(chunk)
        except OSError:
            pass
    with open(filler, "ab", buffering=0) as f:  # the last few bytes too
        try:
            while True:
                f.write(b"\0")
        except OSError:
            pass
    return filler


def deliver_until(sender: Sender, want: int, *, tries: int, results: list, pause: float = 0.05):
    """Deliver fresh signed bodies until one is answered ``want``; every answer goes to results."""
    for i in range(tries):
        body = json.dumps({"n": len(results), "pad": "d" * 2000}).encode()
        status, answer = sender.post("/hooks/orders", body, signed(body))
        results.append((status, answer))
        if status == want:
            return True
        time.sleep(pause)
    return False


def check_answers(results: list, store: wk.EventStore) -> None:
    """Only 200 or 503; every 200 stored; 503 always says to retry."""
    statuses = {status for status, _ in results}
    assert statuses <= {200, 503}, statuses
    for status, answer in results:
        if status == 200:
            assert store.get(json.loads(answer)["event_id"]) is not None
        else:
            assert json.loads(answer)["error"].startswith("event store")


def test_full_disk_answers_503_then_resumes_on_its_own(small_disk):
    db = small_disk / "events.db"
    server = wk.Server([wk.Listener("orders", verification=HMAC_SETTINGS)], store=str(db),
                       port=0).start()
    sender = Sender(server.base_url)
    results: list = []
    try:
        assert deliver_until(sender, 200, tries=1, results=results)
        filler = fill(small_disk)
        assert deliver_until(sender, 503, tries=400, results=results, pause=0), \
            "the disk never filled up"
        # still full: still 503, with Retry-After, and nothing half-stored
        refused_before = server.store.count(status="accepted")
        assert not deliver_until(sender, 200, tries=5, results=results)
        filler.unlink()
        # no restart, no intervention: the next deliveries are stored again
        assert deliver_until(sender, 200, tries=50, results=results, pause=0.1)
        check_answers(results, server.store)
        assert server.store.count(status="accepted") == refused_before + 1
        accepted = sum(1 for status, _ in results if status == 200)
        assert server.store.count(status="accepted") == accepted
    finally:
        sender.close()
        server.stop()


def test_read_only_database_answers_503_then_resumes(tmp_path):
    if not _can("chattr"):
        pytest.skip("needs root and chattr")
    db = tmp_path / "events.db"
    server = wk.Server([wk.Listener("orders", verification=HMAC_SETTINGS)], store=str(db),
                       port=0).start()
    sender = Sender(server.base_url)
    results: list = []
    # the database and its WAL become immutable: the kernel refuses every write, root's too
    # (the -shm index is left alone: it is memory-mapped, and no disk makes it read-only alone)
    locked = [str(db), str(db) + "-wal"]
    try:
        assert deliver_until(sender, 200, tries=1, results=results)
        done = subprocess.run(["chattr", "+i", *locked], capture_output=True, text=True)
        if done.returncode:
            pytest.skip(f"chattr +i not supported here: {done.stderr.strip()}")
        assert deliver_until(sender, 503, tries=1, results=results)
        assert not deliver_until(sender, 200, tries=5, results=results)
        # a rejected delivery is not stored either, and is not answered 500
        status, _ = sender.post("/hooks/orders", b"{}", {"X-Signature": "0" * 64,
                                                         "Content-Type": "application/json"})
        assert status in (401, 503)
        subprocess.run(["chattr", "-i", *locked], check=True)
        assert deliver_until(sender, 200, tries=50, results=results, pause=0.1)
        check_answers(results, server.store)
        accepted = sum(1 for status, _ in results if status == 200)
        assert server.store.count(status="accepted") == accepted
    finally:
        subprocess.run(["chattr", "-i", *locked], capture_output=True)
        sender.close()
        server.stop()


def test_503_carries_retry_after(small_disk):
    """Senders that honour Retry-After come back later instead of dropping the delivery."""
    db = small_disk / "events.db"
    server = wk.Server([wk.Listener("orders", verification=HMAC_SETTINGS)], store=str(db),
                       port=0).start()
    try:
        fill(small_disk)
        for _ in range(400):
            body = json.dumps({"pad": "r" * 2000}).encode()
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
            conn.request("POST", "/hooks/orders", body=body, headers=signed(body))
            response = conn.getresponse()
            response.read()
            conn.close()
            if response.status == 503:
                assert int(response.getheader("Retry-After")) > 0
                break
            assert response.status == 200
        else:
            pytest.fail("the disk never filled up")
    finally:
        server.stop()


# -- a short soak ------------------------------------------------------------------

def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc")
def test_short_soak_keeps_memory_flat(tmp_path):
    """20 s at a steady rate: RSS after warm-up does not keep climbing."""
    config = tmp_path / "listeners.json"
    config.write_text(json.dumps({"listeners": [
        {"id": "orders", "provider": "custom", "verification": HMAC_SETTINGS}]}))
    with serving(config, tmp_path / "events.db") as served:
        sender = Sender(served.base_url)
        samples, started, sent = [], time.monotonic(), 0
        while (elapsed := time.monotonic() - started) < 20:
            body = json.dumps({"n": sent, "pad": "s" * 800}).encode()
            assert sender.post("/hooks/orders", body, signed(body))[0] == 200
            bad = sender.post("/hooks/orders", body, {"X-Signature": "0" * 64})
            assert bad[0] == 401
            sent += 1
            if elapsed > 5 and sent % 50 == 0:
                samples.append(rss_kib(served.process.pid))
            time.sleep(max(0.0, sent / 100 - (time.monotonic() - started)))  # ~100/s
        sender.close()
    third = max(1, len(samples) // 3)
    early, late = sorted(samples[:third]), sorted(samples[-third:])
    growth = late[len(late) // 2] - early[len(early) // 2]
    assert growth < 8 * 1024, f"RSS grew {growth} KiB in 15 s ({samples})"
