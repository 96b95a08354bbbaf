"""gbloss installed where nothing can be written (a container's read-only root file system, a
serverless function): numba finds no cache directory, and gbloss compiles without one.

The package is copied under a directory that a private mount namespace makes read-only
(``unshare --user --map-root-user --mount``, no privileges needed), with ``HOME`` and
``XDG_CACHE_HOME`` inside it, and a large input (the fused numba kernels) is evaluated.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import gbloss

pytest.importorskip("numba")

SCRIPT = """
import os, sys
import numpy as np
import gbloss
assert gbloss.__file__.startswith(sys.argv[1]), gbloss.__file__
assert not os.access(os.path.dirname(gbloss.__file__), os.W_OK)
rng = np.random.default_rng(0)
n = 1 << 17  # above gbloss.kernels.fused.MIN_ELEMENTS: the numba kernels serve it
y = (rng.random(n) < 0.1).astype(np.float64)
z = rng.normal(size=n)
g, h = gbloss.focal(gamma=2.0).gradient_hessian(y, z)
np.save(sys.argv[2], np.stack([g, h]))
"""


def _can_mount_read_only(tmp: Path) -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(
        ["unshare", "--user", "--map-root-user", "--mount", "sh", "-c",
         f"mount --bind {tmp} {tmp} && mount -o remount,bind,ro {tmp} && ! touch {tmp}/x"],
        capture_output=True, check=False)
    return probe.returncode == 0


def test_read_only_install_computes_with_numba(tmp_path):
    root = tmp_path / "ro"
    root.mkdir()
    if not _can_mount_read_only(root):
        pytest.skip("no unprivileged mount namespace to make a read-only file system")
    shutil.copytree(Path(gbloss.__file__).parent, root / "gbloss",
                    ignore=shutil.ignore_patterns("__pycache__", "*.nbi", "*.nbc"))
    (root / "home").mkdir()
    out = tmp_path / "out.npy"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NUMBA_", "GBLOSS_"))}
    env.update(HOME=str(root / "home"), XDG_CACHE_HOME=str(root / "home" / ".cache"),
               PYTHONPATH=str(root), PYTHONDONTWRITEBYTECODE="1")
    mount = f"mount --bind {root} {root} && mount -o remount,bind,ro {root}"
    run = subprocess.run(
        ["unshare", "--user", "--map-root-user", "--mount", "sh", "-c",
         f'{mount} && cd {root} && exec "$0" -c "$1" "$2" "$3"', sys.executable, SCRIPT,
         str(root), str(out)],
        capture_output=True, text=True, env=env, check=False, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    grad, hess = np.load(out)
    rng = np.random.default_rng(0)
    n = 1 << 17
    y = (rng.random(n) < 0.1).astype(np.float64)
    z = rng.normal(size=n)
    expected = gbloss.focal(gamma=2.0).gradient_hessian(y, z)
    np.testing.assert_allclose(grad, expected[0], rtol=1e-12, atol=0)
    np.testing.assert_allclose(hess, expected[1], rtol=1e-12, atol=0)
