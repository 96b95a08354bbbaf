"""Ray Train: the user's own ``xgb.train(..., obj=loss)`` on 2 workers gives the single-process model.

Ray Train's ``XGBoostTrainer`` runs ``train_loop_per_worker`` on each worker
inside XGBoost's collective (``XGBoostConfig``). Each worker trains on its own
partition -- the two partitions differ in class balance -- and an unfitted
loss with label statistics computes them from both workers' labels through
the collective. One Ray run covers every loss (Ray starts slowly).

Tolerance: margins within 1e-5 (the features take 8 values, so the quantile
cuts are exact on both sides; float32 margins).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

xgb = pytest.importorskip("xgboost")
ray = pytest.importorskip("ray")
pytest.importorskip("ray.train.xgboost")

import gbloss

TOL = 1e-5
ROUNDS = 4
PARAMS = {"max_depth": 3, "eta": 0.3, "min_child_weight": 0.0, "nthread": 1}
ROWS = (700, 300)

LOSSES = {
    "cross_entropy-balanced": ("binary", gbloss.cross_entropy(class_weight="balanced")),
    "focal-effective": ("binary", gbloss.focal(class_weight="effective")),
    "ldam": ("multiclass", gbloss.ldam()),
    "lmf": ("multiclass", gbloss.lmf()),
    "acb_mse": ("regression", gbloss.acb_mse()),
    "balanced_mse-bni": ("regression", gbloss.balanced_mse(prior="bni")),
    "balanced_mse-bmc": ("regression", gbloss.balanced_mse(prior="bmc")),
    "balanced_mse-gai": ("regression", gbloss.balanced_mse(prior="gai")),
    "dice": ("binary", gbloss.dice()),  # sums over all rows, all-reduced every round
}


def _data(task: str, seed: int = 0):
    """Features with 8 values; the second partition's label mix differs from the first's."""
    rng = np.random.default_rng(seed)
    n = sum(ROWS)
    X = rng.integers(0, 8, (n, 4)).astype(np.float32)
    w = rng.uniform(0.5, 2.0, n).astype(np.float32)
    if task == "binary":
        y = (X[:, 0] + rng.normal(size=n) > 4).astype(np.float32)
        y[ROWS[0]:] = rng.uniform(size=ROWS[1]) < 0.08
    elif task == "multiclass":
        y = np.clip((X[:, 0] + X[:, 1] + rng.normal(size=n)) // 5, 0, 2).astype(np.float32)
        y[ROWS[0]:] = (rng.uniform(size=ROWS[1]) < 0.1).astype(np.float32) * 2
    else:
        y = np.exp(0.3 * X[:, 0] + 0.5 * rng.normal(size=n)).astype(np.float32)
        y[rng.uniform(size=n) < np.where(np.arange(n) < ROWS[0], 0.5, 0.05)] = 0.0
    return X, y, w


def _params(task: str) -> dict:
    return {**PARAMS, "num_class": 3} if task == "multiclass" else dict(PARAMS)


def _train_loop(config: dict) -> None:
    """Each worker trains every loss on its partition; rank 0 saves the margins."""
    import ray.train

    rank = ray.train.get_context().get_world_rank()
    part = slice(0, ROWS[0]) if rank == 0 else slice(ROWS[0], None)
    for name, (task, loss) in config["losses"].items():
        X, y, w = config["data"][task]
        dtrain = xgb.DMatrix(X[part], y[part], weight=w[part], nthread=1)
        booster = xgb.train(_params(task), dtrain, ROUNDS, obj=loss)
        # every worker makes the DMatrix: inside the collective its construction is collective
        margins = booster.predict(xgb.DMatrix(X), output_margin=True)
        if rank == 0:
            np.save(f"{config['out']}/{name}.npy", margins)


@pytest.mark.slow
def test_ray_train_matches_single_process(tmp_path):
    from ray.train import RunConfig, ScalingConfig
    from ray.train.xgboost import XGBoostTrainer

    data = {task: _data(task) for task in ("binary", "multiclass", "regression")}
    X, y, w = data["binary"]
    loss = LOSSES["cross_entropy-balanced"][1]
    g_local, _ = loss.fit(y[:ROWS[0]], w[:ROWS[0]]).gradient_hessian(y[:ROWS[0]], np.zeros(ROWS[0]))
    g_all, _ = loss.fit(y, w).gradient_hessian(y[:ROWS[0]], np.zeros(ROWS[0]))
    assert np.max(np.abs(g_local - g_all)) > 1e-3  # local statistics would train another model

    # the workers unpickle this module's functions by value and import the gbloss under test
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    root = str(Path(gbloss.__file__).resolve().parent.parent)
    ray.init(num_cpus=4, include_dashboard=False, log_to_driver=False,
             runtime_env={"env_vars": {"OMP_NUM_THREADS": "1", "PYTHONPATH": root}})
    try:
        trainer = XGBoostTrainer(
            _train_loop,
            train_loop_config={"losses": LOSSES, "data": data, "out": str(tmp_path)},
            scaling_config=ScalingConfig(num_workers=2, resources_per_worker={"CPU": 1}),
            run_config=RunConfig(storage_path=str(tmp_path / "ray")),
        )
        trainer.fit()
    finally:
        ray.shutdown()
    for name, (task, loss) in LOSSES.items():
        X, y, w = data[task]
        single = xgb.train(_params(task), xgb.DMatrix(X, y, weight=w, nthread=1), ROUNDS, obj=loss)
        expected = single.predict(xgb.DMatrix(X), output_margin=True)
        np.testing.assert_allclose(np.load(tmp_path / f"{name}.npy"), expected, rtol=0, atol=TOL,
                                   err_msg=name)
