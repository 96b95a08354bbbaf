"""The contract every gbloss loss keeps.

A :class:`Loss` is its parameters and, once fitted, its statistics. It owns
its link and its math and knows nothing of its callers; through the
:class:`~gbloss._objective.protocol.ObjectiveMixin` it is used as it is by
every booster:

* ``xgb.train(params, dtrain, obj=loss, custom_metric=loss.metric)`` and ``xgb.cv``;
* ``lgb.train({"objective": loss, "metric": "None"}, train_set, feval=loss.metric)`` and ``lgb.cv``;
* ``xgb.XGBClassifier(objective=loss)``.

Derivatives are taken with respect to the raw prediction (margin) of the sum
``S * loss`` with ``S = sum_i w_i``: row ``i`` contributes ``w_i * dl_i/dz``.
This is the convention of the boosters' built-in objectives, so their
``learning_rate``, ``lambda`` and ``min_child_weight`` keep their meaning.

State
-----
* **Parameters**: the constructor's arguments, read with :attr:`Loss.params`,
  changed with :meth:`Loss.set_params`.
* **Fitted statistics** (``statistics_``): what :meth:`Loss.fit` learned from
  labels (class counts, a label distribution). They pickle, deep-copy,
  survive :func:`sklearn.base.clone` and :meth:`Loss.set_params` of the
  parameters they do not depend on, and are used wherever the loss runs.
* Nothing else. What one training adds (validated labels, the statistics of
  an unfitted loss's training labels, threads, device, groups, round) lives
  in that training's binding (:mod:`gbloss._objective.binding`).

Which statistics apply: the fitted ones; else, inside a booster's training,
those of its training labels; else (direct calls of :meth:`Loss.loss`,
:meth:`Loss.gradient_hessian`, :meth:`Loss.init_score`) those of the labels
given.
"""

from __future__ import annotations

import copy
import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._core.checks import as_margins, check_n_classes, check_sample_weight
from .._core.collective import Workers
from .._core.executor import run_blocked
from .._core.labels import (
    BINARY,
    MULTICLASS,
    MULTILABEL,
    REGRESSION,
    Labels,
    Task,
    as_label_array,
    infer_task,
    validate_labels,
)
from .._core.namespace import asarray_on, get_namespace, to_numpy
from .._objective.binding import CallContext, freeze
from .._objective.protocol import ObjectiveMixin, evaluate
from ._posterior import MARGIN_BOUND, shift_prior, stationary_distribution
from ._weights import ClassCounts

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = ["Link", "Loss"]

Link = Literal["logit", "identity"]
Mode = Literal["value", "grad_hess"]
_DEFAULT = CallContext()


