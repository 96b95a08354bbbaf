"""The declared floors: pyproject.toml, ci/floors.txt and gbloss's own checks say the same,
and too-old or missing libraries fail with a message that says what to install."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

from gbloss._core import versions

ROOT = Path(__file__).resolve().parents[1]

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    tomllib = pytest.importorskip("tomli")


def _floors() -> dict[str, str]:
    """Each distribution's lower bound in pyproject.toml's dependencies and extras."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        reqs += extra
    floors = {}
    for text in reqs:
        req = Requirement(text)
        for spec in req.specifier:
            if spec.operator == ">=":
                floors[req.name] = spec.version
    return floors


def test_checked_minimums_are_the_declared_floors():
    floors = _floors()
    for dist, minimum in versions.MINIMUM.items():
        if dist == "distributed":  # installed by dask[distributed], at dask's version
            assert minimum == floors["dask"]
            continue
        assert floors.get(dist) == minimum, dist


def test_ci_floors_pin_the_declared_floors():
    pins = {}
    for line in (ROOT / "ci" / "floors.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            req = Requirement(line)
            (spec,) = req.specifier
            pins[req.name] = spec.version
    for dist, floor in _floors().items():
        if dist in ("gbloss", "torch", "cupy-cuda12x"):  # extras of extras; not in that job
            continue
        assert dist in pins, dist
        assert Version(pins[dist]) == Version(floor), dist


def test_too_old_library_is_named(monkeypatch):
    monkeypatch.setattr(versions, "_installed_version", lambda dist, module: "1.0.0")
    with pytest.raises(ImportError, match=r"numpy 1\.0\.0 \(gbloss needs >= 2\.1\)"):
        versions.check_required()
    with pytest.raises(ImportError, match=r'xgboost >= 3\.1, found 1\.0\.0.*gbloss\[xgboost\]'):
        versions.require("xgboost", extra="xgboost")


def test_missing_optional_library_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "lightgbm", None)  # import lightgbm raises ImportError
    with pytest.raises(ImportError, match=r'pip install "gbloss\[lightgbm\]"'):
        versions.require("lightgbm", extra="lightgbm")
