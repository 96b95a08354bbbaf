"""Segmentation-style pixels: log-loss against Dice and PEL fine-tuning, grouped by image.

Generated grey-level images (32 x 32) with bright elliptical objects, smooth
background noise and an illumination gradient; each pixel is a row with 7
features (intensity, Gaussian blurs at 3 scales, gradient magnitude,
Laplacian of Gaussian, local standard deviation), each image a group
(XGBoost ``qid``, LightGBM ``group``). Two data sets:

* ``blobs``: 1-4 objects of radius 3-8 px (about 15 % foreground);
* ``lesions``: 1-3 small objects of radius 1.5-3 px and more noise (about 2 %
  foreground).

Protocol (the PEL authors' use: fine-tuning a trained model): a log-loss
model (``gbloss.cross_entropy``) trains ``BASE`` rounds; then it continues
for ``TUNE`` rounds with log-loss (the control: same number of trees), with
``gbloss.dice()`` or with ``gbloss.pel()``, per image (groups). Reported:
mean per-image Dice of the thresholded prediction (p > 0.5) on held-out
images, in Dice points (x 100), mean ± std over 3 seeds.

``--hessian-study`` compares the Hessian surrogates of Dice and PEL (the
choice of ``hessian="auto"``) on both data sets.

Run: ``python examples/segmentation_demo.py [--hessian-study]``; results go to
``benchmarks/.scratch/segmentation.md`` (``--update-results``: the committed
``benchmarks/results/segmentation.md``).
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import xgboost as xgb
from scipy import ndimage

import gbloss
from gbloss._core.groups import Segments
from gbloss.losses.overlap import dice_kernel, pel_kernel

SIZE = 32
N_TRAIN, N_TEST = 40, 30
BASE, TUNE = 60, 40
SEEDS = (0, 1, 2)
THREADS = 1  # small data: one thread is faster, and much faster on a busy machine
BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


# --------------------------------------------------------------------------- data
def make_images(n: int, kind: str, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    yy, xx = np.mgrid[0:SIZE, 0:SIZE].astype(np.float64)
    images, masks = [], []
    for _ in range(n):
        mask = np.zeros((SIZE, SIZE), dtype=bool)
        if kind == "blobs":
            count, radii, noise = rng.integers(1, 5), (3.0, 8.0), 0.45
        else:
            count, radii, noise = rng.integers(1, 4), (1.5, 3.0), 0.6
        for _ in range(count):
            cy, cx = rng.uniform(4, SIZE - 4, size=2)
            ry, rx = rng.uniform(*radii, size=2)
            angle = rng.uniform(0, np.pi)
            c, s = np.cos(angle), np.sin(angle)
            u, v = (xx - cx) * c + (yy - cy) * s, -(xx - cx) * s + (yy - cy) * c
            mask |= (u / rx) ** 2 + (v / ry) ** 2 <= 1
        contrast = rng.uniform(0.6, 1.2)
        background = ndimage.gaussian_filter(rng.normal(size=(SIZE, SIZE)), 2.0) * 3 * noise
        light = rng.uniform(-0.5, 0.5) * (xx / SIZE) + rng.uniform(-0.5, 0.5) * (yy / SIZE)
        image = contrast * mask + background + light + rng.normal(scale=noise, size=(SIZE, SIZE))
        images.append(image)
        masks.append(mask)
    return np.stack(images), np.stack(masks)


def features(images: np.ndarray) -> np.ndarray:
    rows = []
    for im in images:
        g1, g2, g4 = (ndimage.gaussian_filter(im, s) for s in (1.0, 2.0, 4.0))
        grad = np.hypot(ndimage.sobel(g1, 0), ndimage.sobel(g1, 1))
        log = ndimage.gaussian_laplace(im, 2.0)
        local_sd = np.sqrt(np.maximum(ndimage.uniform_filter(im**2, 5)
                                      - ndimage.uniform_filter(im, 5) ** 2, 0))
        rows.append(np.stack([im, g1, g2, g4, grad, log, local_sd], axis=-1).reshape(-1, 7))
    return np.concatenate(rows)


def dataset(kind: str, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    im_tr, m_tr = make_images(N_TRAIN, kind, rng)
    im_te, m_te = make_images(N_TEST, kind, rng)
    return {"X": features(im_tr), "y": m_tr.reshape(-1).astype(np.float64),
            "Xt": features(im_te), "yt": m_te.reshape(-1).astype(np.float64),
            "group": np.full(N_TRAIN, SIZE * SIZE), "group_t": np.full(N_TEST, SIZE * SIZE)}


def dice_points(y: np.ndarray, proba: np.ndarray, n_images: int) -> float:
    """Mean per-image Dice of the prediction thresholded at 0.5, x 100."""
    pred = proba.reshape(n_images, -1) > 0.5
    true = y.reshape(n_images, -1) > 0.5
    inter = np.sum(pred & true, axis=1)
    total = pred.sum(axis=1) + true.sum(axis=1)
    return 100 * float(np.mean(np.where(total > 0, 2 * inter / np.maximum(total, 1), 1.0)))


# ------------------------------------------------------------------------ training
def train_xgboost(data: dict, tune: gbloss.Loss | None) -> tuple[np.ndarray, np.ndarray]:
    """Probabilities on the training and the test images after base + fine-tuning."""
    params = {"max_depth": 4, "eta": 0.1, "nthread": THREADS, "tree_method": "hist"}
    qid = np.repeat(np.arange(N_TRAIN), SIZE * SIZE)
    dtrain = xgb.DMatrix(data["X"], label=data["y"], qid=qid)
    dtest = xgb.DMatrix(data["Xt"])
    base = gbloss.xgboost.train(params, dtrain, gbloss.cross_entropy(), BASE)
    if tune is None:
        tune = gbloss.cross_entropy()
    full = gbloss.xgboost.booster_params(params, gbloss.cross_entropy(), data["y"])
    booster = xgb.train(full, dtrain, TUNE, obj=tune, xgb_model=base)
    return booster.predict(xgb.DMatrix(data["X"])), booster.predict(dtest)


def train_lightgbm(data: dict, tune: gbloss.Loss | None) -> tuple[np.ndarray, np.ndarray]:
    params = {"num_leaves": 15, "learning_rate": 0.1, "verbose": -1, "num_threads": THREADS}
    base = gbloss.lightgbm.train(params, lgb.Dataset(data["X"], label=data["y"],
                                                    group=data["group"]), gbloss.cross_entropy(),
                                 BASE)
    train_set = lgb.Dataset(data["X"], label=data["y"], group=data["group"])
    tuned = lgb.train({**params, "objective": tune or gbloss.cross_entropy(), "metric": "None"},
                      train_set, TUNE, init_model=base)
    return tuple(1 / (1 + np.exp(-tuned.predict(x, raw_score=True)))
                 for x in (data["X"], data["Xt"]))


TRAINERS = {"xgboost": train_xgboost, "lightgbm": train_lightgbm}
KINDS = ("blobs", "lesions")


def baseline_only(data: dict, booster: str) -> np.ndarray:
    if booster == "xgboost":
        params = {"max_depth": 4, "eta": 0.1, "nthread": THREADS, "tree_method": "hist"}
        bst = gbloss.xgboost.train(params, xgb.DMatrix(data["X"], label=data["y"]),
                                   gbloss.cross_entropy(), BASE)
        return bst.predict(xgb.DMatrix(data["Xt"]))
    params = {"num_leaves": 15, "learning_rate": 0.1, "verbose": -1, "num_threads": THREADS}
    bst = gbloss.lightgbm.train(params, lgb.Dataset(data["X"], label=data["y"]),
                                gbloss.cross_entropy(), BASE)
    return bst.predict(data["Xt"])


def best_threshold(y: np.ndarray, proba: np.ndarray, n_images: int) -> float:
    """The threshold with the best mean per-image Dice on the training images."""
    grid = np.linspace(0.05, 0.95, 19)
    return float(grid[np.argmax([dice_points(y, (proba > t) * 1.0, n_images) for t in grid])])


def compare(seeds: tuple = SEEDS) -> dict:
    results = {}
    for kind in KINDS:
        sets = [dataset(kind, s) for s in seeds]
        for booster, trainer in TRAINERS.items():
            rows = {f"log-loss, {BASE} rounds": [dice_points(d["yt"], baseline_only(d, booster),
                                                             N_TEST) for d in sets]}
            control, tuned_threshold = [], []
            for d in sets:
                p_train, p_test = trainer(d, None)
                control.append(dice_points(d["yt"], p_test, N_TEST))
                t = best_threshold(d["y"], p_train, N_TRAIN)
                tuned_threshold.append(dice_points(d["yt"], (p_test > t) * 1.0, N_TEST))
            rows[f"log-loss, {BASE} + {TUNE} rounds"] = control
            rows[f"log-loss, {BASE} + {TUNE} rounds, threshold tuned on train"] = tuned_threshold
            for name, loss in ((f"log-loss {BASE} + Dice {TUNE} rounds", gbloss.dice()),
                               (f"log-loss {BASE} + PEL {TUNE} rounds", gbloss.pel())):
                rows[name] = [dice_points(d["yt"], trainer(d, loss)[1], N_TEST) for d in sets]
            for name, vals in rows.items():
                print(f"{kind:8s} {booster:8s} {name:34s} {np.mean(vals):6.2f} ± {np.std(vals):.2f}",
                      flush=True)
            results[(kind, booster)] = rows
    return results


# --------------------------------------------------------------------- Hessian study
VARIANTS = {  # name: (hessian option, surrogate)
    "exact where >= floor, else abs(grad)": ("auto", "abs_grad"),
    "abs(grad) on every row": ("surrogate", "abs_grad"),
    "exact where >= floor, else m w p(1-p)": ("auto", "logistic"),
    "m w p(1-p) on every row": ("surrogate", "logistic"),
    "exact (negative on some rows)": ("exact", "abs_grad"),
}
SCRATCH = 60


def _study_objective(kernel: Any, params: dict, option: str, surrogate: str) -> Any:
    """An XGBoost objective running the loss's pure kernel (``gbloss.losses.overlap``) with
    one Hessian variant: ``option`` "auto", "exact" or "surrogate" (the surrogate on every
    row, a kernel option kept for this study), and the surrogate to use."""
    def objective(predt: np.ndarray, dtrain: xgb.DMatrix) -> tuple:
        ptr = np.asarray(dtrain.get_uint_info("group_ptr")).astype(np.int64)
        seg = Segments(ptr if ptr.size >= 2 else None, predt, np)
        return kernel(dtrain.get_label(), None, predt.astype(np.float64), np, seg=seg,
                      mode="grad_hess", hessian=option, surrogate=surrogate, **params)
    return objective


def _train_objective(data: dict, loss: gbloss.Loss, objective: Any, base_rounds: int,
                     rounds: int) -> tuple:
    """(training loss per image after training, test Dice points): XGBoost, log-loss base."""
    params = {"max_depth": 4, "eta": 0.1, "nthread": THREADS, "tree_method": "hist"}
    qid = np.repeat(np.arange(N_TRAIN), SIZE * SIZE)
    dtrain = xgb.DMatrix(data["X"], label=data["y"], qid=qid)
    full = gbloss.xgboost.booster_params(params, gbloss.cross_entropy(), data["y"])
    base = xgb.train(full, dtrain, base_rounds, obj=gbloss.cross_entropy()) if base_rounds else None
    booster = xgb.train(full, dtrain, rounds, obj=objective, xgb_model=base)
    raw = booster.predict(xgb.DMatrix(data["X"]), output_margin=True)
    value = loss.loss(data["y"], raw, group=data["group"])
    return value, dice_points(data["yt"], booster.predict(xgb.DMatrix(data["Xt"])), N_TEST)


def hessian_study(seeds: tuple = SEEDS) -> dict:
    """Training loss reached and test Dice for each surrogate: fine-tuning and from scratch."""
    results = {}
    for kind in KINDS:
        sets = [dataset(kind, s) for s in seeds]
        for lname, loss, kernel, params in (
                ("Dice", gbloss.dice(), dice_kernel, {"smooth": 1.0}),
                ("PEL", gbloss.pel(), pel_kernel, {"alpha": 20.0, "power": 3.0})):
            for vname, (option, surrogate) in VARIANTS.items():
                objective = _study_objective(kernel, params, option, surrogate)
                for regime, base_rounds, rounds in (("tune", BASE, TUNE),
                                                    ("scratch", 0, SCRATCH)):
                    runs = [_train_objective(d, loss, objective, base_rounds, rounds)
                            for d in sets]
                    results[(kind, lname, vname, regime)] = runs
                    print(f"{kind:8s} {lname:5s} {regime:8s} {vname:40s} train loss "
                          f"{np.mean([r[0] for r in runs]):8.4f}  test Dice "
                          f"{np.mean([r[1] for r in runs]):6.2f}", flush=True)
    return results


def negative_share(seeds: tuple = (0,)) -> dict:
    """Share of rows whose exact Hessian diagonal is negative: at the init score and at
    the log-loss model."""
    out = {}
    for kind in KINDS:
        d = dataset(kind, seeds[0])
        params = {"max_depth": 4, "eta": 0.1, "nthread": THREADS, "tree_method": "hist"}
        bst = gbloss.xgboost.train(params, xgb.DMatrix(d["X"], label=d["y"]),
                                   gbloss.cross_entropy(), BASE)
        raws = {"init score": np.full(d["y"].size, gbloss.dice().init_score(d["y"])),
                f"{BASE}-round log-loss model": bst.predict(xgb.DMatrix(d["X"]),
                                                            output_margin=True)}
        for where, raw in raws.items():
            for lname, loss in (("Dice", gbloss.dice(hessian="exact")),
                                ("PEL", gbloss.pel(hessian="exact"))):
                _, h = loss.gradient_hessian(d["y"], raw, group=d["group"])
                out[(kind, lname, where)] = float(np.mean(h < 0))
    return out


# -------------------------------------------------------------------------- report
def header() -> str:
    return (f"Machine: {platform.machine()}, {os.cpu_count()} CPUs ({platform.platform()}); "
            f"Python {platform.python_version()}, numpy {np.__version__}, xgboost {xgb.__version__}, "
            f"lightgbm {lgb.__version__}, gbloss {gbloss.__version__}. "
            f"Date: {datetime.date.today().isoformat()}.")


def report(results: dict, study: dict | None, negatives: dict | None, elapsed: float) -> str:
    lines = ["# Segmentation-style pixels: log-loss against Dice and PEL fine-tuning", "",
             "Generated by `python examples/segmentation_demo.py"
             + (" --hessian-study" if study else "") + "`. " + header(), "",
             f"{N_TRAIN} training and {N_TEST} test images of {SIZE} x {SIZE} pixels per seed, "
             "7 features per pixel, one group per image. XGBoost max_depth 4, LightGBM "
             f"num_leaves 15, learning rate 0.1. Fine-tuning continues the {BASE}-round log-loss "
             f"model for {TUNE} rounds; Dice and PEL use their defaults (smooth 1; alpha 20, "
             "power 3) and hessian=\"auto\", per image. Figures: mean per-image Dice of p > 0.5 on "
             f"the test images, x 100, mean ± std over {len(SEEDS)} seeds. Run time "
             f"{elapsed:.0f} s.", ""]
    for kind in KINDS:
        for booster in TRAINERS:
            rows = results[(kind, booster)]
            lines += [f"## {kind}, {booster}", "", "| model | test Dice (points) |", "|---|---|"]
            for name, vals in rows.items():
                lines.append(f"| {name} | {np.mean(vals):.2f} ± {np.std(vals):.2f} |")
            lines.append("")
    lines += ["## Paired differences", "",
              "Test Dice points minus those of the control on the same images (mean ± std of "
              "the per-seed differences). Control: log-loss for the same number of rounds.", "",
              "| data, booster | Dice - control | PEL - control | Dice - control with tuned "
              "threshold | PEL - control with tuned threshold |", "|---|---|---|---|---|"]
    for kind in KINDS:
        for booster in TRAINERS:
            rows = results[(kind, booster)]
            control = np.array(rows[f"log-loss, {BASE} + {TUNE} rounds"])
            tuned = np.array(rows[f"log-loss, {BASE} + {TUNE} rounds, threshold tuned on train"])
            cells = []
            for ref in (control, tuned):
                for lname in ("Dice", "PEL"):
                    diff = np.array(rows[f"log-loss {BASE} + {lname} {TUNE} rounds"]) - ref
                    cells.append(f"{np.mean(diff):+.2f} ± {np.std(diff):.2f}")
            cells = [cells[0], cells[1], cells[2], cells[3]]
            lines.append(f"| {kind}, {booster} | " + " | ".join(cells) + " |")
    lines.append("")
    if negatives:
        lines += ["## Hessian surrogate (choice of `hessian=\"auto\"`)", "",
                  "Share of training rows whose exact Hessian diagonal is negative (seed 0): "
                  + "; ".join(f"{k[1]} on {k[0]} at the {k[2]}: {v:.0%}"
                              for k, v in negatives.items()) + ".", ""]
    if study:
        lines += ["Candidates, where `m` is the group's mean of |dL/dp| per unit weight. "
                  "XGBoost, per image; `tune`: the log-loss model above plus "
                  f"{TUNE} rounds; `scratch`: {SCRATCH} rounds from the init score. Cells: "
                  "training loss reached (lower is better; the loss the surrogate is meant to "
                  "minimise) / test Dice points, mean over seeds.", "",
                  "| variant | " + " | ".join(f"{lname} {kind} {regime}" for kind in KINDS
                                              for lname in ("Dice", "PEL")
                                              for regime in ("tune", "scratch")) + " |",
                  "|---|" + "---|" * 8]
        for vname in VARIANTS:
            cells = []
            for kind in KINDS:
                for lname in ("Dice", "PEL"):
                    for regime in ("tune", "scratch"):
                        runs = study[(kind, lname, vname, regime)]
                        cells.append(f"{np.mean([r[0] for r in runs]):.4f} / "
                                     f"{np.mean([r[1] for r in runs]):.1f}")
            lines.append(f"| {vname} | " + " | ".join(cells) + " |")
        chosen = {name: next(v for v, (opt, sur) in VARIANTS.items()
                             if opt == "auto" and sur == cls._surrogate)
                  for name, cls in (("Dice", gbloss.DiceLoss), ("PEL", gbloss.PELoss))}
        lines += ["", "`hessian=\"auto\"` uses, for Dice: " + chosen["Dice"] + "; for PEL: "
                  + chosen["PEL"] + " (the lowest training loss of the positive candidates in "
                  "most columns; the exact diagonal alone diverges from the init score)."]
        lines.append("")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hessian-study", action="store_true",
                        help="also compare the Hessian surrogates (XGBoost)")
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument("--update-results", action="store_true",
                        help="write the tracked benchmarks/results/ instead of benchmarks/.scratch/")
    args = parser.parse_args()
    start = time.perf_counter()
    results = compare()
    study = negatives = None
    if args.hessian_study:
        negatives = negative_share()
        study = hessian_study()
    text = report(results, study, negatives, time.perf_counter() - start)
    if args.no_write:
        print(text)
    else:
        results = BENCHMARKS / ("results" if args.update_results else ".scratch") / "segmentation.md"
        results.parent.mkdir(parents=True, exist_ok=True)
        results.write_text(text)
        print(f"wrote {results}", file=sys.stderr)


if __name__ == "__main__":
    main()
