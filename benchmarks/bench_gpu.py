"""gbloss objectives on XGBoost ``device="cuda"`` against the built-in objectives (issue 7).

Three parts, every figure the median over interleaved repeats, ratios against a
baseline measured in the same run:

* **training**: ``hist`` on the GPU, ``N`` x 20 float32 features held on the
  device (``QuantileDMatrix``), ``ROUNDS`` rounds, depth 6: binary focal
  against ``binary:logistic``, 10-class focal against ``multi:softprob``,
  Balanced MSE against ``reg:squarederror``. "gbloss" is
  ``gbloss.xgboost.train`` with a fresh loss each repeat (so it includes the
  init score, the label statistics and the one copy of labels and weights to
  the device). "floor" is the cheapest possible custom objective with the
  same round trip (host margins -> device, the built-in objective's formula
  in cupy, device gradients back): what any custom objective costs, which
  gbloss cannot go below.
* **where the time goes**, per round on the trained model: XGBoost's copy of
  the margins to the host (``predict(output_margin=True, training=True)``,
  done by XGBoost for every custom objective, dmlc/xgboost#10049), gbloss's
  copy back to the device, and gbloss's kernel.
* **kernels**: ``gradient_hessian`` on the GPU (cupy) against the CPU (numpy,
  blocked, all cores) for binary focal, 10-class focal, LDAM, LMF and Balanced
  MSE, the heavy objectives.

Target (issue 7): gbloss at most 1.3x the built-in time. Run on a CUDA machine::

    python benchmarks/bench_gpu.py            # 1M and 10M rows -> results/gpu.md
    python benchmarks/bench_gpu.py --quick    # 200k rows, 3 repeats (smoke run)
    python benchmarks/bench_gpu.py --device cpu --quick --no-write  # code check on a CPU
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import xgboost as xgb
from _common import UPDATE_HELP, environment, results_path, write_results

import gbloss
import gbloss.xgboost

N_FEATURES = 20
N_CLASSES = 10


class Device:
    """cupy on a GPU, or numpy for a CPU code check."""

    def __init__(self, name: str) -> None:
        self.cuda = name == "cuda"
        if self.cuda:
            import cupy

            self.xp = cupy
        else:
            self.xp = np

    def sync(self) -> None:
        if self.cuda:
            self.xp.cuda.Stream.null.synchronize()

    def asarray(self, a: Any) -> Any:
        return self.xp.asarray(a)

    def describe(self) -> list[str]:
        if not self.cuda:
            return ["- device: CPU (code check only, not the reference figures)"]
        cp = self.xp
        props = cp.cuda.runtime.getDeviceProperties(cp.cuda.Device().id)
        name = props["name"].decode() if isinstance(props["name"], bytes) else props["name"]
        rt = cp.cuda.runtime.runtimeGetVersion()
        drv = cp.cuda.runtime.driverGetVersion()
        return [(f"- GPU: {name}, {props['totalGlobalMem'] / 2**30:.0f} GiB; CUDA runtime "
                 f"{rt // 1000}.{rt % 1000 // 10}, driver {drv // 1000}.{drv % 1000 // 10}; "
                 f"cupy {cp.__version__}")]


# ------------------------------------------------------------------------ data
def make_data(dev: Device, n: int, task: str, seed: int = 0) -> tuple[Any, Any]:
    xp = dev.xp
    rs = xp.random.RandomState(seed)
    X = rs.standard_normal((n, N_FEATURES)).astype(np.float32)
    if task == "binary":
        logit = X[:, 0] - 0.5 * X[:, 1] + 0.25 * X[:, 2] * X[:, 3] - 2.0  # about 15% positives
        y = (rs.uniform(size=n) < 1 / (1 + xp.exp(-logit))).astype(np.float32)
    elif task == "multiclass":
        scores = X[:, :N_CLASSES] * xp.linspace(2.0, 0.5, N_CLASSES, dtype=np.float32)
        scores = scores - xp.log(-xp.log(rs.uniform(size=(n, N_CLASSES)))).astype(np.float32)
        y = xp.argmax(scores + xp.linspace(1.5, -1.5, N_CLASSES, dtype=np.float32), axis=1)
        y = y.astype(np.float32)
    else:  # skewed regression target, the setting of Balanced MSE
        y = xp.exp(0.8 * X[:, 0] + 0.3 * X[:, 1] + 0.3 * rs.standard_normal(n)).astype(np.float32)
    return X, y


# ---------------------------------------------------------------- floor objectives
def floor_objective(dev: Device, task: str) -> Callable:
    """The built-in objective's formula as a custom objective with the same round trip."""
    xp = dev.xp
    state: dict[str, Any] = {}

    def labels(dtrain: xgb.DMatrix) -> Any:
        if "y" not in state:
            state["y"] = dev.asarray(dtrain.get_label())
        return state["y"]

    def obj(predt: np.ndarray, dtrain: xgb.DMatrix) -> tuple[Any, Any]:
        z = dev.asarray(predt)  # the host-to-device copy gbloss makes too
        y = labels(dtrain)
        if task == "binary":
            p = 1 / (1 + xp.exp(-z))
            return p - y, p * (1 - p)
        if task == "multiclass":
            e = xp.exp(z - z.max(axis=1, keepdims=True))
            p = e / e.sum(axis=1, keepdims=True)
            onehot = (y[:, None] == xp.arange(N_CLASSES, dtype=y.dtype)[None, :])
            return p - onehot, xp.maximum(2 * p * (1 - p), 1e-16)
        return 2 * (z - y), xp.full_like(z, 2.0)

    return obj


