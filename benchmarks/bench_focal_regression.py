"""Focal-R and LDS weights (Yang et al., ICML 2021) on the imbalanced-regression demo.

The data, the balanced test set and the many / medium / few-shot regions are
those of ``examples/regression_demo.py`` (the Balanced MSE demo): a
log-normal target of 8 features, trained on its natural distribution and
tested on a set balanced over unit-wide target bins in [0, 25). Objectives,
each with XGBoost and LightGBM and the same parameters:

* squared error (built-in), without and with ``gbloss.lds_weights(y)``
  (unit bins, gaussian kernel of 5 bins, sigma 2, inverse counts) as
  ``sample_weight``;
* ``gbloss.focal_regression()`` (mse, beta 0.2, gamma 1), ``beta=1``, and the
  l1 kind, without and with the LDS weights.

MAE is averaged over the seeds (new data and booster seeds each time).
Run: ``python benchmarks/bench_focal_regression.py`` (``--quick``: 1 seed,
smaller).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import lightgbm as lgb
import numpy as np
import xgboost as xgb
from _common import UPDATE_HELP, results_path, write_results

import gbloss

sys.path.insert(0, str(Path(__file__).parent.parent / "examples"))

import regression_demo

BASE = "squared error (built-in)"


def objectives() -> dict[str, tuple[object, bool]]:
    """name -> (loss or None for the built-in squared error, with LDS weights)."""
    return {
        BASE: (None, False),
        "squared error + LDS": (None, True),
        "focal_regression (mse, beta 0.2)": (gbloss.focal_regression(), False),
        "focal_regression (mse, beta 1)": (gbloss.focal_regression(beta=1.0), False),
        "focal_regression (l1, beta 0.2)": (gbloss.focal_regression("l1"), False),
        "focal_regression (mse, beta 0.2) + LDS": (gbloss.focal_regression(), True),
        "focal_regression (mse, beta 1) + LDS": (gbloss.focal_regression(beta=1.0), True),
    }


def train_predict(booster: str, loss, weight, data: dict, rounds: int, seed: int) -> np.ndarray:
    X, y = data["X_tr"], data["y_tr"]
    if booster == "xgboost":
        params = {"tree_method": "hist", "max_depth": 6, "eta": 0.05, "seed": seed, "nthread": 1}
        dtrain = xgb.DMatrix(X, y, weight=weight)
        if loss is None:
            model = xgb.train({**params, "objective": "reg:squarederror"}, dtrain, rounds)
        else:
            model = gbloss.xgboost.train(params, dtrain, loss, rounds)
        return model.predict(xgb.DMatrix(data["X_te"]))
    params = {"num_leaves": 31, "learning_rate": 0.05, "seed": seed, "deterministic": True,
              "num_threads": 1, "verbose": -1}
    train_set = lgb.Dataset(X, y, weight=weight)
    if loss is None:
        model = lgb.train({**params, "objective": "regression"}, train_set, rounds)
    else:
        model = gbloss.lightgbm.train(params, train_set, loss, rounds)
    return model.predict(data["X_te"])


def run(seeds: int, n_train: int, rounds: int, pool: int) -> dict:
    results: dict = {}
    for seed in range(seeds):
        data = regression_demo.dataset(seed, n_train, pool)
        weight = gbloss.lds_weights(data["y_tr"])
        for booster in ("xgboost", "lightgbm"):
            for name, (loss, lds) in objectives().items():
                t0 = time.perf_counter()
                pred = train_predict(booster, loss, weight if lds else None, data, rounds, seed)
                m = regression_demo.maes(data["y_te"], pred, data["counts"])
                m["seconds"] = time.perf_counter() - t0
                slot = results.setdefault((booster, name), {})
                for k, v in m.items():
                    slot.setdefault(k, []).append(v)
                print(f"seed {seed} {booster:8s} {name:40s} MAE {m['overall']:.3f} many "
                      f"{m['many']:.3f} medium {m['medium']:.3f} few {m['few']:.3f}", flush=True)
    return results


def summary(results: dict) -> list[str]:
    lines = []
    for (booster, name), m in results.items():
        if name == BASE:
            continue
        base = results[(booster, BASE)]

        def rel(k: str, m: dict = m, base: dict = base) -> str:
            return f"{100 * (np.mean(m[k]) / np.mean(base[k]) - 1):+.0f}%"

        lines.append(f"- {booster}, {name}: few-shot MAE {rel('few')}, medium {rel('medium')}, "
                     f"many-shot {rel('many')}, overall (balanced test) {rel('overall')} against "
                     "squared error.")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--update-results", action="store_true", help=UPDATE_HELP)
    args = parser.parse_args()
    results_file = results_path("focal_regression.md", args.update_results)
    t_start = time.perf_counter()
    if args.quick:
        seeds, n_train, rounds, pool = 1, 5000, 100, 400_000
    else:
        seeds, n_train, rounds, pool = 3, 10_000, 200, 1_000_000
    results = run(seeds, n_train, rounds, pool)
    settings = (f"{seeds} seed(s) (mean ± std over seeds), {n_train:,} training rows, {rounds} "
                "rounds; XGBoost hist depth 6, eta 0.05; LightGBM 31 leaves, learning rate 0.05; "
                "1 thread. Balanced test set: up to 50 rows per unit-wide target bin over "
                "[0, 25); regions by training rows per bin (many > 100, medium 20-100, few < 20). "
                "SE = squared error.")
    sections = {"Summary": summary(results),
                "MAE by target region": [settings, "", *regression_demo.table(results)]}
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    sections["Run time"] = [(f"{time.perf_counter() - t_start:.0f} s in all (load average at the "
                            f"end: {load}).")]
    write_results(results_file, "Focal-R and LDS on the imbalanced-regression demo", __doc__,
                  sections, quick=args.quick)
    print(f"wrote {results_file}")


if __name__ == "__main__":
    main()
