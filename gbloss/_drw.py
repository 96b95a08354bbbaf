"""Deferred re-weighting (DRW): class weights that switch on at a boosting round.

Cao et al. (LDAM-DRW, NeurIPS 2019, arXiv:1906.07413) train with uniform class
weights first and switch the class-balanced weights (inverse effective number
of samples, Cui et al. 2019) on late in training. ``drw_start_round=r`` on
:func:`gbloss.cross_entropy`, :func:`gbloss.focal`, :func:`gbloss.ldam` and
:func:`gbloss.lmf` does this for boosting: rounds ``0 .. r-1`` (counted from the
start of the current training call) use no class weights, rounds ``>= r`` use
``class_weight`` (``"effective"`` with ``beta = 0.9999`` when it is None).

Where the round comes from
--------------------------
An objective has to know the boosting round, and counting calls is not
dependable (LightGBM deep-copies its params, ``lgb.cv`` and ``xgb.cv`` call the
objective once per fold and round, early stopping and continued training
change the count). gbloss therefore takes the round from the booster only:

* **XGBoost >= 3.2, ``xgb.train`` and ``xgb.cv``**: the losses are registered as
  virtual subclasses of ``xgboost.objective.Objective`` (as soon as xgboost is
  imported; gbloss itself never imports it), and XGBoost then calls them as
  ``obj(iteration, y_pred, dtrain)``. Nothing else is needed.
* **Everywhere else** (LightGBM's ``lgb.train``, ``lgb.cv``, ``LGBMClassifier``;
  ``XGBClassifier``, which wraps the objective in a plain function in
  XGBoost 3.2; XGBoost < 3.2): pass ``callbacks=[gbloss.drw_callback()]``
  (``loss.callback()`` is the same). The callback publishes the round to the
  objective calls of the same thread for exactly the number of models that
  train in that round (the folds of ``cv``), so a stale round is never used.

A loss with ``drw_start_round`` that is called by a booster without either
source raises a ``RuntimeError`` that says which callback to add.
"""

from __future__ import annotations

import numbers
import sys
import threading
from typing import Any

from ._base import NOT_GIVEN, Loss, _booster_of

__all__ = ["DRW_START_ROUND_DOC", "DRWMixin", "drw_callback"]

#: The ``drw_start_round`` entry of the Parameters section of every loss that takes it.
DRW_START_ROUND_DOC = """\
    drw_start_round : int, optional
        Deferred re-weighting (Cao et al. 2019): no class weights before this
        boosting round (0-based, counted from the start of the training call),
        ``class_weight`` from it on (``"effective"``, beta = 0.9999, when
        ``class_weight`` is None). XGBoost >= 3.2's ``xgb.train`` / ``xgb.cv``
        pass the round to the loss; LightGBM and ``XGBClassifier`` need
        ``callbacks=[gbloss.drw_callback()]``. ``loss()``, ``metric`` and
        ``init_score`` are those of round 0.
"""

_state = threading.local()
_registered = False


def _register_xgboost_objective() -> None:
    """Make every DRW-capable loss an ``xgboost.objective.Objective`` (XGBoost >= 3.2).

    Runs only when xgboost is already imported: gbloss never imports it itself.
    """
    global _registered
    if _registered or "xgboost" not in sys.modules:
        return
    try:
        from xgboost.objective import Objective
    except ImportError:  # XGBoost < 3.2: the callback is the only source of the round
        _registered = True
        return
    Objective.register(DRWMixin)
    _registered = True


def _publish(round_: int, n_models: int) -> None:
    _state.tick = [int(round_), int(n_models)]


def _take_round() -> int | None:
    """The round the callback published for this objective call (consumed), or None."""
    tick = getattr(_state, "tick", None)
    if tick is None or tick[1] <= 0:
        return None
    tick[1] -= 1
    return tick[0]


def _clear() -> None:
    _state.tick = None


def _check_drw_start_round(value: Any) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise ValueError(f"drw_start_round must be None or an integer >= 0, got {value!r}")


_NO_ROUND = (
    "{name}(drw_start_round={r}) needs the boosting round, and this call does not carry it. "
    "XGBoost >= 3.2 passes it to xgb.train and xgb.cv (import xgboost before calling the loss); "
    "for LightGBM (lgb.train, lgb.cv, LGBMClassifier.fit), XGBClassifier and older XGBoost, "
    "pass callbacks=[gbloss.drw_callback()] to the training call."
)


