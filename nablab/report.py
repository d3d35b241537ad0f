"""Lab results on disk: ``results.json`` per lab and one self-contained HTML report.

``run_lab`` is the one way to run a lab: it prepares ``config.out``, runs the lab and writes
its ``results.json`` atomically (temporary file, then ``os.replace``), so an interrupted run
never leaves a half-written file under the final name. ``render_html`` turns finished runs
into one HTML page with every figure embedded as a base64 data URI.
"""

from __future__ import annotations

import base64
import datetime
import html
import json
import os
import secrets
import tempfile
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .labs.base import Lab, LabConfig, LabResult

RESULTS_FILE = "results.json"


@dataclass
class LabRun:
    """One lab run: its result, or the error text of the exception it raised."""

    lab: Lab
    config: LabConfig
    result: LabResult | None
    seconds: float
    error: str | None = None


def write_atomic(path, text: str) -> Path:
    """Write ``text`` to ``path`` through a temporary file in the same folder and os.replace.

    Readers see the old file or the whole new one, never a part; on any exception
    (KeyboardInterrupt included) the temporary file is removed. Permissions follow the umask.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def prepare_out(out) -> Path:
    """Create the folder ``out`` and check it is writable; OSError with a clear message if not."""
    out = Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out):
            pass
    except OSError as e:
        raise OSError(f"cannot write to output folder '{out}': {e.strerror or e}") from None
    return out


def run_lab(lab: Lab, config: LabConfig, catch: bool = False) -> LabRun:
    """Run ``lab`` into ``config.out`` and write its results.json there.

    A results.json left by an earlier run is removed first, so the folder never pairs
    new figures with old numbers. With ``catch`` an exception inside the lab is recorded
    in the LabRun instead of raised (KeyboardInterrupt always propagates).
    """
    out = prepare_out(config.out)
    (out / RESULTS_FILE).unlink(missing_ok=True)
    start = time.perf_counter()
    try:
        result = lab.run(config)
    except Exception:
        if not catch:
            raise
        return LabRun(lab, config, None, time.perf_counter() - start, traceback.format_exc())
    run = LabRun(lab, config, result, time.perf_counter() - start)
    write_atomic(out / RESULTS_FILE, json.dumps(results_dict(run), indent=2) + "\n")
    return run


def results_dict(run: LabRun) -> dict:
    """What results.json holds: the lab, how it was run, and its result (figures relative)."""
    return {
        "lab": run.lab.name,
        "summary": run.lab.summary,
        "source": run.lab.source,
        "seed": run.config.seed,
        "quick": run.config.quick,
        "iterations": run.config.iterations,
        "seconds": round(run.seconds, 3),
        **run.result.to_dict(relative_to=run.config.out),
    }


def format_cell(value) -> str:
    """A table cell as text: floats to 4 significant digits, None as an empty cell."""
    if value is None:
        return ""
    if isinstance(value, (float, np.floating)):
        return f"{value:.4g}"
    return str(value)


def render_html(runs: list[LabRun], title: str = "nablab report") -> str:
    """One self-contained HTML page: per lab its question, setting, tables, plots, answer, notes."""
    stamp = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    toc = "".join(
        f'<li><a href="#{_e(r.lab.name)}">{_e(r.lab.name)}</a> — {_e(r.lab.summary)}'
        f"{' <b class=err>(failed)</b>' if r.error else ''}</li>"
        for r in runs
    )
    sections = "".join(_section(r) for r in runs)
    return (
        f"<!doctype html>\n<html lang=en><head><meta charset=utf-8><title>{_e(title)}</title>"
        f"<style>{_CSS}</style></head><body>\n<h1>{_e(title)}</h1>\n"
        f"<p class=meta>{len(runs)} labs, written {stamp}.</p>\n<ul>{toc}</ul>\n"
        f"{sections}</body></html>\n"
    )


def _section(run: LabRun) -> str:
    lab, cfg = run.lab, run.config
    head = (
        f'<section id="{_e(lab.name)}"><h2>{_e(lab.name)}</h2>'
        f"<p class=meta>{_e(lab.source)} · seed {cfg.seed}"
        f"{' · quick' if cfg.quick else ''} · {run.seconds:.1f} s</p>"
    )
    if run.result is None:
        return f"{head}<p class=err>The lab failed:</p><pre>{_e(run.error or '')}</pre></section>\n"
    r = run.result
    parts = [
        head,
        f"<h3>Question</h3><p>{_e(r.question)}</p>",
        f"<h3>Setting</h3><p>{_e(r.setting)}</p>",
        *(_table(t) for t in r.tables),
        *(_figure(Path(f), cfg.out) for f in r.figures),
        f"<h3>Answer</h3><p>{_e(r.answer)}</p>",
        f"<details><summary>metrics</summary><pre>{_e(_metrics_json(r))}</pre></details>",
    ]
    if r.notes:
        parts.append("<h3>Notes</h3><ul>" + "".join(f"<li>{_e(n)}</li>" for n in r.notes) + "</ul>")
    return "".join(parts) + "</section>\n"


def _metrics_json(result: LabResult) -> str:
    return json.dumps(result.to_dict()["metrics"], indent=1)


def _table(table) -> str:
    head = "".join(f"<th>{_e(c)}</th>" for c in table.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{_e(format_cell(v))}</td>" for v in row) + "</tr>"
        for row in table.rows
    )
    return f"<table><caption>{_e(table.title)}</caption><tr>{head}</tr>{body}</table>"


def _figure(path: Path, out: Path) -> str:
    if not path.is_absolute() and not path.exists():
        path = Path(out) / path
    if not path.exists():
        return f"<p class=err>missing figure: {_e(str(path))}</p>"
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return (
        f'<figure><img alt="{_e(path.name)}" src="data:image/png;base64,{data}">'
        f"<figcaption>{_e(path.name)}</figcaption></figure>"
    )


def _e(text) -> str:
    return html.escape(str(text), quote=True)


_CSS = (
    "body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;"
    "line-height:1.45;color:#222}section{border-top:1px solid #ccc;margin-top:2rem}"
    "table{border-collapse:collapse;margin:1rem 0}caption{font-weight:600;text-align:left}"
    "td,th{border:1px solid #ccc;padding:.25rem .6rem;text-align:right}"
    "th{background:#f3f3f3}td:first-child{text-align:left}img{max-width:100%}"
    "figure{margin:1rem 0}figcaption,.meta{color:#666;font-size:.9em}.err{color:#b00}"
    "pre{background:#f6f6f6;padding:.5rem;overflow:auto}"
)
