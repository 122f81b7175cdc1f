"""Load benchmark: `webhook-kit serve` against a bare Tornado baseline, same run.

Both servers run as subprocesses pinned to core 0 (where ``taskset`` exists),
the load generator on core 1: wrk with a Lua script (POST, body, headers), or
:mod:`pyload` when wrk is absent. Repetitions are interleaved (baseline and
kit alternate, the order flips each repetition) so that a noisy neighbour
hits both; the report gives medians and the median of per-repetition ratios.

Cases:
  json     custom HMAC-SHA256 + 1 KB JSON, durably committed (synchronous=FULL)
  xml      the same with a 1 KB XML body
  mixed    1 KB JSON deliveries while 1 MB XML deliveries arrive (p99 of the small ones)
  badsig   a flood of deliveries with a wrong signature (401, kept in the bounded ring)

    nice -n 10 python benchmarks/load.py [--reps 3] [--duration 5] [--cases json,xml]

Results go to docs/performance.md (section ``load``) unless ``--no-write``.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import pyload  # noqa: E402
from _report import machine_note, table, write_section  # noqa: E402

HERE = Path(__file__).resolve().parent
SECRET = "bench-secret"
CASES = ("json", "xml", "mixed", "badsig")


# -- bodies ------------------------------------------------------------------

def json_body(size: int = 1024) -> bytes:
    items, body = [], b""
    while True:
        items.append({"sku": f"SKU-{len(items):05d}", "qty": len(items) % 7 + 1, "price": 12.5})
        candidate = json.dumps({"id": 1001, "customer": {"name": "Ada", "email": "ada@example.com"},
                                "items": items}).encode()
        if len(candidate) > size:
            return body
        body = candidate


def xml_body(size: int = 1024) -> bytes:
    parts = ['<?xml version="1.0" encoding="UTF-8"?><order id="1001">',
             "<customer><name>Ada</name><email>ada@example.com</email></customer><items>"]
    tail = "</items></order>"
    n, total = 0, sum(map(len, parts)) + len(tail)
    while True:
        item = f'<item sku="SKU-{n:07d}"><qty>{n % 7 + 1}</qty><price>12.5</price></item>'
        if total + len(item) > size:
            break
        parts.append(item)
        total += len(item)
        n += 1
    return ("".join(parts) + tail).encode()


def sign(body: bytes) -> str:
    return hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()


# -- processes ---------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pinned(core: int, argv: list[str]) -> list[str]:
    return (["taskset", "-c", str(core)] if shutil.which("taskset") and (os.cpu_count() or 1) > 1
            else []) + argv


def wait_ready(url: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}: {proc.stderr.read()}")
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"server at {url} not ready after {timeout}s")


def write_config(tmp: Path) -> Path:
    hmac_settings = {"type": "hmac", "algorithm": "sha256", "encoding": "hex",
                     "secret": SECRET, "header": "X-Signature"}
    config = {"listeners": [
        {"id": "orders", "provider": "custom", "verification": hmac_settings},
        {"id": "xmlorders", "provider": "custom", "verification": hmac_settings},
        {"id": "bulk", "provider": "custom", "verification": hmac_settings},
    ]}
    path = tmp / "listeners.json"
    path.write_text(json.dumps(config))
    return path


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (all its threads), from /proc; 0 elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# -- load generation ---------------------------------------------------------

LUA = """wrk.method = "POST"
wrk.body = [==[{body}]==]
{headers}
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'RESULT {{"requests": %d, "duration_us": %d, "non2xx": %d, "errors": %d, '
    .. '"p50_us": %d, "p99_us": %d}}\\n',
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"""


def lua_script(tmp: Path, name: str, body: bytes, headers: dict[str, str]) -> Path:
    lines = "\n".join(f'wrk.headers["{k}"] = "{v}"' for k, v in headers.items())
    path = tmp / f"{name}.lua"
    path.write_text(LUA.format(body=body.decode("ascii"), headers=lines))
    return path


def drive(url: str, script: Path, body: bytes, headers: dict, *, duration: float,
          connections: int) -> dict:
    """One measured run: req/s, p50, p99 (ms) and the count of non-2xx answers."""
    if shutil.which("wrk"):
        cmd = pinned(1, ["wrk", "-t1", f"-c{connections}", f"-d{duration:g}s", "--timeout", "10s",
                         "-s", str(script), url])
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode:
            raise RuntimeError(f"wrk failed: {done.stderr.strip() or done.stdout.strip()}")
        out = done.stdout
        line = next(l for l in out.splitlines() if l.startswith("RESULT "))
        r = json.loads(line[len("RESULT "):])
        return {"rps": r["requests"] / (r["duration_us"] / 1e6), "p50_ms": r["p50_us"] / 1000,
                "p99_ms": r["p99_us"] / 1000, "requests": r["requests"],
                "non2xx": r["non2xx"], "errors": r["errors"]}
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(0, {1})  # this process generates the load: core 1
    return pyload.run(url, body, headers, connections=connections, duration=duration)


def background(url: str, script: Path, duration: float, connections: int) -> subprocess.Popen | None:
    """The 1 MB XML senders of the mixed case (wrk only; the Python fallback skips them)."""
    if not shutil.which("wrk"):
        return None
    cmd = pinned(1, ["wrk", "-t1", f"-c{connections}", f"-d{duration:g}s", "--timeout", "30s",
                     "-s", str(script), url])
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish_background(proc: subprocess.Popen | None) -> dict:
    if proc is None:
        return {}
    out, _ = proc.communicate(timeout=120)
    line = next((l for l in out.splitlines() if l.startswith("RESULT ")), None)
    if not line:
        return {}
    r = json.loads(line[len("RESULT "):])
    return {"rps": r["requests"] / (r["duration_us"] / 1e6), "non2xx": r["non2xx"]}


# -- the benchmark -----------------------------------------------------------

def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--duration", type=float, default=5)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--cases", default=",".join(CASES))
    parser.add_argument("--no-write", action="store_true", help="print, do not touch docs/")
    args = parser.parse_args(argv)
    cases = [c for c in args.cases.split(",") if c]

    tmp = Path(tempfile.mkdtemp(prefix="wk-load-"))
    small_json, small_xml, big_xml = json_body(), xml_body(), xml_body(1024 * 1024)
    good_json = {"Content-Type": "application/json", "X-Signature": sign(small_json)}
    bodies = {
        "json": (small_json, good_json, "orders"),
        "xml": (small_xml, {"Content-Type": "application/xml", "X-Signature": sign(small_xml)},
                "xmlorders"),
        "mixed": (small_json, good_json, "orders"),
        "badsig": (small_json, {"Content-Type": "application/json", "X-Signature": "0" * 64},
                   "orders"),
    }
    scripts = {c: lua_script(tmp, c, *bodies[c][:2]) for c in cases}
    big_script = lua_script(tmp, "big", big_xml,
                            {"Content-Type": "application/xml", "X-Signature": sign(big_xml)})

    kit_port, base_port = free_port(), free_port()
    db = tmp / "events.db"
    kit = subprocess.Popen(pinned(0, [sys.executable, "-m", "webhook_kit.cli", "serve",
                                      str(write_config(tmp)), "--port", str(kit_port),
                                      "--db", str(db)]),
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    base = subprocess.Popen(pinned(0, [sys.executable, str(HERE / "baseline_server.py"),
                                       str(base_port)]),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    results: dict[tuple[str, str], list[dict]] = {}
    ok_by_kit = 0
    try:
        wait_ready(f"http://127.0.0.1:{kit_port}/healthz", kit)
        wait_ready(f"http://127.0.0.1:{base_port}/", base)
        targets = {"baseline": lambda lid: f"http://127.0.0.1:{base_port}/hooks/{lid}",
                   "kit": lambda lid: f"http://127.0.0.1:{kit_port}/hooks/{lid}"}
        for rep in range(args.reps):
            order = ["baseline", "kit"] if rep % 2 == 0 else ["kit", "baseline"]
            for case in cases:
                body, headers, lid = bodies[case]
                for who in order:
                    url = targets[who](lid)
                    bg = None
                    if case == "mixed":
                        bg = background(targets[who]("bulk"), big_script, args.duration + 1, 2)
                        time.sleep(0.5)
                    pid = (kit if who == "kit" else base).pid
                    cpu_before = cpu_seconds(pid)
                    r = drive(url, scripts[case], body, headers, duration=args.duration,
                              connections=args.connections)
                    r["cpu_us"] = 1e6 * (cpu_seconds(pid) - cpu_before) / max(1, r["requests"])
                    r["big"] = finish_background(bg)
                    if who == "kit" and case != "badsig":
                        ok_by_kit += r["requests"] - r["non2xx"]
                    results.setdefault((case, who), []).append(r)
                    print(f"rep {rep + 1} {case:7s} {who:8s} {r['rps']:8.0f} req/s "
                          f"p50 {r['p50_ms']:6.2f} ms p99 {r['p99_ms']:7.2f} ms "
                          f"cpu {r['cpu_us']:5.0f} us/req non2xx {r['non2xx']}" + (f" big {r['big']}" if r["big"] else ""),
                          flush=True)
    finally:
        for proc in (kit, base):
            proc.terminate()
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
    with sqlite3.connect(db) as conn:
        stored_ok = conn.execute("SELECT COUNT(*) FROM events WHERE status IN "
                                 "('accepted', 'duplicate') AND listener = 'orders' "
                                 "OR listener = 'xmlorders' AND status IN "
                                 "('accepted', 'duplicate')").fetchone()[0]
    report = summarize(results, cases, args, stored_ok, ok_by_kit)
    print(report)
    if not args.no_write:
        write_section("load", report)
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


def summarize(results, cases, args, stored_ok: int, ok_by_kit: int) -> str:
    med = statistics.median
    rows = []
    kit_rps = {}
    for case in cases:
        base, kit = results[(case, "baseline")], results[(case, "kit")]
        ratio = med(k["rps"] / b["rps"] for k, b in zip(kit, base))
        p99_ratio = med(k["p99_ms"] / b["p99_ms"] for k, b in zip(kit, base))
        kit_rps[case] = med(k["rps"] for k in kit)
        rows.append([case, f"{med(b['rps'] for b in base):,.0f}", f"{kit_rps[case]:,.0f}",
                     f"**{ratio:.2f}**",
                     f"{med(b['p50_ms'] for b in base):.1f} / {med(b['p99_ms'] for b in base):.1f}",
                     f"{med(k['p50_ms'] for k in kit):.1f} / {med(k['p99_ms'] for k in kit):.1f}",
                     f"**{p99_ratio:.2f}**",
                     f"{med(b['cpu_us'] for b in base):.0f} / {med(k['cpu_us'] for k in kit):.0f}",
                     sum(k["non2xx"] for k in kit)])
    generator = "wrk" if shutil.which("wrk") else "benchmarks/pyload.py (Python fallback)"
    lines = [
        machine_note(),
        "",
        f"{args.reps} interleaved repetitions x {args.duration:g} s per case and server, "
        f"{args.connections} connections, load generator: {generator}; "
        + ("servers pinned to core 0, load generator to core 1. "
           if shutil.which("taskset") and (os.cpu_count() or 1) > 1 else "no pinning (no taskset). ")
        + "Medians; ratios are the median of per-repetition ratios (kit / baseline).",
        "",
        table(["case", "baseline req/s", "kit req/s", "ratio", "baseline p50 / p99 ms",
               "kit p50 / p99 ms", "p99 ratio", "server CPU us/req (baseline / kit)",
               "kit non-2xx"], rows),
    ]
    if "json" in kit_rps and "xml" in kit_rps:
        lines += ["", f"XML 1 KB / JSON 1 KB (kit): **{kit_rps['xml'] / kit_rps['json']:.2f}**"]
    if ("mixed", "kit") in results:
        big = [r["big"].get("rps", 0) for r in results[("mixed", "kit")] if r["big"]]
        if big:
            lines += ["", f"Mixed case: 1 MB XML deliveries accepted alongside, median "
                          f"{med(big):.1f}/s (2 connections)."]
    lines += ["", f"Durability check: the kit answered 2xx to {ok_by_kit:,} small deliveries; "
                  f"the SQLite file holds {stored_ok:,} accepted events of those listeners."]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
