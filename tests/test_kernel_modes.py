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
          "method='POST', headers={'Content-Type': 'application/json'}), timeout=20); "
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
        # a busy cell: pure-Python work, never yielding to the kernel's loop
        "deadline = time.monotonic() + 30\n"
        "while sender.poll() is None and time.monotonic() < deadline:\n"
        "    sum(i * i for i in range(10000))\n"
        "answered_while_busy = sender.poll() is not None\n"
        "print(answered_while_busy, sender.communicate()[0].split()[0])",
        "print(server.store.count(listener='busy'))\nserver.stop()",
    )
    assert out[1].split() == ["True", "200"]
    assert out[2].strip() == "1"


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
