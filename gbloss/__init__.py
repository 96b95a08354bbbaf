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

from ._core.hessian import HESSIAN_FLOOR
from ._objective.protocol import Metric, Objective
from ._objective.rounds import drw_callback
from ._version import __version__
from .losses import (
    ACBMSELoss,
    BalancedMSELoss,
    BalancedSoftmaxLoss,
    CrossEntropyLoss,
    DiceLoss,
    FocalLoss,
    LDAMLoss,
    LMFLoss,
    LogitAdjustedLoss,
    Loss,
    PELoss,
    VSLoss,
    acb_mse,
    balanced_mse,
    balanced_softmax,
    class_weights,
    cross_entropy,
    dice,
    focal,
    ldam,
    lmf,
    logit_adjusted,
    pel,
    vs_loss,
)

__all__ = [
    "HESSIAN_FLOOR",
    "ACBMSELoss",
    "BalancedMSELoss",
    "BalancedSoftmaxLoss",
    "CrossEntropyLoss",
    "DiceLoss",
    "FocalLoss",
    "LDAMLoss",
    "LMFLoss",
    "LogitAdjustedLoss",
    "Loss",
    "Metric",
    "Objective",
    "PELoss",
    "VSLoss",
    "__version__",
    "acb_mse",
    "balanced_mse",
    "balanced_softmax",
    "class_weights",
    "cross_entropy",
    "dice",
    "drw_callback",
    "focal",
    "ldam",
    "lightgbm",
    "lmf",
    "logit_adjusted",
    "pel",
    "vs_loss",
    "xgboost",
]


def __getattr__(name: str):  # lazy: gbloss.xgboost / .lightgbm / .torch import their library
    # "torch" stays out of __all__: `from gbloss import *` must not shadow the torch package
    if name in ("xgboost", "lightgbm", "torch", "sklearn", "dask", "metrics"):
        import importlib

        return importlib.import_module(f"gbloss.{name}")
    raise AttributeError(f"module 'gbloss' has no attribute {name!r}")
