"""The losses: one module per family, each with its pure array-API math, its
:class:`Loss` subclass and its factory.

* :mod:`.focal` -- class-weighted cross-entropy and focal loss;
* :mod:`.longtail` -- LDAM and LMF;
* :mod:`.overlap` -- soft Dice, Tversky and PointWise Exponential Loss;
* :mod:`.cost_sensitive` -- the expected misclassification cost;
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
from .cost_sensitive import CostSensitiveLoss, cost_sensitive
from .focal import CrossEntropyLoss, FocalLoss, cross_entropy, focal
from .longtail import LDAMLoss, LMFLoss, ldam, lmf
from .overlap import DiceLoss, PELoss, TverskyLoss, dice, pel, tversky

__all__ = [
    "ACBMSELoss",
    "BalancedMSELoss",
    "BalancedStats",
    "ClassCounts",
    "ClassSizes",
    "CostSensitiveLoss",
    "CrossEntropyLoss",
    "DiceLoss",
    "FocalLoss",
    "LDAMLoss",
    "LMFLoss",
    "Loss",
    "PELoss",
    "TverskyLoss",
    "acb_mse",
    "balanced_mse",
    "class_weights",
    "cost_sensitive",
    "cross_entropy",
    "dice",
    "focal",
    "ldam",
    "lmf",
    "pel",
    "tversky",
]
