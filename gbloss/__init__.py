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

# Before anything else: a too-old numpy or scikit-learn fails with a clear message.
from ._core.versions import check_required

check_required()

from ._core.hessian import HESSIAN_FLOOR
from ._objective.protocol import Metric, Objective
from ._objective.rounds import drw_callback
from ._version import __version__
from .losses import (
    ACBMSELoss,
    ACELoss,
    AsymmetricLoss,
    BalancedMSELoss,
    BalancedSoftmaxLoss,
    CostSensitiveLoss,
    CrossEntropyLoss,
    DiceLoss,
    FocalLoss,
    FocalRegressionLoss,
    LDAMLoss,
    LMFLoss,
    LogitAdjustedLoss,
    Loss,
    PELoss,
    PolyLoss,
    TverskyLoss,
    VSLoss,
    acb_mse,
    ace,
    asymmetric,
    awe,
    balanced_mse,
    balanced_softmax,
    class_weights,
    cost_sensitive,
    cross_entropy,
    dice,
    focal,
    focal_regression,
    ldam,
    lds_weights,
    lmf,
    logit_adjusted,
    pel,
    poly,
    tversky,
    vs_loss,
)

__all__ = [
    "HESSIAN_FLOOR",
    "ACBMSELoss",
    "ACELoss",
    "AsymmetricLoss",
    "BalancedMSELoss",
    "BalancedSoftmaxLoss",
    "CostSensitiveLoss",
    "CrossEntropyLoss",
    "DiceLoss",
    "FocalLoss",
    "FocalRegressionLoss",
    "LDAMLoss",
    "LMFLoss",
    "LogitAdjustedLoss",
    "Loss",
    "Metric",
    "Objective",
    "PELoss",
    "PolyLoss",
    "TverskyLoss",
    "VSLoss",
    "__version__",
    "acb_mse",
    "ace",
    "asymmetric",
    "awe",
    "balanced_mse",
    "balanced_softmax",
    "class_weights",
    "cost_sensitive",
    "cross_entropy",
    "dice",
    "drw_callback",
    "focal",
    "focal_regression",
    "ldam",
    "lds_weights",
    "lightgbm",
    "lmf",
    "logit_adjusted",
    "pel",
    "poly",
    "tversky",
    "vs_loss",
    "xgboost",
]


def __getattr__(name: str):  # lazy: gbloss.xgboost / .lightgbm / .torch import their library
    # "torch" stays out of __all__: `from gbloss import *` must not shadow the torch package
    if name in ("xgboost", "lightgbm", "torch", "sklearn", "dask", "catboost", "metrics"):
        import importlib

        return importlib.import_module(f"gbloss.{name}")
    raise AttributeError(f"module 'gbloss' has no attribute {name!r}")
