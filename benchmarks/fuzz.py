"""The big fuzz run: parsers, every provider's verification, and the HTTP edge.

Runs the targets of tests/test_fuzz.py (the same generators and checks) over
100,000+ inputs: hypothesis generates structured seeds (JSON, XML with
entities, forms, deep nesting, signed provider samples, raw HTTP requests
with odd framing), and a seeded mutator derives many variants from each
(hypothesis brings structure, the mutator volume; hypothesis alone
generates only a few hundred inputs a second here). Every input tried and
every finding is counted; totals go to docs/performance.md (section ``fuzz``).
A finding is an exception out of a parser or the pipeline, or a 5xx answer;
ERROR log records (an uncaught exception in a handler) are counted too, and
the server must still answer afterwards.

    nice -n 10 python benchmarks/fuzz.py [--parse 50000] [--pipeline 40000] [--http 15000]
"""

from __future__ import annotations

import argparse
import logging
import random
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from _report import machine_note, table, write_section  # noqa: E402
from tests import test_fuzz as targets  # noqa: E402

#: variants derived from each hypothesis seed
PER_SEED = {"parse": 40, "pipeline": 20, "http": 8}


class ErrorCount(logging.Handler):
    """Counts ERROR records: an uncaught exception in a handler is logged, not raised."""

    def __init__(self):
        super().__init__(logging.ERROR)
        self.records: list[str] = []

    def emit(self, record):
        self.records.append(record.getMessage()[:200])


def seeds(strategy, n: int) -> list:
    out: list = []

    @settings(max_examples=n, deadline=None, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(strategy)
    def collect(value):
        out.append(value)

    collect()
    return out


def report_line(name, tried, findings, started) -> dict:
    elapsed = time.perf_counter() - started
    print(f"{name}: {tried:,} inputs, {len(findings)} findings, {elapsed:.0f} s", flush=True)
    for f in findings[:10]:
        print("   ", f, flush=True)
    return {"name": name, "tried": tried, "findings": findings, "seconds": elapsed}


def fuzz_parsers(n: int) -> dict:
    started, tried, findings = time.perf_counter(), 0, []
    strategy = st.tuples(targets.bodies(), st.sampled_from(targets.CONTENT_TYPES),
                         st.sampled_from(targets.XML_OPTIONS))
    for k, (body, content_type, options) in enumerate(seeds(strategy, n // PER_SEED["parse"])):
        rng = random.Random(k)
        for variant in range(PER_SEED["parse"]):
            data = body if variant == 0 else targets.mutate(body, rng)
            ctype = content_type if rng.random() < 0.7 else rng.choice(targets.CONTENT_TYPES)
            findings += targets.check_parse(data, ctype, options)
            tried += 1
    return report_line("parsers (parse_body: JSON, XML, form, text, binary; damaged, hostile)",
                       tried, findings, started)


def fuzz_pipeline(n: int) -> dict:
    started, tried, findings = time.perf_counter(), 0, []
    listeners = targets.listeners()
    for k, (listener, request) in enumerate(seeds(targets.deliveries(),
                                                  n // PER_SEED["pipeline"])):
        findings += targets.check_pipeline(listener, request)
        tried += 1
        rng = random.Random(k)
        for _ in range(PER_SEED["pipeline"] - 1):
            other = listeners[rng.randrange(len(listeners))]
            findings += targets.check_pipeline(other, targets.mutated_delivery(other, rng))
            tried += 1
    return report_line(f"verifiers ({len(listeners)} providers and custom types through "
                       "Pipeline.prepare and the answer; signed samples damaged, and junk)",
                       tried, findings, started)


def fuzz_http(n: int, port: int, workers: int = 24) -> dict:
    """Raw requests sent from many sockets at once: an incomplete one waits for its timeout."""
    started = time.perf_counter()
    raws = []
    for k, raw in enumerate(seeds(targets.raw_requests(), n // PER_SEED["http"])):
        rng = random.Random(k)
        raws.append(raw)
        raws += [targets.mutate(raw, rng) for _ in range(PER_SEED["http"] - 1)]
    with ThreadPoolExecutor(workers) as pool:
        findings = [f for found in pool.map(lambda raw: targets.check_http(port, raw, 0.5), raws)
                    for f in found]
    return report_line("HTTP edge (raw bytes on sockets to the running server)", len(raws),
                       findings, started)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parse", type=int, default=50000)
    parser.add_argument("--pipeline", type=int, default=40000)
    parser.add_argument("--http", type=int, default=15000)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)

    errors = ErrorCount()
    for logger in ("webhook_kit", "tornado.application", "tornado.general", "asyncio"):
        logging.getLogger(logger).addHandler(errors)

    results = [fuzz_parsers(args.parse), fuzz_pipeline(args.pipeline)]
    with tempfile.TemporaryDirectory() as tmp:
        server = targets.fuzz_server(str(Path(tmp) / "events.db"))
        try:
            results.append(fuzz_http(args.http, server.port))
            alive = targets.server_alive(server.port)
        finally:
            server.stop()
    total = sum(r["tried"] for r in results)
    found = sum(len(r["findings"]) for r in results)
    rows = [[r["name"], f"{r['tried']:,}", len(r["findings"]), f"{r['seconds']:.0f}"]
            for r in results]
    lines = [machine_note(), "",
             f"**{total:,} inputs, {found} findings** (exceptions or 5xx); "
             f"server still answering after the HTTP run: **{'yes' if alive else 'NO'}**; "
             f"ERROR log records (uncaught handler exceptions, 5xx): **{len(errors.records)}**.",
             "", table(["target", "inputs", "findings", "seconds"], rows)]
    for r in results:
        for f in r["findings"][:5]:
            lines.append(f"- finding ({r['name'].split(' (')[0]}): `{f[:200]}`")
    for rec in errors.records[:5]:
        lines.append(f"- error log: `{rec}`")
    report = "\n".join(lines)
    print(report)
    if not args.no_write:
        write_section("fuzz", report)
    return 0 if found == 0 and alive and not errors.records else 1


if __name__ == "__main__":
    sys.exit(main())
