"""scikit-learn estimators that train XGBoost or LightGBM with any gbloss loss.

:class:`GBLossClassifier` and :class:`GBLossRegressor` hold a gbloss loss and
a choice of booster. They set what the boosters leave out for a custom
objective: the loss's optimal constant as the init score (XGBoost
``base_score``; LightGBM ``init_score`` on the training and every validation
set, then baked into the first trees), the loss as the evaluation metric, and
``predict_proba`` as the loss's estimates of ``P(y | x)``
(:meth:`gbloss.Loss.predict_proba`) of margins that include the init score::

    import gbloss
    from gbloss.sklearn import GBLossClassifier
    from sklearn.model_selection import GridSearchCV

    clf = GBLossClassifier(loss=gbloss.focal(gamma=2.0), booster="lightgbm", n_estimators=200)
    clf.fit(X_train, y_train, eval_set=[(X_val, y_val)], early_stopping_rounds=20)
    proba = clf.predict_proba(X_test)
    search = GridSearchCV(clf, {"loss__gamma": [0.5, 1.0, 2.0]}, scoring="average_precision")

Label statistics (class counts behind ``class_weight="balanced"``, LDAM
margins, label distributions of Balanced MSE, ...) are computed on every
``fit`` from the labels that ``fit`` sees, on a copy of the loss stored as
``loss_`` -- unless the loss is fitted already (``loss.fit(y_all)``), whose
statistics are then kept. The ``loss`` parameter itself is never modified, so
one loss object can be shared between estimators, folds and grid-search
candidates.

Missing and infinite feature values
-----------------------------------
Features go to the booster as they are, so each booster's rules apply:

* NaN is a missing value for both boosters: each split learns a default
  direction for it.
* XGBoost rejects ``inf`` and ``-inf`` (``XGBoostError``, a ``ValueError``:
  "Input data contains `inf`"). LightGBM accepts them and bins them as the
  largest and smallest values.
* In a scipy sparse matrix, entries that are not stored are *missing* for
  XGBoost and *zero* for LightGBM (its default ``zero_as_missing=False``).

Saving and loading
------------------
A fitted estimator (booster, fitted loss and label encoding) round-trips
through :mod:`pickle` or :mod:`joblib` with identical predictions::

    import joblib
    joblib.dump(clf, "model.joblib")
    clf = joblib.load("model.joblib")  # needs gbloss and the booster importable

The booster alone is also usable without gbloss: ``clf.booster_`` is a plain
``xgboost.Booster`` or ``lightgbm.Booster`` whose init score is part of the
model and whose configured objective carries the loss's link, so after
``clf.booster_.save_model("model.json")`` (XGBoost) or
``clf.booster_.save_model("model.txt")`` (LightGBM) and loading it with the
booster's own API, ``output_margin=True`` / ``raw_score=True`` give the
margins of ``decision_function`` and ``predict`` the loss's link of them (the
values of ``predict`` for regression). The link is not ``predict_proba``
when the loss moves the probabilities (class weights, focal, LDAM, ...):
``clf.loss_.predict_proba(margins)`` gives those (pickle ``clf.loss_`` with
the booster). The column order is that of ``clf.classes_``, which the
booster file does not store.
"""

from __future__ import annotations

import numbers
import os
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, clone
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from ._core.checks import check_finite_scalar
from ._core.labels import BINARY, MULTICLASS, REGRESSION
from .losses import Loss, cross_entropy

__all__ = ["ConstantModelWarning", "GBLossClassifier", "GBLossRegressor"]

BOOSTERS = ("xgboost", "lightgbm")

class ConstantModelWarning(UserWarning):
    """Training ended with a constant model: no tree could split."""


# Aliases of the per-child Hessian threshold, by booster.
_MIN_HESSIAN_NAMES = {
    "xgboost": ("min_child_weight",),
    "lightgbm": ("min_sum_hessian_in_leaf", "min_sum_hessian_per_leaf", "min_sum_hessian",
                 "min_hessian", "min_child_weight"),
}
_MIN_HESSIAN_DEFAULT = {"xgboost": 1.0, "lightgbm": 1e-3}
_RESERVED = {"objective", "obj", "fobj", "num_class", "base_score", "num_boost_round",
             "num_iterations", "n_estimators", "init_score"}


