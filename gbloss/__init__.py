"""gbloss: loss functions for imbalanced data, for XGBoost, LightGBM and PyTorch.

Each factory returns a :class:`gbloss.Loss` that is the custom objective of
either booster as it is::

    import gbloss, xgboost as xgb, lightgbm as lgb

    loss = gbloss.focal(gamma=2.0)
    booster = gbloss.xgboost.train(params, dtrain, loss, num_boost_round=100)
    booster = xgb.train(params, dtrain, obj=loss, custom_metric=loss.metric)
    booster = lgb.train({"objective": loss, "metric": "None"}, train_set, feval=loss.metric)

``import gbloss`` never imports torch; the PyTorch losses live in
``gbloss.torch``.
"""

from ._base import HESSIAN_FLOOR, Loss, LossMetric
from ._classification import CrossEntropyLoss, FocalLoss, cross_entropy, focal
from ._drw import drw_callback
from ._longtail import LDAMLoss, LMFLoss, ldam, lmf
from ._overlap import DiceLoss, PELoss, dice, pel
from ._regression import ACBMSELoss, BalancedMSELoss, acb_mse, balanced_mse
from ._version import __version__
from ._weights import class_weights

__all__ = [
    "HESSIAN_FLOOR",
    "ACBMSELoss",
    "BalancedMSELoss",
    "CrossEntropyLoss",
    "DiceLoss",
    "FocalLoss",
    "LDAMLoss",
    "LMFLoss",
    "Loss",
    "LossMetric",
    "PELoss",
    "__version__",
    "acb_mse",
    "balanced_mse",
    "class_weights",
    "cross_entropy",
    "dice",
    "drw_callback",
    "focal",
    "ldam",
    "lightgbm",
    "lmf",
    "pel",
    "xgboost",
]


def __getattr__(name: str):  # lazy: gbloss.xgboost / .lightgbm / .torch import their library
    # "torch" stays out of __all__: `from gbloss import *` must not shadow the torch package
    if name in ("xgboost", "lightgbm", "torch", "sklearn", "dask"):
        import importlib

        return importlib.import_module(f"gbloss.{name}")
    raise AttributeError(f"module 'gbloss' has no attribute {name!r}")
