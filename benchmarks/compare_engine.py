"""Two checkouts of nablab in one process, interleaved, beside torch: is the per-op
overhead of one worse than the other's?

    python benchmarks/compare_engine.py BASE HEAD [--rounds 300]
    python benchmarks/compare_engine.py /work/main .      # main against this checkout

Both checkouts' nablab are imported (each under its own bench_engine module) and the
cases of bench_engine.py — (a) XOR epoch, (b) moons MLP step, (c1) add, (c2) matmul,
(c3) (a*b).sum().backward() — run round by round, ~1 ms per case and peer per round, in
alternating order. On a busy machine a round can lose the processor, so the report is
the fastest round and the 10th percentile of each peer, and HEAD/BASE on both.
"""

import argparse
import importlib.util
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as tF
from harness import one_thread
from sklearn.datasets import make_moons

HERE = Path(__file__).resolve().parent


def bench_module(root, tag):
    """bench_engine.py with `nablab` imported from the checkout at `root`."""
    for name in [m for m in sys.modules if m == "nablab" or m.startswith("nablab.")]:
        del sys.modules[name]
    sys.path.insert(0, str(root))
    try:
        spec = importlib.util.spec_from_file_location(f"bench_{tag}", HERE / "bench_engine.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(root))
    if not Path(module.nl.__file__).is_relative_to(root):
        raise RuntimeError(f"{tag}: nablab came from {module.nl.__file__}, not {root}")
    return module


def data():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((20, 3), np.float32), rng.standard_normal((20, 3), np.float32)
    w = rng.standard_normal((3, 5), np.float32)
    Xm, ym = make_moons(n_samples=300, shuffle=True, noise=0.5, random_state=0)
    return a, b, w, Xm[:200].astype(np.float32), ym[:200, None].astype(np.float32)


def cases(bench, lib, make, mse, bce, step):
    a, b, w, Xm, Ym = data()
    ta, tb, tw = (make(x) for x in (a, b, w))

    def backward():
        (ta * tb).sum().backward()
        ta.grad = tb.grad = None

    X, Y = bench.xor_data()
    return {
        "a": step([2, 2, 1], X, Y, mse),
        "b": step([2, 20, 3, 1], Xm, Ym, bce),
        "c1": lambda: ta + tb,
        "c2": lambda: ta @ tw,
        "c3": backward,
    }


def nablab_cases(bench):
    return cases(
        bench,
        bench.nl,
        lambda x: bench.nl.tensor(x, requires_grad=True),
        bench.F.mse_loss,
        bench.F.binary_cross_entropy_with_logits,
        bench.nablab_step,
    )


def torch_cases(bench):
    return cases(
        bench,
        torch,
        lambda x: torch.tensor(x, requires_grad=True),
        tF.mse_loss,
        tF.binary_cross_entropy_with_logits,
        bench.torch_step,
    )


def per_call(fn, k):
    start = time.perf_counter()
    for _ in range(k):
        fn()
    return (time.perf_counter() - start) / k


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base", type=Path)
    parser.add_argument("head", type=Path)
    parser.add_argument("--rounds", type=int, default=300)
    args = parser.parse_args()
    base = bench_module(args.base.resolve(), "base")
    head = bench_module(args.head.resolve(), "head")
    with one_thread():
        peers = {"base": nablab_cases(base), "head": nablab_cases(head), "torch": torch_cases(head)}
        for case in peers["head"]:
            fns = {peer: peers[peer][case] for peer in peers}
            for fn in fns.values():
                fn()
            k = max(1, int(0.001 / per_call(fns["torch"], 50)))
            samples = {peer: [] for peer in fns}
            for r in range(args.rounds):
                for peer in list(fns) if r % 2 == 0 else list(fns)[::-1]:
                    samples[peer].append(per_call(fns[peer], k))
            fastest = {p: min(v) for p, v in samples.items()}
            p10 = {p: statistics.quantiles(v, n=10)[0] for p, v in samples.items()}
            print(
                f"({case}) fastest: base {fastest['base'] * 1e6:.2f} µs, head "
                f"{fastest['head'] * 1e6:.2f} µs, torch {fastest['torch'] * 1e6:.2f} µs; "
                f"head/base {fastest['head'] / fastest['base']:.3f} (10th percentile "
                f"{p10['head'] / p10['base']:.3f}); to torch: base "
                f"{p10['base'] / p10['torch']:.3f}, head {p10['head'] / p10['torch']:.3f}"
            )


if __name__ == "__main__":
    main()
