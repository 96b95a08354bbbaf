"""gbloss demo: when an imbalance loss helps, and probabilities you can trust after it.

Two generated data sets, each split into train / validation / test (stratified):

1. Binary, 2% positives, label noise, overlapping classes. XGBoost and LightGBM
   with the built-in log-loss, ``gbloss.cross_entropy(class_weight="balanced")``,
   ``gbloss.focal(gamma=2)`` and ``gbloss.logit_adjusted()``. Printed: PR-AUC,
   recall at precision 0.5, balanced accuracy at the default decision
   (probability 0.5) and with the threshold tuned on the validation split, and
   the expected calibration error (ECE) of ``loss.transform`` (what
   ``Booster.predict`` returns) and of ``loss.predict_proba(z, prior="train")``.

2. Long-tailed multiclass (4 classes, 80% : 15% : 4% : 1% of the rows).
   XGBoost with the built-in softmax log-loss (deciding by argmax, and by
   argmax(z - log prior): the post-hoc logit adjustment), class weights and
   ``gbloss.logit_adjusted()``. Printed:
   balanced accuracy at the default decision (argmax), macro PR-AUC, recall of
   the rarest class, and the ECE (top-label) before and after ``predict_proba``.

What it shows: the losses change the *default decision* (and with it balanced
accuracy and the rare classes' recall) far more than they change the ranking
(PR-AUC); a threshold tuned on validation data gives the built-in log-loss most
of that gain in the binary case; and ``predict_proba`` turns the losses' skewed
scores back into calibrated probabilities.
See ``benchmarks/results/real_data.md`` for the same comparison on ten real data sets.

Run: ``bash scripts/demo.sh`` (sets everything up), or ``python examples/demo.py``.
"""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import xgboost as xgb
from sklearn.datasets import make_classification
from sklearn.metrics import average_precision_score, balanced_accuracy_score, precision_recall_curve
from sklearn.model_selection import train_test_split

import gbloss
import gbloss.lightgbm
import gbloss.xgboost
from gbloss.metrics import calibration_error

ROUNDS = 150
XGB = {"tree_method": "hist", "max_depth": 4, "eta": 0.05, "min_child_weight": 0.1, "seed": 0,
       "nthread": 1}
LGB = {"num_leaves": 15, "learning_rate": 0.05, "min_sum_hessian_in_leaf": 0.01,
       "verbose": -1, "seed": 0, "deterministic": True, "num_threads": 1}


def split(X, y, seed: int = 0):
    """60% train, 20% validation, 20% test, stratified."""
    X_tr, X_rest, y_tr, y_rest = train_test_split(X, y, test_size=0.4, stratify=y,
                                                  random_state=seed)
    X_va, X_te, y_va, y_te = train_test_split(X_rest, y_rest, test_size=0.5, stratify=y_rest,
                                              random_state=seed)
    return X_tr, y_tr.astype(np.float64), X_va, y_va, X_te, y_te


def margins(booster: str, loss, k: int, X_tr, y_tr, X_va, X_te):
    """Margins (raw scores, init score included) on the validation and test rows."""
    if booster == "xgboost":
        params = XGB if k == 2 else {**XGB, "num_class": k}
        dtrain = xgb.DMatrix(X_tr, y_tr)
        if loss is None:  # XGBoost's own objective, the baseline
            objective = "binary:logistic" if k == 2 else "multi:softprob"
            model = xgb.train({**params, "objective": objective}, dtrain, ROUNDS)
        else:
            model = gbloss.xgboost.train(params, dtrain, loss, ROUNDS)
        return (model.predict(xgb.DMatrix(X_va), output_margin=True),
                model.predict(xgb.DMatrix(X_te), output_margin=True))
    train_set = lgb.Dataset(X_tr, y_tr)
    if loss is None:
        model = lgb.train({**LGB, "objective": "binary"}, train_set, ROUNDS)
    else:
        model = gbloss.lightgbm.train(LGB, train_set, loss, ROUNDS)
    return model.predict(X_va, raw_score=True), model.predict(X_te, raw_score=True)


def best_threshold(y, z) -> float:
    """The margin threshold with the best balanced accuracy (chosen on validation rows)."""
    candidates = np.quantile(z, np.linspace(0.5, 0.999, 300))
    return float(max(candidates, key=lambda t: balanced_accuracy_score(y, z >= t)))


def recall_at_precision(y, z, precision: float = 0.5) -> float:
    prec, rec, _ = precision_recall_curve(y, z)
    return float(rec[prec >= precision].max())


