"""Long-tailed multiclass data: cross-entropy, focal, LDAM and LMF, with and without DRW.

Two long-tailed training sets, each evaluated on a *balanced* test split:

* ``synthetic``: ``sklearn.datasets.make_classification`` with 3 classes,
  training class sizes 2000 : 200 : 20 (1 : 10 : 100 imbalance), 500 test
  rows per class;
* ``digits``: scikit-learn's handwritten digits (10 classes, shipped with the
  package), training classes subsampled to 150 ... 3 rows (imbalance 50,
  exponential profile), 30 test rows per class.

Every loss trains with XGBoost and LightGBM (``gbloss.xgboost.train`` /
``gbloss.lightgbm.train``, init score set), 200 rounds at learning rate 0.1;
DRW switches the effective-number class weights (beta = 0.9999) on at round
150. Reported: macro-F1, balanced accuracy and per-class recall, mean over 3
seeds. ``--sweep`` instead measures LDAM's ``scale`` (the default choice).

Run: ``python examples/longtail_demo.py`` (about 2-3 minutes on 2 cores);
results go to ``benchmarks/.scratch/longtail.md`` (``--update-results``: the committed
``benchmarks/results/longtail.md``).
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import sys
import time
from pathlib import Path

import lightgbm as lgb
import numpy as np
import sklearn
import xgboost as xgb
from sklearn.datasets import load_digits, make_classification
from sklearn.metrics import balanced_accuracy_score, f1_score, recall_score

import gbloss

ROUNDS = 200
DRW_START = 150
SEEDS = (0, 1, 2)
THREADS = 1  # small data: one thread is faster, and much faster on a busy machine
BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


# --------------------------------------------------------------------------- data
def synthetic(seed: int) -> tuple:
    sizes, n_test = (2000, 200, 20), 500
    X, y = make_classification(n_samples=3 * (2000 + n_test) * 2, n_features=10, n_informative=6,
                               n_redundant=2, n_classes=3, n_clusters_per_class=2,
                               class_sep=1.0, flip_y=0.0, random_state=seed)
    return _split(X, y, sizes, n_test, seed)


def digits(seed: int) -> tuple:
    X, y = load_digits(return_X_y=True)
    sizes = np.round(150 * (1 / 50) ** (np.arange(10) / 9)).astype(int)
    return _split(X, y, sizes, 30, seed)


def _split(X: np.ndarray, y: np.ndarray, sizes: tuple, n_test: int, seed: int) -> tuple:
    rng = np.random.default_rng(seed)
    train, test = [], []
    for c, size in enumerate(sizes):
        idx = rng.permutation(np.flatnonzero(y == c))
        test.append(idx[:n_test])
        train.append(idx[n_test:n_test + size])
    tr, te = np.concatenate(train), np.concatenate(test)
    return X[tr], y[tr].astype(np.float64), X[te], y[te]


DATASETS = {"synthetic (1:10:100)": synthetic, "digits (imbalance 50)": digits}


# ------------------------------------------------------------------------- losses
def losses() -> dict:
    out = {}
    for drw in (None, DRW_START):
        tag = "" if drw is None else " + DRW"
        out["cross-entropy" + tag] = gbloss.cross_entropy(drw_start_round=drw)
        out["focal (gamma=2)" + tag] = gbloss.focal(gamma=2.0, drw_start_round=drw)
        out["LDAM" + tag] = gbloss.ldam(drw_start_round=drw)
        out["LMF" + tag] = gbloss.lmf(drw_start_round=drw)
    return out


def fit_predict(booster: str, loss: gbloss.Loss, data: tuple) -> np.ndarray:
    X, y, Xt, _ = data
    k = int(y.max()) + 1
    if booster == "xgboost":
        params = {"num_class": k, "max_depth": 4, "eta": 0.1, "nthread": THREADS,
                  "min_child_weight": 0.1, "tree_method": "hist"}
        bst = gbloss.xgboost.train(params, xgb.DMatrix(X, label=y), loss, ROUNDS)
        proba = bst.predict(xgb.DMatrix(Xt))
    else:
        params = {"num_class": k, "num_leaves": 15, "learning_rate": 0.1, "verbose": -1,
                  "num_threads": THREADS, "min_data_in_leaf": 5, "min_sum_hessian_in_leaf": 1e-3}
        callbacks = [gbloss.drw_callback()] if getattr(loss, "drw_start_round", None) else None
        bst = gbloss.lightgbm.train(params, lgb.Dataset(X, label=y), loss, ROUNDS,
                                    callbacks=callbacks)
        proba = bst.predict(Xt)
    return np.argmax(proba, axis=1)


def scores(y_true: np.ndarray, pred: np.ndarray, k: int) -> dict:
    return {"macro_f1": f1_score(y_true, pred, average="macro", labels=range(k)),
            "bal_acc": balanced_accuracy_score(y_true, pred),
            "recall": recall_score(y_true, pred, average=None, labels=range(k), zero_division=0)}


def run(table: dict, seeds: tuple = SEEDS) -> dict:
    results = {}
    for dname, make in DATASETS.items():
        sets = [make(s) for s in seeds]
        k = int(sets[0][1].max()) + 1
        for booster in ("xgboost", "lightgbm"):
            for lname, loss in table.items():
                runs = [scores(d[3], fit_predict(booster, loss, d), k) for d in sets]
                results[(dname, booster, lname)] = {
                    "macro_f1": [r["macro_f1"] for r in runs],
                    "bal_acc": [r["bal_acc"] for r in runs],
                    "recall": np.mean([r["recall"] for r in runs], axis=0),
                }
                r = results[(dname, booster, lname)]
                print(f"{dname:24s} {booster:8s} {str(lname):26s} macro-F1 {np.mean(r['macro_f1']):.3f}"
                      f"  bal.acc {np.mean(r['bal_acc']):.3f}", flush=True)
    return results


def header() -> str:
    return (f"Machine: {platform.machine()}, {os.cpu_count()} CPUs ({platform.platform()}); "
            f"Python {platform.python_version()}, numpy {np.__version__}, xgboost {xgb.__version__}, "
            f"lightgbm {lgb.__version__}, scikit-learn {sklearn.__version__}, "
            f"gbloss {gbloss.__version__}. Date: {datetime.date.today().isoformat()}.")


def _fmt(values: list) -> str:
    return f"{np.mean(values):.3f} ± {np.std(values):.3f}"


def report(results: dict, sweep: dict | None, elapsed: float) -> str:
    lines = ["# Long-tailed multiclass: cross-entropy, focal, LDAM, LMF, with and without DRW", "",
             "Generated by `python examples/longtail_demo.py" + (" --sweep" if sweep else "")
             + "`. " + header(), "",
             f"Setup: {ROUNDS} rounds, learning rate 0.1 (XGBoost max_depth 4, min_child_weight "
             "0.1; LightGBM num_leaves 15, min_data_in_leaf 5), init score set by the gbloss "
             f"adapters. DRW: effective-number class weights (beta 0.9999) from round {DRW_START}. "
             "LDAM / LMF: max_margin 0.5, scale 1 (gbloss default), LMF focal_weight = "
             "ldam_weight = 1, gamma 2. Test splits are balanced; figures are mean ± std over "
             f"{len(SEEDS)} seeds (different draws of the data). Run time {elapsed:.0f} s.", ""]
    for dname in DATASETS:
        for booster in ("xgboost", "lightgbm"):
            keys = [key for key in results if key[0] == dname and key[1] == booster]
            k = len(results[keys[0]]["recall"])
            lines += [f"## {dname}, {booster}", "",
                      "| loss | macro-F1 | balanced accuracy | recall per class (0 = largest) |",
                      "|---|---|---|---|"]
            for key in keys:
                r = results[key]
                rec = " ".join(f"{v:.2f}" for v in r["recall"])
                lines.append(f"| {key[2]} | {_fmt(r['macro_f1'])} | {_fmt(r['bal_acc'])} | {rec} |")
            lines.append("")
            del k
    lines += paired_report(results)
    if sweep is not None:
        lines += sweep_report(sweep)
    return "\n".join(lines) + "\n"


def paired_report(results: dict) -> list:
    """Macro-F1 differences to cross-entropy on the same seeds (mean ± std of the differences)."""
    names = [key[2] for key in results if key[:2] == (next(iter(DATASETS)), "xgboost")]
    others = [n for n in names if n != "cross-entropy"]
    lines = ["## Paired differences", "",
             "Macro-F1 minus that of plain cross-entropy on the same data draw (mean ± std of "
             "the per-seed differences; the seeds share the data, so these are tighter than "
             "the tables above).", "",
             "| data, booster | " + " | ".join(others) + " |", "|---|" + "---|" * len(others)]
    for dname in DATASETS:
        for booster in ("xgboost", "lightgbm"):
            base = np.array(results[(dname, booster, "cross-entropy")]["macro_f1"])
            cells = []
            for n in others:
                diff = np.array(results[(dname, booster, n)]["macro_f1"]) - base
                cells.append(f"{np.mean(diff):+.3f} ± {np.std(diff):.3f}")
            lines.append(f"| {dname}, {booster} | " + " | ".join(cells) + " |")
    return lines + [""]


def sweep_report(sweep: dict) -> list:
    lines = ["## LDAM `scale` (choice of the default)", "",
             "LDAM with max_margin 0.5 and no DRW; macro-F1, mean over seeds. Cross-entropy for "
             "reference.", ""]
    scales = sorted({key[2] for key in sweep if isinstance(key[2], float)})
    lines.append("| data, booster | cross-entropy | " + " | ".join(f"scale {s:g}" for s in scales)
                 + " |")
    lines.append("|---|---|" + "---|" * len(scales))
    for dname in DATASETS:
        for booster in ("xgboost", "lightgbm"):
            ce = np.mean(sweep[(dname, booster, "ce")]["macro_f1"])
            vals = [np.mean(sweep[(dname, booster, s)]["macro_f1"]) for s in scales]
            lines.append(f"| {dname}, {booster} | {ce:.3f} | "
                         + " | ".join(f"{v:.3f}" for v in vals) + " |")
    return lines + [""]


def run_sweep(scales: tuple = (0.5, 1.0, 2.0, 5.0, 30.0), seeds: tuple = SEEDS) -> dict:
    table = {"ce": gbloss.cross_entropy()}
    table.update({s: gbloss.ldam(scale=s) for s in scales})
    return run(table, seeds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sweep", action="store_true", help="also measure LDAM's scale")
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument("--update-results", action="store_true",
                        help="write the tracked benchmarks/results/ instead of benchmarks/.scratch/")
    args = parser.parse_args()
    start = time.perf_counter()
    results = run(losses())
    sweep = run_sweep() if args.sweep else None
    text = report(results, sweep, time.perf_counter() - start)
    if not args.no_write:
        results = BENCHMARKS / ("results" if args.update_results else ".scratch") / "longtail.md"
        results.parent.mkdir(parents=True, exist_ok=True)
        results.write_text(text)
        print(f"wrote {results}", file=sys.stderr)
    else:
        print(text)


if __name__ == "__main__":
    main()
