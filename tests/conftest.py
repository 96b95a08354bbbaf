"""Shared fixtures and independent reference definitions for the gbloss tests.

Nothing here calls gbloss: the references are written from the formulas of
issue 2 (focal loss, Lin et al. 2017; class weights, Cui et al. 2019), so the
tests compare gbloss against an independent implementation.

* :class:`TorchReference`: focal / cross-entropy per-row losses in torch,
  float64, written in log space, with gradients and Hessian diagonals from
  autograd. The log-sum-exp is written as ``z_max + log1p(sum_others)`` with a
  gathered (not detached) maximum, and ``log u`` / ``log(1 - u)`` switch to
  ``log1p(-x)`` of the other one where it is small, so that autograd's second
  derivatives do not suffer the ``p - p**2`` cancellation of a plain
  ``logsumexp`` (checked against mpmath at 80 digits while writing the tests).
* :func:`ref_class_weights`: "balanced" and "effective" weights from counts.
* Small synthetic data sets for the booster tests.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

LN2 = math.log(2.0)


# --------------------------------------------------------------------------- torch reference
class TorchReference:
    """Focal loss in torch (float64, log space) and its autograd derivatives."""

    def __init__(self) -> None:
        import torch

        self.torch = torch

    # ---- building blocks
    def log_sigmoid(self, z):
        """log(sigmoid(z)); both ``where`` branches finite, so autograd never sees 0 * inf."""
        torch = self.torch
        neg = z < 0
        return torch.where(neg, z, torch.zeros_like(z)) - torch.log1p(
            torch.exp(torch.where(neg, z, -z))
        )

    def logsumexp(self, z):
        """``z_max + log1p(sum_{j != argmax} exp(z_j - z_max))`` along the last axis."""
        torch = self.torch
        idx = z.detach().argmax(-1, keepdim=True)
        z_max = z.gather(-1, idx)
        is_max = torch.zeros_like(z, dtype=torch.bool).scatter(-1, idx, True)
        others = torch.where(is_max, torch.zeros_like(z), torch.exp(z - z_max))
        return z_max[..., 0] + torch.log1p(others.sum(-1))

    # ---- per-row losses
    def binary_rows(self, y, z, gamma, c0, c1):
        """``c1 y (-(1-p)^g log p) + c0 (1-y) (-p^g log(1-p))``, elementwise."""
        torch = self.torch
        log_p, log_q = self.log_sigmoid(z), self.log_sigmoid(-z)
        f1 = -torch.exp(gamma * log_q) * log_p
        f0 = -torch.exp(gamma * log_p) * log_q
        return c1 * y * f1 + c0 * (1 - y) * f0

    def multilabel_rows(self, y, z, gamma, c0, c1):
        return self.binary_rows(y, z, gamma, c0, c1).sum(-1)

    def multiclass_rows(self, t, z, gamma, c):
        """``-c_t (1 - u)^g log u`` with ``u = softmax(z)_t``."""
        torch = self.torch
        k = z.shape[1]
        m = torch.nn.functional.one_hot(t, k).bool()
        lse = self.logsumexp(z)
        lse_others = self.logsumexp(torch.where(m, torch.full_like(z, -torch.inf), z))
        log_u_direct = z.gather(1, t[:, None])[:, 0] - lse
        log_q_direct = lse_others - lse
        log_u = torch.where(log_q_direct < -LN2,
                            torch.log1p(-torch.exp(torch.clamp(log_q_direct, max=-LN2))),
                            log_u_direct)
        log_q = torch.where(log_u_direct < -LN2,
                            torch.log1p(-torch.exp(torch.clamp(log_u_direct, max=-LN2))),
                            log_q_direct)
        return -c[t] * torch.exp(gamma * log_q) * log_u

    # ---- derivatives
    def tensor(self, a):
        return self.torch.as_tensor(np.array(a, dtype=np.float64))  # a writable copy

    def value_grad_hess(self, rows_fn, z, w=None):
        """Per-row losses, and grad / Hessian diagonal of ``sum_i w_i l_i`` in ``z``."""
        torch = self.torch
        zt = self.tensor(z).requires_grad_(True)
        rows = rows_fn(zt)
        wt = torch.ones_like(rows) if w is None else self.tensor(w)
        (grad,) = torch.autograd.grad((wt * rows).sum(), zt, create_graph=True)
        if zt.ndim == 1:
            (hess,) = torch.autograd.grad(grad.sum(), zt)
        else:  # rows are independent: the column-j sum isolates d2/dz_ij^2
            hess = torch.stack([
                torch.autograd.grad(grad[:, j].sum(), zt, retain_graph=True)[0][:, j]
                for j in range(zt.shape[1])
            ], dim=1)
        return rows.detach().numpy(), grad.detach().numpy(), hess.detach().numpy()

    def rows(self, rows_fn, z):
        with self.torch.no_grad():
            return rows_fn(self.tensor(z)).numpy()


@pytest.fixture(scope="session")
def ref() -> TorchReference:
    pytest.importorskip("torch")
    return TorchReference()


# --------------------------------------------------------------------------- class weights
def ref_class_weights(counts, scheme: str, beta: float = 0.9999) -> np.ndarray:
    """Class weights along the last axis of ``counts``, written from the definitions.

    balanced: ``w_c ∝ 1 / n_c``; effective (Cui et al. 2019): ``w_c ∝ (1 - beta) /
    (1 - beta^{n_c})``. Scaled so that ``sum_c n_c w_c = sum_c n_c`` (mean 1 over the
    rows). A class with no rows gets the largest weight of the present ones.
    """
    counts = np.asarray(counts, dtype=np.float64)
    out = np.empty_like(counts)
    for idx in np.ndindex(counts.shape[:-1]):
        n_c = counts[idx]
        present = n_c > 0
        raw = np.zeros_like(n_c)
        if scheme == "balanced":
            raw[present] = 1.0 / n_c[present]
        else:
            raw[present] = (1.0 - beta) / (1.0 - np.power(beta, n_c[present]))
        raw[~present] = raw[present].max()
        out[idx] = raw * n_c.sum() / np.sum(n_c * raw)
    return out


def weighted_counts(y, k: int, task: str, w=None) -> np.ndarray:
    """``(2,)`` binary, ``(k,)`` multiclass, ``(k, 2)`` multi-label [neg, pos] counts."""
    y = np.asarray(y, dtype=np.float64)
    w = np.ones(y.shape[0]) if w is None else np.asarray(w, dtype=np.float64)
    if task == "multiclass":
        return np.array([w[y == c].sum() for c in range(k)])
    if task == "binary":
        return np.array([np.sum(w * (1 - y)), np.sum(w * y)])
    return np.stack([np.sum(w[:, None] * (1 - y), 0), np.sum(w[:, None] * y, 0)], axis=-1)


def expected_factors(task, k, alpha, class_weight, y, w):
    """Per-class factors from the parameters, written from the documentation of gbloss.focal.

    Returns ``c`` (k,) for multiclass, ``(c0, c1)`` (scalars or (k,)) otherwise.
    """
    size = k if task == "multiclass" else 2
    if class_weight is None:
        cw = None
    elif isinstance(class_weight, str):
        cw = ref_class_weights(weighted_counts(y, k, task, w), class_weight)
    elif isinstance(class_weight, dict):
        cw = np.ones(size)
        for c, v in class_weight.items():
            cw[c] = v
    else:
        cw = np.asarray(class_weight, dtype=np.float64)
    if task == "multiclass":
        a = np.ones(k) if alpha is None else np.broadcast_to(np.asarray(alpha, float), (k,))
        return a * (1.0 if cw is None else cw)
    if cw is not None and task == "multilabel":
        cw = np.broadcast_to(cw, (k, 2))
    if alpha is None:
        a0, a1 = 1.0, 1.0
    elif np.ndim(alpha) == 0:
        a0, a1 = 1.0 - alpha, float(alpha)
    elif task == "binary":
        a0, a1 = alpha[0], alpha[1]  # [alpha_neg, alpha_pos]
    else:
        a1 = np.asarray(alpha, float)
        a0 = 1.0 - a1
    w0, w1 = (1.0, 1.0) if cw is None else (cw[..., 0], cw[..., 1])
    c0, c1 = np.asarray(a0 * w0, float), np.asarray(a1 * w1, float)
    if task == "multilabel":
        c0, c1 = np.broadcast_to(c0, (k,)), np.broadcast_to(c1, (k,))
    return c0, c1


@pytest.fixture(scope="session")
def factors_ref():
    return expected_factors


@pytest.fixture(scope="session")
def class_weight_ref():
    return ref_class_weights


@pytest.fixture(scope="session")
def counts_ref():
    return weighted_counts


# --------------------------------------------------------------------------- data
@pytest.fixture
def kernel_path(request, monkeypatch) -> str:
    """Route every input of the focal family (focal, cross-entropy) to one CPU kernel,
    the test's ``path`` parameter: "fused" (gbloss/kernels/fused.py, whatever the size) or
    "reference"."""
    import gbloss.kernels.fused

    path = request.node.callspec.params["path"]
    monkeypatch.setattr(gbloss.kernels.fused, "MIN_ELEMENTS", 0 if path == "fused" else 10**15)
    return path


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20240917)


def _features(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    r = np.random.default_rng(seed)
    X = r.normal(size=(n, 6)).astype(np.float32)
    logit = X[:, 0] - 0.5 * X[:, 1] + 0.25 * X[:, 2] * X[:, 3] - 1.5
    return X, logit


@pytest.fixture(scope="session")
def binary_data():
    """n = 2000 rows, about 25% positives, and positive sample weights."""
    X, logit = _features(2000, 1)
    r = np.random.default_rng(2)
    y = (r.random(X.shape[0]) < 1 / (1 + np.exp(-logit))).astype(np.float32)
    w = r.uniform(0.2, 3.0, X.shape[0]).astype(np.float32)
    return X, y, w


@pytest.fixture(scope="session")
def multiclass_data():
    """n = 2000 rows, 3 imbalanced classes, and positive sample weights."""
    X, logit = _features(2000, 3)
    r = np.random.default_rng(4)
    y = np.digitize(logit + r.normal(size=X.shape[0]), [-2.5, -0.5]).astype(np.float32)
    w = r.uniform(0.2, 3.0, X.shape[0]).astype(np.float32)
    return X, y, w
