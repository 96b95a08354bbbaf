"""The losses: one module per family, each with its pure array-API math, its
:class:`Loss` subclass and its factory.

* :mod:`.focal` -- class-weighted cross-entropy and focal loss;
* :mod:`.longtail` -- LDAM and LMF;
* :mod:`.logit_adjusted` -- logit adjustment, Balanced Softmax, VS loss;
* :mod:`.overlap` -- soft Dice and PointWise Exponential Loss;
* :mod:`.poly` -- PolyLoss (Poly-1 cross-entropy and focal);
* :mod:`.overlap` -- soft Dice, Tversky and PointWise Exponential Loss;
* :mod:`.cost_sensitive` -- the expected misclassification cost;
* :mod:`.acb_mse` -- ACB-MSE;
* :mod:`.asymmetric` -- ASL and gbdtCBL's asymmetric cross-entropy (ACE, AWE);
* :mod:`.balanced_mse` -- Balanced MSE (BMC, BNI, GAI);
* :mod:`.focal_regression` -- Focal-R; :mod:`._lds` -- LDS weights (not a loss);
* :mod:`._contract` -- the :class:`Loss` contract; :mod:`._weights`,
  :mod:`._init`, :mod:`._drw` -- class weights, constant-margin solvers,
  deferred re-weighting.
"""

from ._contract import Loss
from ._lds import lds_weights
from ._weights import ClassCounts, class_weights
from .acb_mse import ACBMSELoss, ClassSizes, acb_mse
from .asymmetric import ACELoss, AsymmetricLoss, ace, asymmetric, awe
from .balanced_mse import BalancedMSELoss, BalancedStats, balanced_mse
from .cost_sensitive import CostSensitiveLoss, cost_sensitive
from .focal import CrossEntropyLoss, FocalLoss, cross_entropy, focal
from .focal_regression import FocalRegressionLoss, focal_regression
from .logit_adjusted import (
    BalancedSoftmaxLoss,
    LogitAdjustedLoss,
    VSLoss,
    balanced_softmax,
    logit_adjusted,
    vs_loss,
)
from .longtail import LDAMLoss, LMFLoss, ldam, lmf
from .overlap import DiceLoss, PELoss, TverskyLoss, dice, pel, tversky
from .poly import PolyLoss, poly

__all__ = [
    "ACBMSELoss",
    "ACELoss",
    "AsymmetricLoss",
    "BalancedMSELoss",
    "BalancedSoftmaxLoss",
    "BalancedStats",
    "ClassCounts",
    "ClassSizes",
    "CostSensitiveLoss",
    "CrossEntropyLoss",
    "DiceLoss",
    "FocalLoss",
    "FocalRegressionLoss",
    "LDAMLoss",
    "LMFLoss",
    "LogitAdjustedLoss",
    "Loss",
    "PELoss",
    "PolyLoss",
    "TverskyLoss",
    "VSLoss",
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
    "focal",
    "focal_regression",
    "ldam",
    "lds_weights",
    "lmf",
    "logit_adjusted",
    "pel",
    "poly",
    "tversky",
    "vs_loss",
]
