"""Shared helpers for the benchmarks: environment description and results files."""

from __future__ import annotations

import datetime
import os
import platform
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path

import numpy as np

PACKAGES = ("gbloss", "numpy", "scipy", "xgboost", "lightgbm", "scikit-learn", "torch")

#: The committed results, written only when asked (``--update-results``).
TRACKED = Path(__file__).resolve().parent / "results"
#: Where a run writes otherwise (ignored by git), so that trying a benchmark changes no
#: tracked file.
SCRATCH = Path(__file__).resolve().parent / ".scratch"
UPDATE_HELP = "write the tracked benchmarks/results/ instead of benchmarks/.scratch/"


def results_path(name: str, update: bool) -> Path:
    """``benchmarks/results/<name>`` when updating the tracked results, else the scratch copy."""
    return (TRACKED if update else SCRATCH) / name


def environment() -> list[str]:
    """Lines describing the machine and package versions."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            names = [line.split(":", 1)[1].strip() for line in f if line.startswith("model name")]
        cpu = names[0] if names else cpu
    except OSError:
        pass
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count()
    versions = []
    for name in PACKAGES:
        try:
            versions.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            pass
    return [
        f"- date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M UTC}",
        f"- machine: {cpu}, {cores} cores, {platform.system()} {platform.release()}",
        f"- python {platform.python_version()}; " + ", ".join(versions),
    ]


def median_ratio(times: Sequence[float], baseline: Sequence[float]) -> float:
    """Median over interleaved repeats of time / baseline time."""
    return float(np.median(np.asarray(times) / np.asarray(baseline)))


def write_results(path: Path, title: str, doc: str | None, sections: dict[str, list[str]],
                  quick: bool = False, notes: str | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [f"# {title}", ""]
    if quick:
        lines += ["**Quick run (reduced sizes): not the reference figures.**", ""]
    lines += environment() + [""]
    for heading, rows in sections.items():
        lines += [f"## {heading}", "", *rows, ""]
    if doc:
        lines += ["## What is measured", "", doc.strip(), ""]
    if notes:
        lines += [notes.strip(), ""]
    path.write_text("\n".join(lines))
