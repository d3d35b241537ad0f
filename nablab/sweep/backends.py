"""Where tasks run: a local process pool, or Ray (an existing distributed engine: a local Ray,
or a cluster started with ``ray start --head``). Both yield (task, record, error) as tasks
finish, so the sweep stores each result the moment it exists.
"""

from __future__ import annotations

import os
import signal
import socket
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed

from .tasks import SweepError, Task, run_task

BACKENDS = ("local", "ray")
_ONE_THREAD = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def run_local(jobs: list[tuple], workers: int, fn=run_task) -> Iterator[tuple[object, dict, str]]:
    """Run ``fn(*job)`` for each job, (task, out) by default, on ``workers`` fresh processes
    (spawned, one BLAS thread each; ``fn`` must be importable by name), in the order given;
    one worker runs them one after the other in this process. Yields (job[0], result,
    error text) as each finishes."""
    if workers == 1:
        for job in jobs:
            try:
                yield job[0], fn(*job), None
            except Exception as error:  # the task's failure is reported, the others go on
                yield job[0], None, _describe(error)
        return
    import multiprocessing

    saved = {k: os.environ.get(k) for k in _ONE_THREAD}
    os.environ.update(_ONE_THREAD)  # inherited by the workers as they start
    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))
    try:
        interrupt = signal.signal(signal.SIGINT, signal.SIG_IGN)  # inherited by the workers,
        try:  # which start here: Ctrl-C (sent to the whole process group) is for the sweep
            futures = {pool.submit(fn, *job): job[0] for job in jobs}
        finally:
            signal.signal(signal.SIGINT, interrupt)
        for future in as_completed(futures):
            error = future.exception()
            yield futures[future], (None if error else future.result()), _describe(error)
    except KeyboardInterrupt:
        for worker in pool._processes.values():  # the sweep ends its workers at once
            worker.kill()
        raise
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def run_ray(
    jobs: list[tuple[Task, str]], workers: int | None, address: str | None
) -> Iterator[tuple[Task, dict, str]]:
    """Run the jobs as Ray tasks: on the cluster at ``address``, or on a local Ray of
    ``workers`` CPUs when no address is given. Each task asks for one CPU."""
    try:
        import ray
    except ImportError:
        raise SweepError("--backend ray needs Ray: pip install 'nablab[cluster]'") from None
    if address is not None:
        check_reachable(address)
    options = {"include_dashboard": False, "log_to_driver": False, "logging_level": "WARNING"}
    if address is None:
        options["num_cpus"] = workers
    ray.init(address=address, runtime_env={"env_vars": dict(_ONE_THREAD)}, **options)
    try:
        remote = ray.remote(num_cpus=1)(run_task)
        pending = {remote.remote(task, out): task for task, out in jobs}
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            for ref in done:
                task = pending.pop(ref)
                try:
                    yield task, ray.get(ref), None
                except Exception as error:  # a task's own exception, re-raised by Ray
                    yield task, None, _describe(getattr(error, "cause", None) or error)
    finally:
        ray.shutdown()


def check_reachable(address: str) -> None:
    """SweepError unless ``address`` ('auto', 'ray://HOST:PORT' or 'HOST:PORT') answers."""
    if address == "auto":
        return
    host, _, port = address.removeprefix("ray://").rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=3):
            return
    except (OSError, ValueError) as e:
        reason = getattr(e, "strerror", None) or str(e) or type(e).__name__
        raise SweepError(f"cannot reach a Ray cluster at {address!r}: {reason}") from None


def _describe(error: BaseException | None) -> str | None:
    return None if error is None else f"{type(error).__name__}: {error}"