# ------------------------------------------------------------------------ cases
CASES = {
    "binary focal": ("binary", {"objective": "binary:logistic"}, lambda: gbloss.focal()),
    "10-class focal": ("multiclass", {"objective": "multi:softprob", "num_class": N_CLASSES},
                       lambda: gbloss.focal()),
    "Balanced MSE": ("regression", {"objective": "reg:squarederror"},
                     lambda: gbloss.balanced_mse()),
}


def train_times(dev: Device, n: int, rounds: int, repeats: int) -> tuple[list[str], list[str]]:
    rows, where = [], []
    for label, (task, builtin, make_loss) in CASES.items():
        row, parts = train_case(dev, label, task, builtin, make_loss, n, rounds, repeats)
        rows.append(row)
        where.append(parts)
    return rows, where


def train_case(dev: Device, label: str, task: str, builtin: dict, make_loss: Callable, n: int,
               rounds: int, repeats: int) -> tuple[str, str]:
    base = {"device": "cuda" if dev.cuda else "cpu", "tree_method": "hist", "max_depth": 6,
            "eta": 0.3, "max_bin": 256}
    X, y = make_data(dev, n, task)
    d = xgb.QuantileDMatrix(X, y)
    extra = {k: v for k, v in builtin.items() if k == "num_class"}
    floor_params = gbloss.xgboost.booster_params({**base, **extra}, make_loss(),
                                                 np.asarray(d.get_label()))

    def run_builtin() -> xgb.Booster:
        return xgb.train({**base, **builtin}, d, rounds)

    def run_gbloss() -> xgb.Booster:
        return gbloss.xgboost.train({**base, **extra}, d, make_loss(), rounds)

    def run_floor() -> xgb.Booster:
        return xgb.train(floor_params, d, rounds, obj=floor_objective(dev, task))

    runs = {"built-in": run_builtin, "gbloss": run_gbloss, "floor": run_floor}
    times: dict[str, list[float]] = {k: [] for k in runs}
    for fn in runs.values():  # warm-up: kernel compilation, quantile cache
        fn()
        dev.sync()
    booster = None
    for _ in range(repeats):
        for name, fn in runs.items():
            dev.sync()
            t0 = time.perf_counter()
            out = fn()
            dev.sync()
            times[name].append(time.perf_counter() - t0)
            if name == "gbloss":
                booster = out
    b = np.asarray(times["built-in"])
    g, f = np.asarray(times["gbloss"]), np.asarray(times["floor"])
    row = (f"| {label} | {n:,} | {np.median(b) / rounds * 1e3:.2f} | "
           f"{np.median(g) / rounds * 1e3:.2f} | **{np.median(g / b):.2f}** | "
           f"{np.median(f) / rounds * 1e3:.2f} | {np.median(f / b):.2f} | "
           f"{np.median(g / f):.2f} |")
    parts = breakdown(dev, label, n, d, booster, make_loss, {**base, **extra},
                      float(np.median(b)) / rounds)
    return row, parts


def _median_time(fn: Callable, dev: Device, repeats: int = 15) -> float:
    fn()
    out = []
    for _ in range(repeats):
        dev.sync()
        t0 = time.perf_counter()
        fn()
        dev.sync()
        out.append(time.perf_counter() - t0)
    return float(np.median(out))


def breakdown(dev: Device, label: str, n: int, d: Any, booster: xgb.Booster,
              make_loss: Callable, params: dict, builtin_round: float) -> str:
    """Per-round components on the trained model, in ms."""
    obj = gbloss.xgboost.objective(make_loss(), params)
    margins = booster.predict(d, output_margin=True, training=True)
    obj(margins, d)  # fills the device cache (labels, weights, statistics, kernel)
    d2h = _median_time(lambda: booster.predict(d, output_margin=True, training=True), dev)
    h2d = _median_time(lambda: dev.asarray(margins), dev)
    total = _median_time(lambda: obj(margins, d), dev)
    kernel = max(total - h2d, 0.0)
    floor = builtin_round + d2h + h2d
    return (f"| {label} | {n:,} | {builtin_round * 1e3:.2f} | {d2h * 1e3:.2f} | "
            f"{h2d * 1e3:.2f} | {kernel * 1e3:.2f} | {floor / builtin_round:.2f} | "
            f"{(floor + kernel) / builtin_round:.2f} |")


