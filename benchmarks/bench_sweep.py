"""Sweep speed: 2 workers against 1 on this machine, local and on a local Ray, Ray's cost per
task, and a seed-batched lab's seeds as one task against one task per seed.

    python benchmarks/bench_sweep.py [--rounds 3]

Each round runs every variant once, in turn, into a fresh folder (nothing is reused), and the
report gives the median wall time over rounds. One BLAS thread per worker, as the sweep uses.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

from nablab.sweep import sweep

XOR = {"hidden": [2], "epochs": 1000}  # one task ≈ 0.5 s of training
GRID = {"lr": [0.05, 0.1, 0.2, 0.5]}  # × 4 seeds = 16 tasks
SEEDS = [0, 1, 2, 3]
TINY = {"hidden": [2], "epochs": 1}  # a task that does almost nothing: the per-task cost


def timed(**options) -> float:
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        result = sweep("xor-relu", quick=True, out=out, **options)
        seconds = time.perf_counter() - start
    assert not result.failed and result.computed == len(result.records), result.failed
    return seconds


def regularization(batch_seeds: bool) -> float:
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        sweep("regularization", grid={"l2": [0.1, 0.7]}, seeds=range(4), quick=True,
              fixed={"steps": 1500}, workers=2, batch_seeds=batch_seeds, out=out)  # fmt: skip
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    rounds = parser.parse_args().rounds
    variants = {
        "local, 1 worker (in process)": lambda: timed(grid=GRID, seeds=SEEDS, fixed=XOR, workers=1),
        "local, 2 workers": lambda: timed(grid=GRID, seeds=SEEDS, fixed=XOR, workers=2),
        "ray, 1 worker": lambda: timed(grid=GRID, seeds=SEEDS, fixed=XOR, workers=1, backend="ray"),
        "ray, 2 workers": lambda: timed(
            grid=GRID, seeds=SEEDS, fixed=XOR, workers=2, backend="ray"
        ),
        "tiny tasks, in process": lambda: timed(grid=GRID, seeds=SEEDS, fixed=TINY, workers=1),
        "tiny tasks, ray 2 workers": lambda: timed(
            grid=GRID, seeds=SEEDS, fixed=TINY, workers=2, backend="ray"
        ),
        "regularization, one task per seed": lambda: regularization(batch_seeds=False),
        "regularization, seeds batched": lambda: regularization(batch_seeds=True),
    }
    times = {name: [] for name in variants}
    for _ in range(rounds):
        for name, run in variants.items():
            times[name].append(run())
    median = {name: statistics.median(values) for name, values in times.items()}
    for name, seconds in median.items():
        print(f"{name:<36} {seconds:7.2f} s")
    local = median["local, 1 worker (in process)"] / median["local, 2 workers"]
    ray = median["ray, 1 worker"] / median["ray, 2 workers"]
    tiny = median["tiny tasks, ray 2 workers"] - median["tiny tasks, in process"] / 2
    batched = median["regularization, one task per seed"] / median["regularization, seeds batched"]
    print(f"\nspeed-up of 2 workers over 1 (16 tasks): local {local:.2f}x, ray {ray:.2f}x")
    print(f"ray's cost per task (start-up included, tiny tasks): {tiny / 16 * 1000:.0f} ms")
    print(f"regularization: seeds batched in one task is {batched:.2f}x faster than one per seed")


if __name__ == "__main__":
    main()