class Loss(ObjectiveMixin):
    """Base class of every gbloss loss.

    Subclasses set ``_name``, ``_tasks`` and ``link`` and implement
    ``_validate_params``, ``_fit_stats``, ``_kernel`` and ``_init_constant``.
    """

    _name: ClassVar[str] = "loss"
    _tasks: ClassVar[tuple[Task, ...]] = (BINARY, MULTICLASS, MULTILABEL)
    #: ``"logit"`` (sigmoid / softmax) or ``"identity"``.
    link: ClassVar[Link] = "logit"
    #: Whether row i's loss depends on row i alone (False for Dice and PEL).
    row_separable: ClassVar[bool] = True
    #: Parameters the fitted statistics depend on: ``set_params`` of one drops them.
    _statistics_params: ClassVar[tuple[str, ...]] = ()

    #: What :meth:`fit` learned from labels; None until then.
    statistics_: Any = None

    # ------------------------------------------------------------------ params
    @classmethod
    def _param_names(cls) -> tuple[str, ...]:
        return _param_names(cls)

    @property
    def params(self) -> dict[str, Any]:
        """The constructor parameters and their values (a new dict)."""
        return {name: getattr(self, name) for name in self._param_names()}

    def _validate_params(self) -> None:  # pragma: no cover - every loss overrides
        raise NotImplementedError

    def set_params(self, **params: Any) -> Self:
        """Set parameters (validated) and return the loss, as scikit-learn's ``set_params``.

        Fitted statistics are kept unless a parameter they depend on changes
        (for Balanced MSE ``sigma``, ``prior``, ...; ACB-MSE's ``classes``).
        """
        names = self._param_names()
        unknown = sorted(set(params) - set(names))
        if unknown:
            raise ValueError(f"invalid parameter(s) {unknown} for {type(self).__name__}; "
                             f"valid parameters: {list(names)}")
        old = {name: getattr(self, name) for name in params}
        for name, value in params.items():
            setattr(self, name, value)
        try:
            self._validate_params()
        except Exception:
            for name, value in old.items():
                setattr(self, name, value)
            raise
        if self.statistics_ is not None and any(
                name in self._statistics_params and freeze(old[name]) != freeze(value)
                for name, value in params.items()):
            del self.statistics_
        return self

    def __repr__(self) -> str:
        defaults = {p.name: p.default
                    for p in inspect.signature(type(self).__init__).parameters.values()}
        shown = []
        for name, value in self.params.items():
            default = defaults.get(name, inspect.Parameter.empty)
            if default is inspect.Parameter.empty or freeze(default) != freeze(value):
                shown.append(f"{name}={value!r}")
        return f"{type(self).__name__}({', '.join(shown)})"

    def __sklearn_clone__(self) -> Self:
        """:func:`sklearn.base.clone`: the same parameters and the same fitted statistics."""
        new = type(self)(**copy.deepcopy(self.params))
        if self.statistics_ is not None:
            new.statistics_ = self.statistics_
        return new

    # ------------------------------------------------------------- subclasses
    def _fit_stats(self, labels: Labels, w: Any, xp: Any) -> Any:
        """Statistics of ``labels`` (class counts, a label distribution, ...), or None."""
        return None

    def _fit_stats_across(self, labels: Labels, w: Any, xp: Any, workers: Workers) -> Any:
        """Statistics of every worker's labels in a distributed training (``labels`` and
        ``w`` are this worker's, possibly empty), the same on every worker.

        Every worker calls it once per training with the same ``workers``. The
        default gathers all the labels and weights (:meth:`Workers.gather_labels`)
        and fits them as one machine would; a loss whose statistics are sums
        (class counts) overrides it to all-reduce just those.
        """
        if not self._uses_statistics():
            return None  # nothing to share
        all_labels, all_w = workers.gather_labels(labels, w)
        return self._fit_stats(all_labels, all_w, np)

    def _check_fitted(self, stats: Any, labels: Labels) -> None:
        """Raise when fitted statistics do not fit these labels (task, classes, dimension)."""
        task = getattr(stats, "task", labels.task)
        if task != labels.task:
            raise ValueError(f"{type(self).__name__} was fitted on {task} labels; these are "
                             f"{labels.task} labels")
        k = getattr(stats, "n_classes", labels.n_classes)
        if k != labels.n_classes:
            raise ValueError(f"{type(self).__name__} was fitted on {k} classes; these data "
                             f"have {labels.n_classes}")

    def _kernel(self, labels: Labels, stats: Any, mode: Mode, xp: Any, dtype: Any,
                context: CallContext) -> Callable[..., tuple[Any, ...]]:
        """Return ``fn(y, w, raw, xp)`` computing ``(value,)`` or ``(grad, hess)``.

        ``mode`` is ``"value"`` (per-row loss, shape ``(n,)``) or ``"grad_hess"``
        (arrays shaped like ``raw``, already multiplied by ``w``). ``fn`` must be
        row-wise when ``row_separable``.
        """
        raise NotImplementedError

    def _init_constant(self, labels: Labels, w: Any, stats: Any) -> NDArray:
        raise NotImplementedError

    def _kernel_variant(self, context: CallContext) -> Any:
        """What of ``context`` a row-wise kernel depends on (kernels are reused per variant)."""
        return None

    def _needs_round(self) -> bool:
        """Whether the booster must tell the loss the boosting round (deferred re-weighting)."""
        return False

    def _uses_statistics(self) -> bool:
        """Whether the kernels and the init score depend on the statistics of the labels
        (a loss that has any, unless it says otherwise). Where a booster's calls cannot give
        the training's statistics (CatBoost's blocks), a loss that uses them must be fitted."""
        return type(self)._fit_stats is not Loss._fit_stats

    # -------------------------------------------------- used by the objective
    def _signature(self) -> tuple:
        """Identifies the loss's parameters and statistics (copies of a loss share it)."""
        return (type(self), tuple((name, freeze(value)) for name, value in self.params.items()),
                id(self.statistics_))

    def _task_of(self, y_shape: tuple, raw_shape: tuple) -> Task:
        if self._tasks == (REGRESSION,):
            return REGRESSION
        return infer_task(y_shape, raw_shape)

    def _validated(self, y_true: Any, raw_shape: tuple, sample_weight: Any, xp: Any,
                   dtype: Any) -> tuple[Labels, Any]:
        """Labels checked against the margins' shape, and the weights, in ``dtype``."""
        y = as_label_array(y_true, xp)
        if self._tasks != (REGRESSION,) and len(raw_shape) == 2 and raw_shape[1] == 1 \
                and y.ndim == 1:
            raw_shape = (raw_shape[0],)
        task = self._task_of(tuple(y.shape), tuple(raw_shape))
        if task not in self._tasks:
            raise ValueError(f"{type(self).__name__} does not support {task} data")
        n_classes = raw_shape[1] if task in (MULTICLASS, MULTILABEL) else 1
        expected = getattr(self, "n_classes", None)
        if expected is not None and task == MULTICLASS and n_classes != expected:
            raise ValueError(f"n_classes={expected} but raw_prediction has {n_classes} columns")
        labels = validate_labels(y, task, n_classes, xp, dtype)
        return labels, check_sample_weight(sample_weight, raw_shape[0], xp, dtype)

    def _statistics(self, labels: Labels, w: Any, xp: Any) -> Any:
        """The fitted statistics (checked against ``labels``), else those of ``labels``."""
        if self.statistics_ is not None:
            self._check_fitted(self.statistics_, labels)
            return self.statistics_
        return self._fit_stats(labels, w, xp)

    def _evaluate(self, mode: Mode, labels: Labels, w: Any, raw: Any, stats: Any, xp: Any,
                  context: CallContext = _DEFAULT, *, n_threads: int | None = None,
                  cache: Callable[[tuple, Any, Callable[[], Any]], Any] | None = None) -> Any:
        """``(grad, hess)`` or the weighted mean loss on validated inputs.

        ``cache(key, stats, make)``: where a caller keeps kernels (a binding).
        """
        def make() -> Any:
            return self._kernel(labels, stats, mode, xp, raw.dtype, context)

        if cache is not None and self.row_separable:
            fn = cache((mode, str(raw.dtype), self._kernel_variant(context)), stats, make)
        else:
            fn = make()
        if mode == "grad_hess":
            return self._run_grad_hess(labels, w, raw, fn, xp, n_threads)
        return self._run_loss(labels, w, raw, fn, xp, n_threads)

    def _run_grad_hess(self, labels: Labels, w: Any, raw: Any, fn: Any, xp: Any,
                       n_threads: int | None) -> tuple[Any, Any]:
        squeeze = raw.ndim == 2 and labels.task == BINARY
        raw_in = xp.reshape(raw, (-1,)) if squeeze else raw
        if self.row_separable:
            grad, hess = run_blocked(fn, (labels.y, w, raw_in), xp=xp, n_threads=n_threads)
        else:
            with np.errstate(all="ignore"):
                grad, hess = fn(labels.y, w, raw_in, xp)
        if squeeze:
            grad, hess = xp.reshape(grad, raw.shape), xp.reshape(hess, raw.shape)
        return grad, hess

    def _run_loss(self, labels: Labels, w: Any, raw: Any, fn: Any, xp: Any,
                  n_threads: int | None) -> float:
        raw_in = xp.reshape(raw, (-1,)) if raw.ndim == 2 and labels.task == BINARY else raw
        if not self.row_separable:
            with np.errstate(all="ignore"):
                (values,) = fn(labels.y, w, raw_in, xp)
            return float(values)
        (values,) = run_blocked(fn, (labels.y, None, raw_in), xp=xp, n_threads=n_threads)
        values = xp.astype(values, xp.float64)
        # the mean of losses near the float maximum (margins near it) may overflow to inf;
        # w * (a loss below 1e-300) may round to 0: both harmless
        with np.errstate(over="ignore", under="ignore"):
            if w is None:
                return float(xp.mean(values)) if values.shape[0] else float("nan")
            w = xp.astype(w, xp.float64)
            total = float(xp.sum(w))
            weighted = float(xp.sum(w * values))
        return weighted / total if total > 0 else float("nan")

    # ------------------------------------------------------------ public API
    def fit(self, y_true: ArrayLike, sample_weight: ArrayLike | None = None, *,
            n_classes: int | None = None) -> Self:
        """Return a copy whose statistics are computed from ``y_true`` once and kept.

        The copy's ``statistics_`` (class counts, a label distribution, ...)
        are used wherever it runs: every booster, validation metrics, every
        worker of a cluster, after pickling and :func:`sklearn.base.clone`.
        The loss itself is unchanged.

        Parameters
        ----------
        y_true : array of shape (n,) or (n, k)
            Training labels. 1-D labels are binary unless ``n_classes`` (here
            or on the loss) is given or a label exceeds 1.
        sample_weight : array of shape (n,), optional
        n_classes : int, optional
            Number of classes of 1-D multiclass labels.
        """
        xp = get_namespace(y_true)
        labels, w = self._labels_for_init(y_true, sample_weight, n_classes, xp)
        fitted = copy.deepcopy(self)
        fitted.statistics_ = self._fit_stats(labels, w, xp)
        return fitted

    def _fitted_to(self, y_true: Any, sample_weight: Any = None, *,
                   n_classes: int | None = None) -> Self:
        """The loss itself when fitted (its statistics are kept), else :meth:`fit` on these labels.

        The labels are validated either way.
        """
        if self.statistics_ is None:
            return self.fit(y_true, sample_weight, n_classes=n_classes)
        labels, _ = self._labels_for_init(y_true, sample_weight, n_classes,
                                          get_namespace(y_true))
        self._check_fitted(self.statistics_, labels)
        return self

    def _labels_for_init(self, y_true: Any, sample_weight: Any, n_classes: int | None,
                         xp: Any) -> tuple[Labels, Any]:
        check_n_classes(n_classes)
        y = as_label_array(y_true, xp)
        if self._tasks == (REGRESSION,) or y.ndim != 1:
            raw_shape = tuple(y.shape)
        else:
            k = n_classes or getattr(self, "n_classes", None)
            if k is None and self.statistics_ is not None:
                k = getattr(self.statistics_, "n_classes", None)
                k = k if getattr(self.statistics_, "task", None) == MULTICLASS else None
            if k is None:
                finite = xp.where(xp.isfinite(y), y, xp.zeros_like(y)) if y.shape[0] else y
                top = float(xp.max(finite)) if y.shape[0] else 0.0
                k = int(top) + 1 if top > 1 else 2
            raw_shape = (y.shape[0],) if k == 2 and not n_classes else (y.shape[0], k)
        return self._validated(y, raw_shape, sample_weight, xp, xp.float64)

    def gradient_hessian(
        self,
        y_true: ArrayLike,
        raw_prediction: ArrayLike,
        sample_weight: ArrayLike | None = None,
        *,
        n_threads: int | None = None,
    ) -> tuple[Any, Any]:
        """Gradient and Hessian diagonal of ``S * loss`` with respect to ``raw_prediction``.

        Parameters
        ----------
        y_true : array of shape (n,) or (n, k)
        raw_prediction : array of shape (n,) or (n, k)
            Margins. The task follows from the shapes (see :func:`gbloss.focal`).
        sample_weight : array of shape (n,), optional
        n_threads : int, optional
            Threads for the CPU kernel; defaults to the cores this process may use.

        Returns
        -------
        grad, hess : arrays shaped and typed like ``raw_prediction``
            (float32 and float64 input keep their dtype; float16 input is
            computed and returned in float32, integer input in float64), on
            the same device. Finite for every finite margin.
        """
        return self._direct("grad_hess", y_true, raw_prediction, sample_weight,
                            CallContext(), n_threads=n_threads)

    def _direct(self, mode: Mode, y_true: Any, raw_prediction: Any, sample_weight: Any,
                context: CallContext, n_threads: int | None = None) -> Any:
        return evaluate(self, mode, y_true, raw_prediction, sample_weight, context, n_threads)

    def loss(
        self,
        y_true: ArrayLike,
        raw_prediction: ArrayLike,
        sample_weight: ArrayLike | None = None,
    ) -> float:
        """Weighted mean loss ``sum_i w_i l_i / sum_i w_i``.

        ``l_i`` contains any class weight or alpha factor, computed with the
        fitted statistics, or those of ``y_true`` when the loss is not fitted.
        Returns NaN when there are no rows.
        """
        return self._direct("value", y_true, raw_prediction, sample_weight, CallContext())

    def init_score(
        self,
        y_true: ArrayLike,
        sample_weight: ArrayLike | None = None,
        *,
        n_classes: int | None = None,
    ) -> Any:
        """The constant raw prediction that minimises the loss on ``y_true``.

        A float for binary and regression data, a ``(k,)`` array for multiclass
        (centred: it sums to 0) and multi-label data. 1-D labels are binary
        unless ``n_classes`` (here, on the loss or from its fitted statistics)
        is given or a label exceeds 1.
        """
        xp = get_namespace(y_true)
        labels, w = self._labels_for_init(y_true, sample_weight, n_classes, xp)
        value = self._init_constant(labels, w, self._statistics(labels, w, xp))
        if labels.task in (BINARY, REGRESSION) and np.ndim(value) == 0:
            return float(value)
        return asarray_on(to_numpy(value, np.float64), labels.y, xp, xp.float64)

    def transform(self, raw_prediction: ArrayLike, *, multilabel: bool | None = None) -> Any:
        """Predictions from margins of shape ``(n,)`` or ``(n, k)``.

        Identity for regression losses. For classification: the sigmoid of 1-D
        margins; of ``(n, k)`` margins the softmax along the last axis, or a
        sigmoid per column for multi-label data: ``multilabel=True``, or a
        loss fitted on multi-label labels. An unfitted loss cannot tell that
        its 2-D margins are multi-label: pass ``multilabel=True``.
        """
        xp = get_namespace(raw_prediction)
        raw = as_margins(raw_prediction, xp, finite=False)
        if raw.ndim > 2:
            raise ValueError(f"raw_prediction must be 1-D or 2-D, got shape {tuple(raw.shape)}")
        if self.link == "identity":
            return raw
        fitted_task = getattr(self.statistics_, "task", None)
        if raw.ndim == 2 and raw.shape[1] > 1:
            k = int(raw.shape[1])
            expected = getattr(self, "n_classes", None) or (
                getattr(self.statistics_, "n_classes", None) if fitted_task == MULTICLASS
                else None)
            if expected is not None and expected != k:
                raise ValueError(f"the loss has {expected} classes but raw_prediction has {k} "
                                 "columns")
        if multilabel is None:
            multilabel = fitted_task == MULTILABEL
        if raw.ndim == 2 and raw.shape[1] > 1 and not multilabel:
            return _softmax(raw, xp)
        return _sigmoid(raw, xp)

    def predict_proba(self, raw_prediction: ArrayLike, *, prior: Any = "train",
                      multilabel: bool | None = None) -> Any:
        r"""Estimates of ``P(y | x)`` from margins: what the loss did to the probabilities, undone.

        Class weights, ``alpha``, effective-number and deferred (DRW) weights
        move the loss's minimiser from the posterior ``eta`` to
        ``q_k propto c_k eta_k`` (King and Zeng 2001); focal loss moves it
        along ``eta = f'(1 - q) / (f'(q) + f'(1 - q))`` with
        ``f(q) = -(1 - q)^gamma log q`` (Charoenphakdee et al. 2021). Each
        loss inverts its own map (exact for cross-entropy, focal, LDAM and LMF;
        the plain link for Dice and PEL, whose minimiser is no posterior; see
        ``docs/probabilities.md``), then the prior shift
        ``eta'_k propto eta_k pi'_k / pi_k`` moves the result from the
        training class frequencies ``pi`` to ``prior``.

        With ``drw_start_round`` the class weights of the last round are
        undone: the model is read as trained past the switch (its later
        rounds fit the weighted loss). A model stopped before the switch never
        saw the weights: read it with ``loss.set_params(drw_start_round=None,
        class_weight=None)``.

        Parameters
        ----------
        raw_prediction : array of shape (n,) or (n, k)
            Margins including the init score: XGBoost's
            ``booster.predict(dmatrix, output_margin=True)``, LightGBM's
            ``booster.predict(X, raw_score=True)``.
        prior : "train", "uniform" or array
            The class frequencies of the deployment population. ``"train"``:
            those of the training labels (no shift). An array: ``(2,)``
            ``[P(0), P(1)]`` for binary data, ``(k,)`` for multiclass data,
            ``(k,)`` positive rates (or ``(k, 2)``) for multi-label data;
            normalised here.
        multilabel : bool, optional
            Whether ``(n, k)`` margins are multi-label (a sigmoid per column);
            default: whether the loss was fitted on multi-label labels.

        Returns
        -------
        array
            ``(n,)`` ``P(y = 1)`` for 1-D margins; ``(n, k)`` rows summing to 1
            (multiclass); ``(n, k)`` per-column ``P(y_j = 1)`` (multi-label).

        Raises
        ------
        ValueError
            For regression losses, and when the map needs the training class
            counts (``class_weight="balanced"`` / ``"effective"``, DRW, LDAM
            margins, ``prior`` other than ``"train"``) and the loss is not
            fitted: ``loss = loss.fit(y_train)`` first. ``gbloss.xgboost.train``
            and ``gbloss.lightgbm.train`` use a fitted loss as it is and fit a
            copy of an unfitted one, which they attach to the booster as
            ``booster.fitted_loss``; the estimators keep theirs as ``loss_``.

        References
        ----------
        G. King, L. Zeng, "Logistic Regression in Rare Events Data", Political
        Analysis 9(2), 2001. N. Charoenphakdee, J. Vongkulbhisal, N.
        Chairatanakul, M. Sugiyama, "On Focal Loss for Class-Posterior
        Probability Estimation: A Theoretical Perspective", CVPR 2021.
        M. Saerens, P. Latinne, C. Decaestecker, Neural Computation 14(1), 2002.
        """
        if self.link == "identity" or self._tasks == (REGRESSION,):
            raise ValueError(f"{type(self).__name__} is a regression loss: it predicts values, "
                             "not class probabilities (use transform)")
        xp = get_namespace(raw_prediction)
        raw = as_margins(raw_prediction, xp, finite=False)
        return self._predict_proba(raw, self.statistics_, prior, multilabel, xp)

    def _predict_proba(self, raw: Any, stats: Any, prior: Any, multilabel: bool | None,
                       xp: Any) -> Any:
        """:meth:`predict_proba` of checked margins with these statistics (a training's, in
        a metric)."""
        if raw.ndim > 2 or raw.ndim == 0:
            raise ValueError(f"raw_prediction must be 1-D or 2-D, got shape {tuple(raw.shape)}")
        column = raw.ndim == 2 and raw.shape[1] == 1
        if column:
            raw = xp.reshape(raw, (-1,))
        fitted_task = getattr(stats, "task", None)
        if raw.ndim == 1:
            task = BINARY
        else:
            if multilabel is None:
                multilabel = fitted_task == MULTILABEL
            task = MULTILABEL if multilabel else MULTICLASS
        if task not in self._tasks:
            raise ValueError(f"{type(self).__name__} does not support {task} data")
        if fitted_task is not None and fitted_task != task:
            raise ValueError(f"{type(self).__name__} was fitted on {fitted_task} labels; these "
                             f"margins are {task}")
        if raw.ndim == 2:
            k = int(raw.shape[1])
            expected = getattr(self, "n_classes", None) or getattr(stats, "n_classes", None)
            if expected is not None and expected != k:
                raise ValueError(f"the loss has {expected} classes but raw_prediction has {k} "
                                 "columns")
        eta = self._posterior(raw, stats, task == MULTILABEL, xp)
        if not (isinstance(prior, str) and prior == "train"):
            pi_train = self._train_prior(stats, "prior=" + repr(prior)
                                         if isinstance(prior, str) else "an array prior")
            pi_new = _deployment_prior(prior, pi_train.shape)
            eta = shift_prior(eta, pi_train, pi_new, task != MULTICLASS, xp)
        return xp.reshape(eta, (-1, 1)) if column else eta

    def _posterior(self, raw: Any, stats: Any, multilabel: bool, xp: Any) -> Any:
        """``P(y | x)`` under the training prior from validated margins ``(n,)`` or ``(n, k)``.

        ``stats``: the fitted statistics or None. The default is the plain
        link (sigmoid; softmax, or a sigmoid per column when ``multilabel``):
        right for losses whose minimiser is the posterior (the log-loss).
        """
        if raw.ndim == 2 and not multilabel:
            return _softmax(raw, xp)
        return _sigmoid(raw, xp)

    def _stationary_posterior(self, raw: Any, stats: Any, multilabel: bool, xp: Any,
                              context: CallContext = _DEFAULT) -> Any:
        r"""The posterior ``eta`` for which the margins minimise the expected loss.

        The expected loss ``sum_t eta_t l(t, z)`` is linear in ``eta``: ``z``
        is its minimiser when ``sum_t eta_t dl(t, z)/dz = 0``. Binary and
        multi-label (per column): ``eta = g_0 / (g_0 - g_1)`` with
        ``g_y = dl(y, z)/dz`` from the loss's own kernel; multiclass: the
        stationary distribution of ``G[t, j] = dl(t, z)/dz_j`` (GTH algorithm).
        Exact wherever the loss's minimiser moves with the posterior; where
        the loss is flat in ``z`` for both labels the plain sigmoid is kept.
        """
        z = xp.clip(raw, min=-MARGIN_BOUND, max=MARGIN_BOUND)
        if raw.ndim == 1 or multilabel:
            task = BINARY if raw.ndim == 1 else MULTILABEL
            k = 1 if raw.ndim == 1 else int(raw.shape[1])
            fn = self._kernel(Labels(task, xp.ones_like(z), k, True), stats, "grad_hess", xp,
                              z.dtype, context)
            with np.errstate(all="ignore"):
                g1 = fn(xp.ones_like(z), None, z, xp)[0]  # <= 0
                g0 = fn(xp.zeros_like(z), None, z, xp)[0]  # >= 0
                total = g0 - g1
                eta = xp.where(total > 0, g0 / xp.where(total > 0, total, 1.0),
                               _sigmoid(z, xp))
            return xp.clip(eta, min=0.0, max=1.0)
        k = int(raw.shape[1])
        fn = self._kernel(Labels(MULTICLASS, xp.zeros(z.shape[0], dtype=xp.int32), k, True),
                          stats, "grad_hess", xp, z.dtype, context)
        rates = np.empty((z.shape[0], k, k))
        with np.errstate(all="ignore"):
            for t in range(k):
                rates[:, t, :] = to_numpy(fn(xp.full(z.shape[0], t, dtype=xp.int32), None, z,
                                             xp)[0], np.float64)
        return asarray_on(stationary_distribution(np.clip(rates, 0.0, None), np), raw, xp,
                          raw.dtype)

    def _require_statistics(self, stats: Any, what: str) -> Any:
        """``stats``, or a ValueError telling the user to fit the loss."""
        if stats is None:
            raise ValueError(
                f"{self!r}.predict_proba needs the training class counts for {what}, and the "
                f"loss is not fitted: fit it on the training labels first, "
                f"`loss = loss.fit(y_train)` (fit returns the fitted copy). "
                f"gbloss.xgboost.train and gbloss.lightgbm.train leave an unfitted loss "
                f"unfitted (a fitted one is used as it is): the copy they fitted is "
                f"`booster.fitted_loss`; GBLossClassifier keeps its fitted copy as `loss_`.")
        return stats

    def _train_prior(self, stats: Any, what: str) -> NDArray:
        stats = self._require_statistics(stats, what)
        class_prior = getattr(stats, "class_prior", None)
        if class_prior is None:
            raise ValueError(f"{type(self).__name__}'s statistics hold no class frequencies: "
                             f"{what} cannot be applied")
        return np.asarray(class_prior(), dtype=np.float64)



