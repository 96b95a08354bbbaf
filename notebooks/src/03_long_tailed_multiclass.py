# %% [markdown]
# # Long-tailed multiclass: LDAM, LMF and deferred re-weighting (DRW)
#
# Ten classes whose training sizes fall from 150 to 3 rows (scikit-learn's handwritten
# digits, imbalance 50); the test set is balanced (30 rows per class), so every class counts
# the same in macro-F1 and balanced accuracy. We train XGBoost and LightGBM with
#
# * `gbloss.cross_entropy()`: softmax log-loss (the baseline);
# * `gbloss.ldam()`: LDAM (Cao et al., NeurIPS 2019): cross-entropy after lowering the true
#   class's margin by a per-class margin $m_j = C\,(n_{\min}/n_j)^{1/4}$, so rare classes must
#   be won by a larger margin;
# * `gbloss.lmf()`: LMF (Sadi et al. 2022): focal loss plus LDAM;
#
# each alone and with **DRW** (`drw_start_round=`): no class weights for the first rounds, then
# class-balanced weights (inverse effective number of samples, Cui et al. 2019) for the rest.

# %%
import lightgbm as lgb
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import xgboost as xgb
from sklearn.datasets import load_digits
from sklearn.metrics import balanced_accuracy_score, f1_score, recall_score

import gbloss

X, y = load_digits(return_X_y=True)
sizes = np.round(150 * (1 / 50) ** (np.arange(10) / 9)).astype(int)  # 150 ... 3
rng = np.random.default_rng(0)
train, test = [], []
for c, size in enumerate(sizes):
    idx = rng.permutation(np.flatnonzero(y == c))
    test.append(idx[:30])
    train.append(idx[30:30 + size])
train, test = np.concatenate(train), np.concatenate(test)
X_train, y_train, X_test, y_test = X[train], y[train].astype(float), X[test], y[test]
K = 10
print("training rows per class:", np.bincount(y_train.astype(int)))

# %% [markdown]
# ## What the losses do with the class sizes
#
# LDAM's margins depend only on the class counts ($C$ = `max_margin` = 0.5 here, in units of
# the raw margin). DRW's weights are `gbloss.class_weights(y, "effective")`, scaled to average
# 1 over the training rows.

# %%
n_j = np.bincount(y_train.astype(int))
margins = 0.5 * (n_j.min() / n_j) ** 0.25  # what gbloss.ldam(max_margin=0.5) computes
weights = gbloss.class_weights(y_train, "effective", beta=0.9999)
fig, axes = plt.subplots(1, 3, figsize=(13, 3.2))
axes[0].bar(range(K), sizes)
axes[0].set(title="training rows per class", xlabel="class", yscale="log")
axes[1].bar(range(K), margins, color="C1")
axes[1].set(title="LDAM margin $m_j$ (max_margin=0.5)", xlabel="class")
axes[2].bar(range(K), weights, color="C2")
axes[2].set(title="DRW class weights (effective number)", xlabel="class", yscale="log")
fig.tight_layout()

# %% [markdown]
# ## Training
#
# 200 rounds at learning rate 0.1; DRW switches the class weights on at round 150.
# XGBoost >= 3.2's `xgb.train` (which `gbloss.xgboost.train` calls) tells the loss the round
# itself; LightGBM needs `callbacks=[gbloss.drw_callback()]`. LDAM's `scale` defaults to 1 for
# boosting (the paper's 30 is meant for normalised network logits; see
# `benchmarks/results/longtail.md` for the measurement behind the default).

# %%
ROUNDS, DRW_START = 200, 150
losses = {}
for drw in (None, DRW_START):
    tag = "" if drw is None else " + DRW"
    losses["cross-entropy" + tag] = gbloss.cross_entropy(drw_start_round=drw)
    losses["LDAM" + tag] = gbloss.ldam(max_margin=0.5, drw_start_round=drw)
    losses["LMF" + tag] = gbloss.lmf(focal_weight=1.0, ldam_weight=1.0, gamma=2.0,
                                     drw_start_round=drw)

