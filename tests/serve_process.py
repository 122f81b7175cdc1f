"""``webhook-kit`` as a real subprocess: one-shot commands, and ``serve`` on a free port.

The console script next to this interpreter is used when it is installed (it
is what users run), else ``python -m webhook_kit.cli`` with the same Python.
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path


def cli_command(*args: str) -> list[str]:
    script = Path(sys.executable).parent / "webhook-kit"
    if script.exists():
        return [str(script), *args]
    return [sys.executable, "-m", "webhook_kit.cli", *args]


def run_cli(*args: str, env: dict | None = None, timeout: float = 60,
            stdin: bytes | None = None) -> subprocess.CompletedProcess:
    """Run one command to completion; text stdout/stderr."""
    return subprocess.run(cli_command(*map(str, args)), input=stdin, capture_output=True,
                          env={**os.environ, **(env or {})}, timeout=timeout)


@dataclass
class Served:
    """A running ``webhook-kit serve``: its base URL and each listener's printed URL."""

    process: subprocess.Popen
    base_url: str
    urls: dict = field(default_factory=dict)


@contextmanager
def serving(config: Path | str, db: Path | str, env: dict | None = None, timeout: float = 30):
    """Start ``webhook-kit serve CONFIG --port 0``, wait for its URLs, SIGTERM it after."""
    proc = subprocess.Popen(cli_command("serve", str(config), "--port", "0", "--db", str(db)),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, **(env or {})})
    lines: queue.Queue = queue.Queue()
    # a reader thread, so that waiting for the banner can time out
    threading.Thread(target=lambda: [lines.put(l) for l in proc.stdout], daemon=True).start()
    try:
        urls, deadline = {}, time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or proc.poll() is not None and lines.empty():
                raise RuntimeError(f"webhook-kit serve did not start: {proc.stderr.read()}"
                                   if proc.poll() is not None else "webhook-kit serve: no banner")
            try:
                line = lines.get(timeout=min(remaining, 0.5)).strip()
            except queue.Empty:
                continue
            if line.startswith("webhook-kit serving"):
                base_url = line.split(" on ", 1)[1].split(" ", 1)[0]
                break
            listener_id, _, url = line.partition(": ")
            urls[listener_id] = url
        yield Served(proc, base_url, urls)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        proc.stdout.close()
        proc.stderr.close()