class DRWMixin:
    """Adds ``drw_start_round`` handling to a loss's booster objective (``__call__``).

    The loss's ``_kernel`` and ``_init_constant`` ask :meth:`_drw_weights_on`
    whether the deferred class weights apply to the current computation.
    """

    drw_start_round: int | None = None

    def _check_drw(self) -> None:
        _check_drw_start_round(self.drw_start_round)
        _register_xgboost_objective()

    def __setstate__(self, state: dict) -> None:
        super().__setstate__(state)  # type: ignore[misc]
        _register_xgboost_objective()

    def _drw_weights_on(self) -> bool:
        """Whether the class weights apply: always without DRW, else from the switch round on."""
        return self.drw_start_round is None or bool(self.__dict__.get("_drw_on", False))

    def at_round(self, iteration: int) -> Loss:
        """A view of the loss as it is at boosting round ``iteration`` (0-based).

        Without ``drw_start_round`` this is the loss itself. Otherwise
        ``gradient_hessian`` of the view includes the deferred class weights
        when ``iteration >= drw_start_round``. The loss itself (``loss()``,
        ``metric``, ``init_score``, ``gradient_hessian``) is the loss of round 0,
        before the switch.
        """
        if self.drw_start_round is None:
            return self  # type: ignore[return-value]
        self._cache  # noqa: B018 - create the shared label cache before copying the dict
        view = object.__new__(type(self))
        view.__dict__.update(self.__dict__)
        view.__dict__["_drw_on"] = int(iteration) >= int(self.drw_start_round)
        return view  # type: ignore[return-value]

    def callback(self) -> Any:
        """``gbloss.drw_callback()``: the callback that tells this loss the boosting round."""
        return drw_callback()

    def __call__(self, a: Any, b: Any, sample_weight: Any = None, group: Any = NOT_GIVEN
                 ) -> tuple[Any, Any]:
        iteration = None
        if (isinstance(a, numbers.Integral) and not isinstance(a, bool)
                and _booster_of(sample_weight) == "xgboost"):
            # xgboost.objective.Objective form: obj(iteration, y_pred, dtrain)
            iteration, a, b, sample_weight = int(a), b, sample_weight, None
            _take_round()  # a callback's tick for this call is not needed
        elif _booster_of(b) == "xgboost":
            _register_xgboost_objective()  # xgboost was imported after the loss was made
        target = self
        if self.drw_start_round is not None:
            if iteration is None:
                iteration = _take_round()
            if iteration is None:
                raise RuntimeError(_NO_ROUND.format(name=type(self).__name__,
                                                    r=self.drw_start_round))
            target = self.at_round(iteration)
        return Loss.__call__(target, a, b, sample_weight, group)  # type: ignore[arg-type]


# ------------------------------------------------------------------------- callback
class _DRWCallbackBase:
    """Publishes the boosting round to DRW losses (LightGBM and XGBoost callback protocols)."""

    #: LightGBM: run before each iteration, before its other callbacks.
    order = 0

    def __init__(self) -> None:
        self._first_epoch: int | None = None

    def __repr__(self) -> str:
        return "gbloss.drw_callback()"

    # LightGBM: ``callback(env)`` with ``env.iteration`` and ``env.begin_iteration``.
    def __call__(self, env: Any) -> None:
        boosters = getattr(env.model, "boosters", None)  # lgb.cv: a CVBooster
        _publish(env.iteration - env.begin_iteration, len(boosters) if boosters else 1)

    # XGBoost TrainingCallback protocol.
    def before_training(self, model: Any) -> Any:
        self._first_epoch = None
        _clear()
        return model

    def before_iteration(self, model: Any, epoch: int, evals_log: Any) -> bool:
        if self._first_epoch is None:
            self._first_epoch = int(epoch)
        folds = getattr(model, "cvfolds", None)  # xgb.cv: a _PackedBooster
        _publish(int(epoch) - self._first_epoch, len(folds) if folds else 1)
        return False

    def after_iteration(self, model: Any, epoch: int, evals_log: Any) -> bool:
        return False

    def after_training(self, model: Any) -> Any:
        _clear()
        return model


# LightGBM treats a callback with a truthy ``before_iteration`` attribute as a
# before-iteration callback: the XGBoost method above is one.


def _xgboost_callback_class() -> type | None:
    try:
        import xgboost.callback as xgb_callback
    except ImportError:
        return None
    cls = globals().get("_DRWCallbackXGB")
    if cls is None:
        cls = type("_DRWCallbackXGB", (_DRWCallbackBase, xgb_callback.TrainingCallback),
                   {"__module__": __name__, "__qualname__": "_DRWCallbackXGB"})
        globals()["_DRWCallbackXGB"] = cls
    return cls


def __getattr__(name: str) -> Any:  # unpickling a callback made when xgboost was available
    if name == "_DRWCallbackXGB":
        cls = _xgboost_callback_class()
        if cls is not None:
            return cls
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def drw_callback() -> Any:
    """Training callback that tells ``drw_start_round`` losses the boosting round.

    Needed by deferred re-weighting (``drw_start_round=``) wherever the
    booster does not pass the round to the objective: LightGBM
    (``lgb.train``, ``lgb.cv``, ``LGBMClassifier.fit(callbacks=...)``),
    ``XGBClassifier`` (``XGBClassifier(callbacks=[...])``) and XGBoost < 3.2.
    XGBoost >= 3.2's ``xgb.train`` and ``xgb.cv`` pass the round themselves;
    the callback does no harm there.

    The round is counted from the start of the current training call
    (LightGBM: ``env.iteration - env.begin_iteration``; XGBoost: from the
    first epoch seen). The same object works for both boosters: it is an
    ``xgboost.callback.TrainingCallback`` when xgboost is installed, and a
    LightGBM before-iteration callback.

    Returns
    -------
    callback

    Examples
    --------
    >>> import gbloss
    >>> loss = gbloss.ldam(drw_start_round=50)
    >>> cb = gbloss.drw_callback()   # lgb.train(..., callbacks=[cb])
    """
    cls = _xgboost_callback_class() or _DRWCallbackBase
    return cls()


_register_xgboost_objective()