xgb_params = {"num_class": K, "max_depth": 4, "eta": 0.1, "min_child_weight": 0.1,
              "tree_method": "hist", "nthread": 1, "seed": 0}
lgb_params = {"num_class": K, "num_leaves": 15, "learning_rate": 0.1, "min_data_in_leaf": 5,
              "min_sum_hessian_in_leaf": 1e-3, "num_threads": 1, "seed": 0,
              "deterministic": True, "force_col_wise": True, "verbose": -1}
models, proba = {}, {}
for name, loss in losses.items():
    bst = gbloss.xgboost.train(xgb_params, xgb.DMatrix(X_train, label=y_train), loss, ROUNDS)
    models[("xgboost", name)] = bst
    proba[("xgboost", name)] = bst.predict(xgb.DMatrix(X_test))
    callbacks = [gbloss.drw_callback()] if loss.drw_start_round is not None else None
    bst = gbloss.lightgbm.train(lgb_params, lgb.Dataset(X_train, label=y_train), loss, ROUNDS,
                                callbacks=callbacks)
    proba[("lightgbm", name)] = bst.predict(X_test)

rows, recalls = {}, {}
for key, p in proba.items():
    pred = p.argmax(axis=1)
    rows[key] = {"macro-F1": f1_score(y_test, pred, average="macro"),
                 "balanced accuracy": balanced_accuracy_score(y_test, pred)}
    recalls[key] = recall_score(y_test, pred, average=None, labels=range(K))
table = pd.DataFrame(rows).T
table.index.names = ["booster", "loss"]
table.sort_index(level=0, sort_remaining=False).round(3)

# %% [markdown]
# ## Per-class recall
#
# The rarest classes (8 and 9, with 5 and 3 training rows) are where the losses differ. DRW
# moves their recall most: the late class weights re-balance the last trees without
# distorting the representation learnt first.

# %%
fig, axes = plt.subplots(1, 2, figsize=(13, 3.8), sharey=True)
for ax, booster in zip(axes, ("xgboost", "lightgbm"), strict=False):
    for i, name in enumerate(losses):
        ax.plot(range(K), recalls[(booster, name)], "o-" if "DRW" in name else "o--", ms=3,
                color=f"C{i % 3}", label=name)
    ax.set(title=booster, xlabel="class (training rows: 150 ... 3)", xticks=range(K),
           ylim=(0, 1.05))
    ax.legend(fontsize=8, ncol=2)
axes[0].set_ylabel("recall on the balanced test set")
fig.tight_layout()

# %% [markdown]
# ## DRW over the rounds
#
# Balanced accuracy of the XGBoost models after each number of rounds (`iteration_range`):
# with DRW the curve follows plain training until round 150, then the class weights switch on
# and it climbs.

# %%
steps = list(range(10, ROUNDS + 1, 10))
dtest = xgb.DMatrix(X_test)
fig, ax = plt.subplots(figsize=(7, 3.6))
for i, name in enumerate(["cross-entropy", "LDAM"]):
    for drw in ("", " + DRW"):
        bst = models[("xgboost", name + drw)]
        acc = [balanced_accuracy_score(y_test, bst.predict(dtest, iteration_range=(0, r))
                                       .argmax(axis=1)) for r in steps]
        ax.plot(steps, acc, "-" if drw else "--", color=f"C{i}", label=name + drw)
ax.axvline(DRW_START, color="grey", lw=0.8, ls=":")
ax.set(xlabel="boosting rounds", ylabel="balanced accuracy (test)", title="xgboost")
ax.legend(fontsize=8)
fig.tight_layout()

# %% [markdown]
# **Reading the results.** On this data DRW helps most consistently; LDAM and LMF alone
# change little with XGBoost and lose some macro-F1 with LightGBM.
# `benchmarks/results/longtail.md` repeats this over 3 seeds and a second data set: with
# XGBoost, cross-entropy + DRW, LDAM + DRW and LMF + DRW gain 0.05 to 0.08 macro-F1 over
# cross-entropy; with LightGBM the gains are smaller (none for LDAM or LMF + DRW on the
# digits), and focal loss alone is worse than cross-entropy on these long-tailed sets. Try DRW first, then LDAM's `max_margin`.
