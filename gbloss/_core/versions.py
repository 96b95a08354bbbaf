"""The oldest versions gbloss works with, checked where each library is first used.

``pip`` enforces the floors of ``pyproject.toml`` at install time; these checks
catch environments that bypass it (conda, ``--no-deps``, a later downgrade), at
``import gbloss`` for the required libraries and at first use for the optional
ones, with an error that says what to install. ``tests/test_versions.py`` holds
:data:`MINIMUM` against ``pyproject.toml``.
"""

from __future__ import annotations

import importlib
import importlib.metadata
from types import ModuleType

from packaging.version import Version

__all__ = ["MINIMUM", "check_required", "require"]

#: Distribution name -> oldest supported version (the floors of pyproject.toml).
MINIMUM: dict[str, str] = {
    "numpy": "2.1",
    "scipy": "1.13",
    "scikit-learn": "1.6",
    "array-api-compat": "1.9",
    "numba": "0.61",
    "xgboost": "3.1",
    "lightgbm": "4.4",
    "catboost": "1.2.8",
    "dask": "2024.8",
    "distributed": "2024.8",
    "torch": "2.1",
}

#: Distribution name -> the module it installs, where they differ.
_MODULE = {"scikit-learn": "sklearn", "array-api-compat": "array_api_compat"}
#: Distributions that install the same module as another one (a CPU-only XGBoost build).
_ALTERNATIVES = {"xgboost": ("xgboost", "xgboost-cpu")}
_REQUIRED = ("numpy", "scipy", "scikit-learn", "array-api-compat")


def _installed_version(dist: str, module: ModuleType | None) -> str | None:
    for name in _ALTERNATIVES.get(dist, (dist,)):
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return getattr(module, "__version__", None)


def _too_old(dist: str, version: str | None) -> bool:
    if version is None:
        return False  # a build without metadata: nothing to check against
    return Version(version).release < Version(MINIMUM[dist]).release


def check_required() -> None:
    """Raise ImportError when a required library is older than gbloss's floor."""
    old = []
    for dist in _REQUIRED:
        module = importlib.import_module(_MODULE.get(dist, dist))
        version = _installed_version(dist, module)
        if _too_old(dist, version):
            old.append(f"{dist} {version} (gbloss needs >= {MINIMUM[dist]})")
    if old:
        raise ImportError("gbloss needs newer versions of: " + ", ".join(old)
                          + ". Upgrade them, e.g. pip install --upgrade gbloss")


def require(dist: str, extra: str) -> ModuleType:
    """Import the optional library ``dist``, or raise ImportError naming the extra to install.

    ``extra`` is the gbloss extra that installs it (``pip install "gbloss[extra]"``).
    """
    module_name = _MODULE.get(dist, dist)
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ImportError(f"this part of gbloss needs {dist}, which is not installed: "
                          f'pip install "gbloss[{extra}]"') from exc
    version = _installed_version(dist, module)
    if _too_old(dist, version):
        raise ImportError(f"gbloss needs {dist} >= {MINIMUM[dist]}, found {version}: "
                          f'pip install --upgrade "gbloss[{extra}]"')
    return module


def satisfied(dist: str) -> bool:
    """Whether ``dist`` is installed at gbloss's floor or newer (without importing it)."""
    for name in _ALTERNATIVES.get(dist, (dist,)):
        try:
            return not _too_old(dist, importlib.metadata.version(name))
        except importlib.metadata.PackageNotFoundError:
            continue
    return False
