"""The notebooks in notebooks/ run top to bottom against the session's `tiny` district (ONEMAP_DATABASE_URL),
and produce real outputs: at least one chart (PNG) each, and a map (HTML) where they draw one."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb"))


def outputs_of(notebook: nbformat.NotebookNode, mime: str) -> int:
    return sum(mime in output.get("data", {}) for cell in notebook.cells if cell.cell_type == "code"
               for output in cell.get("outputs", []))


def test_there_are_five_notebooks() -> None:
    assert len(NOTEBOOKS) == 5


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_top_to_bottom(path: Path, platform_env: str, tmp_path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    # The kernel inherits this process's environment, so ONEMAP_DATABASE_URL points at the session database.
    NotebookClient(notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
                   ).execute()
    assert outputs_of(notebook, "image/png") >= 1
    if "folium" in path.read_text(encoding="utf-8") and "m\n" in "".join(c.source + "\n" for c in notebook.cells):
        assert outputs_of(notebook, "text/html") >= 1
    errors = [o for c in notebook.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors
