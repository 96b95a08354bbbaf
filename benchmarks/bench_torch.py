"""Speed and peak memory of gbloss.torch against the peers' formulations (CPU).

Forward plus backward of each loss on the same float32 inputs:

* sigmoid focal (binary, and dense multi-label as in detection) against
  ``torchvision.ops.sigmoid_focal_loss``'s formula (torchvision is not
  installed here; the function is re-implemented line by line);
* softmax focal against kornia's ``focal_loss`` formula (log_softmax, one-hot,
  ``(1 - p) ** gamma``) and against the common ``(1 - exp(-ce)) ** gamma * ce``
  on top of ``F.cross_entropy``;
* class-weighted cross-entropy (with ``ignore_index`` on a segmentation-shaped
  input) against ``torch.nn.functional.cross_entropy`` (which gbloss dispatches
  to: the ratio measures the wrapper's overhead, so about 1);
* Balanced MSE with Batch-based Monte-Carlo and a learnable sigma, batch 4096,
  against the authors' ``BMCLoss`` (``[B, B]`` logits and ``F.cross_entropy``;
  7 repeats: a step of it takes about a second).

Time: median over interleaved repeats (the order of the implementations
alternating between repeats) of the per-repeat ratio gbloss / peer (< 1 means
gbloss is faster). Memory: peak resident memory of one forward +
backward above the resident memory before it, measured in a fresh subprocess
per (case, implementation) with glibc forced to return large blocks
(``MALLOC_MMAP_THRESHOLD_``), so that the peak is the tensors' own.
``--compile`` adds the same comparison with both sides under ``torch.compile``
(inductor, CPU).

Run ``python benchmarks/bench_torch.py`` (``--quick`` for a smoke run);
results go to ``benchmarks/results/torch.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from _common import UPDATE_HELP, median_ratio, results_path, write_results

import gbloss.torch as gt



# ------------------------------------------------------------------------ peers
def torchvision_sigmoid_focal(inputs, targets, alpha=0.25, gamma=2.0, reduction="mean"):
    """torchvision.ops.sigmoid_focal_loss (0.29), re-implemented."""
    p = torch.sigmoid(inputs)
    ce_loss = F.binary_cross_entropy_with_logits(inputs, targets, reduction="none")
    p_t = p * targets + (1 - p) * (1 - targets)
    loss = ce_loss * ((1 - p_t) ** gamma)
    if alpha >= 0:
        alpha_t = alpha * targets + (1 - alpha) * (1 - targets)
        loss = alpha_t * loss
    return loss.mean() if reduction == "mean" else loss.sum()


def kornia_focal(pred, target, gamma=2.0):
    """kornia.losses.focal_loss (softmax; alpha left out), reduction="mean" over elements."""
    log_p = F.log_softmax(pred, dim=1)
    one_hot = F.one_hot(target, pred.shape[1]).movedim(-1, 1).to(pred.dtype)
    focal = -torch.pow(1.0 - log_p.exp(), gamma) * log_p
    return torch.einsum("bc...,bc...->b...", one_hot, focal).mean()


def ce_based_focal(pred, target, gamma=2.0):
    """The common ``(1 - exp(-ce))**gamma * ce`` (as LDAM-DRW's FocalLoss)."""
    ce = F.cross_entropy(pred, target, reduction="none")
    return ((1 - torch.exp(-ce)) ** gamma * ce).mean()


class AuthorsBMCLoss(torch.nn.Module):
    """jiawei-ren/BalancedMSE ``BMCLoss`` (imdb-wiki-dir/balanaced_mse.py), with the
    ``arange`` on the input's device instead of ``.cuda()``."""

    def __init__(self, init_noise_sigma):
        super().__init__()
        self.noise_sigma = torch.nn.Parameter(torch.tensor(init_noise_sigma))

    def forward(self, pred, target):
        noise_var = self.noise_sigma ** 2
        logits = - (pred - target.T).pow(2) / (2 * noise_var)
        loss = F.cross_entropy(logits, torch.arange(pred.shape[0], device=pred.device))
        return loss * (2 * noise_var).detach()


# ------------------------------------------------------------------------ cases
def make_cases(quick: bool) -> dict[str, dict]:
    g = torch.Generator().manual_seed(0)
    s = 4 if quick else 1
    n = (1 << 20) // s
    cases = {}
    x = torch.randn(n, generator=g) * 3
    y = (torch.rand(n, generator=g) < 0.1).float()
    cases[f"sigmoid focal, binary ({n},)"] = {
        "inputs": (x, y),
        "impls": {"gbloss": gt.SigmoidFocalLoss(gamma=2.0, alpha=0.25),
                  "torchvision formula": torchvision_sigmoid_focal}}
    x = torch.randn(8192 // s, 80, generator=g) * 3
    y = (torch.rand(8192 // s, 80, generator=g) < 0.02).float()
    cases[f"sigmoid focal, multi-label {tuple(x.shape)}"] = {
        "inputs": (x, y),
        "impls": {"gbloss": gt.SigmoidFocalLoss(gamma=2.0, alpha=0.25),
                  "torchvision formula": torchvision_sigmoid_focal}}
    x = torch.randn(65536 // s, 16, generator=g) * 3
    t = torch.randint(0, 16, (65536 // s,), generator=g)
    cases[f"softmax focal {tuple(x.shape)}"] = {
        "inputs": (x, t),
        "impls": {"gbloss": gt.SoftmaxFocalLoss(gamma=2.0),
                  "kornia formula": kornia_focal,
                  "(1 - exp(-ce))^g ce": ce_based_focal}}
    w = torch.rand(16, generator=g) + 0.5
    cases[f"weighted cross-entropy {tuple(x.shape)}"] = {
        "inputs": (x, t),
        "impls": {"gbloss": gt.CrossEntropyLoss(w),
                  "F.cross_entropy": torch.nn.CrossEntropyLoss(w)}}
    x = torch.randn(8 // s, 21, 128, 128, generator=g) * 3
    t = torch.randint(0, 21, (8 // s, 128, 128), generator=g)
    t[:, :8] = 255
    w = torch.rand(21, generator=g) + 0.5
    cases[f"weighted cross-entropy, ignore_index {tuple(x.shape)}"] = {
        "inputs": (x, t),
        "impls": {"gbloss": gt.CrossEntropyLoss(w, ignore_index=255),
                  "F.cross_entropy": torch.nn.CrossEntropyLoss(w, ignore_index=255)}}
    b = 4096 // s
    y = torch.randn(b, 1, generator=g).exp()  # skewed labels
    x = y + torch.randn(b, 1, generator=g)
    cases[f"Balanced MSE, BMC, learnable sigma ({b}, 1)"] = {
        "inputs": (x, y), "repeats": 7,
        "impls": {"gbloss": gt.BMCLoss(1.0), "authors' BMCLoss": AuthorsBMCLoss(1.0)}}
    return cases


def step(fn, x, target):
    xx = x.detach().requires_grad_(True)
    fn(xx, target).backward()
    return xx.grad


def time_case(impls: dict, inputs: tuple, repeats: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {name: [] for name in impls}
    for fn in impls.values():  # warm-up
        step(fn, *inputs)
        step(fn, *inputs)
    for r in range(repeats):  # interleaved, the order alternating between repeats
        for name, fn in (list(impls.items()) if r % 2 == 0 else list(impls.items())[::-1]):
            t0 = time.perf_counter()
            step(fn, *inputs)
            times[name].append(time.perf_counter() - t0)
    return times


# ------------------------------------------------------------------------ memory
def _peak_child(case: str, impl: str, quick: bool) -> None:
    """Child process: print the peak RSS increase (bytes) of one forward + backward."""
    def rss(key: str) -> int:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(key):
                    return int(line.split()[1]) * 1024
        raise RuntimeError(key)

    spec = make_cases(quick)[case]
    fn, inputs = spec["impls"][impl], spec["inputs"]
    step(fn, *inputs)  # warm-up: lazy initialisation is not the loss's memory
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # reset the peak (VmHWM) to the current RSS
    base = rss("VmRSS")
    grad = step(fn, *inputs)
    print(json.dumps(rss("VmHWM") - base))
    del grad


def peak_memory(case: str, impl: str, quick: bool, threads: int) -> float:
    env = dict(os.environ, MALLOC_MMAP_THRESHOLD_="65536", MALLOC_TRIM_THRESHOLD_="0")
    out = subprocess.run(
        [sys.executable, __file__, "--peak-child", case, impl, "--threads", str(threads)]
        + (["--quick"] if quick else []),
        capture_output=True, text=True, check=True, env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])


# ------------------------------------------------------------------------ main
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--compile", action="store_true", help="also time torch.compile'd losses")
    parser.add_argument("--peak-child", nargs=2, metavar=("CASE", "IMPL"), help=argparse.SUPPRESS)
    parser.add_argument("--update-results", action="store_true", help=UPDATE_HELP)
    args = parser.parse_args()
    results = results_path("torch.md", args.update_results)
    torch.set_num_threads(args.threads)
    if args.peak_child:
        _peak_child(*args.peak_child, args.quick)
        return
    repeats = args.repeats or (5 if args.quick else 41)
    cases = make_cases(args.quick)
    load_before = os.getloadavg()[0]

    speed = ["| case | peer | gbloss ms | peer ms | median ratio gbloss/peer |",
             "|---|---|---:|---:|---:|"]
    memory = ["| case | implementation | peak MiB | ratio to gbloss |", "|---|---|---:|---:|"]
    compiled = ["| case | peer | gbloss ms | peer ms | median ratio gbloss/peer |",
                "|---|---|---:|---:|---:|"]
    for case, spec in cases.items():
        times = time_case(spec["impls"], spec["inputs"], min(repeats, spec.get("repeats", repeats)))
        ours = times["gbloss"]
        for name, t in times.items():
            if name != "gbloss":
                r = median_ratio(ours, t)
                speed.append(f"| {case} | {name} | {1e3 * np.median(ours):.2f} | "
                             f"{1e3 * np.median(t):.2f} | {r:.2f} |")
                print(f"{case:55s} vs {name:22s} ratio {r:.2f}", flush=True)
        peaks = {name: peak_memory(case, name, args.quick, args.threads) for name in spec["impls"]}
        for name, p in peaks.items():
            memory.append(f"| {case} | {name} | {p / 2**20:.1f} | {p / peaks['gbloss']:.2f} |")
        print(f"{case:55s} peak MiB " + ", ".join(f"{k} {v / 2**20:.1f}" for k, v in peaks.items()),
              flush=True)
        if args.compile:
            torch._dynamo.reset()
            impls = {name: torch.compile(fn) for name, fn in spec["impls"].items()}
            times = time_case(impls, spec["inputs"], repeats)
            ours = times["gbloss"]
            for name, t in times.items():
                if name != "gbloss":
                    r = median_ratio(ours, t)
                    compiled.append(f"| {case} | {name} | {1e3 * np.median(ours):.2f} | "
                                    f"{1e3 * np.median(t):.2f} | {r:.2f} |")
                    print(f"{case:55s} vs {name:22s} compiled ratio {r:.2f}", flush=True)

    sections = {
        f"Forward + backward, eager (CPU, {args.threads} thread(s), float32, "
        f"{repeats} interleaved repeats)": speed,
        "Peak memory of one forward + backward (above the inputs)": memory,
    }
    if args.compile:
        sections["Forward + backward under torch.compile (inductor, CPU), both sides compiled"] = \
            compiled
    note = (f"1-minute load average {load_before:.1f} before and {os.getloadavg()[0]:.1f} after "
            f"the run on {os.cpu_count()} cores: the machine is shared, so absolute times vary "
            "between runs; the ratios are paired per repeat (interleaved), which removes most of "
            "the drift but not all of it (repeated full runs moved ratios by up to about 0.3).")
    if not args.compile:
        note += (" The torch.compile comparison (``--compile``) was not part of this run "
                 "(inductor compiles every case: minutes on this machine).")
    sections["Machine load"] = [note]
    write_results(results, "gbloss.torch against the peers' formulations", __doc__, sections,
                  quick=args.quick)
    print(f"wrote {results}")


if __name__ == "__main__":
    main()
