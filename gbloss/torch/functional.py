r"""Functional forms of the gbloss losses for PyTorch (logits in).

One definition
--------------
Each function evaluates the *same* array-API code as the boosting objective
(:func:`gbloss.losses.focal.focal_branch`, the Balanced-MSE mixture
functions of :mod:`gbloss.losses.balanced_mse.mixture`, the ACB-MSE, Dice and
PEL kernels) on torch tensors, with ``xp = array_api_compat.array_namespace(tensor)``:

* the forward pass calls it in ``mode="value_grad"``, which returns the loss
  and its analytic first derivative in one pass (the derivative the boosters
  get from ``Loss.gradient_hessian``); the backward pass multiplies the stored
  derivative by the incoming gradient. This is 2-4x faster than letting
  autograd trace the value code, stores one tensor instead of a dozen, and is
  exact where autograd of the value code is not: the value code forms
  ``exp(-|z|)``, and autograd's derivative of ``|z|`` at ``z = 0`` is 0, which
  gives a wrong gradient at logits that are exactly 0 (a zero-initialised head).
* ``create_graph=True`` (double backward) is supported: the gradient is then
  recomputed from the same code with autograd recording, and for the
  elementwise sigmoid losses its derivative is the analytic Hessian
  (``mode="grad_hess"``), so ``torch.autograd`` second derivatives equal
  ``Loss.gradient_hessian(hessian="exact")``.

Two losses run fused torch kernels instead, each tested equal to the one
definition (values, gradients and Hessian diagonals against
``Loss.gradient_hessian`` and autograd of an independent definition):

* **fast kernel dispatched, tested equal to the one definition**:
  :func:`cross_entropy` (and :func:`softmax_focal_loss` with ``gamma=0`` and
  no per-class ``alpha``) calls ``torch.nn.functional.cross_entropy``, which
  computes the same definition (to an absolute error of about one ulp of 1:
  see :func:`cross_entropy`);
* :func:`softmax_focal_loss` (and the focal and LDAM terms of LMF and LDAM)
  is built on ``F.log_softmax`` in the input's ``(N, C, d1, ...)`` layout with
  an exact custom backward; its per-element formula is that of
  :func:`~gbloss.losses.focal.softmax_focal` term by term, and under
  ``create_graph=True`` its gradient is recomputed by that function.

The tests check the values against the boosting :class:`gbloss.Loss`, the
derivatives against autograd of an independent torch definition, and the
peers (torchvision's ``sigmoid_focal_loss`` formula, kornia's focal formulas,
``F.cross_entropy``, kaidic's LDAM, the acb-mse package, the Balanced MSE
authors' BMC, BNI and GAI formulas).

Conventions
-----------
* ``input`` holds logits, shaped ``(N, C, d1, ...)`` (or ``(N,)`` / any shape
  for the elementwise sigmoid losses); float16, bfloat16, float32 and float64.
  Half precision is computed in float32 and the result returned in the input
  dtype.
* ``reduction`` is ``"mean"`` (default), ``"sum"`` or ``"none"``; anything else
  raises ValueError.
* Class-index losses follow ``F.cross_entropy``: ``target`` is an integer
  tensor ``(N, d1, ...)``; ``ignore_index`` entries contribute 0 and are left
  out of the mean; with class weights ``"mean"`` divides by
  ``sum_i weight[target_i]``. :meth:`gbloss.Loss.loss` divides by the sum of the
  *sample* weights instead (class weights stay in the numerator), so with
  class weights the two means differ by the factor
  ``n / sum_i weight[target_i]``.
* Elementwise sigmoid losses follow ``torchvision.ops.sigmoid_focal_loss`` and
  ``BCEWithLogitsLoss``: ``"mean"`` averages over every element. For
  multi-label ``(N, C)`` input :meth:`gbloss.Loss.loss` averages the per-row sum
  over the ``C`` columns, i.e. it is ``C`` times this mean.
* Balanced MSE (:func:`bmc_loss`, :func:`bni_loss`, :func:`gai_loss`) takes
  predictions, not logits; ``"mean"`` averages the rows, as the authors' code.
  Dice and PEL (:func:`dice_loss`, :func:`pel_loss`) reduce over groups (one
  per sample, or the batch).
* Targets that require grad: the sigmoid focal loss (and :func:`focal_loss` on
  per-element targets) and ACB-MSE pass them their exact gradient; Balanced
  MSE, Dice and PEL, whose backward is analytic in the prediction only,
  refuse them with a ValueError (pass ``target.detach()``). Class indices are
  integers, which take no gradient.
* No device is hard-coded: every tensor is created on the input's device.

Layout
------
This module re-exports the functions of one module per family:
:mod:`gbloss.torch.focal` (sigmoid and softmax focal loss, cross-entropy),
:mod:`gbloss.torch.longtail` (LDAM, LMF, DRW),
:mod:`gbloss.torch.logit_adjusted` (logit adjustment, Balanced Softmax, VS loss),
:mod:`gbloss.torch.acb_mse`,
:mod:`gbloss.torch.balanced_mse` (BMC, BNI, GAI) and
:mod:`gbloss.torch.overlap` (Dice, PEL).
"""

from __future__ import annotations

from .acb_mse import acb_mse_loss
from .balanced_mse import bmc_loss, bni_buckets, bni_loss, gai_loss, gmm_tensors
from .focal import (
    cross_entropy,
    focal_loss,
    is_class_index_target,
    sigmoid_focal_loss,
    softmax_focal_loss,
)
from .logit_adjusted import balanced_softmax_loss, logit_adjusted_loss, vs_adjustment, vs_loss
from .longtail import class_margins, drw_weights, ldam_loss, lmf_loss
from .overlap import dice_loss, pel_loss

__all__ = [
    "acb_mse_loss",
    "balanced_softmax_loss",
    "bmc_loss",
    "bni_buckets",
    "bni_loss",
    "class_margins",
    "cross_entropy",
    "dice_loss",
    "drw_weights",
    "focal_loss",
    "gai_loss",
    "gmm_tensors",
    "is_class_index_target",
    "ldam_loss",
    "lmf_loss",
    "logit_adjusted_loss",
    "pel_loss",
    "sigmoid_focal_loss",
    "softmax_focal_loss",
    "vs_adjustment",
    "vs_loss",
]
