# %% [markdown]
# # Asymmetric loss (ASL) and PolyLoss
#
# **ASL** (Ridnik et al., ICCV 2021) is made for multi-label data where each label is rare:
# in a tagging problem each tag is on a few percent of the rows, so there are tens of
# negatives for every positive. Under cross-entropy the many easy negatives dominate the gradient and
# push every probability down; predictions above 0.5 become rare and recall suffers. ASL
# treats the two sides differently, with $p = \sigma(z)$:
#
# $$\ell = -y\,(1-p)^{\gamma_+}\log p \;-\; (1-y)\,p_m^{\gamma_-}\log(1-p_m),
#   \qquad p_m = \max(p - \text{clip}, 0).$$
#
# A negative with $p \le$ clip costs nothing (probability shifting), and the others are
# down-weighted by $p_m^{\gamma_-}$ (asymmetric focusing). **PolyLoss** (Leng et al., ICLR
# 2022) adds one polynomial term to cross-entropy or focal loss:
# $-(1-p_t)^\gamma \log p_t + \epsilon (1-p_t)^{\gamma+1}$.

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import xgboost as xgb
from sklearn.metrics import average_precision_score, f1_score
from sklearn.model_selection import train_test_split

import gbloss
import gbloss.xgboost

# %% [markdown]
# ## What each loss does to a negative label
#
# The gradient a negative row sends to the booster, as a function of its predicted
# probability. Cross-entropy's grows linearly; focal's ($\gamma = 4$) is tiny for easy
# negatives; ASL's is exactly 0 below the clip and, because a negative's loss is bounded
# ($\le -\log(\text{clip})$), falls again for very confident mistakes, which the paper reads
# as probably mislabelled. That bounded loss is not convex: its exact Hessian turns
# negative, and `hessian="auto"` replaces it there by a positive curvature.

# %%
z = np.linspace(-6, 8, 701)
p = 1 / (1 + np.exp(-z))
neg = np.zeros_like(z)
losses = {"cross-entropy": gbloss.cross_entropy(), "focal, gamma=4": gbloss.focal(4.0),
          "ASL (gamma_neg=4, clip=0.05)": gbloss.asymmetric(),
          "ASL, gamma_neg=0, clip=0.05": gbloss.asymmetric(0.0, 0.0, 0.05),
          "gbdtCBL ACE (m=0.05)": gbloss.ace(0.05)}
fig, axes = plt.subplots(1, 2, figsize=(12, 4))
for name, loss in losses.items():
    g, _ = loss.gradient_hessian(neg, z)
    axes[0].plot(p, g, label=name)
    _, h_exact = loss.set_params(hessian="exact").gradient_hessian(neg, z)
    axes[1].plot(p, h_exact, label=name)
axes[0].set(xlabel="predicted probability p of a negative", ylabel="gradient dl/dz",
            title="gradient of a negative label", yscale="log", ylim=(1e-4, 1.2))
axes[1].axhline(0, color="k", lw=0.6)
axes[1].set(xlabel="predicted probability p of a negative", title="exact Hessian")
axes[0].legend(fontsize=8)
fig.tight_layout()

# %% [markdown]
# ## Multi-label data with many negatives
#
# Six tags, each present on 5-13% of 3,000 rows (about ten negatives per positive), learned from 10 features. Each loss
# trains the same XGBoost model (multi-label: one tree per tag and round, custom objective,
# init score from the loss); we compare them on held-out rows: mean average precision
# (ranking, threshold-free), and recall, precision and micro-F1 at the 0.5 threshold.

# %%
rng = np.random.default_rng(0)
n, k = 3000, 6
X = rng.normal(size=(n, 10)).astype(np.float32)
W = rng.normal(size=(10, k))
offset = np.log([0.02, 0.03, 0.03, 0.04, 0.05, 0.06])
Y = (rng.random((n, k)) < 1 / (1 + np.exp(-(3.0 * X @ W / np.sqrt(10) + offset - 2.0)))) * 1.0
X_tr, X_te, Y_tr, Y_te = train_test_split(X, Y, test_size=0.5, random_state=0)
print(f"positives per tag: {Y.mean(0).round(3)}; negatives per positive: "
      f"{(1 - Y).sum() / Y.sum():.0f}")

candidates = {"cross-entropy": gbloss.cross_entropy(), "focal (gamma=2)": gbloss.focal(2.0),
              "ASL (defaults)": gbloss.asymmetric(),
              "gbdtCBL ACE (m=0.05)": gbloss.ace(0.05)}
params = {"max_depth": 3, "eta": 0.2, "nthread": 2}
rows = []
for name, loss in candidates.items():
    bst = gbloss.xgboost.train(params, xgb.DMatrix(X_tr, Y_tr), loss, num_boost_round=30)
    P = bst.predict(xgb.DMatrix(X_te))
    hit = P > 0.5
    rows.append({"loss": name, "mAP": average_precision_score(Y_te, P, average="macro"),
                 "recall@0.5": (hit & (Y_te == 1)).sum() / Y_te.sum(),
                 "precision@0.5": (hit & (Y_te == 1)).sum() / max(hit.sum(), 1),
                 "micro-F1@0.5": f1_score(Y_te, hit, average="micro"),
                 "mean p on positives": P[Y_te == 1].mean()})
table = pd.DataFrame(rows).set_index("loss").round(3)
table

# %%
ax = table[["mAP", "recall@0.5", "precision@0.5", "micro-F1@0.5"]].plot.bar(
    figsize=(11, 4), rot=15)
ax.set(title="held-out rows: 6 rare tags", ylim=(0, 1))
ax.legend(fontsize=8, ncol=4)
plt.tight_layout()

# %% [markdown]
# ASL moves the predicted probabilities of the rare tags up (mean $p$ on the positives), so
# far more positives pass the 0.5 threshold: recall at 0.5 about doubles, precision falls and
# micro-F1 rises a little. The ranking (mAP) barely changes: on a ranking metric, or with a tuned
# threshold per tag (`sklearn.model_selection.TunedThresholdClassifierCV`), cross-entropy's
# probabilities serve as well. ASL pays off when a fixed threshold is used and the negatives
# vastly outnumber the positives.
#
# ## PolyLoss: one knob on cross-entropy
#
# Poly-1 adds $\epsilon(1-p_t)$: $\epsilon > 0$ steepens the loss for confident rows,
# $\epsilon < 0$ flattens it. It stays a valid loss (non-negative, decreasing in $p_t$)
# exactly for $\epsilon \ge -1$; gbloss refuses smaller values. For $|\epsilon| \le 1$
# Poly-1 cross-entropy is convex in the margin.

# %%
pt = np.linspace(0.01, 1, 300)
fig, ax = plt.subplots(figsize=(6, 4))
for eps in (-1.0, 0.0, 1.0, 3.0):
    ax.plot(pt, -np.log(pt) + eps * (1 - pt), label=f"epsilon = {eps:g}")
ax.set(xlabel="probability of the true class p_t", ylabel="loss", ylim=(0, 5),
       title="Poly-1 cross-entropy")
ax.legend()
plt.tight_layout()
