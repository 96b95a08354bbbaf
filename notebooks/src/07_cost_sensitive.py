# %% [markdown]
# # Unequal error costs: `gbloss.cost_sensitive` and `gbloss.metrics.min_expected_cost`
#
# Missing a fraud costs more than checking a legitimate transaction. With a cost matrix
# `C[i, j]` (the cost of predicting `j` when the truth is `i`) there are two ways to
# take cheaper decisions with gradient boosting:
#
# 1. train with the built-in log-loss (calibrated probabilities) and decide with
#    `gbloss.metrics.min_expected_cost(proba, C)`, the Bayes-optimal decision
#    `argmin_k sum_j p_j C[j, k]` (Elkan 2001); for two classes a threshold
#    `C01 / (C01 + C10)` instead of 0.5;
# 2. train with `gbloss.cost_sensitive(C)`, the expected cost `sum_k C[y, k] p_k` itself,
#    and decide by the largest probability: the loss's minimiser *is* the cheapest
#    decision, so its scores are not probabilities (applying `min_expected_cost` to them
#    would count the costs twice).
#
# Both are compared with the usual habit, log-loss and a 0.5 threshold.

# %%
import lightgbm as lgb
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import xgboost as xgb
from sklearn.datasets import make_classification
from sklearn.model_selection import train_test_split

import gbloss
from gbloss.metrics import min_expected_cost

X, y = make_classification(n_samples=12_000, n_features=20, n_informative=6, weights=[0.95],
                           class_sep=0.7, flip_y=0.02, random_state=1)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.5, stratify=y,
                                                    random_state=0)
C = np.array([[0.0, 1.0],     # truth 0: a false alarm costs 1
              [20.0, 0.0]])   # truth 1: a missed positive costs 20
print(f"{y_train.mean():.1%} positives; Bayes threshold C01 / (C01 + C10) = "
      f"{C[0, 1] / (C[0, 1] + C[1, 0]):.3f}")


def total_cost(y_true, decisions, cost=C):
    return float(cost[y_true.astype(int), np.asarray(decisions, dtype=int)].sum())


# %% [markdown]
# ## Training: the same booster, two objectives
#
# `gbloss.xgboost.train` sets the loss's init score (for the expected cost, the class prior:
# its minimiser over constants is an infinite margin, where no gradient is left). The
# default Hessian of the expected cost is `|gradient|`, so a Newton step moves a leaf by at
# most one logit.

# %%
params = {"tree_method": "hist", "max_depth": 4, "eta": 0.1, "nthread": 1}
dtrain, dtest = xgb.DMatrix(X_train, y_train), xgb.DMatrix(X_test)
logloss = xgb.train({**params, "objective": "binary:logistic"}, dtrain, 150)
loss = gbloss.cost_sensitive(C)
costly = gbloss.xgboost.train(params, dtrain, loss, 150)

p_logloss = logloss.predict(dtest)                                   # probabilities
p_costly = loss.transform(costly.predict(dtest, output_margin=True))  # custom objective: margins
rules = {
    "log-loss, threshold 0.5": p_logloss > 0.5,
    "log-loss + min_expected_cost": min_expected_cost(p_logloss, C),
    "cost_sensitive, threshold 0.5": p_costly > 0.5,
    "cost_sensitive + min_expected_cost (costs twice)": min_expected_cost(p_costly, C),
}
rows = []
for name, decision in rules.items():
    d = np.asarray(decision, dtype=int)
    rows.append({"decision rule": name, "total cost": total_cost(y_test, d),
                 "missed positives": int(np.sum((d == 0) & (y_test == 1))),
                 "false alarms": int(np.sum((d == 1) & (y_test == 0)))})
rows.append({"decision rule": "flag everything",
             "total cost": total_cost(y_test, np.ones_like(y_test)),
             "missed positives": 0, "false alarms": int(np.sum(y_test == 0))})
table = pd.DataFrame(rows).set_index("decision rule")
display(table)  # noqa: F821 (IPython's)

# %% [markdown]
# ## Total cost against the threshold
#
# The log-loss model's total test cost for every threshold: 0.5 is far from the cheapest;
# the Bayes threshold `1/21` from the cost matrix lands near the minimum without looking
# at the test labels. The cost-sensitive model, decided at 0.5, is close to it too.

# %%
thresholds = np.linspace(0.005, 0.6, 120)
curve = [total_cost(y_test, p_logloss > t) for t in thresholds]
fig, ax = plt.subplots(1, 2, figsize=(11, 3.8))
ax[0].plot(thresholds, curve, label="log-loss model, threshold t")
ax[0].axvline(0.5, color="grey", ls=":", label="t = 0.5")
ax[0].axvline(C[0, 1] / (C[0, 1] + C[1, 0]), color="C2", ls="--", label="Bayes t = 1/21")
ax[0].axhline(table.loc["cost_sensitive, threshold 0.5", "total cost"], color="C3",
              label="cost_sensitive, threshold 0.5")
ax[0].set(xlabel="threshold t", ylabel="total test cost", title="cost vs threshold")
ax[0].legend(fontsize=8)
table["total cost"].plot.barh(ax=ax[1], color=["grey", "C2", "C3", "C1", "C7"])
ax[1].set(xlabel="total test cost", ylabel="", title="decision rules")
fig.tight_layout()

