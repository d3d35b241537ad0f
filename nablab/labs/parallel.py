"""Independent pieces of one lab (its models, its arms) on worker processes: the sweep's local
pool (spawned processes, one BLAS thread each). A piece is a module-level function of
(name, parameter values, seed, quick), so a worker can import it; it rebuilds the lab's
parameters and context with `worker_context` and seeds itself as the runner does, so each
piece computes in a worker exactly what it computes in the lab's own process."""

from __future__ import annotations

from pathlib import Path

from .params import Params
from .runner import Context


def on_workers(fn, jobs: list[tuple], workers: int, ctx: Context, what: str) -> dict:
    """{job[0]: fn(*job)} with the jobs run on ``workers`` spawned processes, in the order
    given (put the costliest first). A job that raised fails the lab, naming the job."""
    from ..sweep.backends import run_local

    done = {}
    finished = run_local(jobs, min(workers, len(jobs)), fn=fn)
    for name, result, error in ctx.track(finished, len(jobs), what):
        if error is not None:
            raise RuntimeError(f"{what}: {name} failed on a worker: {error}")
        done[name] = result
    return done


def worker_context(values: dict, seed: int, quick: bool) -> tuple[Params, Context]:
    """The lab's parameters and a context (no progress) in a worker, seeded as the runner
    seeds a run (``nablab.manual_seed(seed)``)."""
    import nablab

    nablab.manual_seed(seed)
    return Params(values), Context(seed, quick, Path("."), progress=False)
