"""Which positive surrogate should ``hessian="auto"`` use where focal loss's exact Hessian is
small or negative?

Candidates, applied only where the exact diagonal is below ``HESSIAN_FLOOR * weight``:

* ``modulated`` (gbloss's default): ``max(alpha_t c_t q^gamma p (1 - p), floor)``, the logistic
  curvature scaled by the focal factor;
* ``abs``: ``max(|exact|, floor)``;
* ``floor``: the constant ``floor`` alone;
* ``exact``: no surrogate (negative Hessians reach the booster).

Each is trained with XGBoost and LightGBM (gamma = 2 and 5) on three data sets and scored on a
held-out split after 300 rounds at learning rate 0.3: PR-AUC for the binary sets, macro-F1 for the multiclass set, and the focal loss
itself. Median over 3 seeds. Run ``python benchmarks/hessian_study.py``; results go to
``benchmarks/results/hessian.md``.
"""

from __future__ import annotations

import argparse
import contextlib
from pathlib import Path

import lightgbm as lgb
import numpy as np
import xgboost as xgb
from sklearn.datasets import load_digits, make_classification
from sklearn.metrics import average_precision_score, f1_score
from sklearn.model_selection import train_test_split

import gbloss
import gbloss.losses.focal as clf
from _common import UPDATE_HELP, results_path, write_results

VARIANTS = ("modulated", "abs", "floor", "exact")


@contextlib.contextmanager
def surrogate(variant: str):
    """Temporarily swap the surrogate that the focal kernels hand to the Hessian policy."""
    original = clf.apply_hessian_policy

    def patched(exact, sur, weight, policy, xp, **kw):
        if variant == "exact":
            return exact
        if variant == "abs":
            sur = xp.abs(exact)
        elif variant == "floor":
            sur = None
        return original(exact, sur, weight, policy, xp, **kw)

    clf.apply_hessian_policy = patched
    try:
        yield
    finally:
        clf.apply_hessian_policy = original


def datasets(seed: int):
    X, y = make_classification(n_samples=20_000, n_features=20, n_informative=6,
                               weights=[0.97, 0.03], class_sep=0.7, flip_y=0.02,
                               random_state=seed)
    yield "generated binary, 3% positives, 2% label noise", X, y.astype(float), 2
    X, y = make_classification(n_samples=20_000, n_features=20, n_informative=6,
                               weights=[0.9, 0.1], class_sep=1.5, flip_y=0.15,
                               random_state=seed)
    yield "generated binary, 10% positives, 15% label noise", X, y.astype(float), 2
    digits = load_digits()
    yield ("digits: '9' against the rest (10%)", digits.data,
           (digits.target == 9).astype(float), 2)
    rng = np.random.default_rng(seed)
    keep = rng.random(len(digits.target)) < (0.08 + 0.92 * (digits.target < 3))
    yield ("digits, 10 classes, long-tailed (classes 3-9 kept at 8%)", digits.data[keep],
           digits.target[keep].astype(float), 10)


def score(y, proba, k):
    if k == 2:
        return average_precision_score(y, proba)
    return f1_score(y, proba.argmax(axis=1), average="macro")


def run(seed: int, gamma: float):
    out = {}
    for name, X, y, k in datasets(seed):
        Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.4, stratify=y, random_state=seed)
        loss = gbloss.focal(gamma=gamma)
        for variant in VARIANTS:
            with surrogate(variant):
                xp = {"tree_method": "hist", "max_depth": 4, "eta": 0.3, "min_child_weight": 0.01,
                      "seed": seed, **({"num_class": k} if k > 2 else {})}
                bx = gbloss.xgboost.train(xp, xgb.DMatrix(Xtr, ytr), loss, 300)
                px = bx.predict(xgb.DMatrix(Xte))
                lp = {"num_leaves": 15, "learning_rate": 0.3, "min_sum_hessian_in_leaf": 0.01,
                      "verbose": -1, "seed": seed, **({"num_class": k} if k > 2 else {})}
                bl = gbloss.lightgbm.train(lp, lgb.Dataset(Xtr, ytr), loss, 300)
                pl = bl.predict(Xte)
                exact_h = gbloss.focal(gamma=gamma, hessian="exact").gradient_hessian(
                    ytr, bx.predict(xgb.DMatrix(Xtr), output_margin=True))[1]
                out[(name, "xgboost", variant, "share")] = float(np.mean(exact_h < 1e-6))
            for booster, proba, raw in (("xgboost", px, bx.predict(xgb.DMatrix(Xte), output_margin=True)),
                                        ("lightgbm", pl, bl.predict(Xte, raw_score=True))):
                finite = bool(np.all(np.isfinite(raw)))
                test_loss = loss.loss(yte, raw) if finite else float("nan")
                out[(name, booster, variant)] = (score(yte, proba, k), test_loss, float(np.max(np.abs(raw))))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--update-results", action="store_true", help=UPDATE_HELP)
    results = results_path("hessian.md", parser.parse_args().update_results)
    sections = {}
    summary_rows = ["| gamma | surrogate | mean score rank (1 = best) | wins |", "|---|---|---|---|"]
    for gamma in (2.0, 5.0):
        runs = [run(seed, gamma) for seed in range(3)]
        keys = sorted({k[:2] for k in runs[0] if len(k) == 3})
        rows = ["| data set | booster | Hessian entries below the floor | " + " | ".join(VARIANTS) + " |",
                "|---|---|---|" + "---|" * len(VARIANTS)]
        ranks = {v: [] for v in VARIANTS}
        wins = dict.fromkeys(VARIANTS, 0)
        for name, booster in keys:
            cells = []
            med = {}
            for v in VARIANTS:
                vals = np.array([r[(name, booster, v)] for r in runs])
                med[v] = np.median(vals[:, 0])
                cells.append(f"{med[v]:.3f} (loss {np.median(vals[:, 1]):.4f}, max abs margin "
                             f"{np.median(vals[:, 2]):.0f})")
            order = sorted(VARIANTS, key=lambda v: -med[v])
            for i, v in enumerate(order):
                ranks[v].append(i + 1)
            wins[order[0]] += 1
            share = np.median([r[(name, "xgboost", "modulated", "share")] for r in runs])
            rows.append(f"| {name} | {booster} | {share:.1%} | " + " | ".join(cells) + " |")
        sections[f"gamma = {gamma:g}: test score (PR-AUC binary, macro-F1 multiclass), median of 3 seeds"] = rows
        for v in VARIANTS:
            summary_rows.append(f"| {gamma:g} | {v} | {np.mean(ranks[v]):.2f} | {wins[v]} |")
    sections = {"Summary": summary_rows, **sections}
    write_results(results, "Focal loss: Hessian surrogates for hessian='auto'", __doc__, sections)
    print(results.read_text())


if __name__ == "__main__":
    main()
