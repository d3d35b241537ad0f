"""Same-process timing: peers interleaved, one BLAS/torch thread, medians and ratios.

The machines are shared and noisy, so a benchmark never trusts one absolute figure:
each round times every peer once in turn (so a slow moment hurts all of them alike),
and the report gives the median over rounds and each peer's ratio to a reference.
"""

import statistics
import time
from contextlib import contextmanager


@contextmanager
def one_thread():
    """Pin NumPy's BLAS and torch to one thread for the duration."""
    from threadpoolctl import threadpool_limits

    try:
        import torch
    except ImportError:
        torch = None
    saved = torch.get_num_threads() if torch else None
    with threadpool_limits(limits=1):
        if torch:
            torch.set_num_threads(1)
        try:
            yield
        finally:
            if torch:
                torch.set_num_threads(saved)


def interleaved(cases, rounds=15, number=None, target_s=0.05):
    """Median seconds per call of each case in `cases` (name -> zero-arg callable).

    `number` calls per round (chosen per case to last about `target_s` if None).
    """
    counts = {}
    for name, fn in cases.items():
        fn()
        if number is not None:
            counts[name] = number
            continue
        n, t = 1, 0.0
        while t < target_s / 4:
            start = time.perf_counter()
            for _ in range(n):
                fn()
            t = time.perf_counter() - start
            n *= 2
        counts[name] = max(1, int(n / 2 * target_s / max(t, 1e-9)))
    samples = {name: [] for name in cases}
    for _ in range(rounds):
        for name, fn in cases.items():
            k = counts[name]
            start = time.perf_counter()
            for _ in range(k):
                fn()
            samples[name].append((time.perf_counter() - start) / k)
    return {name: statistics.median(s) for name, s in samples.items()}


def fmt_time(seconds):
    for unit, scale in (("s", 1), ("ms", 1e-3), ("µs", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds * 1e9:.3g} ns"


def report(title, medians, reference):
    """Print a table of medians and ratios to `reference` (a key of `medians`)."""
    print(f"\n{title}")
    ref = medians[reference]
    width = max(len(k) for k in medians)
    for name, t in medians.items():
        print(f"  {name:<{width}}  {fmt_time(t):>10}   {t / ref:6.2f}x {reference}")
