"""Notebooks 01 and 02 executed top to bottom by a real kernel (nbclient); any error fails."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def run_notebook(name: str, workdir: Path):
    """Execute a copy of the notebook in ``workdir`` (its events.db stays out of the repo)."""
    shutil.copy(NOTEBOOKS / name, workdir / name)
    nb = nbformat.read(workdir / name, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=180, kernel_name="python3",
                                     resources={"metadata": {"path": str(workdir)}})
    client.execute()  # raises CellExecutionError on the first failing cell
    return nb


def outputs(nb) -> str:
    text = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            assert out.get("output_type") != "error", out
            text.append(out.get("text", ""))
            text.append(str(out.get("data", {}).get("text/plain", "")))
    return "\n".join(text)


def widget_views(nb) -> int:
    return sum("application/vnd.jupyter.widget-view+json" in out.get("data", {})
               for cell in nb.cells for out in cell.get("outputs", []))


@pytest.mark.slow
def test_01_design_a_listener_runs_top_to_bottom(tmp_path):
    nb = run_notebook("01-design-a-listener.ipynb", tmp_path)
    text = outputs(nb)
    assert "/hooks/orders'" in text                        # the generated URL
    assert "200 {'event_id': 'evt_" in text                # the signed test delivery passed
    assert "rejected - HMAC in X-Signature does not match" in text
    assert '"secret": "********"' in text                  # the export masks the secret
    assert "It's a Secret to Everybody" not in text.split('"listeners"')[1]
    assert widget_views(nb) >= 3                           # form, inspector, debugger drawn


@pytest.mark.slow
def test_02_write_a_provider_plugin_runs_top_to_bottom(tmp_path):
    nb = run_notebook("02-write-a-provider-plugin.ipynb", tmp_path)
    text = outputs(nb)
    assert "'Acme Shop'" in text
    assert "200 {'event_id': 'evt_" in text
    assert "401 signature in Acme-Signature does not match" in text
    assert "{'acme': 'webhook_kit_acme'}" in text
    assert widget_views(nb) >= 2
