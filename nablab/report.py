"""One self-contained HTML report of lab runs: per lab its question, setting, tables,
plots, claims (✔/✘), answer and notes, every figure embedded as a base64 data URI.

``run_lab`` runs one lab through the runner (labs/runner.py, which writes its results.json)
and, with ``catch``, records a lab that raised instead of stopping the report.
"""

from __future__ import annotations

import base64
import datetime
import html
import json
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .labs.base import LabResult, write_atomic
from .labs.declaration import Lab
from .labs.runner import RESULTS_FILE, prepare_out, run

__all__ = ["LabRun", "RESULTS_FILE", "prepare_out", "render_html", "run_lab", "write_atomic"]


@dataclass
class LabRun:
    """One lab run: its result, or the error text of the exception it raised."""

    lab: Lab
    result: LabResult | None
    seconds: float
    error: str | None = None
    seed: int = 0
    quick: bool = False
    out: Path = Path("runs")


def run_lab(lab: Lab, catch: bool = False, **options) -> LabRun:
    """Run ``lab`` with the runner's ``options`` (quick, seed, out, progress, parameters).

    With ``catch`` an exception inside the lab is recorded instead of raised
    (KeyboardInterrupt always propagates)."""
    start = time.perf_counter()
    seed, quick, out = options.get("seed", 0), options.get("quick", False), options.get("out")
    try:
        result = run(lab, **options)
    except Exception:
        if not catch:
            raise
        seconds = time.perf_counter() - start
        return LabRun(lab, None, seconds, traceback.format_exc(), seed, quick, Path(out))
    return LabRun(lab, result, result.seconds, None, seed, quick, result.out)


def format_cell(value) -> str:
    """A table cell as text: floats to 4 significant digits, None as an empty cell."""
    if value is None:
        return ""
    if isinstance(value, (float, np.floating)):
        return f"{value:.4g}"
    return str(value)


def render_sweep_section(data: dict, out) -> str:
    """One sweep (its sweep.json and the sweep.png beside it) as an HTML section."""
    from .labs.base import Table
    from .labs.params import format_value

    grid = ", ".join(
        f"{k} ∈ {{{', '.join(map(format_value, v))}}}" for k, v in data["grid"].items()
    )
    seeds = data["seeds"]
    table = Table("Each grid point over its seeds", data["table"]["columns"], data["table"]["rows"])
    claims = "".join(f"<li>claim {i + 1}: {_e(text)}</li>" for i, text in enumerate(data["claims"]))
    failed = "".join(
        f"<li class=err>{_e(f['point'])}, seed {f['seed']}: {_e(f['error'])}</li>"
        for f in data["failed"]
    )
    plot = Path(out) / "sweep.png"
    return (
        f'<section id="sweep-{_e(data["lab"])}"><h2>Sweep: {_e(data["lab"])}</h2>'
        f"<p class=meta>{_e(grid)} · seeds {seeds[0]}–{seeds[-1]} ({len(seeds)})"
        f"{' · quick' if data['quick'] else ''} · fixed {_e(data['fixed'] or 'nothing')}"
        f" · {data['tasks']} tasks on {_e(data['backend'])}</p>"
        f"{_table(table)}<ul class=claims>{claims}</ul>"
        f"{_figure(plot, out) if plot.exists() else ''}"
        f"{'<h3>Failed tasks</h3><ul>' + failed + '</ul>' if failed else ''}</section>\n"
    )


def render_sweep_page(data: dict, out) -> str:
    """A sweep's own self-contained HTML page."""
    title = f"nablab sweep: {data['lab']}"
    return (
        f"<!doctype html>\n<html lang=en><head><meta charset=utf-8><title>{_e(title)}</title>"
        f"<style>{_CSS}</style></head><body>\n{render_sweep_section(data, out)}</body></html>\n"
    )


def render_html(runs: list[LabRun], title: str = "nablab report", sweeps=()) -> str:
    """One self-contained HTML page: per lab its question, setting, tables, plots, answer, notes."""
    stamp = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    toc = "".join(
        f'<li><a href="#{_e(r.lab.name)}">{_e(r.lab.name)}</a> — {_e(r.lab.summary)}'
        f"{' <b class=err>(failed)</b>' if r.error else ''}</li>"
        for r in runs
    )
    sections = "".join(_section(r) for r in runs)
    sections += "".join(render_sweep_section(data, out) for data, out in sweeps)
    return (
        f"<!doctype html>\n<html lang=en><head><meta charset=utf-8><title>{_e(title)}</title>"
        f"<style>{_CSS}</style></head><body>\n<h1>{_e(title)}</h1>\n"
        f"<p class=meta>{len(runs)} labs, written {stamp}.</p>\n<ul>{toc}</ul>\n"
        f"{sections}</body></html>\n"
    )


def _section(run: LabRun) -> str:
    lab = run.lab
    head = (
        f'<section id="{_e(lab.name)}"><h2>{_e(lab.name)}</h2>'
        f"<p class=meta>{_e(lab.source)} · seed {run.seed}"
        f"{' · quick' if run.quick else ''} · {run.seconds:.1f} s</p>"
    )
    if run.result is None:
        return f"{head}<p class=err>The lab failed:</p><pre>{_e(run.error or '')}</pre></section>\n"
    r = run.result
    parts = [
        head,
        f"<h3>Question</h3><p>{_e(r.question)}</p>",
        f"<h3>Setting</h3><p>{_e(r.setting)}</p>",
        *(_table(t) for t in r.tables),
        *(_figure(Path(f), run.out) for f in r.figures),
        f"<h3>Answer</h3><p>{_e(r.answer)}</p>",
        _claims(r.claims),
        f"<details><summary>metrics</summary><pre>{_e(_metrics_json(r))}</pre></details>",
    ]
    if r.notes:
        parts.append("<h3>Notes</h3><ul>" + "".join(f"<li>{_e(n)}</li>" for n in r.notes) + "</ul>")
    return "".join(parts) + "</section>\n"


def _metrics_json(result: LabResult) -> str:
    return json.dumps(result.to_dict()["metrics"], indent=1)


CLAIM_MARKS = {True: "✔", False: "✘", None: "–"}


def claim_line(claim: dict) -> str:
    """'✔ text', '✘ text (numbers)' or '– text (does not apply to these parameters)'."""
    mark = CLAIM_MARKS[claim["holds"]]
    numbers = ", ".join(f"{k} = {format_cell(v)}" for k, v in claim["numbers"].items())
    if claim["holds"] is None:
        numbers = "does not apply to these parameters"
    return f"{mark} {claim['text']}" + (f" ({numbers})" if numbers else "")


def _claims(claims: list[dict]) -> str:
    if not claims:
        return ""
    items = "".join(
        f"<li class={'ok' if c['holds'] else 'err' if c['holds'] is False else 'na'}>"
        f"{_e(claim_line(c))}</li>"
        for c in claims
    )
    return f"<h3>Claims</h3><ul class=claims>{items}</ul>"


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
    "pre{background:#f6f6f6;padding:.5rem;overflow:auto}.ok{color:#060}.na{color:#666}"
    ".claims{list-style:none;padding-left:0}"
)
