"""A 10⁶-op scalar-tensor chain: graph build and backward time, peak memory, vs PyTorch.

    python benchmarks/bench_graph.py [--ops 1000000] [--rounds 3] [--op mul|add]

    x = tensor(1.0, requires_grad=True); y = x
    for _ in range(ops): y = y * 1.0000001      (or y = y + 1.0000001)
    y.backward()

Each run is a fresh child process (so each library's peak memory is its own), nablab and
torch in turn, round by round; one thread each. Prints build s, backward s, the peak
resident memory of the child and what the chain added to it (peak − resident before the
build), then medians, and the garbage collector's generation-2 passes during the build.
Wall time is what counts; the CPU time of the process beside it shows how much of the
wall time a busy machine took away.
"""

import argparse
import gc
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path


def resident_mib():
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * resource.getpagesize() / 2**20


def chain(library, ops, op):
    """One run in this process: a dict of seconds and MiB."""
    if library == "torch":
        import torch

        torch.set_num_threads(1)
        x = torch.tensor(1.0, requires_grad=True)
    else:
        import nablab

        x = nablab.tensor(1.0, requires_grad=True)
    step = (lambda y: y * 1.0000001) if op == "mul" else (lambda y: y + 1.0000001)
    full_passes = []
    gc.callbacks.append(lambda phase, info: phase == "start" and full_passes.append(info))
    before = resident_mib()
    start, start_cpu = time.perf_counter(), time.process_time()
    y = x
    for _ in range(ops):
        y = step(y)
    built = time.perf_counter()
    passes = sum(1 for info in full_passes if info["generation"] == 2)
    y.backward()
    done, done_cpu = time.perf_counter(), time.process_time()
    expected = 1.0000001**ops if op == "mul" else 1.0  # float32 rounding: within a few %
    grad = float(x.grad)
    if abs(grad - expected) > 0.05 * expected:
        raise AssertionError(f"{library}: x.grad = {grad}, expected about {expected}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "build_s": built - start,
        "backward_s": done - built,
        "cpu_s": done_cpu - start_cpu,
        "peak_mib": peak,
        "graph_mib": peak - before,
        "gen2_passes": passes,
    }


def run_child(library, ops, op):
    out = subprocess.run(
        [sys.executable, __file__, "--child", library, "--ops", str(ops), "--op", op],
        capture_output=True,
        text=True,
        cwd=Path(__file__).parent,
    )
    if out.returncode:
        raise RuntimeError(f"the {library} run failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--op", choices=["mul", "add"], default="mul")
    parser.add_argument("--child", choices=["nablab", "torch"])
    args = parser.parse_args()
    if args.child:
        print(json.dumps(chain(args.child, args.ops, args.op)))
        return
    runs = {"nablab": [], "torch": []}
    print(f"chain of {args.ops} `y {'*' if args.op == 'mul' else '+'} 1.0000001` ops")
    for r in range(args.rounds):
        for library in runs:
            res = run_child(library, args.ops, args.op)
            runs[library].append(res)
            print(
                f"round {r + 1} {library:6}: build {res['build_s']:.2f} s, backward "
                f"{res['backward_s']:.2f} s, total {res['build_s'] + res['backward_s']:.2f} s "
                f"(CPU {res['cpu_s']:.2f} s), "
                f"peak {res['peak_mib']:.0f} MiB (chain {res['graph_mib']:.0f} MiB), "
                f"{res['gen2_passes']} gen-2 GC passes in the build"
            )
    print("medians:")
    for library, rs in runs.items():
        build = statistics.median(r["build_s"] for r in rs)
        back = statistics.median(r["backward_s"] for r in rs)
        total = statistics.median(r["build_s"] + r["backward_s"] for r in rs)
        cpu = statistics.median(r["cpu_s"] for r in rs)
        peak = statistics.median(r["peak_mib"] for r in rs)
        graph = statistics.median(r["graph_mib"] for r in rs)
        print(
            f"  {library:6}: build {build:.2f} s, backward {back:.2f} s, total {total:.2f} s "
            f"(CPU {cpu:.2f} s), "
            f"peak {peak:.0f} MiB (chain {graph:.0f} MiB)"
        )
    ratio = statistics.median(
        (a["build_s"] + a["backward_s"]) / (b["build_s"] + b["backward_s"])
        for a, b in zip(runs["nablab"], runs["torch"])
    )
    print(f"  nablab / torch total time: {ratio:.2f} (median of per-round ratios)")


if __name__ == "__main__":
    main()
