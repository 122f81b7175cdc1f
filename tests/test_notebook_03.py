"""notebooks/03-xml-to-json.ipynb runs top to bottom in a real kernel, without a manual step."""

from __future__ import annotations

from pathlib import Path

import pytest

nbclient = pytest.importorskip("nbclient")
nbformat = pytest.importorskip("nbformat")

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "03-xml-to-json.ipynb"


def test_notebook_03_runs_without_errors(tmp_path):
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(nb, kernel_name="python3", timeout=120,
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()  # raises CellExecutionError on the first failing cell
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    text = "\n".join(o.get("text", "") for o in outputs if o.get("output_type") == "stream")
    assert "CLI and Python agree: True" in text
    assert "same JSON as Python: True" in text
    assert "inline error: mismatched tag" in text
    assert "lead e-mail: lead@example.com" in text
    assert "<Ack>true</Ack>" in text
    # the playground was displayed as a widget
    assert any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in outputs)
