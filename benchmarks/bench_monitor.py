"""The Monitor: what it finds on the labelled runs, and what it costs.

    python benchmarks/bench_monitor.py            # detection table and overhead
    python benchmarks/bench_monitor.py --rounds 5
    python benchmarks/bench_monitor.py --cost-only --rounds 81   # part (1) only, 81 rounds

(1) The seeds' small networks, one training step with and without a Monitor (check_finite
    before backward, step() after): XOR 2-2-1 ReLU/MSE/SGD (seeds/000), the [2, 20, 3, 1]
    ReLU MLP on 200 moons points with BCE-with-logits (seeds/002), NNDL's 5-layer sigmoid MLP
    on 640 moons points with BCE: a watched and an unwatched copy trained side by side, 100
    steps each per round, 41 rounds alternating which goes first, medians, one thread.
(2) The labelled runs of tests/test_monitor_runs.py: per run, the findings expected and
    those raised; recall (expected findings raised / expected), precision (raised findings
    that are expected or allowed / raised), false alarms (healthy runs with any finding),
    and each run's time with the Monitor over its time with a do-nothing stand-in.
"""

import argparse
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from harness import one_thread

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import test_monitor_runs as labelled  # noqa: E402

import nablab  # noqa: E402
from nablab import nn, optim  # noqa: E402
from nablab.data import moons  # noqa: E402
from nablab.diagnostics import Monitor  # noqa: E402


def seed_networks():
    xor_X = nablab.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    xor_y = nablab.tensor([[0.0], [1.0], [1.0], [0.0]])
    X, y = moons(300, noise=0.5, seed=0)
    X640, y640 = moons(1000, noise=0.5, seed=3)
    return {
        "XOR 2-2-1, ReLU, MSE, SGD (4 points)": (
            lambda: labelled.mlp([2, 2, 1]), xor_X, xor_y, nn.MSELoss()),
        "[2,20,3,1] ReLU, BCE-with-logits (200 moons)": (
            lambda: labelled.mlp([2, 20, 3, 1]), X[:200], y[:200], nn.BCEWithLogitsLoss()),
        "NNDL L5 sigmoid, BCE (640 moons)": (
            lambda: labelled.mlp([2, 3, 3, 3, 3, 1], act=nn.Sigmoid, out=nn.Sigmoid()),
            X640[:640], y640[:640], nn.BCELoss()),
    }  # fmt: skip


def trainer(build, X, y, loss_fn, watched):
    """A fresh model and a function training it ``n`` more full-batch SGD steps (with a
    Monitor or without), returning the seconds they took."""
    nablab.manual_seed(0)
    model = build()
    opt = optim.SGD(model.parameters(), lr=0.1)
    mon = Monitor(model) if watched else None

    def train(n):
        start = time.perf_counter()
        for _ in range(n):
            loss = loss_fn(model(X), y)
            if mon:
                mon.check_finite(loss)
            opt.zero_grad()
            loss.backward()
            if mon:
                mon.step()
            opt.step()
        return time.perf_counter() - start

    return train


def overhead_on_seed_networks(rounds, steps=100):
    """Two copies of each network train side by side from the same start, one watched: each
    round trains both ``steps`` more steps (alternating which goes first), so both time the
    same trajectory at the same moments; the ratio of the medians over rounds."""
    print(f"(1) The seeds' networks trained {rounds} x {steps} steps, with and without a Monitor")
    print(f"  {'network':<46}{'without':>11}{'with':>11}{'ratio':>8}")
    for name, (build, X, y, loss_fn) in seed_networks().items():
        train = {w: trainer(build, X, y, loss_fn, w) for w in (False, True)}
        times = {False: [], True: []}
        for r in range(rounds):
            for watched in (False, True) if r % 2 == 0 else (True, False):
                times[watched].append(train[watched](steps))
        plain, watched = (statistics.median(times[w]) / steps * 1e6 for w in (False, True))
        print(f"  {name:<46}{plain:>9.0f}µs{watched:>9.0f}µs{watched / plain:>8.3f}")


def timed(run, make):
    nablab.manual_seed(0)
    start = time.perf_counter()
    mon = run.train(make)
    return time.perf_counter() - start, mon


def labelled_runs(rounds):
    for run in labelled.RUNS.values():  # warm up: first calls, imports, caches
        timed(run, Monitor)
    rows, ratios, plain_total, watched_total = [], [], 0.0, 0.0
    judging = []
    for run in labelled.RUNS.values():
        times = {labelled.NullMonitor: [], Monitor: []}
        for r in range(rounds):  # interleaved, alternating: a slow moment hurts both alike
            for make in (labelled.NullMonitor, Monitor)[:: 1 if r % 2 == 0 else -1]:
                seconds, result = timed(run, make)
                times[make].append(seconds)
                if make is Monitor:
                    mon = result
        start = time.perf_counter()
        kinds = {f.kind for f in mon.findings()}
        judging.append(time.perf_counter() - start)
        p, w = (statistics.median(times[make]) for make in (labelled.NullMonitor, Monitor))
        plain_total, watched_total = plain_total + p, watched_total + w
        ratios.append(w / p)
        rows.append((run, kinds, w / p))
    expected = sum(len(r.expected) for r, _, _ in rows)
    hit = sum(len(r.expected & k) for r, k, _ in rows)
    raised = sum(len(k) for _, k, _ in rows)
    right = sum(len(k & (r.expected | r.allowed)) for r, k, _ in rows)
    healthy = [(r, k) for r, k, _ in rows if r.healthy]
    alarms = [r.name for r, k in healthy if k]
    problems = len(rows) - len(healthy)
    print(f"\n(2) The labelled runs ({problems} with a problem, {len(healthy)} healthy)")
    print(f"  {'run':<50}{'expected':<34}{'raised (beyond expected)':<34}{'time':>6}")
    for run, kinds, ratio in rows:
        extra = sorted(kinds - run.expected)
        missed = sorted(run.expected - kinds)
        note = ", ".join(extra) + (f"  MISSED {', '.join(missed)}" if missed else "")
        print(f"  {run.name:<50}{', '.join(sorted(run.expected)) or '-':<34}{note or '-':<34}"
              f"{ratio:>5.2f}x")  # fmt: skip
    print(f"\n  recall     {hit}/{expected} = {hit / expected:.3f}")
    print(f"  precision  {right}/{raised} = {right / raised:.3f}")
    print(f"  false alarms on healthy runs: {len(alarms)} of {len(healthy)} {alarms or ''}")
    print(
        f"  overhead: median over runs {statistics.median(ratios):.3f}x, "
        f"all runs together {watched_total / plain_total:.3f}x "
        f"({plain_total:.2f} s without, {watched_total:.2f} s with; medians of {rounds} rounds)"
    )
    print(f"  findings(): median {statistics.median(judging) * 1e3:.1f} ms per run, at the end")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--cost-only", action="store_true", help="part (1) only")
    args = parser.parse_args()
    warnings.simplefilter("ignore", RuntimeWarning)  # the NaN runs overflow on purpose
    np.seterr(all="ignore")
    with one_thread():
        overhead_on_seed_networks(max(args.rounds, 41))
        if not args.cost_only:
            labelled_runs(args.rounds)
