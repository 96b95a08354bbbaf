# %% [markdown]
# # Quick start: focal loss, cross-entropy and class weights on imbalanced data
#
# A binary problem with 3% positives (think fraud or churn). We train XGBoost and
# LightGBM with
#
# * the booster's built-in log-loss (the baseline),
# * `gbloss.cross_entropy(class_weight="balanced")`: log-loss with the rare class up-weighted,
# * `gbloss.focal(gamma=2)`: focal loss, which down-weights the easy (mostly majority) rows,
#
# and compare precision-recall curves and per-class recall. Class weights and focal loss
# *shift the scores*: the link of their margins is not a calibrated probability
# (`loss.predict_proba(margins)` undoes the shift; see `docs/probabilities.md`). The second
# half shows how held-out calibration treats the scores and how to choose a decision
# threshold afterwards, on validation data.
#
# Every loss object is the custom objective of either booster as it is; `gbloss.xgboost.train`
# and `gbloss.lightgbm.train` also set the loss's optimal constant as the init score, so
# `predict` returns probabilities.

# %%
import lightgbm as lgb
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import xgboost as xgb
from sklearn.calibration import calibration_curve
from sklearn.datasets import make_classification
from sklearn.isotonic import IsotonicRegression
from sklearn.metrics import (
    average_precision_score,
    brier_score_loss,
    f1_score,
    log_loss,
    precision_recall_curve,
    precision_score,
    recall_score,
)
from sklearn.model_selection import train_test_split

import gbloss

X, y = make_classification(n_samples=24_000, n_features=20, n_informative=8, n_redundant=4,
                           weights=[0.97, 0.03], class_sep=0.8, flip_y=0.01, random_state=0)
X = X.astype(np.float32)
X_train, X_rest, y_train, y_rest = train_test_split(X, y, test_size=0.5, stratify=y,
                                                    random_state=0)
X_valid, X_test, y_valid, y_test = train_test_split(X_rest, y_rest, test_size=0.5,
                                                    stratify=y_rest, random_state=0)
print(f"train {len(y_train)} rows ({y_train.mean():.1%} positive), "
      f"validation {len(y_valid)}, test {len(y_test)}")

# %% [markdown]
# ## Training
#
# The same booster parameters for every objective. Focal loss has smaller Hessians than
# log-loss (by the factor $(1-p_t)^\gamma$), so `min_child_weight` / `min_sum_hessian_in_leaf`
# are set low enough for every objective to keep splitting.

# %%
ROUNDS = 150
xgb_params = {"tree_method": "hist", "max_depth": 4, "eta": 0.1, "min_child_weight": 0.1,
              "seed": 0, "nthread": 1}
lgb_params = {"num_leaves": 15, "learning_rate": 0.1, "min_sum_hessian_in_leaf": 0.01,
              "seed": 0, "deterministic": True, "force_col_wise": True, "num_threads": 1,
              "verbose": -1}
losses = {
    "cross_entropy(balanced)": gbloss.cross_entropy(class_weight="balanced"),
    "focal(gamma=2)": gbloss.focal(gamma=2.0),
}

dtrain = xgb.DMatrix(X_train, y_train)
models = {("xgboost", "built-in log-loss"):
          xgb.train({**xgb_params, "objective": "binary:logistic"}, dtrain, ROUNDS)}
models[("lightgbm", "built-in log-loss")] = lgb.train(
    {**lgb_params, "objective": "binary"}, lgb.Dataset(X_train, y_train), ROUNDS)
for name, loss in losses.items():
    models[("xgboost", name)] = gbloss.xgboost.train(xgb_params, dtrain, loss, ROUNDS)
    models[("lightgbm", name)] = gbloss.lightgbm.train(lgb_params, lgb.Dataset(X_train, y_train),
                                                       loss, ROUNDS)


def predict(model, X):
    """Scores in [0, 1]: both adapters' boosters return probabilities, init score included."""
    return model.predict(xgb.DMatrix(X)) if isinstance(model, xgb.Booster) else model.predict(X)


scores = {key: (predict(m, X_valid), predict(m, X_test)) for key, m in models.items()}