# ----------------------------------------------------------------------- kernels
KERNELS = {
    "binary focal": ("binary", lambda: gbloss.focal()),
    "10-class focal": ("multiclass", lambda: gbloss.focal()),
    "10-class LDAM": ("multiclass", lambda: gbloss.ldam()),
    "10-class LMF": ("multiclass", lambda: gbloss.lmf()),
    "Balanced MSE": ("regression", lambda: gbloss.balanced_mse()),
}


def kernel_times(dev: Device, n: int, repeats: int) -> list[str]:
    return [kernel_case(dev, label, task, make_loss, n, repeats)
            for label, (task, make_loss) in KERNELS.items()]


def kernel_case(dev: Device, label: str, task: str, make_loss: Callable, n: int,
                repeats: int) -> str:
    _, y = make_data(dev, n, task, seed=1)
    y_host = np.asarray(y.get() if dev.cuda else y)
    k = N_CLASSES if task == "multiclass" else 1
    rng = np.random.default_rng(0)
    raw_host = rng.normal(size=(n, k) if k > 1 else n).astype(np.float32)
    loss = make_loss().fit(y_host, n_classes=k if k > 1 else None)
    y_dev, raw_dev = dev.asarray(y_host), dev.asarray(raw_host)
    cases = {"cpu": lambda: loss.gradient_hessian(y_host, raw_host),
             "dev": lambda: loss.gradient_hessian(y_dev, raw_dev)}
    times: dict[str, list[float]] = {c: [] for c in cases}
    for fn in cases.values():
        fn()
    for _ in range(repeats):
        for name, fn in cases.items():
            dev.sync()
            t0 = time.perf_counter()
            fn()
            dev.sync()
            times[name].append(time.perf_counter() - t0)
    c, g = np.asarray(times["cpu"]), np.asarray(times["dev"])
    return (f"| {label} | {n:,} | {np.median(c) * 1e3:.1f} | {np.median(g) * 1e3:.2f} | "
            f"{np.median(c / g):.1f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="200k rows, 3 repeats")
    parser.add_argument("--device", default="cuda", choices=("cuda", "cpu"))
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--rows", type=int, default=None, help="one size instead of 1M and 10M")
    parser.add_argument("--no-write", action="store_true", help="print, do not write the file")
    parser.add_argument("--update-results", action="store_true", help=UPDATE_HELP)
    args = parser.parse_args()
    results = results_path("gpu.md", args.update_results)
    dev = Device(args.device)
    sizes = [200_000] if args.quick else [1_000_000, 10_000_000]
    if args.rows:
        sizes = [args.rows]
    repeats = 3 if args.quick else args.repeats
    rounds = 10 if args.quick else args.rounds
    train_rows = [("| case | rows | built-in ms/round | gbloss ms/round | gbloss / built-in | "
                   "floor ms/round | floor / built-in | gbloss / floor |"),
                  "|---|---|---|---|---|---|---|---|"]
    where_rows = [("| case | rows | built-in round | margins to host (XGBoost) | margins to "
                   "device | gbloss kernel | floor / built-in | (floor + kernel) / built-in |"),
                  "|---|---|---|---|---|---|---|---|"]
    kernel_rows = ["| loss | rows | CPU numpy ms | GPU cupy ms | speed-up |",
                   "|---|---|---|---|---|"]
    for n in sizes:
        t, w = train_times(dev, n, rounds, repeats)
        train_rows += t
        where_rows += w
        kernel_rows += kernel_times(dev, min(n, 1_000_000), repeats)
    sections = {
        "Setup": [
            *dev.describe(),
            (f"- {rounds} rounds, depth 6, eta 0.3, max_bin 256, hist on "
             f"{'the GPU' if dev.cuda else 'the CPU'}, {N_FEATURES} float32 features in a "
             f"QuantileDMatrix; {repeats} interleaved repeats (medians; ratios are medians of "
             f"per-repeat ratios)")],
        "Training": train_rows,
        "Where the time goes (ms per round, medians of 15)": where_rows,
        "Kernels (gradient_hessian per call)": kernel_rows,
    }
    if args.no_write or not dev.cuda:
        for heading, rows in sections.items():
            print(f"## {heading}\n" + "\n".join(rows) + "\n")
        print("\n".join(environment()))
        return
    write_results(results, "gbloss on XGBoost device='cuda'", __doc__, sections, quick=args.quick)
    print(results.read_text())


if __name__ == "__main__":
    main()
