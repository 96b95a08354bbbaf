"""The losses: one module per family, each with its pure array-API math, its
:class:`Loss` subclass and its factory.

* :mod:`.focal` -- class-weighted cross-entropy and focal loss;
* :mod:`.longtail` -- LDAM and LMF;
* :mod:`.logit_adjusted` -- logit adjustment, Balanced Softmax, VS loss;
* :mod:`.overlap` -- soft Dice and PointWise Exponential Loss;
* :mod:`.acb_mse` -- ACB-MSE;
* :mod:`.balanced_mse` -- Balanced MSE (BMC, BNI, GAI);
* :mod:`._contract` -- the :class:`Loss` contract; :mod:`._weights`,
  :mod:`._init`, :mod:`._drw` -- class weights, constant-margin solvers,
  deferred re-weighting.
"""

from ._contract import Loss
from ._weights import ClassCounts, class_weights
from .acb_mse import ACBMSELoss, ClassSizes, acb_mse
from .balanced_mse import BalancedMSELoss, BalancedStats, balanced_mse
from .focal import CrossEntropyLoss, FocalLoss, cross_entropy, focal
from .logit_adjusted import (
    BalancedSoftmaxLoss,
    LogitAdjustedLoss,
    VSLoss,
    balanced_softmax,
    logit_adjusted,
    vs_loss,
)
from .longtail import LDAMLoss, LMFLoss, ldam, lmf
from .overlap import DiceLoss, PELoss, dice, pel

__all__ = [
    "ACBMSELoss",
    "BalancedMSELoss",
    "BalancedSoftmaxLoss",
    "BalancedStats",
    "ClassCounts",
    "ClassSizes",
    "CrossEntropyLoss",
    "DiceLoss",
    "FocalLoss",
    "LDAMLoss",
    "LMFLoss",
    "LogitAdjustedLoss",
    "Loss",
    "PELoss",
    "VSLoss",
    "acb_mse",
    "balanced_mse",
    "balanced_softmax",
    "class_weights",
    "cross_entropy",
    "dice",
    "focal",
    "ldam",
    "lmf",
    "logit_adjusted",
    "pel",
    "vs_loss",
]
