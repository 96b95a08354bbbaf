"""Every public function and class has a docstring; the loss factories document their math.

The API reference (``bash scripts/docs.sh``) is built from these docstrings.
"""

from __future__ import annotations

import importlib
import inspect

import pytest

import gbloss

MODULES = ["gbloss", "gbloss.xgboost", "gbloss.lightgbm", "gbloss.sklearn", "gbloss.dask"]
TORCH_MODULES = ["gbloss.torch", "gbloss.torch.functional"]
#: The factories that make a Loss: each documents its formula, parameters, return and source.
LOSS_FACTORIES = ["cross_entropy", "focal", "ldam", "lmf", "dice", "pel", "acb_mse",
                  "balanced_mse", "tversky", "cost_sensitive"]


def _public(module_name: str) -> list[tuple[str, object]]:
    module = importlib.import_module(module_name)
    names = getattr(module, "__all__", None)
    assert names is not None, f"{module_name} has no __all__"
    out: list[tuple[str, object]] = []
    for name in names:
        obj = getattr(module, name)
        if inspect.isfunction(obj) or inspect.isclass(obj):
            out.append((f"{module_name}.{name}", obj))
    return out


def _members(cls: type) -> list[tuple[str, object]]:
    """Public methods and properties defined by a gbloss class itself."""
    out = []
    for name, value in vars(cls).items():
        if name.startswith("_"):
            continue
        if inspect.isfunction(value) or isinstance(value, property | classmethod | staticmethod):
            out.append((f"{cls.__qualname__}.{name}", getattr(cls, name)))
    return out


def _objects(modules: list[str]) -> list[tuple[str, object]]:
    seen, out = set(), []
    for module in modules:
        for name, obj in _public(module):
            if id(obj) in seen:
                continue
            seen.add(id(obj))
            out.append((name, obj))
            if inspect.isclass(obj) and obj.__module__.startswith("gbloss"):
                out += _members(obj)
    return out


def _missing_docstrings(modules: list[str]) -> list[str]:
    return [name for name, obj in _objects(modules) if not (inspect.getdoc(obj) or "").strip()]


def test_public_api_has_docstrings():
    assert _missing_docstrings(MODULES) == []


def test_torch_api_has_docstrings():
    pytest.importorskip("torch")
    assert _missing_docstrings(TORCH_MODULES) == []


@pytest.mark.parametrize("name", LOSS_FACTORIES)
def test_loss_factory_documents_math_parameters_and_reference(name):
    factory = getattr(gbloss, name)
    doc = inspect.getdoc(factory) or ""
    for section in (".. math::", "Parameters\n---", "Returns\n---", "References\n---"):
        assert section in doc, f"gbloss.{name}: no {section.splitlines()[0]!r} section"
    undocumented = [p for p in inspect.signature(factory).parameters if p not in doc]
    assert undocumented == [], f"gbloss.{name}: parameters not in the docstring"
    assert inspect.signature(factory).return_annotation is not inspect.Signature.empty


def test_class_weights_documents_math_and_reference():
    doc = inspect.getdoc(gbloss.class_weights)
    assert ".. math::" in doc
    assert "References\n---" in doc


@pytest.mark.parametrize("name", LOSS_FACTORIES)
def test_loss_class_points_to_its_factory(name):
    cls = inspect.signature(getattr(gbloss, name)).return_annotation
    cls = getattr(gbloss, cls) if isinstance(cls, str) else cls
    assert issubclass(cls, gbloss.Loss)
    assert f"gbloss.{name}" in inspect.getdoc(cls), f"{cls.__name__} should refer to gbloss.{name}"


def test_torch_losses_document_their_math():
    torch = pytest.importorskip("torch")
    gt = importlib.import_module("gbloss.torch")
    undocumented = []
    for name in gt.__all__:
        obj = getattr(gt, name)
        if not (inspect.isclass(obj) and issubclass(obj, torch.nn.Module)):
            continue
        doc = inspect.getdoc(obj) or ""
        if ".. math::" not in doc and ":func:`gbloss." not in doc:  # the formula, or where it is
            undocumented.append(name)
    assert undocumented == []
