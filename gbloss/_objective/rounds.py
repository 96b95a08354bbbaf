"""The boosting round, for deferred re-weighting (``drw_start_round=``).

An objective has to know the boosting round, and counting calls is not
dependable (LightGBM deep-copies its params, ``lgb.cv`` and ``xgb.cv`` call the
objective once per fold and round, early stopping and continued training
change the count). The round therefore comes from the booster only:

* **XGBoost >= 3.2** (``xgb.train``, ``xgb.cv``, ``XGBClassifier``): gbloss's
  objectives are registered as virtual subclasses of
  ``xgboost.objective.Objective`` (:func:`register_xgboost_objective`), and
  XGBoost then calls them as ``obj(iteration, y_pred, dtrain)``.
* **Everywhere else** (LightGBM's ``lgb.train``, ``lgb.cv``, ``LGBMClassifier``;
  XGBoost < 3.2): ``callbacks=[gbloss.drw_callback()]``. The callback publishes
  the round to the objective calls of the same thread for exactly the number
  of models that train in that round (the folds of ``cv``), so a stale round is
  never used.
"""

from __future__ import annotations

import threading
from typing import Any

__all__ = ["drw_callback", "register_xgboost_objective", "take_round"]

_state = threading.local()
_registered: set[type] = set()


def register_xgboost_objective(cls: type) -> None:
    """Make ``cls`` a virtual ``xgboost.objective.Objective`` (XGBoost >= 3.2), so that
    XGBoost passes the iteration to its instances. A no-op without xgboost or before 3.2."""
    if cls in _registered:
        return
    _registered.add(cls)
    try:
        from xgboost.objective import Objective
    except ImportError:  # no xgboost, or XGBoost < 3.2: the callback is the only source
        return
    Objective.register(cls)


def _publish(round_: int, n_models: int) -> None:
    _state.tick = [int(round_), int(n_models)]


def take_round() -> int | None:
    """The round the callback published for this objective call (consumed), or None."""
    tick = getattr(_state, "tick", None)
    if tick is None or tick[1] <= 0:
        return None
    tick[1] -= 1
    return tick[0]


def _clear() -> None:
    _state.tick = None


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
    (``lgb.train``, ``lgb.cv``, ``LGBMClassifier.fit(callbacks=...)``) and
    XGBoost < 3.2. XGBoost >= 3.2 passes the round itself (``xgb.train``,
    ``xgb.cv``, ``XGBClassifier``); the callback does no harm there.

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


def with_round_callback(loss: Any, callbacks: Any) -> list | None:
    """``callbacks`` with a :func:`drw_callback` added when ``loss`` needs the boosting round
    and none is there (for the adapters' training calls: LightGBM and XGBoost < 3.2 do not
    pass the round to the objective)."""
    out = list(callbacks or ())
    if loss._needs_round() and not any(isinstance(c, _DRWCallbackBase) for c in out):
        out.append(drw_callback())
    return out or None
