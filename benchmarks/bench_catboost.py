"""CatBoost: gbloss objectives against CatBoost's built-in ones, and where the time goes.

Run: ``python benchmarks/bench_catboost.py [--quick]``; writes
``benchmarks/results/catboost.md`` (with ``--update-results``; else ``benchmarks/.scratch/``).
"""

from __future__ import annotations

import argparse
import time
from importlib.metadata import version as _version
from typing import ClassVar

import catboost as cb
import numpy as np
from _common import UPDATE_HELP, median_ratio, results_path, write_results

import gbloss

DOC = """
Training time of CatBoost (CPU, ``thread_count`` = the cores, depth 6, Newton
leaves, one leaf-estimation iteration, no ``boost_from_average``) with its
built-in objective and with gbloss's loss as a Python objective
(``loss_function=loss, eval_metric=loss.metric``, the metric evaluated on the
training set every iteration as CatBoost does for an ``eval_metric``; the
built-in rows use the built-in metric). Repeats are interleaved and the ratio
is the median of per-repeat ratios against the built-in of the same task.

"numpy logistic, Python objective" is the cheapest Python objective there is:
a four-line numpy ``calc_ders_range`` returning an ``(n, 2)`` array, and a
numpy ``evaluate``. The gap between it and the built-in is CatBoost's cost of
calling Python at all; the gap between it and gbloss is gbloss's. The profile
rows time the objective's and the metric's calls from inside (the time
CatBoost spends in Python for them), counted over one training on one thread
(with more threads CatBoost calls Python from several threads, which then
wait for each other's GIL). The first gbloss training of a process also loads
gbloss's compiled kernels (numba); the timed repeats come after a warm-up.

Where the time goes. CatBoost calls a one-dimensional Python objective once
per block of at most 1,000 objects for the gradients and again per leaf (and
block) for the Newton leaf values: hundreds of calls per iteration, most on a
few hundred objects. Each call of the cheapest Python objective costs tens of
microseconds (CatBoost's views, the GIL, the copy of the result); gbloss's
calls cost several times that, almost all of it per-call Python work
(validating labels and weights found again by address, the loss's
signature, dispatching to the kernel, the kernel wrapper's set-up) rather
than arithmetic, which is one compiled pass over the block. So the gap to
the built-in objectives grows with the number of calls (deep trees, small
blocks), not with the rows. The multiclass objective is called twice per
object and iteration, one object at a time: every Python objective is slow
there, gbloss's per-object overhead more so.
"""


class _Logistic:
    """The cheapest Python objective and metric: numpy logistic loss."""

    no_jit = True

    def calc_ders_range(self, approxes, targets, weights):
        p = 1.0 / (1.0 + np.exp(-approxes))
        return np.stack([targets - p, -p * (1.0 - p)], axis=1)

    def evaluate(self, approxes, target, weight):
        z = approxes[0]
        return float(np.sum(np.logaddexp(0.0, z) - target * z)), float(z.shape[0])

    def is_max_optimal(self):
        return False

    def get_final_error(self, error, weight):
        return error / weight


class _Softmax:
    """The cheapest Python multiclass objective (one object per call)."""

    no_jit = True

    def calc_ders_multi(self, approx, target, weight):
        e = np.exp(approx - approx.max())
        p = e / e.sum()
        g = -p
        g[int(target)] += 1.0
        return g * weight, np.diag(-p * (1.0 - p) * weight)


class _Timed:
    """Times the calls CatBoost makes into an objective or metric.

    CatBoost deep-copies ``loss_function`` and ``eval_metric``: the counts live
    in a class-level table, under the label given.
    """

    no_jit = True
    table: ClassVar[dict] = {}

    def __init__(self, inner, label):
        self.inner = inner
        self.label = label
        self.table[label] = {"seconds": {}, "calls": {}}

    @property
    def seconds(self):
        return self.table[self.label]["seconds"]

    @property
    def calls(self):
        return self.table[self.label]["calls"]

    def _timed(self, name, *args):
        t = time.perf_counter()
        out = getattr(self.inner, name)(*args)
        self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - t
        self.calls[name] = self.calls.get(name, 0) + 1
        return out

    def calc_ders_range(self, *args):
        return self._timed("calc_ders_range", *args)

    def calc_ders_multi(self, *args):
        return self._timed("calc_ders_multi", *args)

    def evaluate(self, *args):
        return self._timed("evaluate", *args)

    def is_max_optimal(self):
        return False

    def get_final_error(self, error, weight):
        return self.inner.get_final_error(error, weight)


def _fit(X, y, loss_function, eval_metric, iterations, **extra):
    params = {"iterations": iterations, "depth": 6, "learning_rate": 0.1, "random_seed": 0,
              "leaf_estimation_method": "Newton", "leaf_estimation_iterations": 1,
              "boost_from_average": False, "verbose": 0, "allow_writing_files": False, **extra}
    if eval_metric is not None:
        params["eval_metric"] = eval_metric
    params["loss_function"] = loss_function
    model = cb.CatBoost(params)
    t = time.perf_counter()
    model.fit(cb.Pool(X, y))
    return time.perf_counter() - t


