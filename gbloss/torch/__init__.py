"""gbloss losses for PyTorch: the boosting objectives' math as ``nn.Module`` losses.

::

    import gbloss.torch as gt

    criterion = gt.SoftmaxFocalLoss(gamma=2.0, weight=class_weights)   # (N, C, ...) logits
    criterion = gt.SigmoidFocalLoss(gamma=2.0, alpha=0.25)              # binary / multi-label
    criterion = gt.CrossEntropyLoss(weight=class_weights, ignore_index=255)
    criterion = gt.BMCLoss(init_noise_sigma=1.0)                        # Balanced MSE
    criterion = gt.DiceLoss(smooth=1.0)                                 # per-sample soft Dice
    loss = gt.functional.sigmoid_focal_loss(logits, targets, reduction="sum")

Each loss runs the same array-API code as the :class:`gbloss.Loss` of the
same name (see :mod:`gbloss.torch.functional`), so its values equal the
boosting loss's and its gradient equals ``Loss.gradient_hessian``; the
forward pass computes the loss and its analytic gradient together and the
backward pass multiplies the stored gradient (exact also at logits of exactly
0, where autograd of ``|z|`` is not). Two losses run a fused torch kernel
instead, tested equal to the one definition (values, gradients, Hessian
diagonals): cross-entropy (and ``gamma=0`` focal) is **fast kernel
dispatched** to ``F.cross_entropy``, and the softmax focal loss is built on
``F.log_softmax`` with an exact backward. Requires torch
(``pip install gbloss[torch]``); ``import gbloss`` alone never imports it.

Migration
---------
.. list-table::
   :header-rows: 1
   :widths: 30 30 40

   * - published usage
     - gbloss.torch
     - notes: where the peer is wrong, what differs
   * - ``torchvision.ops.sigmoid_focal_loss(x, y, alpha=a, gamma=g, reduction=r)``
     - ``functional.sigmoid_focal_loss(x, y, alpha=a, gamma=g, reduction=r)``,
       ``SigmoidFocalLoss(gamma=g, alpha=a)``
     - Equal values on 0/1 labels. Defaults differ: torchvision ``alpha=0.25``,
       ``reduction="none"``; gbloss ``alpha=None`` (= torchvision's ``-1``),
       ``"mean"``. **torchvision is wrong in float32 at confident logits**: its
       ``(1 - p_t) ** gamma`` from a float32 sigmoid saturates for ``|z| > 17``
       (loss 0 instead of a small positive value, and a NaN gradient for
       ``gamma < 1``); gbloss works in log space and stays finite and accurate
       to ``|z| = 1e4`` (tested).
   * - ``kornia.losses.BinaryFocalLossWithLogits(alpha=a, gamma=g)``
     - ``SigmoidFocalLoss(gamma=g, alpha=a)``
     - Soft labels: the same expectation, equal values.
   * - ``kornia.losses.FocalLoss(alpha=a, gamma=g, weight=w)`` (softmax)
     - ``SoftmaxFocalLoss(gamma=g, alpha=[1 - a, a, ..., a], weight=w)``
     - kornia weighs class 0 by ``1 - a`` and the others by ``a``. Its
       ``"mean"`` divides by C x elements and counts ignored elements; gbloss's
       divides by the non-ignored elements (``sum weight[target]`` with
       ``weight``), as ``F.cross_entropy``.
   * - ``monai.losses.FocalLoss(gamma=g)``; ``use_softmax=True`` with one-hot ``y``
     - ``SigmoidFocalLoss(gamma=g)``; ``SoftmaxFocalLoss(gamma=g)(x, y.argmax(1))``
     - MONAI's ``"sum"`` first averages over the spatial dimensions; gbloss sums
       every element. With ``use_softmax=True`` MONAI's ``"mean"`` averages over
       the ``C`` class channels as well (only the true class's channel is
       non-zero), so it is gbloss's ``"mean"`` divided by ``C``. MONAI drops a
       scalar ``alpha`` with softmax and ``include_background=False``.
   * - ``torch.nn.CrossEntropyLoss(weight=w, ignore_index=i, reduction=r)``
     - ``CrossEntropyLoss(weight=w, ignore_index=i, reduction=r)``
     - The same kernel (dispatched), equal values and gradients; integer targets
       only.
   * - kaidic/LDAM-DRW ``LDAMLoss(cls_num_list, max_m=0.5, weight=None, s=30)``;
       DRW schedule
     - ``LDAMLoss(cls_num_list, max_m, weight, s)`` (positionally or by these
       keywords); ``criterion.weight = drw_weights(cls_num_list, epoch, 160)``
     - Equal values. The published code hard-codes ``torch.cuda.FloatTensor``
       (CUDA only); gbloss runs on any device, margins and weights are buffers.
   * - orparask/VS-Loss ``VSLoss(cls_num_list, gamma=0.3, tau=1.0, weight=None)``;
       google-research ``logit_adjustment`` loss; BalancedMetaSoftmax
       ``balanced_softmax_loss(labels, logits, sample_per_class, reduction)``
     - ``VSLoss(cls_num_list, gamma, tau, weight)``;
       ``LogitAdjustedLoss(base_probs, tau)``;
       ``functional.balanced_softmax_loss(logits, labels, sample_per_class)``
     - Equal values (gbloss's default ``gamma`` is 0.2; the logit-adjustment
       code adds 1e-12 inside its logarithm). The published code is CUDA-only
       or TensorFlow; gbloss also takes binary and multi-label targets.
   * - SanaNazari/LMFLoss ``LMFLoss(cls_num_list, weight, alpha, beta, gamma, max_m, s)``
     - the same call of :class:`LMFLoss`
     - **The published focal term is wrong**: it applies ``(1 - p_t)^gamma``
       once to the *batch-mean* cross-entropy (``p_t = exp(-mean CE)``), not per
       element as the focal loss is defined; gbloss applies it per element (so
       the values differ). The published code also needs CUDA tensors and has
       missing imports.
   * - acb-mse ``ACBLoss(zero_weighting, nonzero_weighting)``
     - the same call of :class:`ACBLoss`
     - Equal values. The package syncs with the host (``torch.isnan`` checks),
       returns the int ``0`` for an empty batch and silently drops a NaN
       prediction; gbloss returns a tensor (0 for an empty batch, with a
       gradient path) and propagates NaN.
   * - jiawei-ren/BalancedMSE ``BMCLoss(init_noise_sigma)`` with
       ``optimizer.add_param_group({"params": criterion.noise_sigma, ...})``
     - the same: :class:`BMCLoss`, whose ``noise_sigma`` is an ``nn.Parameter``
       (``fix_noise_sigma=True``: a buffer)
     - Equal values and ``noise_sigma`` gradients, ``(B,)``, ``(B, 1)`` or
       ``(B, d)`` (the authors' ``bmc_loss_md``). The authors hard-code CUDA
       and form ``[B, B]`` logits; gbloss forms no ``[B, B]`` matrix (4x faster
       at batch 4096 on the CPU, ``benchmarks/results/torch.md``).
   * - ``BNILoss(init_noise_sigma, bucket_centers, bucket_weights)``
     - the same call of :class:`BNILoss`;
       :func:`functional.bni_buckets` builds the buckets from training labels
     - Equal values; any input shape (every element a row).
   * - ``GAILoss(init_noise_sigma, gmm)`` (``gmm``: the path of ``gmm.pkl``)
     - the same call of :class:`GAILoss` (also a dict or a fitted
       ``GaussianMixture``; ``(B, d)`` input for a ``d``-dimensional mixture,
       the authors' ``gai_loss_md``)
     - Equal values. The authors' 1-D ``gai_loss`` needs ``pred`` shaped
       ``[B, 1]`` (other shapes broadcast wrongly, their issue #18); gbloss
       takes any shape.

Dice and PEL (:class:`DiceLoss`, :class:`PELoss`) are the kernels of
:func:`gbloss.dice` and :func:`gbloss.pel` with each sample (or the whole
batch, ``batch=True``) as one group.

``"mean"`` and :meth:`gbloss.Loss.loss`
---------------------------------------
``reduction="none"`` gives the boosting loss's per-row values (per group for
Dice and PEL), and where a loss is defined over sums of a batch (Balanced MSE
BMC, ACB-MSE, Dice, PEL) ``"mean"`` equals ``Loss.loss`` of the boosting loss
fitted on that batch (grouped by sample for Dice and PEL). ``"mean"``
follows torch's convention, which differs from ``Loss.loss`` in two cases:

* class weights (cross-entropy, softmax focal, LDAM, LMF with
  ``add_LDAM_weigth=True``): torch's ``"mean"`` divides by
  ``sum_i weight[target_i]`` (``F.cross_entropy``), ``Loss.loss`` by the sum
  of the sample weights (``n``); they differ by ``n / sum_i weight[target_i]``.
  Ignored targets are left out of both.
* multi-label sigmoid focal ``(N, C)``: torch's ``"mean"`` averages the
  ``N C`` elements, ``Loss.loss`` averages the ``N`` row sums: ``C`` times
  more.
"""

from __future__ import annotations

from . import functional
from .functional import drw_weights
from .nn import (
    ACBLoss,
    BalancedSoftmaxLoss,
    BMCLoss,
    BNILoss,
    CrossEntropyLoss,
    DiceLoss,
    FocalLoss,
    GAILoss,
    LDAMLoss,
    LMFLoss,
    LogitAdjustedLoss,
    PELoss,
    SigmoidFocalLoss,
    SoftmaxFocalLoss,
    VSLoss,
)

__all__ = [
    "ACBLoss",
    "BMCLoss",
    "BNILoss",
    "BalancedSoftmaxLoss",
    "CrossEntropyLoss",
    "DiceLoss",
    "FocalLoss",
    "GAILoss",
    "LDAMLoss",
    "LMFLoss",
    "LogitAdjustedLoss",
    "PELoss",
    "SigmoidFocalLoss",
    "SoftmaxFocalLoss",
    "VSLoss",
    "drw_weights",
    "functional",
]