# %% [markdown]
# ## Multiclass: a 3 x 3 cost matrix
#
# Three classes where confusing class 2 for class 0 is the expensive error. LightGBM with
# log-loss and `argmax`, with log-loss and `min_expected_cost`, and with
# `gbloss.cost_sensitive(C3)` and `argmax`.

# %%
X3, y3 = make_classification(n_samples=6_000, n_features=12, n_informative=6, n_classes=3,
                             weights=[0.6, 0.3, 0.1], class_sep=0.8, random_state=2)
X3_train, X3_test, y3_train, y3_test = train_test_split(X3, y3, test_size=0.5, stratify=y3,
                                                        random_state=0)
C3 = np.array([[0.0, 1.0, 1.0],
               [2.0, 0.0, 1.0],
               [15.0, 5.0, 0.0]])
lgb_params = {"num_leaves": 15, "learning_rate": 0.1, "verbose": -1, "num_threads": 1}
train3 = lgb.Dataset(X3_train, y3_train)
plain = lgb.train({**lgb_params, "objective": "multiclass", "num_class": 3}, train3, 150)
proba3 = plain.predict(X3_test)
loss3 = gbloss.cost_sensitive(C3)
costly3 = gbloss.lightgbm.train({**lgb_params, "num_class": 3}, lgb.Dataset(X3_train, y3_train),
                                loss3, 150)
proba3_costly = loss3.transform(costly3.predict(X3_test, raw_score=True))
pd.Series({
    "log-loss, argmax": total_cost(y3_test, proba3.argmax(1), C3),
    "log-loss + min_expected_cost": total_cost(y3_test, min_expected_cost(proba3, C3), C3),
    "cost_sensitive, argmax": total_cost(y3_test, proba3_costly.argmax(1), C3),
}, name="total test cost").to_frame()

# %% [markdown]
# Both cost-aware rules cut the cost of the plain argmax; on these data the calibrated
# log-loss model with `min_expected_cost` is the cheaper of the two, as it is (narrowly) in
# the binary case. It is also the simplest and keeps the probabilities usable (costs can
# change after training); training with the expected cost builds one cost matrix into the
# trees, and its scores are decisions, not probabilities.

# %% [markdown]
# ## Per-image data: Tversky trades precision for recall
#
# When the rows come in groups (pixels of an image, XGBoost `qid`, LightGBM `group`) and a
# missed foreground pixel costs more than a false alarm, the region losses weigh the two
# errors per group: `gbloss.tversky(alpha, beta)` scores
# (TP + s) / (TP + alpha FP + beta FN + s) on soft counts, and `beta > alpha` favours
# recall (`alpha = beta = 1/2` is Dice). Forty synthetic 400-pixel images with a small
# round object (about 4% foreground) train XGBoost with the log-loss, Dice and two Tversky
# settings; the recall and precision of the foreground at probability 0.5 on forty other
# images:

# %%
rng = np.random.default_rng(0)


def images(n_images, size=400):
    X, y, qid = [], [], []
    for i in range(n_images):
        centre = rng.uniform(0, 1, 2)
        pos = rng.uniform(0, 1, (size, 2))
        dist = np.linalg.norm(pos - centre, axis=1)
        fg = dist < rng.uniform(0.08, 0.16)
        intensity = fg * 1.0 + rng.normal(0, 0.9, size)
        X.append(np.column_stack([intensity, dist + rng.normal(0, 0.05, size), pos]))
        y.append(fg.astype(float))
        qid.append(np.full(size, i))
    return np.vstack(X), np.concatenate(y), np.concatenate(qid)


Xi_train, yi_train, qid_train = images(40)
Xi_test, yi_test, _ = images(40)
dtrain_i = xgb.DMatrix(Xi_train, yi_train, qid=qid_train)
dtest_i = xgb.DMatrix(Xi_test)
params_i = {"max_depth": 3, "eta": 0.3, "nthread": 1}


def recall_precision(p):
    pred = p >= 0.5
    tp = np.sum(pred & (yi_test == 1))
    return {"recall": tp / np.sum(yi_test == 1), "precision": tp / max(np.sum(pred), 1)}


region = {"log-loss": recall_precision(
    xgb.train({**params_i, "objective": "binary:logistic"}, dtrain_i, 60).predict(dtest_i))}
for name, loss in {"dice": gbloss.dice(), "tversky(0.3, 0.7)": gbloss.tversky(0.3, 0.7),
                   "tversky(0.1, 0.9)": gbloss.tversky(0.1, 0.9)}.items():
    booster = gbloss.xgboost.train(params_i, dtrain_i, loss, 60)
    region[name] = recall_precision(loss.transform(booster.predict(dtest_i, output_margin=True)))
region = pd.DataFrame(region).T
region.plot.barh(figsize=(6, 2.8), title="foreground pixels at probability 0.5")
region.round(3)

# %% [markdown]
# Raising `beta` over `alpha` moves the decision towards recall, at a price in precision;
# Dice sits next to the log-loss. The scores of a region loss are not probabilities (see
# `docs/probabilities.md`): choose the loss by the error you can least afford.
