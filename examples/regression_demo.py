"""gbloss demo: imbalanced regression with ACB-MSE and Balanced MSE.

Does Balanced MSE help gradient boosting on a skewed target, as it helps
neural networks in Ren et al. (CVPR 2022)? This script follows the paper's
protocol (deep imbalanced regression, "DIR"): the training set has the
natural, long-tailed label distribution; the test set is *balanced* over the
target range (the same number of rows in every target bin), and MAE is
reported overall and on the many-shot (> 100 training rows in the bin),
medium-shot (20-100) and few-shot (< 20) bins.

Data: generated, ``y = exp(0.75 f(x) + 0.35 eps)`` with a non-linear score
``f`` of 8 Gaussian features (log-normal, skewed: median 1, training maximum
about 30). Objectives, each with XGBoost and LightGBM and the same booster
parameters:

* squared error (the built-in ``reg:squarederror`` / ``regression``);
* ``gbloss.acb_mse(classes=edges)``: ACB-MSE generalised to 10 equal-width
  target bins, each bin's MSE weighted equally;
* ``gbloss.balanced_mse(sigma, "bmc")`` for ``sigma`` of 0.25, 0.5 (the
  default) and 1 x the standard deviation of the training labels, plus
  ``"gai"`` and ``"bni"`` at the default ``sigma``.

Results are averaged over seeds (new data and booster seeds each time).
Boosters run on 1 thread (OpenMP timings are erratic on a shared machine).
Run: ``python examples/regression_demo.py`` (a few minutes on 2 cores;
``--quick`` for a smaller run). ``benchmarks/bench_balanced_mse.py`` runs it
too and records the table in ``benchmarks/results/balanced_mse.md``.
"""

from __future__ import annotations

import argparse
import time

import lightgbm as lgb
import numpy as np
import xgboost as xgb

import gbloss

BIN = 1.0  # width of the target bins for the balanced test set and the shot regions
TEST_MAX = 25.0  # the balanced test set covers [0, TEST_MAX)
PER_BIN = 50  # test rows per bin (fewer where the pool has fewer)
MANY, FEW = 100, 20  # the paper's thresholds on training rows per bin


