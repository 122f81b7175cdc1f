"""Soak: `webhook-kit serve` at a steady rate for minutes, RSS sampled, must stay flat.

A steady mix (8 in 10 signed 1 KB JSON, 1 in 10 signed 1 KB XML, 1 in 10 bad
signatures) at ``--rate`` requests/s over one keep-alive connection, for
``--minutes``. The server's RSS is read from /proc every ``--sample`` seconds.
Flat means: after the first minute (caches warming up), the least-squares
slope of RSS is under 1 MiB per 10 minutes and the last minute's median is
within 5 MiB of the second minute's. Also counted: 5xx answers (must be 0),
answers other than expected, and the latency p99.

    nice -n 10 python benchmarks/soak.py [--minutes 10] [--rate 100]

Meant to run in the background, alone; results go to docs/performance.md
(section ``soak``).
"""

from __future__ import annotations

import argparse
import http.client
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import load  # noqa: E402
from _report import machine_note, table, write_section  # noqa: E402


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def slope_kib_per_min(points: list[tuple[float, int]]) -> float:
    if len(points) < 2:
        return 0.0
    xs = [t / 60 for t, _ in points]
    ys = [r for _, r in points]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    den = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / den if den else 0.0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--rate", type=float, default=100)
    parser.add_argument("--sample", type=float, default=10)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)

    tmp = Path(tempfile.mkdtemp(prefix="wk-soak-"))
    port = load.free_port()
    db = tmp / "events.db"
    proc = subprocess.Popen(load.pinned(0, [sys.executable, "-m", "webhook_kit.cli", "serve",
                                            str(load.write_config(tmp)), "--port", str(port),
                                            "--db", str(db)]),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    small_json, small_xml = load.json_body(), load.xml_body()
    kinds = [("/hooks/orders", small_json, {"Content-Type": "application/json",
                                            "X-Signature": load.sign(small_json)}, 200)] * 8
    kinds.append(("/hooks/xmlorders", small_xml, {"Content-Type": "application/xml",
                                                  "X-Signature": load.sign(small_xml)}, 200))
    kinds.append(("/hooks/orders", small_json, {"Content-Type": "application/json",
                                                "X-Signature": "0" * 64}, 401))
    statuses: dict[int, int] = {}
    unexpected = 0
    latencies: list[float] = []
    samples: list[tuple[float, int]] = []
    try:
        load.wait_ready(f"http://127.0.0.1:{port}/healthz", proc)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        started = time.monotonic()
        next_sample = 0.0
        total = args.minutes * 60
        n = 0
        while (elapsed := time.monotonic() - started) < total:
            if elapsed >= next_sample:
                samples.append((elapsed, rss_kib(proc.pid)))
                next_sample += args.sample
            path, body, headers, want = kinds[n % len(kinds)]
            t0 = time.perf_counter()
            try:
                conn.request("POST", path, body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                status = -1
            latencies.append(time.perf_counter() - t0)
            statuses[status] = statuses.get(status, 0) + 1
            unexpected += status != want
            n += 1
            time.sleep(max(0.0, n / args.rate - (time.monotonic() - started)))
        samples.append((time.monotonic() - started, rss_kib(proc.pid)))
        conn.close()
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
    with sqlite3.connect(db) as c:
        stored = c.execute("SELECT COUNT(*) FROM events WHERE status = 'accepted'").fetchone()[0]
        rejected = c.execute("SELECT COUNT(*) FROM events WHERE status = 'rejected'").fetchone()[0]
    db_mib = sum(p.stat().st_size for p in tmp.glob("events.db*")) / 2**20
    shutil.rmtree(tmp, ignore_errors=True)

    steady = [(t, r) for t, r in samples if t >= 60] or samples
    slope = slope_kib_per_min(steady)
    second = [r for t, r in samples if 60 <= t < 120] or [samples[0][1]]
    last = [r for t, r in samples if t >= samples[-1][0] - 60]
    drift = statistics.median(last) - statistics.median(second)
    flat = slope * 10 < 1024 and abs(drift) < 5 * 1024
    latencies.sort()
    p99 = 1000 * latencies[int(0.99 * (len(latencies) - 1))] if latencies else float("nan")
    fivexx = sum(c for s, c in statuses.items() if s >= 500)
    every = max(1, len(samples) // 12)
    report = "\n".join([
        machine_note(), "",
        f"{args.minutes:g} minutes at {args.rate:g} requests/s ({n:,} requests: 8/10 signed 1 KB "
        f"JSON, 1/10 signed 1 KB XML, 1/10 bad signature), one keep-alive connection.", "",
        table(["measure", "value"], [
            ["RSS at start / after 1 min / at end (MiB)",
             f"{samples[0][1] / 1024:.1f} / {second[0] / 1024:.1f} / {samples[-1][1] / 1024:.1f}"],
            ["RSS slope after the first minute", f"{slope:+.1f} KiB/min"],
            ["last minute median - second minute median", f"{drift / 1024:+.2f} MiB"],
            ["flat (slope < 1 MiB per 10 min, drift < 5 MiB)", "**yes**" if flat else "**NO**"],
            ["answers by status", ", ".join(f"{s}: {c:,}" for s, c in sorted(statuses.items()))],
            ["5xx answers", f"**{fivexx}**"],
            ["answers other than expected", unexpected],
            ["latency p50 / p99 (ms)",
             f"{1000 * latencies[len(latencies) // 2]:.1f} / {p99:.1f}"],
            ["accepted events stored / rejected kept (ring of 1000)", f"{stored:,} / {rejected:,}"],
            ["database + WAL at end", f"{db_mib:.1f} MiB"],
        ]), "",
        "RSS samples (s: MiB): " + ", ".join(f"{t:.0f}: {r / 1024:.1f}"
                                             for t, r in samples[::every]),
    ])
    print(report)
    if not args.no_write:
        write_section("soak", report)
    return 0 if flat and fivexx == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