# %% [markdown]
# ## Precision-recall curves
#
# PR curves (and their area, average precision) depend only on how the scores *rank* the
# rows, so they are the fair first comparison between objectives that shift scores differently.

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharey=True)
for ax, booster in zip(axes, ("xgboost", "lightgbm"), strict=False):
    for (b, name), (_, s_test) in scores.items():
        if b != booster:
            continue
        prec, rec, _ = precision_recall_curve(y_test, s_test)
        ax.plot(rec, prec, label=f"{name} (AP {average_precision_score(y_test, s_test):.3f})")
    ax.axhline(y_test.mean(), color="grey", lw=0.8, ls=":")
    ax.set(title=booster, xlabel="recall (rare class)", xlim=(0, 1), ylim=(0, 1.02))
    ax.legend(loc="lower left", fontsize=8)
axes[0].set_ylabel("precision")
fig.tight_layout()

# %% [markdown]
# ## Per-class recall at the default threshold 0.5
#
# At the usual threshold of 0.5 the objectives differ a lot: class weights move scores up, so
# the rare class's recall rises (and precision falls); focal loss pulls scores towards 0.5
# from both sides.

# %%
def at_threshold(y_true, s, t):
    pred = (s >= t).astype(int)
    return {"recall class 0": recall_score(y_true, pred, pos_label=0),
            "recall class 1": recall_score(y_true, pred),
            "precision class 1": precision_score(y_true, pred, zero_division=0.0),
            "F1 class 1": f1_score(y_true, pred)}


table = pd.DataFrame({f"{b}: {n}": at_threshold(y_test, s[1], 0.5)
                      for (b, n), s in scores.items()}).T
ax = table[["recall class 0", "recall class 1"]].plot.barh(figsize=(8, 3.8))
ax.set(xlabel="recall on the test set at threshold 0.5", xlim=(0, 1))
ax.invert_yaxis()
plt.tight_layout()
table.round(3)

# %% [markdown]
# ## Where the scores go: calibration
#
# A reliability diagram bins the test rows by predicted score and plots the observed
# frequency of the rare class in each bin. The built-in log-loss follows the diagonal
# roughly (the bins are noisy: the test set has about 200 positives).
# Balanced class weights make every positive count as much as about 28 negatives: scores are
# far too high. Focal loss is not a proper scoring rule either: its scores are squeezed towards
# the middle (too high below about 0.4, too low above).

# %%
def reliability(ax, items, title):
    for name, (y_true, s) in items.items():
        frac, mean = calibration_curve(y_true, s, n_bins=10, strategy="uniform")
        ax.plot(mean, frac, "o-", ms=3, label=name)
    ax.plot([0, 1], [0, 1], color="grey", lw=0.8, ls=":")
    ax.set(xlim=(0, 1), ylim=(0, 1), title=title,
           xlabel="mean predicted score (10 equal-width bins)", ylabel="observed positive rate")
    ax.legend(fontsize=8)


fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
for ax, booster in zip(axes, ("xgboost", "lightgbm"), strict=False):
    reliability(ax, {n: (y_test, s[1]) for (b, n), s in scores.items() if b == booster},
                f"{booster}: before calibration")
fig.tight_layout()

# %% [markdown]
# ### Calibrating afterwards
#
# Calibration is a monotone map from scores to probabilities, fitted on held-out data (never
# on the training rows, whose scores are optimistic). Isotonic regression is the usual choice
# with a few thousand validation rows; `sklearn.calibration.CalibratedClassifierCV` does the
# same for a scikit-learn estimator such as `gbloss.sklearn.GBLossClassifier`. A monotone map
# keeps the ranking, so average precision does not change; the log-loss and Brier score of
# the weighted and focal models come back to the baseline's level.