def generate(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    X = rng.normal(size=(n, 8)).astype(np.float32)
    f = (X[:, 0] + 0.6 * np.sin(1.5 * X[:, 1]) + 0.4 * X[:, 2] * X[:, 3] + 0.3 * X[:, 4]
         - 0.2 * X[:, 5] ** 2)
    f = (f + 0.2) / 1.23  # mean 0, standard deviation 1
    y = np.exp(0.75 * f + 0.35 * rng.normal(size=n))
    return X, y


def dataset(seed: int, n_train: int, pool: int) -> dict:
    rng = np.random.default_rng(seed)
    X_tr, y_tr = generate(n_train, rng)
    X_pool, y_pool = generate(pool, rng)
    bins = np.floor(y_pool / BIN).astype(int)
    test, val = [], []
    for b in range(int(TEST_MAX / BIN)):
        idx = rng.permutation(np.flatnonzero(bins == b))[: 2 * PER_BIN]
        half = len(idx) // 2
        test.append(idx[:half])
        val.append(idx[half:])
    test, val = np.concatenate(test), np.concatenate(val)
    counts = np.bincount(np.floor(y_tr / BIN).astype(int), minlength=int(TEST_MAX / BIN) + 1)
    return {"X_tr": X_tr, "y_tr": y_tr, "X_te": X_pool[test], "y_te": y_pool[test],
            "X_va": X_pool[val], "y_va": y_pool[val], "counts": counts}


def regions(y: np.ndarray, counts: np.ndarray) -> dict[str, np.ndarray]:
    c = counts[np.minimum(np.floor(y / BIN).astype(int), counts.size - 1)]
    return {"many": c > MANY, "medium": (c >= FEW) & (c <= MANY), "few": c < FEW}


def maes(y: np.ndarray, pred: np.ndarray, counts: np.ndarray) -> dict[str, float]:
    err = np.abs(pred - y)
    out = {"overall": float(err.mean())}
    for name, mask in regions(y, counts).items():
        out[name] = float(err[mask].mean()) if mask.any() else float("nan")
    return out


def objectives(y_train: np.ndarray) -> dict[str, object]:
    sd = float(np.std(y_train))
    edges = np.linspace(y_train.min(), y_train.max(), 11)[1:-1]
    return {
        "squared error (built-in)": None,
        "acb_mse(10 target bins)": gbloss.acb_mse(classes=edges),
        "balanced_mse bmc, sigma=0.25 sd": gbloss.balanced_mse(0.25 * sd, "bmc"),
        "balanced_mse bmc, sigma=0.5 sd (default)": gbloss.balanced_mse(prior="bmc"),
        "balanced_mse bmc, sigma=1 sd": gbloss.balanced_mse(1.0 * sd, "bmc"),
        "balanced_mse gai, default sigma": gbloss.balanced_mse(prior="gai"),
        "balanced_mse bni, default sigma": gbloss.balanced_mse(prior="bni"),
    }


def train_predict(booster: str, loss, data: dict, rounds: int, seed: int,
                  threads: int) -> tuple[np.ndarray, np.ndarray]:
    X, y = data["X_tr"], data["y_tr"]
    if booster == "xgboost":
        params = {"tree_method": "hist", "max_depth": 6, "eta": 0.05, "seed": seed,
                  "nthread": threads}
        dtrain = xgb.DMatrix(X, y)
        if loss is None:
            model = xgb.train({**params, "objective": "reg:squarederror"}, dtrain, rounds)
        else:
            model = gbloss.xgboost.train(params, dtrain, loss, rounds)
        return model.predict(xgb.DMatrix(data["X_te"])), model.predict(xgb.DMatrix(data["X_va"]))
    params = {"num_leaves": 31, "learning_rate": 0.05, "seed": seed, "deterministic": True,
              "num_threads": threads, "verbose": -1}
    if loss is None:
        model = lgb.train({**params, "objective": "regression"}, lgb.Dataset(X, y), rounds)
    else:
        model = gbloss.lightgbm.train(params, lgb.Dataset(X, y), loss, rounds)
    return model.predict(data["X_te"]), model.predict(data["X_va"])


def run(seeds: int = 3, n_train: int = 20_000, rounds: int = 300, pool: int = 1_500_000,
        threads: int = 1, verbose: bool = True) -> dict:
    """Train everything; returns {(booster, objective): {metric: [values per seed]}}."""
    results: dict = {}
    for seed in range(seeds):
        data = dataset(seed, n_train, pool)
        if verbose:
            reg = regions(data["y_te"], data["counts"])
            print(f"seed {seed}: {n_train} training rows (max {data['y_tr'].max():.1f}), "
                  f"balanced test {data['y_te'].size} rows: many {reg['many'].sum()}, medium "
                  f"{reg['medium'].sum()}, few {reg['few'].sum()}", flush=True)
        for booster in ("xgboost", "lightgbm"):
            for name, loss in objectives(data["y_tr"]).items():
                t0 = time.perf_counter()
                pred_te, pred_va = train_predict(booster, loss, data, rounds, seed, threads)
                secs = time.perf_counter() - t0
                m = maes(data["y_te"], pred_te, data["counts"])
                m["val_overall"] = maes(data["y_va"], pred_va, data["counts"])["overall"]
                m["seconds"] = secs
                slot = results.setdefault((booster, name), {})
                for k, v in m.items():
                    slot.setdefault(k, []).append(v)
                if verbose:
                    print(f"  {booster:8s} {name:42s} MAE {m['overall']:.3f} many "
                          f"{m['many']:.3f} medium {m['medium']:.3f} few {m['few']:.3f} "
                          f"({secs:.1f}s)", flush=True)
    return results


def table(results: dict) -> list[str]:
    """Markdown table: mean (and spread over seeds) of MAE, and the change against squared error."""
    lines = ["| booster | objective | overall | many | medium | few | few vs SE | many vs SE "
             "| time (s) |", "|---|---|---|---|---|---|---|---|---|"]
    for (booster, name), m in results.items():
        base = results[(booster, "squared error (built-in)")]

        def cell(k: str) -> str:
            v = np.asarray(m[k])
            return f"{v.mean():.3f}" + (f" ± {v.std():.3f}" if v.size > 1 else "")

        def rel(k: str) -> str:
            return f"{100 * (np.mean(m[k]) / np.mean(base[k]) - 1):+.1f}%"

        lines.append(f"| {booster} | {name} | {cell('overall')} | {cell('many')} | "
                     f"{cell('medium')} | {cell('few')} | {rel('few')} | {rel('many')} | "
                     f"{np.mean(m['seconds']):.1f} |")
    return lines


def selected_by_validation(results: dict) -> list[str]:
    """Per booster: the BMC sigma chosen on the balanced validation set, and its test MAE."""
    lines = []
    for booster in ("xgboost", "lightgbm"):
        cands = {n: m for (b, n), m in results.items() if b == booster and "bmc" in n}
        best = min(cands, key=lambda n: np.mean(cands[n]["val_overall"]))
        base = results[(booster, "squared error (built-in)")]
        m = cands[best]
        lines.append(f"- {booster}: validation picks `{best}`: test MAE overall "
                     f"{np.mean(m['overall']):.3f} (squared error {np.mean(base['overall']):.3f}), "
                     f"few-shot {np.mean(m['few']):.3f} (squared error "
                     f"{np.mean(base['few']):.3f}), "
                     f"many-shot {np.mean(m['many']):.3f} (squared error "
                     f"{np.mean(base['many']):.3f}).")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="1 seed, smaller data")
    args = parser.parse_args()
    if args.quick:
        results = run(seeds=1, n_train=8000, rounds=150, pool=600_000)
    else:
        results = run()
    print()
    print("\n".join(table(results)))
    print()
    print("\n".join(selected_by_validation(results)))


if __name__ == "__main__":
    main()
