# %% [markdown]
# # Probabilities and decision thresholds after an imbalance loss
#
# Class weights and focal loss change what the model's margin means: `loss.transform(z)` (the
# sigmoid, what `Booster.predict` returns) is then a *score*, not the probability of the
# positive class. Class weights push it up (the model sees a balanced world); focal loss
# pushes it towards 0.5. This notebook shows
#
# 1. the reliability diagram of `loss.transform` and of `loss.predict_proba(z, prior="train")`,
#    which undoes the loss's distortion and returns probabilities for the training prior,
#    with their expected calibration error (`gbloss.metrics.calibration_error`);
# 2. how to choose the decision threshold: from costs (only right on calibrated
#    probabilities), for a recall at a required precision (a precision-recall curve on
#    validation data), or by cross-validation (`sklearn.model_selection.TunedThresholdClassifierCV`).
#
# The data: 30,000 generated rows, 3% positives, with label noise; half to train, a quarter
# to validate (choosing thresholds), a quarter to test.

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import xgboost as xgb
from sklearn.calibration import calibration_curve
from sklearn.datasets import make_classification
from sklearn.metrics import balanced_accuracy_score, precision_recall_curve
from sklearn.model_selection import TunedThresholdClassifierCV, train_test_split

import gbloss
import gbloss.xgboost
from gbloss.metrics import calibration_error
from gbloss.sklearn import GBLossClassifier

X, y = make_classification(n_samples=30_000, n_features=20, n_informative=6, weights=[0.97],
                           class_sep=0.8, flip_y=0.01, random_state=0)
X_train, X_rest, y_train, y_rest = train_test_split(X, y, test_size=0.5, stratify=y,
                                                    random_state=0)
X_val, X_test, y_val, y_test = train_test_split(X_rest, y_rest, test_size=0.5, stratify=y_rest,
                                                random_state=0)
params = {"tree_method": "hist", "max_depth": 4, "eta": 0.1, "min_child_weight": 0.1,
          "nthread": 1, "seed": 0}
losses = {
    "cross_entropy()": gbloss.cross_entropy(),
    "cross_entropy(class_weight='balanced')": gbloss.cross_entropy(class_weight="balanced"),
    "focal(gamma=2)": gbloss.focal(gamma=2.0),
}
dtrain, dval, dtest = (xgb.DMatrix(X_train, y_train), xgb.DMatrix(X_val), xgb.DMatrix(X_test))
fitted, z_val, z_test = {}, {}, {}
for name, loss in losses.items():
    fitted[name] = loss.fit(y_train)  # keeps the training class counts: the prior to restore
    booster = gbloss.xgboost.train(params, dtrain, fitted[name], 150)
    z_val[name] = booster.predict(dval, output_margin=True)
    z_test[name] = booster.predict(dtest, output_margin=True)
print(f"positives: train {y_train.mean():.2%}, test {y_test.mean():.2%}")

# %% [markdown]
# ## Reliability diagrams
#
# Each point is one bin of test rows (equal-count bins): the mean predicted probability
# against the observed frequency of positives. On the diagonal, a prediction of 0.2 means
# 20% positives. Log axes, because almost every row has a small probability here.

# %%
fig, axes = plt.subplots(1, 3, figsize=(15, 4.6), sharey=True)
rows = []
for ax, (name, loss) in zip(axes, fitted.items(), strict=True):
    before = np.asarray(loss.transform(z_test[name]))
    after = np.asarray(loss.predict_proba(z_test[name], prior="train"))
    for label, p, style in (("transform", before, "o-"), ("predict_proba", after, "s-")):
        err = calibration_error(y_test, p)
        frac, mean = calibration_curve(y_test, p, n_bins=12, strategy="quantile")
        ax.plot(mean, frac, style, ms=4, label=f"{label}: ECE {err:.3f}")
        rows.append({"loss": name, "probabilities": label, "ECE": err,
                     "mean predicted": p.mean(), "observed rate": y_test.mean()})
    ax.plot([1e-4, 1], [1e-4, 1], "k--", lw=0.8)
    ax.set(xscale="log", yscale="log", xlim=(1e-4, 1), ylim=(1e-4, 1), title=name,
           xlabel="mean predicted probability")
    ax.legend(loc="upper left", fontsize=9)
axes[0].set_ylabel("observed fraction of positives")
fig.tight_layout()
pd.DataFrame(rows).round(4)

# %% [markdown]
# The plain cross-entropy is already calibrated and `predict_proba` leaves it as it is.
# Balanced class weights make every probability several times too large (the model learnt
# a 50:50 world); `predict_proba(prior="train")` moves the odds back by the ratio of the
# class weights. On this data it over-corrects: the corrected points sit above the
# diagonal (probabilities two to three times too small, the mean predicted probability
# below the observed rate), though far closer than before. Focal loss pulls the
# probabilities of the many easy negatives up towards the middle; its correction, the
# inverse of that distortion, brings them near the diagonal. The ECE in the table (15
# equal-width bins, `gbloss.metrics.calibration_error`) weights each bin by its rows, so the
# many small probabilities dominate it: read it with the mean predicted probability and the
# observed rate.
#
# ## Choosing the threshold from costs
#
# Suppose a missed positive costs 20 and a false alarm costs 1. With *calibrated*
# probabilities the cheapest decision flags a row when $p \ge 1/(1 + 20) \approx 0.048$
# (Elkan, 2001). The same threshold on the uncorrected scores of class weights or focal loss
# flags far too many rows: both push the scores up. A threshold tuned on the validation split
# needs no calibration, but needs enough validation positives.

