"""notebooks/04-transforms-and-flows.ipynb runs top to bottom in a real kernel, unattended."""

from __future__ import annotations

from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "04-transforms-and-flows.ipynb"


def text_of(cell) -> str:
    parts = []
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream":
            parts.append(output["text"])
        elif "data" in output:
            parts.append(str(output["data"].get("text/plain", "")))
    return "".join(parts)


@pytest.mark.slow
def test_notebook_04_runs_top_to_bottom(tmp_path):
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=240, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()  # raises CellExecutionError on any failing cell (each checks itself with asserts)
    out = "\n".join(text_of(c) for c in nb.cells if c.cell_type == "code")
    assert '"total": 111.5' in out and '"placed_at": "2024-05-01T12:00:00Z"' in out
    assert "cannot cast \"Ada Lovelace\" to integer" in out
    assert "listeners[0].transforms[0].extract: invalid JMESPath" in out
    assert out.count("202 <ack event=\"evt_") == 5
    assert "forward: ok (3 attempt(s))" in out  # two 503s retried
    assert "'status': 503" in out
    assert "dry run: 5 event(s), 5 would change" in out
    assert "5 event(s), 5 changed" in out
    widgets = [o for c in nb.cells for o in c.get("outputs", [])
               if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    assert len(widgets) >= 2  # the editor and the progress bar
