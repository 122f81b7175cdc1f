"""In a real Jupyter kernel: the background thread answers while a cell is busy, and the
opt-in loop mode serves on the kernel's own loop between (and during awaiting) cells."""

from __future__ import annotations

import json
import sys

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

SENDER = ("import sys, time, urllib.request; t = time.monotonic(); "
          "r = urllib.request.urlopen(urllib.request.Request(sys.argv[1], data=b'{\\\"n\\\": 1}', "
          "method='POST', headers={'Content-Type': 'application/json'}), timeout=50); "
          "print(r.status, time.monotonic() - t)")


def run_cells(tmp_path, *sources: str):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
    client = nbclient.NotebookClient(nb, timeout=120, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    outputs = []
    for cell in nb.cells:
        outputs.append("".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream"))
    return outputs


@pytest.mark.slow
def test_thread_mode_answers_while_a_cell_is_busy(tmp_path):
    out = run_cells(
        tmp_path,
        "import subprocess, sys, time\n"
        "import webhook_kit as wk\n"
        "server = wk.Server(store='events.db', port=0).start()\n"
        "server.add(wk.Listener('busy'))\n"
        f"sender = subprocess.Popen([sys.executable, '-c', {SENDER!r}, server.url_for('busy')],"
        " stdout=subprocess.PIPE, text=True)",
        # a busy cell: pure-Python work in ~50 ms chunks, never yielding to the kernel's loop
        # (a cell that polls far more often: the next test)
        "deadline = time.monotonic() + 60\n"
        "while sender.poll() is None and time.monotonic() < deadline:\n"
        "    sum(i * i for i in range(1_000_000))\n"
        "answered_while_busy = sender.poll() is not None\n"
        "print(answered_while_busy, sender.communicate()[0].split()[0])",
        "print(server.store.count(listener='busy'))\nserver.stop()",
    )
    assert out[1].split() == ["True", "200"]
    assert out[2].strip() == "1"


@pytest.mark.slow
def test_thread_mode_answers_while_a_cell_polls_a_subprocess(tmp_path):
    """A cell that makes a system call every half millisecond gives the GIL back and takes
    it straight back; at CPython's default 5 ms switch interval that held a delivery up for
    0.3-12 s here. The server lowers the interval while it runs and gives it back on stop."""
    out = run_cells(
        tmp_path,
        "import subprocess, sys, time\n"
        "import webhook_kit as wk\n"
        "before = sys.getswitchinterval()\n"
        "server = wk.Server(store='events.db', port=0).start()\n"
        "server.add(wk.Listener('polled'))\n"
        f"sender = subprocess.Popen([sys.executable, '-c', {SENDER.replace('timeout=50', 'timeout=5')!r}, "
        "server.url_for('polled')], stdout=subprocess.PIPE, text=True)",
        "deadline = time.monotonic() + 60\n"
        "while sender.poll() is None and time.monotonic() < deadline:\n"
        "    sum(i * i for i in range(10_000))\n"
        "print(sender.communicate()[0].split()[:1])",
        "server.stop()\nprint(sys.getswitchinterval() == before)",
    )
    assert out[1].strip() == "['200']", out[1]  # answered within the sender's 5 s
    assert out[2].strip() == "True"


@pytest.mark.slow
def test_loop_mode_serves_on_the_kernels_own_loop(tmp_path):
    out = run_cells(
        tmp_path,
        "import asyncio, json\n"
        "import webhook_kit as wk\n"
        "server = wk.Server(store='events.db', port=0)\n"
        "server.start(mode='loop')   # the kernel's running loop: answers while the kernel is idle\n"
        "orders = server.add(wk.Listener('orders'))\n"
        "print(server.mode)",
        # a synchronous send from this cell would wait for a loop this cell is blocking:
        # send from a worker thread and await it, which leaves the loop free to answer
        "loop = asyncio.get_running_loop()\n"
        "reply = await loop.run_in_executor(None, lambda: wk.send(orders, {'a': 1}, "
        "url=server.url_for(orders)))\n"
        "print(reply.status, json.dumps(server.store.get(reply.json()['event_id']).payload))",
        "server.stop()\nprint(server.running)",
    )
    assert out[0].strip() == "loop"
    assert out[1].strip() == '200 {"a": 1}'
    assert out[2].strip() == "False"


FIRST_DELIVERIES = r'''
import hashlib, hmac, subprocess, sys
import webhook_kit as wk

SENDER = """
import sys, urllib.request
for path, body, ctype, sig in eval(sys.argv[2]):
    req = urllib.request.Request(sys.argv[1] + path, data=body, method="POST",
                                 headers={"Content-Type": ctype, "X-Sig": sig})
    print(urllib.request.urlopen(req, timeout=30).status)
"""
server = wk.Server(store=sys.argv[1], port=0).start()
server.add(wk.Listener("h", verification={"type": "hmac", "algorithm": "sha256",
                                         "encoding": "hex", "secret": "s", "header": "X-Sig"}))
server.add(wk.Listener("t", verification={"type": "token", "token": "tok", "path": "auth.token"}))
cases = [("/hooks/h", body, ctype, hmac.new(b"s", body, hashlib.sha256).hexdigest())
         for body, ctype in [(b'{"n": 1}', "application/json"),
                             (b'<a x="1"><b>t</b></a>', "application/xml"),
                             (b"a=1&b=2", "application/x-www-form-urlencoded"),
                             (b"hello", "text/plain"), (b"\x00\xff", "application/octet-stream")]]
cases.append(("/hooks/t", b'{"auth": {"token": "tok"}}', "application/json", ""))
before = set(sys.modules)
out = subprocess.run([sys.executable, "-c", SENDER, server.base_url, repr(cases)],
                     capture_output=True, text=True, check=True).stdout.split()
imported = sorted(set(sys.modules) - before)
server.stop()
print(" ".join(out))
print(imported)
'''


@pytest.mark.slow
def test_first_deliveries_import_nothing_on_the_server_thread(tmp_path):
    """An import on the server thread reads files, and each read waits for the GIL that a
    busy notebook cell holds: the first delivery of each kind finds all it needs loaded."""
    import subprocess
    done = subprocess.run([sys.executable, "-c", FIRST_DELIVERIES, str(tmp_path / "events.db")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    statuses, modules = done.stdout.splitlines()
    assert statuses.split() == ["200"] * 6
    assert modules == "[]"
