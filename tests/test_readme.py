"""Every Python snippet in the README and the docs runs as shown.

The blocks of one file run in order in one namespace, as a reader would paste
them; a block that needs a GPU says so with a ``# needs a GPU`` line and is
skipped without one.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
FILES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def _blocks(path: Path) -> list[str]:
    return re.findall(r"```python\n(.*?)```", path.read_text(), flags=re.DOTALL)


@pytest.mark.slow
@pytest.mark.parametrize("path", [p for p in FILES if _blocks(p)], ids=lambda p: p.name)
def test_snippets_run(path, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "__main__"}
    for i, block in enumerate(_blocks(path)):
        if "# needs a GPU" in block:
            pytest.importorskip("cupy")
        exec(compile(block, f"{path.name}[block {i}]", "exec"), namespace)  # noqa: S102
