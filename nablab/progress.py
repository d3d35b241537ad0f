"""Progress bars for the labs and for your own loop: rich's bar on a terminal (stderr), an HTML
bar updated in place in a Jupyter notebook (no widgets, so no "No such comm" messages).

    from nablab.progress import track
    for epoch in track(range(100), description="training"):
        ...
"""

from __future__ import annotations

import html
import sys
import time
from collections.abc import Iterable, Iterator

_UPDATE_SECONDS = 0.2
_active_progress = None  # the terminal's shared rich display while a bar is open


def track(
    iterable: Iterable, total: int | None = None, description: str = "", enabled: bool = True
) -> Iterator:
    """Iterate over ``iterable`` with a progress bar of ``total`` steps (default ``len``).

    In a notebook the bar is HTML updated in place and its last state stays in the output
    ("training: 100/100 in 1.2 s"); elsewhere it is rich's bar on stderr, removed when done.
    Nested calls on a terminal share one display: an inner loop's bar sits under the outer one.
    ``enabled=False`` iterates plainly.
    """
    if total is None:
        total = len(iterable) if hasattr(iterable, "__len__") else None
    if not enabled:
        return iter(iterable)
    if in_notebook():
        return _notebook_track(iterable, total, description)
    return _terminal_track(iterable, total, description)


def in_notebook() -> bool:
    """True inside a Jupyter kernel (IPython's ZMQ shell), without importing IPython."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return type(shell).__name__ == "ZMQInteractiveShell"


def _notebook_track(iterable, total, description) -> Iterator:
    from IPython.display import HTML, display

    start = last = time.perf_counter()
    handle = display(HTML(_bar_html(description, 0, total, 0.0)), display_id=True)
    done = 0
    for item in iterable:
        yield item
        done += 1
        now = time.perf_counter()
        if now - last >= _UPDATE_SECONDS:
            handle.update(HTML(_bar_html(description, done, total, now - start)))
            last = now
    handle.update(HTML(_bar_html(description, done, total, time.perf_counter() - start)))


def _bar_html(description: str, done: int, total: int | None, seconds: float) -> str:
    count = f"{done}/{total}" if total else f"{done}"
    meter = f"<progress value={done} max={total}></progress> " if total else ""
    return (
        f"<div style='font-family:monospace;font-size:.9em'>{meter}"
        f"{html.escape(description)}: {count} in {seconds:.1f} s</div>"
    )


def _terminal_track(iterable, total, description) -> Iterator:
    global _active_progress
    if _active_progress is not None:
        bars, owner = _active_progress, False
    else:
        bars, owner = _new_progress(), True
        _active_progress = bars
        bars.start()
    task = bars.add_task(description, total=total)
    try:
        for item in iterable:
            yield item
            bars.advance(task)
    finally:
        bars.remove_task(task)
        if owner:
            bars.stop()
            _active_progress = None


def _new_progress():
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    )
