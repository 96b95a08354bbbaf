"""Run every gbloss benchmark and collect their results into benchmarks/RESULTS.md.

Each benchmark script writes its own results file under ``benchmarks/results/``
(its tables, ratios against the built-in objectives or the peers measured in
the same run, the machine, the package versions and the date). This script
runs them one after the other and then gathers every results file into one
report, ``benchmarks/RESULTS.md``.

A run changes no tracked file unless asked: the scripts write to the ignored
``benchmarks/.scratch/`` (and the report to ``benchmarks/.scratch/RESULTS.md``);
``--update-results`` writes the committed ``benchmarks/results/`` and
``benchmarks/RESULTS.md``.

Usage::

    python benchmarks/run_all.py                 # run everything (tens of minutes on 2 cores)
    python benchmarks/run_all.py --quick         # smoke run: reduced sizes, studies skipped
    python benchmarks/run_all.py --only torch hessian
    python benchmarks/run_all.py --collect-only  # just rebuild RESULTS.md from the results files
    python benchmarks/run_all.py --update-results  # the committed results

``bench_gpu.py`` runs only where a CUDA device is visible (through cupy or
torch). The benchmarks time things: run them on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS_DIR = HERE / "results"
SCRATCH_DIR = HERE / ".scratch"
REPORT = HERE / "RESULTS.md"


@dataclass(frozen=True)
class Benchmark:
    name: str
    script: str  # relative to the repository root
    results: str  # file name under benchmarks/results/
    args: tuple[str, ...] = ()
    quick_args: tuple[str, ...] | None = None  # None: skipped by --quick
    needs_cuda: bool = False
    about: str = ""


BENCHMARKS = (
    Benchmark("objectives", "benchmarks/bench_objectives.py", "objectives.md",
              quick_args=("--quick",),
              about="classification objectives against plain numpy and the built-in objectives"),
    Benchmark("balanced_mse", "benchmarks/bench_balanced_mse.py", "balanced_mse.md",
              quick_args=("--quick",),
              about="Balanced MSE: fast vs exact BMC, and the regression demo"),
    Benchmark("focal_regression", "benchmarks/bench_focal_regression.py", "focal_regression.md",
              quick_args=("--quick",),
              about="Focal-R and LDS weights on the imbalanced-regression demo"),
    Benchmark("torch", "benchmarks/bench_torch.py", "torch.md", args=("--compile",),
              quick_args=("--quick",),
              about="gbloss.torch against the peers' formulations (speed, memory)"),
    Benchmark("hessian", "benchmarks/hessian_study.py", "hessian.md",
              about="focal loss: Hessian surrogates for hessian='auto'"),
    Benchmark("longtail", "examples/longtail_demo.py", "longtail.md", args=("--sweep",),
              about="long-tailed multiclass: cross-entropy, focal, LDAM, LMF, DRW"),
    Benchmark("catboost", "benchmarks/bench_catboost.py", "catboost.md", quick_args=("--quick",),
              about="gbloss objectives in CatBoost against its built-in Logloss, Focal, MultiClass"),
    Benchmark("real_data", "benchmarks/bench_real_data.py", "real_data.md",
              args=("--update-results",), quick_args=("--quick",),
              about="the losses on ten real imbalanced data sets, cross-validated"),
    Benchmark("segmentation", "examples/segmentation_demo.py", "segmentation.md",
              args=("--hessian-study",), about="per-pixel data: Dice and PEL fine-tuning"),
    Benchmark("gpu", "benchmarks/bench_gpu.py", "gpu.md", quick_args=("--quick",),
              needs_cuda=True, about="the objectives on a CUDA GPU (cupy)"),
)


# ------------------------------------------------------------------------- running
def cuda_available() -> bool:
    try:
        import cupy

        if cupy.cuda.runtime.getDeviceCount() > 0:
            return True
    except Exception:  # noqa: BLE001 - no cupy, no driver, no device
        pass
    try:
        import torch

        return bool(torch.cuda.is_available())
    except Exception:  # noqa: BLE001
        return False


def run(benchmarks: list[Benchmark], quick: bool, update: bool = False) -> dict[str, str]:
    """Run the benchmarks; returns {name: outcome}."""
    outcome = {}
    cuda = None
    for b in benchmarks:
        script = ROOT / b.script
        if not script.exists():
            outcome[b.name] = f"skipped: {b.script} does not exist"
        elif b.needs_cuda and not (cuda if cuda is not None else (cuda := cuda_available())):
            outcome[b.name] = "skipped: no CUDA device"
        elif quick and b.quick_args is None:
            outcome[b.name] = "skipped by --quick (no quick mode)"
        else:
            args = (*(b.quick_args if quick else b.args), *(("--update-results",) if update else ()))
            cmd = [sys.executable, str(script), *args]
            print(f"== {b.name}: {' '.join(cmd[1:])}", flush=True)
            start = time.perf_counter()
            proc = subprocess.run(cmd, cwd=script.parent, check=False)
            secs = time.perf_counter() - start
            outcome[b.name] = (f"ran in {secs:.0f} s" if proc.returncode == 0
                               else f"FAILED (exit {proc.returncode}) after {secs:.0f} s")
        print(f"   {b.name}: {outcome[b.name]}", flush=True)
    return outcome


# ----------------------------------------------------------------------- collecting
_DATE = re.compile(r"\b[Dd]ate:\s*(\d{4}-\d{2}-\d{2}(?: \d{2}:\d{2} UTC)?)")
_MACHINE = re.compile(r"\b[Mm]achine:\s*(.+?)(?:;|\n|$)")
_VERSIONS = re.compile(r"^- (python .*)$", re.MULTILINE)
_QUICK = "**Quick run"


def parse(text: str) -> dict:
    """Title, date, machine, versions and the sections ``[(heading, body)]`` of a results file."""
    lines = text.splitlines()
    title = next((ln[2:].strip() for ln in lines if ln.startswith("# ")), "(untitled)")
    date = _DATE.search(text)
    machine = _MACHINE.search(text)
    versions = _VERSIONS.search(text)
    preamble, sections, heading, body = [], [], None, []
    for ln in lines:
        if ln.startswith("# "):
            continue
        if ln.startswith("## "):
            if heading is not None:
                sections.append((heading, "\n".join(body).strip()))
            heading, body = ln[3:].strip(), []
        elif heading is None:
            preamble.append(ln)
        else:
            body.append(ln)
    if heading is not None:
        sections.append((heading, "\n".join(body).strip()))
    return {"title": title, "date": date.group(1) if date else "?",
            "machine": machine.group(1).strip().rstrip(".") if machine else "?",
            "versions": versions.group(1) if versions else None,
            "quick": _QUICK in text, "preamble": "\n".join(preamble).strip(),
            "sections": sections}


def _demote(text: str) -> str:
    """Headings inside a section body move down two levels (## -> ####)."""
    return re.sub(r"^(#{1,4}) ", lambda m: "#" * min(len(m.group(1)) + 2, 6) + " ", text,
                  flags=re.MULTILINE)


def collect(results_dir: Path = RESULTS_DIR, benchmarks: tuple[Benchmark, ...] = BENCHMARKS
            ) -> str:
    """The text of RESULTS.md built from the results files in ``results_dir``."""
    known = {b.results: b for b in benchmarks}
    files = sorted(results_dir.glob("*.md"), key=lambda p: (
        [b.results for b in benchmarks].index(p.name) if p.name in known else len(known), p.name))
    parsed = {p.name: parse(p.read_text()) for p in files}
    rel = results_dir.relative_to(HERE) if results_dir.is_relative_to(HERE) else results_dir
    out = [
        "# gbloss benchmark results",
        "",
        ("Collected by `python benchmarks/run_all.py` (`--collect-only` rebuilds this file from "
        f"the results files without running anything). Each section is one file of "
        f"`benchmarks/{rel}/`, written by the script named in its row below, with the machine, "
        "package versions and date of *its* run: sections may come from different runs. Speed "
        "figures are ratios against a baseline measured in the same run (the built-in "
        "objectives, plain numpy, or the peers' implementations), medians of interleaved "
        "repeats; the model-quality tables compare objectives under the same booster "
        "settings. Each file's own \"What is measured\" section describes the method."),
        "",
        "| results | what | produced by | date | machine |",
        "|---|---|---|---|---|",
    ]
    for name, info in parsed.items():
        b = known.get(name)
        cmd = f"`python {b.script}{''.join(' ' + a for a in b.args)}`" if b else "?"
        what = b.about if b else info["title"]
        flag = " (quick run)" if info["quick"] else ""
        out.append(f"| [{name}]({rel}/{name}) | {what} | {cmd} | {info['date']}{flag} | "
                   f"{info['machine']} |")
    missing = [b for b in benchmarks if b.results not in parsed]
    if missing:
        out += ["", "Not run yet (no results file):", ""]
        for b in missing:
            note = " (needs a CUDA device)" if b.needs_cuda else ""
            out.append(f"- `{b.results}`: `python {b.script}"
                       f"{''.join(' ' + a for a in b.args)}`{note}")
    for name, info in parsed.items():
        out += ["", f"## {info['title']}", "",
                f"From [`{rel}/{name}`]({rel}/{name}).", ""]
        if info["preamble"]:
            out += [_demote(info["preamble"]), ""]
        for heading, body in info["sections"]:
            if heading.lower() == "what is measured":
                continue
            out += [f"### {heading}", "", _demote(body), ""]
    return "\n".join(out).rstrip() + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--collect-only", action="store_true",
                        help="only rebuild RESULTS.md from the existing results files")
    parser.add_argument("--quick", action="store_true",
                        help="reduced sizes where a script has a quick mode; skip the others")
    parser.add_argument("--only", nargs="+", metavar="NAME",
                        choices=[b.name for b in BENCHMARKS], help="run only these benchmarks")
    parser.add_argument("--update-results", action="store_true",
                        help="write the tracked benchmarks/results/ and RESULTS.md instead of "
                             "benchmarks/.scratch/")
    parser.add_argument("--output", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    failed = False
    if not args.collect_only:
        chosen = [b for b in BENCHMARKS if not args.only or b.name in args.only]
        outcome = run(chosen, args.quick, args.update_results)
        failed = any(v.startswith("FAILED") for v in outcome.values())
    results_dir = RESULTS_DIR if args.update_results or args.collect_only else SCRATCH_DIR
    output = args.output or (REPORT if args.update_results else SCRATCH_DIR / "RESULTS.md")
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(collect(results_dir))
    print(f"wrote {output}")
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    main()
