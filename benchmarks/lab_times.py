"""Measure every lab's full and quick run time and store it with the labs
(nablab/labs/timings.json, shown by `nablab labs` and docs/labs.md).

    python benchmarks/lab_times.py                 # every lab, quick and full (about 30 min)
    python benchmarks/lab_times.py --quick-only    # refresh the quick times only
    python benchmarks/lab_times.py --labs a,b      # only these labs

One BLAS thread, as `nablab run` uses; each variant is run once (the full runs are minutes
long) into a temporary folder. The times are wall-clock seconds on this machine: a guide
for a student's wait, not a benchmark.
"""

from __future__ import annotations

import argparse
import json
import tempfile

from threadpoolctl import threadpool_limits

import nablab.labs as labs
from nablab.labs.declaration import TIMINGS_FILE


def measure(name: str, quick: bool) -> float:
    with tempfile.TemporaryDirectory() as out:
        return labs.run(name, quick=quick, out=out).seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick-only", action="store_true")
    parser.add_argument("--labs", default=None, help="comma-separated lab names")
    args = parser.parse_args()
    names = args.labs.split(",") if args.labs else sorted(labs.LABS)
    timings = json.loads(TIMINGS_FILE.read_text()) if TIMINGS_FILE.exists() else {}
    with threadpool_limits(limits=1):
        for name in names:
            entry = timings.setdefault(name, {})
            entry["quick"] = round(measure(name, quick=True), 1)
            if not args.quick_only:
                entry["full"] = round(measure(name, quick=False), 1)
            print(f"{name:<20} {entry}", flush=True)
            TIMINGS_FILE.write_text(json.dumps(timings, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