class CountsKeptMixin:
    """For a :class:`Loss` whose math uses no statistics of the labels (ASL, PolyLoss): its
    fit keeps the class counts anyway, which give :meth:`Loss.predict_proba` the task and the
    training prior, and its posterior is the stationary point of the expected loss."""

    def _fit_stats(self, labels: Labels, w: Any, xp: Any) -> ClassCounts:
        return ClassCounts.of(labels, w)

    def _fit_stats_across(self, labels: Labels, w: Any, xp: Any, workers: Workers
                          ) -> ClassCounts:
        return ClassCounts.of(labels, w).summed(workers)

    def _uses_statistics(self) -> bool:
        return False

    def _posterior(self: Any, raw: Any, stats: Any, multilabel: bool, xp: Any) -> Any:
        return self._stationary_posterior(raw, stats, multilabel, xp)

_PARAM_NAMES: dict[type, tuple[str, ...]] = {}


def _param_names(cls: type) -> tuple[str, ...]:
    """The constructor parameters of a loss class (read once per class)."""
    names = _PARAM_NAMES.get(cls)
    if names is None:
        sig = inspect.signature(cls)
        names = _PARAM_NAMES[cls] = tuple(
            p.name for p in sig.parameters.values()
            if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD))
    return names


def _deployment_prior(prior: Any, shape: tuple) -> NDArray:
    """``prior=`` as class frequencies shaped like the training prior (``(2,)``, ``(k,)``
    or ``(k, 2)``), each distribution normalised."""
    if isinstance(prior, str):
        if prior != "uniform":
            raise ValueError(f"prior must be 'train', 'uniform' or an array of class "
                             f"frequencies, got {prior!r}")
        return np.full(shape, 1.0 / shape[-1])
    p = np.asarray(prior, dtype=np.float64)
    if len(shape) == 2 and p.shape == shape[:1]:  # multi-label positive rates
        if np.any((p < 0) | (p > 1)):
            raise ValueError("a multi-label prior of positive rates must be in [0, 1]")
        p = np.stack([1.0 - p, p], axis=-1)
    if p.shape != shape:
        want = "(2,) [P(0), P(1)]" if shape == (2,) else (
            f"({shape[0]},)" if len(shape) == 1 else f"({shape[0]},) or {shape}")
        raise ValueError(f"prior must have shape {want}, got {p.shape}")
    total = np.sum(p, axis=-1, keepdims=True)
    if not np.all(np.isfinite(p)) or np.any(p < 0) or np.any(total <= 0):
        raise ValueError(f"prior must be finite, non-negative class frequencies with a "
                         f"positive sum, got {prior!r}")
    return p / total


def _sigmoid(raw: Any, xp: Any) -> Any:
    e = xp.exp(-xp.abs(raw))
    r = 1 / (1 + e)
    return xp.where(raw >= 0, r, e * r)


def _softmax(raw: Any, xp: Any) -> Any:
    ex = xp.exp(raw - xp.max(raw, axis=-1, keepdims=True))
    return ex / xp.sum(ex, axis=-1, keepdims=True)