def _table(cases, results, baseline):
    rows = ["| case | median s | ratio to built-in |", "|---|---|---|"]
    for name in cases:
        ratio = median_ratio(results[name], results[baseline])
        rows.append(f"| {name} | {np.median(results[name]):.2f} | {ratio:.2f} |")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--update-results", action="store_true", help=UPDATE_HELP)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    repeats = 2 if args.quick else 3
    sections = {}

    # ------------------------------------------------------------------ binary
    n, d, iters = (20_000, 20, 20) if args.quick else (200_000, 20, 50)
    X = rng.normal(size=(n, d)).astype(np.float32)
    y = (X[:, 0] + X[:, 1] * X[:, 2] + rng.normal(size=n) > 2.0).astype(np.float64)
    ce, fo = gbloss.cross_entropy(), gbloss.focal(2.0, 0.25, hessian="exact")
    cases = {
        "catboost Logloss (baseline)": ("Logloss", None),
        "gbloss cross_entropy": (ce, ce.metric),
        "catboost Focal:focal_alpha=0.25;focal_gamma=2": (
            "Focal:focal_alpha=0.25;focal_gamma=2", "Logloss"),
        "gbloss focal(2, 0.25, hessian='exact')": (fo, fo.metric),
        "numpy logistic, Python objective": (_Logistic(), _Logistic()),
    }
    _fit(X[:2000], y[:2000], fo, fo.metric, 2)  # warm-up: load the compiled kernels
    results = {name: [] for name in cases}
    for _ in range(repeats):
        for name, (obj, metric) in cases.items():
            results[name].append(_fit(X, y, obj, metric, iters))
    title = (f"binary, {n:,} x {d}, {iters} iterations (positives "
             f"{y.mean():.1%}; median of {repeats} interleaved repeats)")
    sections[title] = _table(cases, results, "catboost Logloss (baseline)")

    # profile: where the time of one gbloss training goes
    prof_rows = [("| objective | calls | s in objective | s in metric | s total | "
                  "µs per objective call |"), "|---|---|---|---|---|---|"]
    for name, inner in (("gbloss focal", fo), ("numpy logistic", _Logistic())):
        obj = _Timed(inner, name + " objective")
        metric = _Timed(inner.metric if name.startswith("gbloss") else inner, name + " metric")
        total = _fit(X, y, obj, metric, iters, thread_count=1)
        s_obj = obj.seconds.get("calc_ders_range", 0.0)
        calls = obj.calls.get("calc_ders_range", 0)
        prof_rows.append(f"| {name} | {calls} | {s_obj:.2f} | "
                         f"{metric.seconds.get('evaluate', 0.0):.2f} | {total:.2f} | "
                         f"{1e6 * s_obj / max(calls, 1):.0f} |")
    sections[f"profile: binary, {n:,} x {d}, {iters} iterations, thread_count=1"] = prof_rows

    # --------------------------------------------------------------- multiclass
    n, d, iters = (1_000, 10, 3) if args.quick else (5_000, 10, 10)
    X = rng.normal(size=(n, d)).astype(np.float32)
    y = np.digitize(X[:, 0] + rng.normal(size=n), [-0.5, 1.0]).astype(np.float64)
    ce = gbloss.cross_entropy()
    cases = {
        "catboost MultiClass (baseline)": ("MultiClass", None),
        "gbloss cross_entropy": (ce, ce.metric),
        "numpy softmax, Python objective": (_Softmax(), "MultiClass"),
    }
    results = {name: [] for name in cases}
    for _ in range(max(2, repeats // 2)):
        for name, (obj, metric) in cases.items():
            results[name].append(_fit(X, y, obj, metric, iters, classes_count=3))
    title = (f"multiclass (3 classes), {n:,} x {d}, {iters} iterations (median of "
             f"{max(2, repeats // 2)} interleaved repeats)")
    sections[title] = _table(cases, results, "catboost MultiClass (baseline)")
    obj = _Timed(ce, "multiclass objective")
    total = _fit(X, y, obj, ce.metric, iters, classes_count=3, thread_count=1)
    calls = obj.calls.get("calc_ders_multi", 0)
    s_obj = obj.seconds.get("calc_ders_multi", 0.0)
    sections[title] += ["", (f"Profile of one gbloss training (thread_count=1): {calls} calls of "
                             f"`calc_ders_multi` ({calls / (n * iters):.1f} per object and "
                             f"iteration), {s_obj:.2f} s of {total:.2f} s, "
                             f"{1e6 * s_obj / max(calls, 1):.0f} µs per call.")]

    out = results_path("catboost.md", args.update_results)
    write_results(out, "CatBoost objectives", DOC, sections, quick=args.quick,
                  notes=f"catboost {cb.__version__}, numba {_version('numba')}.")
    print(out.read_text())


if __name__ == "__main__":
    main()
