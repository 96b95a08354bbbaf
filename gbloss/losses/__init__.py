"""The losses: one module per family, each with its pure array-API math, its
:class:`Loss` subclass and its factory.

* :mod:`.focal` -- class-weighted cross-entropy and focal loss;
* :mod:`.longtail` -- LDAM and LMF;
* :mod:`.overlap` -- soft Dice and PointWise Exponential Loss;
* :mod:`.poly` -- PolyLoss (Poly-1 cross-entropy and focal);
* :mod:`.acb_mse` -- ACB-MSE;
* :mod:`.asymmetric` -- ASL and gbdtCBL's asymmetric cross-entropy (ACE, AWE);
* :mod:`.balanced_mse` -- Balanced MSE (BMC, BNI, GAI);
* :mod:`._contract` -- the :class:`Loss` contract; :mod:`._weights`,
  :mod:`._init`, :mod:`._drw` -- class weights, constant-margin solvers,
  deferred re-weighting.
"""

from ._contract import Loss
from ._weights import ClassCounts, class_weights
from .acb_mse import ACBMSELoss, ClassSizes, acb_mse
from .asymmetric import ACELoss, AsymmetricLoss, ace, asymmetric, awe
from .balanced_mse import BalancedMSELoss, BalancedStats, balanced_mse
from .focal import CrossEntropyLoss, FocalLoss, cross_entropy, focal
from .longtail import LDAMLoss, LMFLoss, ldam, lmf
from .overlap import DiceLoss, PELoss, dice, pel
from .poly import PolyLoss, poly

__all__ = [
    "ACBMSELoss",
    "ACELoss",
    "AsymmetricLoss",
    "BalancedMSELoss",
    "BalancedStats",
    "ClassCounts",
    "ClassSizes",
    "CrossEntropyLoss",
    "DiceLoss",
    "FocalLoss",
    "LDAMLoss",
    "LMFLoss",
    "Loss",
    "PELoss",
    "PolyLoss",
    "acb_mse",
    "ace",
    "asymmetric",
    "awe",
    "balanced_mse",
    "class_weights",
    "cross_entropy",
    "dice",
    "focal",
    "ldam",
    "lmf",
    "pel",
    "poly",
]
