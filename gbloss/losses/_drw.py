"""Deferred re-weighting (DRW): class weights that switch on at a boosting round.

Cao et al. (LDAM-DRW, NeurIPS 2019, arXiv:1906.07413) train with uniform class
weights first and switch the class-balanced weights (inverse effective number
of samples, Cui et al. 2019) on late in training. ``drw_start_round=r`` on
:func:`gbloss.cross_entropy`, :func:`gbloss.focal`, :func:`gbloss.ldam` and
:func:`gbloss.lmf` does this for boosting: rounds before ``r`` use no class
weights, rounds ``>= r`` use ``class_weight`` (``"effective"`` with
``beta = 0.9999`` when it is None). The round comes from the booster (see
:mod:`gbloss._objective.rounds`); a booster call without it raises a
``RuntimeError`` that says which callback to add.
"""

from __future__ import annotations

import numbers
from typing import Any

from .._objective.binding import CallContext
from .._objective.protocol import register_with_xgboost
from .._objective.rounds import drw_callback

__all__ = ["DRW_START_ROUND_DOC", "DRWMixin"]

#: The ``drw_start_round`` entry of the Parameters section of every loss that takes it.
DRW_START_ROUND_DOC = """\
    drw_start_round : int, optional
        Deferred re-weighting (Cao et al. 2019): no class weights before this
        boosting round (0-based; XGBoost's iteration, LightGBM's counted from
        the start of the training call), ``class_weight`` from it on
        (``"effective"``, beta = 0.9999, when ``class_weight`` is None).
        XGBoost >= 3.2 passes the round to the loss; LightGBM and older XGBoost
        need ``callbacks=[gbloss.drw_callback()]``. ``loss()``, ``metric``,
        ``gradient_hessian`` and ``init_score`` are those of round 0;
        ``at_round(r)`` gives the derivatives of round ``r``.
"""


def check_drw_start_round(value: Any) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise ValueError(f"drw_start_round must be None or an integer >= 0, got {value!r}")


class DRWMixin:
    """``drw_start_round`` for a loss: the class weights are on from that round.

    The loss's ``_kernel`` and ``_init_constant`` ask :meth:`_drw_weights_on`
    whether the deferred class weights apply to the round of the call.
    """

    drw_start_round: int | None = None

    def _check_drw(self) -> None:
        check_drw_start_round(self.drw_start_round)
        if self.drw_start_round is not None:
            register_with_xgboost()  # so that XGBoost >= 3.2 passes the round from round 0

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        if self.drw_start_round is not None:
            register_with_xgboost()

    def _needs_round(self) -> bool:
        return self.drw_start_round is not None

    def _weights_from_counts(self) -> bool:
        """Whether the class weights come from the class counts (a scheme, or DRW's default)."""
        class_weight = getattr(self, "class_weight", None)
        return isinstance(class_weight, str) or (class_weight is None
                                                 and self.drw_start_round is not None)

    def _drw_weights_on(self, context: CallContext) -> bool:
        """Whether the class weights apply: always without DRW, else from the switch round on."""
        if self.drw_start_round is None:
            return True
        return context.round is not None and int(context.round) >= int(self.drw_start_round)

    def _kernel_variant(self, context: CallContext) -> Any:
        return self._drw_weights_on(context)

    def callback(self) -> Any:
        """``gbloss.drw_callback()``: the callback that tells this loss the boosting round."""
        return drw_callback()

    def at_round(self, iteration: int) -> RoundView:
        """The loss's derivatives at boosting round ``iteration`` (0-based).

        Without ``drw_start_round`` they are those of the loss itself. With it,
        ``at_round(r).gradient_hessian(...)`` includes the deferred class
        weights when ``r >= drw_start_round``.
        """
        return RoundView(self, int(iteration))


class RoundView:
    """A loss at one boosting round: :meth:`gradient_hessian` with that round's class weights."""

    def __init__(self, loss: Any, round_: int) -> None:
        self.loss, self.round = loss, round_

    def __repr__(self) -> str:
        return f"{self.loss!r}.at_round({self.round})"

    def gradient_hessian(self, y_true: Any, raw_prediction: Any, sample_weight: Any = None, *,
                         n_threads: int | None = None) -> tuple[Any, Any]:
        """As :meth:`gbloss.Loss.gradient_hessian`, at this round."""
        return self.loss._direct("grad_hess", y_true, raw_prediction, sample_weight,
                                 CallContext(round=self.round), n_threads=n_threads)
