"""A small HTTP/1.1 load generator for when wrk is absent.

``connections`` keep-alive connections each send the same request in a loop
for ``duration`` seconds and record every latency. Much slower than wrk (it
is Python), so its req/s is a floor for both servers alike; the ratio between
them is what to read.

    python benchmarks/pyload.py URL BODY_FILE [Header:Value ...]
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from urllib.parse import urlsplit


def _request_bytes(url: str, body: bytes, headers: dict[str, str]) -> tuple[str, int, bytes]:
    parts = urlsplit(url)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    head = [f"POST {path} HTTP/1.1", f"Host: {parts.netloc}", f"Content-Length: {len(body)}"]
    head += [f"{k}: {v}" for k, v in headers.items()]
    return parts.hostname, parts.port or 80, ("\r\n".join(head) + "\r\n\r\n").encode() + body


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    if length:
        await reader.readexactly(length)
    return status


async def _worker(host, port, raw, deadline, latencies, statuses):
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            writer.write(raw)
            status = await _read_response(reader)
            latencies.append(time.perf_counter() - started)
            statuses[status] = statuses.get(status, 0) + 1
    except (ConnectionError, asyncio.IncompleteReadError):
        statuses["error"] = statuses.get("error", 0) + 1
    finally:
        writer.close()


async def _run(url, body, headers, connections, duration):
    host, port, raw = _request_bytes(url, body, headers)
    latencies: list[float] = []
    statuses: dict = {}
    started = time.perf_counter()
    deadline = started + duration
    await asyncio.gather(*(_worker(host, port, raw, deadline, latencies, statuses)
                           for _ in range(connections)))
    elapsed = time.perf_counter() - started
    return latencies, statuses, elapsed


def run(url: str, body: bytes, headers: dict[str, str], *, connections: int = 32,
        duration: float = 5.0) -> dict:
    """Drive ``url`` and return ``{"rps", "p50_ms", "p99_ms", "requests", "non2xx"}``."""
    latencies, statuses, elapsed = asyncio.run(_run(url, body, headers, connections, duration))
    latencies.sort()
    n = len(latencies)

    def pct(p):
        return 1000 * latencies[min(n - 1, int(p / 100 * n))] if n else float("nan")

    non2xx = sum(c for s, c in statuses.items() if not (isinstance(s, int) and 200 <= s < 300))
    return {"rps": n / elapsed, "p50_ms": pct(50), "p99_ms": pct(99), "requests": n,
            "non2xx": non2xx, "mean_ms": 1000 * statistics.fmean(latencies) if n else 0}


if __name__ == "__main__":
    target, body_file, *pairs = sys.argv[1:]
    extra = dict(p.split(":", 1) for p in pairs)
    with open(body_file, "rb") as f:
        print(run(target, f.read(), extra))
