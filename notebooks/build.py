"""Build the notebooks from their sources and execute them.

The sources are plain Python files in the "percent" format (as jupytext writes
them) under ``notebooks/src/``: ``# %%`` starts a code cell and
``# %% [markdown]`` a Markdown cell whose lines are comments. This script turns
each source into ``notebooks/<name>.ipynb`` with nbformat and executes it with
nbclient, so that the committed notebooks carry their outputs (plots included).

Usage::

    python notebooks/build.py                 # every notebook
    python notebooks/build.py 01_quick_start  # some of them (name or path)
    python notebooks/build.py --no-execute    # write the cells only

Each notebook runs in ``notebooks/`` with a fresh ``python3`` kernel; the
execution time of each is printed. ``tests/test_notebooks.py`` checks that the
committed notebooks match their sources and that they execute.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent
SOURCES = HERE / "src"
CELL_TIMEOUT = 120  # seconds per cell


def parse_percent(text: str) -> list[tuple[str, str]]:
    """Cells ``(kind, source)`` of a percent-format script; kind is "code" or "markdown"."""
    cells: list[tuple[str, list[str]]] = []
    kind, lines = None, []
    for line in text.splitlines():
        if line.startswith("# %%"):
            if kind is not None or any(s.strip() for s in lines):
                cells.append((kind or "code", lines))
            kind = "markdown" if "[markdown]" in line else "code"
            lines = []
        else:
            lines.append(line)
    if kind is not None or any(s.strip() for s in lines):
        cells.append((kind or "code", lines))
    out = []
    for kind, lines in cells:
        if kind == "markdown":
            lines = [ln[2:] if ln.startswith("# ") else ln.lstrip("#") for ln in lines]
        while lines and not lines[0].strip():
            lines.pop(0)
        while lines and not lines[-1].strip():
            lines.pop()
        if lines:
            out.append((kind, "\n".join(lines)))
    return out


def notebook_from_source(path: Path) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    for kind, source in parse_percent(path.read_text()):
        if kind == "markdown":
            nb.cells.append(nbformat.v4.new_markdown_cell(source))
        else:
            nb.cells.append(nbformat.v4.new_code_cell(source))
    for i, cell in enumerate(nb.cells):  # stable ids: rebuilding gives the same file
        cell["id"] = f"{path.stem[:40]}-{i}"
    return nb


def execute(nb: nbformat.NotebookNode, timeout: int = CELL_TIMEOUT) -> float:
    """Execute ``nb`` in place in ``notebooks/``; returns the wall time in seconds."""
    from nbclient import NotebookClient

    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(HERE)}})
    start = time.perf_counter()
    client.execute()
    return time.perf_counter() - start


def strip_volatile(nb: nbformat.NotebookNode) -> None:
    """Drop execution metadata that changes on every run (timestamps)."""
    for cell in nb.cells:
        cell.metadata.pop("execution", None)


def sources(names: list[str]) -> list[Path]:
    every = sorted(SOURCES.glob("[0-9]*.py"))
    if not names:
        return every
    chosen = []
    for name in names:
        stem = Path(name).stem
        match = [p for p in every if p.stem == stem]
        if not match:
            sys.exit(f"no notebook source named {name!r} in {SOURCES}")
        chosen += match
    return chosen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="notebook names (default: all)")
    parser.add_argument("--no-execute", action="store_true", help="write the cells only")
    args = parser.parse_args()
    for src in sources(args.names):
        nb = notebook_from_source(src)
        target = HERE / f"{src.stem}.ipynb"
        if args.no_execute:
            print(f"{target.name}: written, not executed", flush=True)
        else:
            seconds = execute(nb)
            strip_volatile(nb)
            print(f"{target.name}: executed in {seconds:.1f} s", flush=True)
        nbformat.validate(nb)
        nbformat.write(nb, target)


if __name__ == "__main__":
    main()