class _GBLossEstimator(BaseEstimator):
    """Parameters, validation, training and prediction shared by both estimators."""

    _estimator_task: str = ""

    def __init__(
        self,
        loss: Loss | None = None,
        *,
        booster: str = "xgboost",
        n_estimators: int = 100,
        learning_rate: float = 0.1,
        max_depth: int | None = None,
        num_leaves: int | None = None,
        min_child_weight: float | None = None,
        subsample: float = 1.0,
        colsample_bytree: float = 1.0,
        reg_alpha: float | None = None,
        reg_lambda: float | None = None,
        random_state: int | np.random.RandomState | None = None,
        n_jobs: int | None = None,
        booster_params: Mapping[str, Any] | None = None,
    ) -> None:
        self.loss = loss
        self.booster = booster
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.max_depth = max_depth
        self.num_leaves = num_leaves
        self.min_child_weight = min_child_weight
        self.subsample = subsample
        self.colsample_bytree = colsample_bytree
        self.reg_alpha = reg_alpha
        self.reg_lambda = reg_lambda
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.booster_params = booster_params

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The estimator's parameters; with ``deep``, also the loss's as ``loss__<name>``."""
        params = super().get_params(deep=deep)
        if deep and isinstance(self.loss, Loss):
            params.update((f"loss__{name}", value) for name, value in self.loss.params.items())
        return params

    # ------------------------------------------------------------------ tags
    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.sparse = True
        return tags

    def _more_tags(self) -> dict[str, Any]:  # scikit-learn < 1.6
        return {"allow_nan": True}

    # ------------------------------------------------------------ validation
    def _check_params(self) -> None:
        if self.booster not in BOOSTERS:
            raise ValueError(f"booster={self.booster!r} is not one of {list(BOOSTERS)}")
        _check_int("n_estimators", self.n_estimators, low=1)
        check_finite_scalar("learning_rate", self.learning_rate, low=0.0, low_inclusive=False)
        if self.max_depth is not None:
            _check_int("max_depth", self.max_depth, low=0 if self.booster == "xgboost" else -1)
        if self.num_leaves is not None:
            _check_int("num_leaves", self.num_leaves, low=2)
        if self.min_child_weight is not None:
            check_finite_scalar("min_child_weight", self.min_child_weight, low=0.0)
        check_finite_scalar("subsample", self.subsample, low=0.0, high=1.0, low_inclusive=False)
        check_finite_scalar("colsample_bytree", self.colsample_bytree, low=0.0, high=1.0,
                    low_inclusive=False)
        for name in ("reg_alpha", "reg_lambda"):
            if getattr(self, name) is not None:
                check_finite_scalar(name, getattr(self, name), low=0.0)
        if self.n_jobs is not None:
            _check_int("n_jobs", self.n_jobs)
            if self.n_jobs == 0:
                raise ValueError("n_jobs=0 is not allowed: use None, a positive count, or -1")
        if self.booster_params is not None:
            if not isinstance(self.booster_params, Mapping):
                raise ValueError(f"booster_params must be a dict or None, got "
                                 f"{type(self.booster_params).__name__}")
            bad = sorted(_RESERVED.intersection(self.booster_params))
            if bad:
                raise ValueError(
                    f"booster_params may not set {bad}: the objective comes from loss=, "
                    f"the number of classes from y, the init score from the loss, and the "
                    f"number of rounds from n_estimators"
                )
        if self.loss is not None and not isinstance(self.loss, Loss):
            raise ValueError(f"loss must be a gbloss loss (for example gbloss.focal()) or None, "
                             f"got {self.loss!r}")

    def _validate_X(self, X: Any, *, reset: bool) -> Any:
        return validate_data(self, X, reset=reset, accept_sparse=["csr", "csc"],
                                 dtype=[np.float64, np.float32], ensure_all_finite=False)

    def _validate_Xy(self, X: Any, y: Any) -> tuple[Any, NDArray]:
        y_numeric = self._estimator_task == REGRESSION
        X, y = validate_data(self, X, y, reset=True, accept_sparse=["csr", "csc"],
                                 dtype=[np.float64, np.float32], y_numeric=y_numeric,
                                 ensure_all_finite=False)
        return X, np.asarray(y)

    def _check_weight(self, sample_weight: Any, X: Any) -> NDArray | None:
        if sample_weight is None:
            return None
        w = _check_sample_weight(sample_weight, X, dtype=np.float64)
        if np.any(w < 0):
            raise ValueError("sample_weight contains negative values; weights must be >= 0")
        if not np.sum(w) > 0:
            raise ValueError("sample_weight sums to 0: at least one row needs a positive weight")
        return w

    # --------------------------------------------------------------- params
    def _seed(self) -> int | None:
        if self.random_state is None:
            return None
        if isinstance(self.random_state, numbers.Integral):
            return int(self.random_state)
        return int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))

    def _threads(self) -> int | None:
        if self.n_jobs is None:
            return None
        if self.n_jobs > 0:
            return int(self.n_jobs)
        return max(1, (os.cpu_count() or 1) + 1 + int(self.n_jobs))

    def _booster_params(self, n_outputs: int, seed: int | None) -> dict[str, Any]:
        threads = self._threads()
        if self.booster == "xgboost":
            p: dict[str, Any] = {"tree_method": "hist", "eta": float(self.learning_rate),
                                 "verbosity": 0}
            optional = {"max_depth": self.max_depth, "max_leaves": self.num_leaves,
                        "min_child_weight": self.min_child_weight, "alpha": self.reg_alpha,
                        "lambda": self.reg_lambda, "seed": seed, "nthread": threads}
            if self.subsample != 1.0:
                p["subsample"] = float(self.subsample)
            if self.colsample_bytree != 1.0:
                p["colsample_bytree"] = float(self.colsample_bytree)
            if n_outputs > 1:
                p["num_class"] = n_outputs
        else:
            p = {"learning_rate": float(self.learning_rate), "verbose": -1}
            optional = {"num_leaves": self.num_leaves, "max_depth": self.max_depth,
                        "min_sum_hessian_in_leaf": self.min_child_weight,
                        "lambda_l1": self.reg_alpha, "lambda_l2": self.reg_lambda,
                        "seed": seed, "num_threads": threads}
            if self.subsample != 1.0:
                p["bagging_fraction"] = float(self.subsample)
                p["bagging_freq"] = 1
            if self.colsample_bytree != 1.0:
                p["feature_fraction"] = float(self.colsample_bytree)
            if seed is not None:  # same seed, same model: no timing-based layout choice
                p["deterministic"] = True
                p["force_col_wise"] = True
            if n_outputs > 1:
                p["num_class"] = n_outputs
        p.update({k: v for k, v in optional.items() if v is not None})
        if self.booster_params:
            if self.booster == "lightgbm" and any(
                    k in self.booster_params for k in ("force_row_wise", "force_col_wise")):
                p.pop("force_col_wise", None)
            p.update(self.booster_params)
        return p

    def _min_hessian(self, params: Mapping[str, Any]) -> float:
        for name in _MIN_HESSIAN_NAMES[self.booster]:
            if params.get(name) is not None:
                return float(params[name])
        return _MIN_HESSIAN_DEFAULT[self.booster]

    # ----------------------------------------------------------------- fit
    def _fit(self, X: Any, y: Any, sample_weight: Any, eval_set: Any,
             early_stopping_rounds: int | None, groups: Any) -> _GBLossEstimator:
        self._check_params()
        if early_stopping_rounds is not None:
            _check_int("early_stopping_rounds", early_stopping_rounds, low=1)
            if not eval_set:
                raise ValueError("early_stopping_rounds needs an eval_set")
        X, y = self._validate_Xy(X, y)
        y_enc = self._encode_fit_targets(y)
        w = self._check_weight(sample_weight, X)
        loss = self._resolve_loss()
        n_out = self._n_outputs_
        # label statistics from these labels, on a fresh copy: the user's loss is untouched
        if loss is not None:
            fit_classes = n_out if n_out > 1 else None
            self.loss_ = clone(loss)._fitted_to(y_enc, w, n_classes=fit_classes)
        else:
            self.loss_ = None
        order, qid = _group_order(groups, y_enc.shape[0])
        train = (*_take(X, y_enc, w, order), qid)
        evals = [self._eval_data(item, i) for i, item in enumerate(eval_set or ())]
        seed = self._seed()
        params = self._booster_params(n_out, seed)
        self.evals_result_: dict[str, Any] = {}
        if self.booster == "xgboost":
            booster, best = self._train_xgboost(params, train, evals, early_stopping_rounds)
        else:
            booster, best = self._train_lightgbm(params, train, evals, early_stopping_rounds)
        self.booster_ = booster
        self.best_iteration_ = best
        init = None if self.loss_ is None else self.loss_.init_score(
            y_enc, w, n_classes=n_out if n_out > 1 else None)
        self.init_score_ = init
        self._warn_if_constant(params, y_enc, w, init)
        return self

    def _resolve_loss(self) -> Loss | None:
        raise NotImplementedError

    def _encode_fit_targets(self, y: NDArray) -> NDArray:
        raise NotImplementedError

    def _encode_targets(self, y: Any) -> NDArray:
        raise NotImplementedError

    def _eval_data(self, item: Any, index: int) -> tuple:
        if not isinstance(item, Sequence) or len(item) not in (2, 3, 4):
            raise ValueError(f"eval_set[{index}] must be a tuple (X, y), (X, y, sample_weight) "
                             f"or (X, y, sample_weight, groups)")
        Xe, ye = item[0], item[1]
        we = item[2] if len(item) > 2 else None
        ge = item[3] if len(item) > 3 else None
        Xe = self._validate_X(Xe, reset=False)
        ye = self._encode_targets(ye)
        if ye.shape[0] != Xe.shape[0]:
            raise ValueError(f"eval_set[{index}]: X has {Xe.shape[0]} rows but y has "
                             f"{ye.shape[0]}")
        we = self._check_weight(we, Xe)
        order, qid = _group_order(ge, ye.shape[0])
        return (*_take(Xe, ye, we, order), qid)

    def _train_xgboost(self, params: dict, train: tuple, evals: list,
                       early_stopping_rounds: int | None) -> tuple[Any, int | None]:
        from . import xgboost as gx

        xgb = gx.xgb

        threads = params.get("nthread")

        def dmatrix(X: Any, y: Any, w: Any, qid: Any) -> Any:
            return xgb.DMatrix(X, label=y, weight=w, qid=qid, missing=np.nan, nthread=threads)

        dtrain = dmatrix(*train)
        devals = [(dmatrix(*e), f"validation_{i}") for i, e in enumerate(evals)]
        kwargs: dict[str, Any] = {
            "evals": devals, "evals_result": self.evals_result_, "verbose_eval": False,
            "early_stopping_rounds": early_stopping_rounds,
            "callbacks": self._loss_callbacks() or None}
        if self.loss_ is None:
            params = {"objective": "reg:squarederror", **params}
            booster = xgb.train(params, dtrain, self.n_estimators, **kwargs)
        else:
            booster = gx.train(params, dtrain, self.loss_, self.n_estimators, maximize=False,
                               **kwargs)
        best = None
        if early_stopping_rounds is not None:
            best = int(booster.best_iteration)
            booster = booster[: best + 1]  # keep the trees up to the best round only
        return booster, best

    def _train_lightgbm(self, params: dict, train: tuple, evals: list,
                        early_stopping_rounds: int | None) -> tuple[Any, int | None]:
        from . import lightgbm as gl

        lgb = gl.lgb

        def dataset(X: Any, y: Any, w: Any, qid: Any, *, reference: Any = None) -> Any:
            group = None if qid is None else np.bincount(qid)
            return lgb.Dataset(_lightgbm_matrix(X), label=y, weight=w, group=group,
                               reference=reference,
                               free_raw_data=True)

        def run(params: dict) -> Any:
            self.evals_result_.clear()
            dtrain = dataset(*train)
            valid = [dataset(*e, reference=dtrain) for e in evals]
            callbacks = self._loss_callbacks()
            if valid:
                callbacks.append(lgb.record_evaluation(self.evals_result_))
            if early_stopping_rounds is not None:
                callbacks.append(lgb.early_stopping(early_stopping_rounds, first_metric_only=True,
                                                    verbose=False))
            names = [f"validation_{i}" for i in range(len(valid))] or None
            if self.loss_ is None:
                return lgb.train({"objective": "regression", **params}, dtrain, self.n_estimators,
                                 valid_sets=valid or None, valid_names=names, callbacks=callbacks)
            return gl.train(params, dtrain, self.loss_, self.n_estimators,
                            valid_sets=valid or None, valid_names=names, callbacks=callbacks)

        try:
            booster = run(params)
        except lgb.basic.LightGBMError as exc:
            # LightGBM's custom-objective path fails when its feature pre-filter drops
            # every feature (fewer than 2 x min_data_in_leaf rows, or constant columns);
            # without the pre-filter it trains the constant model the built-ins give.
            if "num_features()" not in str(exc) or params.get("feature_pre_filter") is False:
                raise
            booster = run({**params, "feature_pre_filter": False})
        best = None
        if early_stopping_rounds is not None and booster.best_iteration > 0:
            best = int(booster.best_iteration) - 1  # 0-based, as for XGBoost
            booster = lgb.Booster(model_str=booster.model_to_string(num_iteration=best + 1))
        return booster, best

    def _loss_callbacks(self) -> list:
        """Callbacks the loss needs from the booster (the round, for deferred re-weighting)."""
        loss = self.loss_
        if loss is None or getattr(loss, "drw_start_round", None) is None:
            return []
        make = getattr(loss, "callback", None)
        return [make()] if callable(make) else []

    # ------------------------------------------------------- constant model
    def _is_constant(self) -> bool:
        booster = self.booster_
        if self.booster == "xgboost":
            rounds = booster.num_boosted_rounds()
            first = booster[:1].get_dump() if rounds > 1 else booster.get_dump()
            if any(":leaf=" not in tree.split("\n", 1)[0] for tree in first):
                return False
            return all(":leaf=" in tree.split("\n", 1)[0] for tree in booster.get_dump())
        if any(tree.get("num_leaves", 1) > 1
               for tree in booster.dump_model(num_iteration=1)["tree_info"]):
            return False
        return all(tree.get("num_leaves", 1) <= 1 for tree in booster.dump_model()["tree_info"])

    def _warn_if_constant(self, params: dict, y: NDArray, w: NDArray | None,
                          init: Any) -> None:
        if y.shape[0] < 2 or not self._is_constant():
            return
        limit = self._min_hessian(params)
        if self.loss_ is None:  # built-in squared error: the Hessian of a row is its weight
            hess_total = np.array([float(y.shape[0] if w is None else np.sum(w))])
            hess_max = np.array([1.0 if w is None else float(np.max(w))])
        else:
            n_out = self._n_outputs_
            raw = (np.full(y.shape[0], float(init)) if n_out == 1
                   else np.tile(np.asarray(init, dtype=np.float64), (y.shape[0], 1)))
            with np.errstate(all="ignore"):
                _, hess = self.loss_.gradient_hessian(y, raw, w)
            hess = np.asarray(hess, dtype=np.float64).reshape(y.shape[0], -1)
            hess_total, hess_max = hess.sum(axis=0), hess.max(axis=0)
        if np.all(hess_total < 2 * limit):
            name = "min_child_weight" if self.booster == "xgboost" else "min_sum_hessian_in_leaf"
            warnings.warn(
                f"training ended with a constant model: no tree could split because the "
                f"Hessians are too small. At the init score their sum is "
                f"{float(np.max(hess_total)):.3g} (largest row {float(np.max(hess_max)):.3g}), "
                f"below 2 x {name}={limit:g}, the least two children need. Lower "
                f"min_child_weight, scale up sample_weight, or use a loss whose Hessian is "
                f"larger (hessian='auto').",
                ConstantModelWarning,
                stacklevel=3,
            )

    # ------------------------------------------------------------- predict
    def _margins(self, X: Any) -> NDArray:
        check_is_fitted(self, "booster_")
        X = self._validate_X(X, reset=False)
        if self.booster == "xgboost":
            import scipy.sparse as sp

            if sp.issparse(X) and X.format != "csr":
                X = X.tocsr()
            raw = self.booster_.inplace_predict(X, predict_type="margin", missing=np.nan)
        else:
            raw = self.booster_.predict(_lightgbm_matrix(X), raw_score=True)
        raw = np.asarray(raw, dtype=np.float64)
        if self._n_outputs_ > 1:
            return raw.reshape(X.shape[0], self._n_outputs_)
        return raw.reshape(X.shape[0])


def _lightgbm_matrix(X: Any) -> Any:
    """scipy sparse arrays as sparse matrices (LightGBM converts them itself, with a warning)."""
    import scipy.sparse as sp

    if sp.issparse(X) and not isinstance(X, sp.spmatrix):
        return sp.csr_matrix(X) if X.format == "csr" else sp.csc_matrix(X)
    return X


def _check_int(name: str, value: Any, *, low: int | None = None) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        # ValueError, not TypeError: the error every other parameter check here raises
        raise ValueError(f"{name} must be an integer, got {value!r}")  # noqa: TRY004
    if low is not None and value < low:
        raise ValueError(f"{name} must be >= {low}, got {value!r}")


def _group_order(groups: Any, n: int) -> tuple[NDArray | None, NDArray | None]:
    """Stable row order that makes each group contiguous, and the sorted group ids."""
    if groups is None:
        return None, None
    g = np.asarray(groups)
    if g.ndim != 1 or g.shape[0] != n:
        raise ValueError(f"groups must have one entry per row: shape {g.shape}, {n} rows")
    if g.dtype.kind == "f" and not np.all(np.isfinite(g)):
        raise ValueError("groups contains NaN or infinite values")
    _, ids = np.unique(g, return_inverse=True)
    order = np.argsort(ids, kind="stable")
    return order, ids[order].astype(np.uint32)


def _take(X: Any, y: NDArray, w: NDArray | None, order: NDArray | None) -> tuple:
    if order is None:
        return X, y, w
    return X[order], y[order], None if w is None else w[order]


class GBLossClassifier(ClassifierMixin, _GBLossEstimator):
    r"""Gradient-boosted trees for classification, trained with a gbloss loss.

    Parameters
    ----------
    loss : gbloss.Loss or None, default=None
        A classification loss (:func:`gbloss.focal`, :func:`gbloss.cross_entropy`,
        LDAM, LMF, Dice, PEL, ...). ``None`` means ``gbloss.cross_entropy()``
        (plain log-loss). Its parameters are reachable as ``loss__<name>``, so
        ``GridSearchCV(clf, {"loss__gamma": [1, 2]})`` works. The object is
        never modified: ``fit`` stores a copy fitted to the training labels
        as ``loss_`` (a fitted loss keeps its own statistics). A loss that supports multiclass but not binary data
        trains binary data as two-class softmax.
    booster : {"xgboost", "lightgbm"}, default="xgboost"
    n_estimators : int, default=100
        Boosting rounds (one tree per class per round for multiclass data).
    learning_rate : float, default=0.1
        XGBoost ``eta``, LightGBM ``learning_rate``.
    max_depth : int or None, default=None
        None keeps the booster's default (XGBoost 6, LightGBM -1: no limit).
    num_leaves : int or None, default=None
        Leaves per tree: LightGBM ``num_leaves`` (default 31), XGBoost
        ``max_leaves`` (default 0: no limit).
    min_child_weight : float or None, default=None
        Smallest sum of Hessians in a child: XGBoost ``min_child_weight``
        (default 1), LightGBM ``min_sum_hessian_in_leaf`` (default 1e-3).
        gbloss's derivatives follow the boosters' sum convention, so the value
        means what it means for the built-in objectives.
    subsample : float in (0, 1], default=1.0
        Row subsampling per round (LightGBM ``bagging_fraction`` with
        ``bagging_freq=1``).
    colsample_bytree : float in (0, 1], default=1.0
        Feature subsampling per tree (LightGBM ``feature_fraction``).
    reg_alpha, reg_lambda : float or None, default=None
        L1 and L2 penalties on leaf values; None keeps the booster default
        (XGBoost ``alpha=0``, ``lambda=1``; LightGBM 0 and 0).
    random_state : int, RandomState or None, default=None
        Seed of the booster's sampling. None keeps the booster's default seed.
        With LightGBM a given seed also sets ``deterministic=True`` and
        ``force_col_wise=True``, so that equal seeds give equal models.
    n_jobs : int or None, default=None
        Threads of the booster and of gbloss's kernels; None: the booster's
        default (all cores); -1: all cores.
    booster_params : dict or None, default=None
        Further native parameters of the chosen booster (for example
        ``{"max_bin": 63}``), applied last. ``objective``, ``num_class`` and
        ``base_score`` are set by the estimator and may not appear.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The labels seen by ``fit`` (any type, sorted).
    n_classes_ : int
    loss_ : gbloss.Loss
        The copy of ``loss`` with label statistics fitted to the training
        labels: ``clf.loss_.predict_proba(clf.decision_function(X), prior=...)``
        gives probabilities for another class prior.
    booster_ : xgboost.Booster or lightgbm.Booster
        The model, init score included (see the module docstring for saving it).
    init_score_ : float or ndarray of shape (n_classes,)
        The loss's optimal constant margin on the training labels.
    best_iteration_ : int or None
        0-based best round when ``early_stopping_rounds`` was given; the
        booster keeps only the rounds up to it.
    evals_result_ : dict
        The loss on each ``eval_set`` entry, per round.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when ``X`` has string column names (pandas).

    Notes
    -----
    ``predict_proba`` is ``loss_.predict_proba`` of ``decision_function``
    (margins including the init score): the loss's own map from its
    minimiser back to ``P(y | x)`` is undone, exactly for class weights,
    alpha, focal loss, LDAM and LMF (the class weights of the last round for
    deferred re-weighting); Dice and PEL keep the plain sigmoid, which is
    not a probability estimate -- calibrate it
    (:class:`sklearn.calibration.CalibratedClassifierCV` on
    ``sklearn.frozen.FrozenEstimator(clf)``). See ``docs/probabilities.md``.
    ``predict`` is the class of largest ``predict_proba``;
    ``decision_function`` stays the raw margins. Multi-label targets are not supported by the estimator; use
    :func:`gbloss.xgboost.train` for them.

    Training that ends with a constant model because the Hessians are too
    small for ``min_child_weight`` raises :class:`ConstantModelWarning`.
    """

    _estimator_task = "classification"

    def fit(
        self,
        X: ArrayLike,
        y: ArrayLike,
        sample_weight: ArrayLike | None = None,
        *,
        eval_set: Sequence[tuple] | None = None,
        early_stopping_rounds: int | None = None,
        groups: ArrayLike | None = None,
    ) -> GBLossClassifier:
        """Fit the booster.

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_samples, n_features)
            Numeric features; NaN is a missing value (see the module docstring).
        y : array-like of shape (n_samples,)
            Class labels of any type, at least two classes.
        sample_weight : array-like of shape (n_samples,), optional
            Non-negative row weights, applied to the loss's gradients.
        eval_set : list of tuples, optional
            ``(X, y)``, ``(X, y, sample_weight)`` or ``(X, y, sample_weight,
            groups)`` per validation set; the loss (with the training labels'
            statistics) is recorded in ``evals_result_``.
        early_stopping_rounds : int, optional
            Stop when the loss on the last ``eval_set`` entry has not improved
            for this many rounds (LightGBM: on any entry).
        groups : array-like of shape (n_samples,), optional
            Group id of each row (for example one image per group) for the
            losses defined over sums within groups (Dice, PEL). Rows are
            reordered so that each group is contiguous and handed to the
            booster as XGBoost ``qid`` / LightGBM ``group``. Row-separable
            losses give the same loss with or without groups.

        Returns
        -------
        self
        """
        return self._fit(X, y, sample_weight, eval_set, early_stopping_rounds, groups)

    def _encode_fit_targets(self, y: NDArray) -> NDArray:
        kind = type_of_target(y, input_name="y")
        if kind in ("multilabel-indicator", "multiclass-multioutput", "continuous-multioutput"):
            raise ValueError(f"GBLossClassifier takes 1-D class labels; y is {kind}. Use "
                             f"gbloss.xgboost.train for multi-label data.")
        check_classification_targets(y)
        classes, y_enc = np.unique(y, return_inverse=True)
        if classes.shape[0] < 2:
            raise ValueError(
                f"y contains only 1 class ({classes[0]!r}); a classifier needs at least 2 classes"
            )
        self.classes_ = classes
        self.n_classes_ = int(classes.shape[0])
        return y_enc.reshape(-1).astype(np.float64)

    def _encode_targets(self, y: Any) -> NDArray:
        from sklearn.utils.validation import column_or_1d

        y = column_or_1d(y, warn=True)
        idx = np.searchsorted(self.classes_, y)
        idx = np.clip(idx, 0, self.classes_.shape[0] - 1)
        bad = self.classes_[idx] != y
        if np.any(bad):
            raise ValueError(f"eval_set labels {np.unique(y[bad])[:5]!r} are not among the "
                             f"training classes {self.classes_!r}")
        return idx.astype(np.float64)

    def _resolve_loss(self) -> Loss:
        loss = cross_entropy() if self.loss is None else self.loss
        tasks = loss._tasks
        if BINARY not in tasks and MULTICLASS not in tasks:
            raise ValueError(
                f"{type(loss).__name__} is a regression loss; GBLossClassifier needs a "
                f"classification loss. Use GBLossRegressor for it."
            )
        k = self.n_classes_
        if k == 2:
            self._n_outputs_ = 1 if BINARY in tasks else 2  # two-class softmax fallback
        else:
            if MULTICLASS not in tasks:
                raise ValueError(f"{type(loss).__name__} supports binary data only; y has "
                                 f"{k} classes")
            self._n_outputs_ = k
        expected = getattr(loss, "n_classes", None)
        if expected is not None and not isinstance(expected, bool) and expected != k:
            raise ValueError(f"the loss has n_classes={expected} but y has {k} classes")
        return loss

    def decision_function(self, X: ArrayLike) -> NDArray:
        """Margins, init score included: shape (n,) for binary, (n, n_classes) otherwise.

        For binary data trained as two-class softmax, the log-odds
        ``z_1 - z_0``.
        """
        raw = self._margins(X)
        if self.n_classes_ == 2 and raw.ndim == 2:
            return raw[:, 1] - raw[:, 0]
        return raw

    def predict_proba(self, X: ArrayLike) -> NDArray:
        """Estimates of ``P(y | x)``: ``loss_.predict_proba`` of the margins.

        Shape (n, n_classes), rows sum to 1, columns in the order of
        ``classes_``. What the loss does to the probabilities (class weights,
        alpha, focusing, LDAM margins) is undone (see Notes of the class and
        :meth:`gbloss.Loss.predict_proba`), under the training class
        frequencies.
        """
        raw = self._margins(X)
        p = np.asarray(self.loss_.predict_proba(raw, multilabel=False), dtype=np.float64)
        if p.ndim == 1:
            return np.stack([1.0 - p, p], axis=1)
        return p

    def predict(self, X: ArrayLike) -> NDArray:
        """The class of largest ``predict_proba`` (the most probable class).

        ``predict`` and ``predict_proba`` agree. A class-weighted loss
        therefore no longer shifts the decisions towards the rare classes;
        for decisions that weigh errors unequally, tune the threshold
        (:class:`sklearn.model_selection.TunedThresholdClassifierCV`) or
        reweight the probabilities for a different prior
        (``loss_.predict_proba(decision_function(X), prior="uniform")``).
        """
        p = self.predict_proba(X)
        return self.classes_[np.argmax(p, axis=1)]


class GBLossRegressor(RegressorMixin, _GBLossEstimator):
    r"""Gradient-boosted trees for regression, trained with a gbloss loss.

    Parameters
    ----------
    loss : gbloss.Loss or None, default=None
        A regression loss (ACB-MSE, Balanced MSE, ...). ``None`` trains with
        the booster's built-in squared error (XGBoost ``reg:squarederror``,
        LightGBM ``regression``), intercept estimated by the booster: gbloss
        has no plain squared-error loss, and the built-in is its exact and
        fastest form. ``loss__<name>`` parameters work in grid searches.
    booster, n_estimators, learning_rate, max_depth, num_leaves, min_child_weight
        As for :class:`GBLossClassifier`.
    subsample, colsample_bytree, reg_alpha, reg_lambda, random_state, n_jobs, booster_params
        As for :class:`GBLossClassifier`.

    Attributes
    ----------
    loss_ : gbloss.Loss or None
        The copy of ``loss`` fitted to the training targets (None for the
        built-in squared error).
    booster_, init_score_, best_iteration_, evals_result_, n_features_in_, feature_names_in_
        As for :class:`GBLossClassifier` (``init_score_`` is None with the
        built-in squared error).
    """

    _estimator_task = REGRESSION

    def fit(
        self,
        X: ArrayLike,
        y: ArrayLike,
        sample_weight: ArrayLike | None = None,
        *,
        eval_set: Sequence[tuple] | None = None,
        early_stopping_rounds: int | None = None,
        groups: ArrayLike | None = None,
    ) -> GBLossRegressor:
        """Fit the booster; parameters as in :meth:`GBLossClassifier.fit`, ``y`` numeric 1-D."""
        return self._fit(X, y, sample_weight, eval_set, early_stopping_rounds, groups)

    def _encode_fit_targets(self, y: NDArray) -> NDArray:
        self._n_outputs_ = 1
        return np.asarray(y, dtype=np.float64).reshape(-1)

    def _encode_targets(self, y: Any) -> NDArray:
        from sklearn.utils.validation import check_array, column_or_1d

        y = column_or_1d(y, warn=True)
        return check_array(y, ensure_2d=False, dtype=np.float64, input_name="y")

    def _resolve_loss(self) -> Loss | None:
        loss = self.loss
        if loss is None:
            return None
        if REGRESSION not in loss._tasks or loss.link != "identity":
            raise ValueError(
                f"{type(loss).__name__} is a classification loss; GBLossRegressor needs a "
                f"regression loss. Use GBLossClassifier for it."
            )
        return loss

    def predict(self, X: ArrayLike) -> NDArray:
        """Predicted values (the margins, init score included)."""
        raw = self._margins(X)
        if self.loss_ is None:
            return raw
        return np.asarray(self.loss_.transform(raw), dtype=np.float64)