# %%
calibrated = {}
rows = {}
for key, (s_valid, s_test) in scores.items():
    iso = IsotonicRegression(out_of_bounds="clip", y_min=1e-4, y_max=1 - 1e-4)
    iso.fit(s_valid, y_valid)
    calibrated[key] = (iso.predict(s_valid), iso.predict(s_test))
    rows[f"{key[0]}: {key[1]}"] = {
        "log-loss before": log_loss(y_test, np.clip(s_test, 1e-7, 1 - 1e-7)),
        "log-loss after": log_loss(y_test, calibrated[key][1]),
        "Brier before": brier_score_loss(y_test, s_test),
        "Brier after": brier_score_loss(y_test, calibrated[key][1]),
        "AP": average_precision_score(y_test, s_test),
    }

fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
for ax, booster in zip(axes, ("xgboost", "lightgbm"), strict=False):
    reliability(ax, {n: (y_test, s[1]) for (b, n), s in calibrated.items() if b == booster},
                f"{booster}: after isotonic calibration on validation data")
fig.tight_layout()
pd.DataFrame(rows).T.round(4)

# %% [markdown]
# ## Choosing the threshold
#
# The decision threshold is a business choice: here we take the one that maximises the rare
# class's F1 on the *validation* set (any other target works the same way, e.g. the lowest
# threshold whose precision is at least 50%), then apply it to the test set. With its own
# threshold, each objective lands at a similar precision-recall trade-off: the objective
# changes the ranking only through the trees it learns.

# %%
def best_f1_threshold(y_true, s):
    prec, rec, thr = precision_recall_curve(y_true, s)
    f1 = 2 * prec[:-1] * rec[:-1] / np.maximum(prec[:-1] + rec[:-1], 1e-12)
    return float(thr[np.argmax(f1)])


rows = {}
for key, (s_valid, s_test) in scores.items():
    t = best_f1_threshold(y_valid, s_valid)
    at_half, at_t = at_threshold(y_test, s_test, 0.5), at_threshold(y_test, s_test, t)
    rows[f"{key[0]}: {key[1]}"] = {
        "threshold": t, "F1 at 0.5": at_half["F1 class 1"], "F1 at threshold": at_t["F1 class 1"],
        "recall at threshold": at_t["recall class 1"],
        "precision at threshold": at_t["precision class 1"]}

key = ("lightgbm", "focal(gamma=2)")
s_valid = scores[key][0]
prec, rec, thr = precision_recall_curve(y_valid, s_valid)
fig, ax = plt.subplots(figsize=(6, 3.8))
ax.plot(thr, prec[:-1], label="precision")
ax.plot(thr, rec[:-1], label="recall")
t = best_f1_threshold(y_valid, s_valid)
ax.axvline(t, color="k", lw=0.8, ls="--", label=f"best-F1 threshold {t:.2f}")
ax.axvline(0.5, color="grey", lw=0.8, ls=":", label="0.5")
ax.set(xlabel="threshold on the score", title=f"{key[0]}: {key[1]}, validation set")
ax.legend(fontsize=8)
fig.tight_layout()
pd.DataFrame(rows).T.round(3)

# %% [markdown]
# ## The same with the scikit-learn estimator
#
# `gbloss.sklearn.GBLossClassifier` wraps either booster with any gbloss loss; its
# `predict_proba` are the loss's probabilities with the shift undone (`loss_.predict_proba`
# of the margins), and it plugs into `CalibratedClassifierCV`, `GridSearchCV` with
# `loss__gamma`, pipelines.

# %%
from gbloss.sklearn import GBLossClassifier

clf = GBLossClassifier(loss=gbloss.focal(gamma=2.0), booster="lightgbm", n_estimators=ROUNDS,
                       learning_rate=0.1, num_leaves=15, min_child_weight=0.01, random_state=0,
                       n_jobs=1).fit(X_train, y_train)
print(f"GBLossClassifier(focal, lightgbm): test AP "
      f"{average_precision_score(y_test, clf.predict_proba(X_test)[:, 1]):.3f}")

# %% [markdown]
# **Take-aways.** Compare objectives on ranking metrics (PR curves, AP) first. Class weights and
# focal loss change the score scale of the booster's output: use `loss.predict_proba` of the
# margins (or the estimator's `predict_proba`), or calibrate on held-out data, when
# probabilities matter, and choose the threshold on validation data rather than using 0.5.