def binary_demo() -> None:
    X, y = make_classification(n_samples=30_000, n_features=20, n_informative=8, n_redundant=4,
                               weights=[0.98], class_sep=0.8, flip_y=0.01, random_state=0)
    X_tr, y_tr, X_va, y_va, X_te, y_te = split(X.astype(np.float32), y)
    print(f"1. Binary: {len(y_tr)} training rows, {y_tr.mean():.1%} positives; "
          f"{len(y_te)} test rows, {int(y_te.sum())} positives\n")
    losses = {
        "built-in log-loss": None,
        "cross_entropy(class_weight='balanced')": gbloss.cross_entropy(class_weight="balanced"),
        "focal(gamma=2)": gbloss.focal(gamma=2.0),
        "logit_adjusted()": gbloss.logit_adjusted(),
    }
    head = (f"{'booster':8s} {'loss':39s} {'PR-AUC':>6s} {'rec@P.5':>7s} {'BA@0.5':>6s} "
            f"{'BA tuned':>8s} {'ECE transform':>13s} {'ECE predict_proba':>17s}")
    print(head + "\n" + "-" * len(head))
    for booster in ("xgboost", "lightgbm"):
        for name, loss in losses.items():
            # A fitted loss keeps the training class counts: predict_proba restores that prior.
            fitted = (loss or gbloss.cross_entropy()).fit(y_tr)
            z_va, z_te = margins(booster, None if loss is None else fitted, 2, X_tr, y_tr, X_va, X_te)
            before = np.asarray(fitted.transform(z_te))
            after = np.asarray(fitted.predict_proba(z_te, prior="train"))
            print(f"{booster:8s} {name:39s} {average_precision_score(y_te, z_te):6.3f} "
                  f"{recall_at_precision(y_te, z_te):7.3f} "
                  f"{balanced_accuracy_score(y_te, before >= 0.5):6.3f} "
                  f"{balanced_accuracy_score(y_te, z_te >= best_threshold(y_va, z_va)):8.3f} "
                  f"{calibration_error(y_te, before):13.3f} {calibration_error(y_te, after):17.3f}")
    print("\nrec@P.5: recall at precision 0.5. BA: balanced accuracy at probability 0.5, and with\n"
          "the threshold tuned for it on the validation rows.\n")


def multiclass_demo() -> None:
    X, y = make_classification(n_samples=20_000, n_features=20, n_informative=10, n_classes=4,
                               n_clusters_per_class=1, weights=[0.80, 0.15, 0.04, 0.01],
                               class_sep=1.0, flip_y=0.01, random_state=1)
    X_tr, y_tr, X_va, _, X_te, y_te = split(X.astype(np.float32), y)
    k = 4
    print(f"2. Long-tailed multiclass: training rows per class {np.bincount(y_tr.astype(int))}\n")
    losses = {
        "built-in log-loss": None,
        "cross_entropy(class_weight='balanced')": gbloss.cross_entropy(class_weight="balanced"),
        "logit_adjusted()": gbloss.logit_adjusted(),
    }
    head = (f"{'loss':39s} {'BA argmax':>9s} {'macro PR-AUC':>12s} {'rarest recall':>13s} "
            f"{'ECE transform':>13s} {'ECE predict_proba':>17s}")
    print(head + "\n" + "-" * len(head))
    onehot = np.eye(k)[y_te]
    log_prior = np.log(np.bincount(y_tr.astype(int)) / len(y_tr))
    for name, loss in losses.items():
        fitted = (loss or gbloss.cross_entropy()).fit(y_tr)
        _, z_te = margins("xgboost", None if loss is None else fitted, k, X_tr, y_tr, X_va, X_te)
        before = np.asarray(fitted.transform(z_te))
        after = np.asarray(fitted.predict_proba(z_te, prior="train"))
        rows = [(name, before.argmax(axis=1), f"{calibration_error(y_te, before):13.3f}",
                 f"{calibration_error(y_te, after):17.3f}")]
        if loss is None:  # the same model, deciding by argmax(z - log prior) (Menon et al. 2021)
            rows.append(("  same model, argmax(z - log prior)", (z_te - log_prior).argmax(axis=1),
                         f"{'':13s}", f"{'':17s}"))
        for label, pred, ece_before, ece_after in rows:
            print(f"{label:39s} {balanced_accuracy_score(y_te, pred):9.3f} "
                  f"{average_precision_score(onehot, z_te, average='macro'):12.3f} "
                  f"{np.mean(pred[y_te == 3] == 3):13.3f} {ece_before} {ece_after}")
    print("\nBA argmax: balanced accuracy of the most probable class under loss.transform (what\n"
          "Booster.predict gives). ECE: top-label calibration error, 15 equal-width bins.")


def main() -> None:
    binary_demo()
    multiclass_demo()


if __name__ == "__main__":
    main()
