"""The notebooks in notebooks/: in sync with their sources, and they execute.

``test_notebook_executes`` runs every notebook in a fresh kernel (about 10-30 s
each); deselect it with ``-m "not notebooks"``. Rebuild the notebooks after
changing a source with ``python notebooks/build.py``.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = ROOT / "notebooks"
SOURCES = sorted((NOTEBOOK_DIR / "src").glob("[0-9]*.py"))
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
TIMEOUT = 120  # seconds per cell

nbformat = pytest.importorskip("nbformat")


def _build_module():
    spec = importlib.util.spec_from_file_location("gbloss_notebook_build", NOTEBOOK_DIR / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _cells(nb) -> list[tuple[str, str]]:
    return [(cell.cell_type, cell.source) for cell in nb.cells]


def test_every_source_has_its_notebook():
    assert SOURCES, "no notebook sources found"
    assert [p.stem for p in SOURCES] == [p.stem for p in NOTEBOOKS]


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_notebook_matches_its_source(source):
    build = _build_module()
    committed = nbformat.read(NOTEBOOK_DIR / f"{source.stem}.ipynb", as_version=4)
    assert _cells(committed) == _cells(build.notebook_from_source(source)), (
        f"notebooks/{source.stem}.ipynb is out of date: run python notebooks/build.py {source.stem}"
    )
    code = [cell for cell in committed.cells if cell.cell_type == "code"]
    assert all(cell.execution_count is not None for cell in code), "committed without outputs"
    assert not any(out.get("output_type") == "error" for cell in code for out in cell.outputs)


@pytest.mark.notebooks
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_executes(path):
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    pytest.importorskip("matplotlib")
    pytest.importorskip("pandas")
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=TIMEOUT, kernel_name="python3",
                                     resources={"metadata": {"path": str(NOTEBOOK_DIR)}})
    client.execute()  # raises CellExecutionError with the failing cell's traceback
    images = sum("image/png" in out.get("data", {}) for cell in nb.cells
                 if cell.cell_type == "code" for out in cell.outputs)
    assert images > 0, "the notebook drew no plot"