# %%
cost_fn, cost_fp = 20.0, 1.0
bayes = cost_fp / (cost_fp + cost_fn)


def cost(y_true, flag):
    return (cost_fn * np.sum((y_true == 1) & ~flag) + cost_fp * np.sum((y_true == 0) & flag)) \
        / len(y_true) * 1000


rows = []
for name, loss in fitted.items():
    p_val = np.asarray(loss.predict_proba(z_val[name], prior="train"))
    p_test = np.asarray(loss.predict_proba(z_test[name], prior="train"))
    grid = np.unique(np.quantile(p_val, np.linspace(0.5, 1, 400)))
    tuned = grid[np.argmin([cost(y_val, p_val >= t) for t in grid])]
    rows.append({
        "loss": name,
        "transform >= 0.5": cost(y_test, np.asarray(loss.transform(z_test[name])) >= 0.5),
        f"transform >= {bayes:.3f}": cost(y_test,
                                          np.asarray(loss.transform(z_test[name])) >= bayes),
        f"predict_proba >= {bayes:.3f}": cost(y_test, p_test >= bayes),
        "threshold tuned on validation": cost(y_test, p_test >= tuned),
    })
print("cost per 1000 test rows (missed positive 20, false alarm 1); lower is better")
pd.DataFrame(rows).set_index("loss").round(1)

# %% [markdown]
# ## A recall at a required precision
#
# When the decision must keep precision above a level (say at most one false alarm per true
# hit: precision 0.5), read the threshold off the validation split's precision-recall curve
# and check the test split. Ranking is what matters here, and a monotone correction changes
# no ranking: `transform` and `predict_proba` give the same curve.

# %%
fig, ax = plt.subplots(figsize=(6.5, 4.6))
for name in fitted:
    prec, rec, thr = precision_recall_curve(y_test, z_test[name])
    ax.plot(rec, prec, label=name)
    prec_v, rec_v, thr_v = precision_recall_curve(y_val, z_val[name])
    ok = prec_v[:-1] >= 0.5
    t = thr_v[ok][np.argmax(rec_v[:-1][ok])]  # the threshold of the best validation recall
    flag = z_test[name] >= t
    hit = (y_test == 1) & flag
    ax.plot(hit.sum() / (y_test == 1).sum(), hit.sum() / max(flag.sum(), 1), "k*", ms=9)
    print(f"{name:40s} test recall {hit.sum() / (y_test == 1).sum():.3f} "
          f"at test precision {hit.sum() / max(flag.sum(), 1):.3f}")
ax.axhline(0.5, color="gray", lw=0.8, ls=":")
ax.set(xlabel="recall", ylabel="precision", title="test precision-recall curves\n"
       "(stars: thresholds chosen on validation for precision 0.5)")
ax.legend(fontsize=8)
fig.tight_layout()

# %% [markdown]
# ## Tuning the threshold by cross-validation
#
# scikit-learn's `TunedThresholdClassifierCV` wraps any classifier, here gbloss's estimator
# with focal loss, and picks the threshold of `predict_proba` that maximises a score over
# internal cross-validation folds (balanced accuracy here), then refits on all the rows.

# %%
clf = GBLossClassifier(gbloss.focal(gamma=2.0), n_estimators=100, max_depth=4,
                       min_child_weight=0.1, n_jobs=1, random_state=0)
tuned = TunedThresholdClassifierCV(clf, scoring="balanced_accuracy", cv=3, random_state=0)
tuned.fit(X_train, y_train)
plain = clf.fit(X_train, y_train)
print(f"chosen threshold {tuned.best_threshold_:.3f}; test balanced accuracy "
      f"{balanced_accuracy_score(y_test, tuned.predict(X_test)):.3f} "
      f"(at 0.5: {balanced_accuracy_score(y_test, plain.predict(X_test)):.3f})")

# %% [markdown]
# ## In short
#
# * Losses that re-weight or re-shape (class weights, focal, LDAM, logit adjustment) leave
#   `transform` uncalibrated; `loss.predict_proba(z, prior="train")` gives probabilities for
#   the training prior (or pass the deployment prior).
# * Decide with a threshold: from costs on calibrated probabilities, from a precision or
#   recall requirement on validation data, or tuned by cross-validation. A loss changes the
#   default threshold's meaning far more than it changes the ranking; see
#   `benchmarks/results/real_data.md` for when a loss improves the ranking itself.
