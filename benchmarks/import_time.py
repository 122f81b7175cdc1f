"""How long ``import webhook_kit`` takes (without the UI), in fresh interpreters.

Each run is a new ``python -X importtime -c "import webhook_kit"``; the
number is the package's cumulative import time from that report (the
interpreter's own start-up excluded), median of ``--runs``. Also listed: the
biggest parts and whether Tornado, http.client or the widgets were loaded.
Target: under 150 ms.

    nice -n 10 python benchmarks/import_time.py [--runs 9]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import machine_note, table, write_section  # noqa: E402

TARGET_MS = 150
PROBE = ("import sys, json, webhook_kit; print(json.dumps({m: m in sys.modules for m in "
         "('tornado', 'http.client', 'webhook_kit.server', 'webhook_kit.client', "
         "'webhook_kit.widgets', 'ipywidgets', 'webhook_kit.providers.custom')}))")


def one_run(env=None) -> tuple[dict[str, int], dict]:
    done = subprocess.run([sys.executable, "-X", "importtime", "-c", PROBE],
                          capture_output=True, text=True, check=True, env=env)
    cumulative: dict[str, int] = {}
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        parts = [p.strip() for p in line[len("import time:"):].split("|")]
        if parts[1].isdigit():
            cumulative.setdefault(parts[2], int(parts[1]))  # microseconds
    return cumulative, json.loads(done.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    runs = [one_run() for _ in range(args.runs)]
    total = statistics.median(r[0]["webhook_kit"] for r in runs) / 1000
    parts = ["webhook_kit.server", "tornado.web", "tornado.httpserver", "webhook_kit.client",
             "http.client", "webhook_kit.plugins", "pluggy", "webhook_kit.store",
             "webhook_kit.listener", "webhook_kit.model", "webhook_kit.verification"]
    rows = []
    for name in parts:
        values = [r[0][name] for r in runs if name in r[0]]
        if values:
            rows.append([f"`{name}`", f"{statistics.median(values) / 1000:.1f}"])
    loaded = runs[-1][1]
    verdict = "met" if total < TARGET_MS else f"missed by {total - TARGET_MS:.0f} ms"
    report = "\n".join([
        machine_note(), "",
        f"`import webhook_kit`: **{total:.0f} ms** (median of {args.runs} fresh interpreters, "
        f"`-X importtime` cumulative, start-up excluded); target < {TARGET_MS} ms: **{verdict}**.",
        "",
        "Loaded by the import: " + ", ".join(f"`{m}` {'yes' if v else 'no'}"
                                           for m, v in loaded.items()) + ".",
        "",
        "Largest parts (cumulative ms, each counted where it was first imported):", "",
        table(["module", "ms"], rows),
    ])
    print(report)
    if not args.no_write:
        write_section("import", report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
