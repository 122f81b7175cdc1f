"""Does any delivery hold the event loop longer than 20 ms?

A real :class:`webhook_kit.Server` runs in this process (thread mode, pinned
to core 0; once with the 1 ms GIL switch interval that ``webhook-kit serve``
sets, once with CPython's 5 ms default) with a probe on its event loop: a task that sleeps 2 ms and
records how late it wakes up. A callback that holds the loop (a parse, a
commit, a big copy) shows up as a late wake-up of that length. wrk drives
it (core 1) with small signed JSON deliveries, alone and alongside 1 MB XML
and 1 MB JSON deliveries; the report gives the probe's p99 and maximum.

    nice -n 10 python benchmarks/loop_lag.py [--duration 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import load  # noqa: E402
from _report import machine_note, table, write_section  # noqa: E402

TARGET_MS = 20
INTERVAL = 0.002


def big_json(size: int = 1024 * 1024) -> bytes:
    item = {"sku": "SKU-0000000", "qty": 3, "price": 12.5, "tags": ["a", "b"]}
    n = size // len(json.dumps(item))
    return json.dumps({"id": 1, "items": [dict(item, sku=f"SKU-{i:07d}") for i in range(n)]}).encode()


class Probe:
    """Measures how late a 2 ms sleep wakes up on the server's loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop):
        self.loop = loop
        self.lags: list[float] = []
        self.running = True
        asyncio.run_coroutine_threadsafe(self._run(), loop)

    async def _run(self):
        while self.running:
            started = self.loop.time()
            await asyncio.sleep(INTERVAL)
            self.lags.append(self.loop.time() - started - INTERVAL)

    def take(self) -> list[float]:
        lags, self.lags = self.lags, []
        return lags


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=5)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    if not shutil.which("wrk"):
        print("loop_lag needs wrk", file=sys.stderr)
        return 2
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(0, {0})  # threads started from here on inherit it

    import webhook_kit as wk

    tmp = Path(tempfile.mkdtemp(prefix="wk-lag-"))
    server = wk.Server(wk.load_config(load.write_config(tmp)), store=str(tmp / "events.db"),
                       port=0).start()
    probe = Probe(server._loop)
    small = load.json_body()
    scripts = {
        "small": load.lua_script(tmp, "small", small, {"Content-Type": "application/json",
                                                       "X-Signature": load.sign(small)}),
    }
    bigx, bigj = load.xml_body(1024 * 1024), big_json()
    scripts["xml1m"] = load.lua_script(tmp, "xml1m", bigx, {"Content-Type": "application/xml",
                                                             "X-Signature": load.sign(bigx)})
    scripts["json1m"] = load.lua_script(tmp, "json1m", bigj, {"Content-Type": "application/json",
                                                               "X-Signature": load.sign(bigj)})
    cases = [("idle", None, None), ("1 KB JSON x16 connections", "small", None),
             ("1 KB JSON + 1 MB XML x2", "small", "xml1m"),
             ("1 KB JSON + 1 MB JSON x2", "small", "json1m")]
    from webhook_kit.server import SERVE_SWITCH_INTERVAL

    # as `webhook-kit serve` runs (1 ms), and as a notebook's interpreter does (5 ms)
    runs = [(interval, case) for interval in (SERVE_SWITCH_INTERVAL, 0.005) for case in cases]
    rows = []
    worst = {}
    try:
        for interval, (name, front, back) in runs:
            sys.setswitchinterval(interval)
            time.sleep(0.5)
            probe.take()
            bg = (load.background(f"{server.base_url}/hooks/bulk", scripts[back],
                                  args.duration, 2) if back else None)
            if front:
                r = load.drive(f"{server.base_url}/hooks/orders", scripts[front], small, {},
                               duration=args.duration, connections=16)
            else:
                time.sleep(args.duration)
                r = {}
            big = load.finish_background(bg)
            lags = sorted(probe.take())
            lag_max = 1000 * lags[-1] if lags else float("nan")
            if front:
                worst[interval] = max(worst.get(interval, 0.0), lag_max)
            rows.append([f"{interval * 1000:g} ms", name, len(lags), f"{1000 * statistics.median(lags):.1f}",
                         f"{1000 * lags[int(0.99 * (len(lags) - 1))]:.1f}", f"**{lag_max:.1f}**",
                         sum(1 for x in lags if x > TARGET_MS / 1000),
                         f"{r.get('rps', 0):,.0f} / {r.get('p99_ms', 0):.1f}" if r else "-",
                         f"{big.get('rps', 0):.1f}" if big else "-"])
            print(rows[-1], flush=True)
    finally:
        probe.running = False
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    verdict = "; ".join(
        f"{i * 1000:g} ms switch interval: " + ("met" if w <= TARGET_MS else f"missed, worst {w:.0f} ms")
        for i, w in worst.items())
    report = "\n".join([
        machine_note(), "",
        f"Probe: a 2 ms sleep on the server's loop, lateness recorded; {args.duration:g} s per "
        f"case; target: no hold over {TARGET_MS} ms: **{verdict}**. A late wake-up is a "
        "callback holding the loop, or the loop waiting for the GIL while another thread "
        "(large-body parsing, the store's writer) runs Python, or the core being taken by "
        "another process of this shared machine (the idle rows show that floor). "
        "`webhook-kit serve` runs with the 1 ms interval; a server in a notebook with the "
        "interpreter's 5 ms.", "",
        table(["GIL switch interval", "case", "probe wake-ups", "lag p50 ms", "lag p99 ms", "lag max ms",
               f"wake-ups > {TARGET_MS} ms", "small req/s / p99 ms", "1 MB deliveries/s"], rows),
    ])
    print(report)
    if not args.no_write:
        write_section("loop-lag", report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
