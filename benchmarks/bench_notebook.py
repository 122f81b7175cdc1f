"""How fast the listener form is drawn, and how soon an event shows in the inspector.

Both are measured inside a real Jupyter kernel (started by nbclient), where
every widget is a comm message to the frontend:

- Form: in a fresh kernel, ``import webhook_kit`` first, then the time to
  import ``webhook_kit.widgets``, build a :class:`ListenerForm` and display
  it (the kernel side of drawing it). Target: under 1 s after the import.
- Inspector: a background-thread server and an :class:`EventInspector` in
  the kernel; a worker thread sends signed deliveries one after another and
  notes when each 2xx arrives; the inspector's table notes when each event's
  row appears (the relay hands events to the kernel's loop while a cell
  awaits, i.e. the kernel is free). Target: under 0.2 s after the 2xx.

Writes the sections "Form" and "Inspector" of docs/notebook-performance.md
(other sections are kept).

    python benchmarks/bench_notebook.py [--kernels 3] [--deliveries 50]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import machine_note, table, write_section  # noqa: E402

import nbclient  # noqa: E402
import nbformat  # noqa: E402

DOC = Path(__file__).resolve().parent.parent / "docs" / "notebook-performance.md"

FORM_CELLS = [
    "import time, json\nimport webhook_kit",
    """t0 = time.perf_counter()
from webhook_kit.widgets import ListenerForm
t1 = time.perf_counter()
form = ListenerForm()
t2 = time.perf_counter()
display(form)
t3 = time.perf_counter()
print(json.dumps({"import": t1 - t0, "build": t2 - t1, "display": t3 - t2, "total": t3 - t0}))""",
]

INSPECTOR_CELLS = [
    """import asyncio, json, tempfile, time, os
import webhook_kit as wk
from webhook_kit.widgets import EventInspector
server = wk.Server(store=os.path.join(tempfile.mkdtemp(), "bench.db"), port=0).start()
listener = server.add(wk.Listener("bench", verification={"type": "hmac", "secret": "s"}))
inspector = EventInspector(server, "bench")
display(inspector)
shown = {}
def on_rows(change):
    now = time.perf_counter()
    for _, event_id in change["new"]:
        shown.setdefault(event_id, now)
inspector.table.observe(on_rows, names="options")""",
    """async def measure(n):
    answered = {}
    url = server.url_for(listener)
    def send_all():
        for i in range(n):
            d = wk.send(listener, {"i": i}, url=url)
            answered[d.json()["event_id"]] = time.perf_counter()
            time.sleep(0.05)  # one delivery at a time, as a person testing would
    await asyncio.get_running_loop().run_in_executor(None, send_all)
    for _ in range(200):
        if all(e in shown for e in answered):
            break
        await asyncio.sleep(0.01)
    return [shown[e] - answered[e] for e in answered if e in shown], len(answered)

lags, sent = await measure(N)
print(json.dumps({"lags": lags, "sent": sent}))
inspector.close()
server.stop()""",
]


def run_cells(cells: list[str], workdir: str) -> list[str]:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    nbclient.NotebookClient(nb, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": workdir}}).execute()
    return [o.get("text", "") for c in nb.cells for o in c.outputs if o.output_type == "stream"]


def last_json(texts: list[str]) -> dict:
    lines = [line for t in texts for line in t.splitlines() if line.startswith("{")]
    return json.loads(lines[-1])


def ms(seconds: float) -> str:
    return f"{int(round(seconds * 1000))} ms"


def bench_form(kernels: int, workdir: str) -> list[dict]:
    return [last_json(run_cells(FORM_CELLS, workdir)) for _ in range(kernels)]


def bench_inspector(deliveries: int, workdir: str) -> tuple[list[float], int]:
    cells = [INSPECTOR_CELLS[0], INSPECTOR_CELLS[1].replace("(N)", f"({deliveries})")]
    result = last_json(run_cells(cells, workdir))
    return result["lags"], result["sent"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kernels", type=int, default=3, help="fresh kernels for the form")
    parser.add_argument("--deliveries", type=int, default=50, help="deliveries for the inspector")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        forms = bench_form(args.kernels, workdir)
        lags, sent = bench_inspector(args.deliveries, workdir)

    def row(what, key):
        values = [f[key] for f in forms]
        return [what, ms(statistics.median(values)), ms(max(values))]

    form_md = "\n".join([
        "## Form",
        "",
        f"The listener form drawn in a fresh Jupyter kernel after `import webhook_kit`, "
        f"{args.kernels} kernels (`python benchmarks/bench_notebook.py`). Target: under 1 s. "
        "Kernel side: building the widgets and sending their comm messages; the browser then "
        "lays them out.",
        "",
        table(["step", "median", "max"], [
            row("import `webhook_kit.widgets` (ipywidgets included)", "import"),
            row("build `ListenerForm()`", "build"),
            row("display it", "display"),
            row("**total after `import webhook_kit`**", "total"),
        ]),
        "",
        machine_note(),
    ])
    write_section("form", form_md, DOC)

    shown = sorted(lags)
    if shown:
        p95 = shown[min(len(shown) - 1, int(round(0.95 * (len(shown) - 1))))]
        numbers = [[f"{len(shown)} of {sent}", ms(statistics.median(shown)), ms(p95), ms(shown[-1])]]
    else:
        numbers = [[f"0 of {sent}", "-", "-", "-"]]
    inspector_md = "\n".join([
        "## Inspector",
        "",
        "Time from a delivery's 2xx (as its sender reads it) to its row in the inspector's table, "
        f"in a real kernel, {sent} signed deliveries one after another over loopback "
        "(`python benchmarks/bench_notebook.py`). Target: under 0.2 s. The server thread hands "
        "each recorded event to the kernel's loop (`call_soon_threadsafe`); a negative time "
        "means the row was there before the sender had read its answer.",
        "",
        table(["events shown", "median", "p95", "max"], numbers),
        "",
        machine_note(),
    ])
    write_section("inspector", inspector_md, DOC)
    print(form_md, "\n\n", inspector_md, sep="")


if __name__ == "__main__":
    main()
