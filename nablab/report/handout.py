"""The report as a handout: one self-contained HTML page (every figure embedded) that a teacher
can hand out or print to PDF.

The labs come in the course's order (the sections of the lab specification, LABS.md); a
summary at the top gives each lab's question, its answer in one line and its claims ✔/✘; each
lab's section is answer-first, then its tables and figures in a grid. A quick run carries a
banner; a failed lab is one line with its error, the traceback folded away. Everything that
depends on when the page was made or how long a lab took is in ``<span class=time>``, so a page
rebuilt from the results (``load_report``) is the same page but for those.
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path

from ..labs.base import write_atomic
from ..labs.display import CLAIM_CLASS, CLAIM_MARKS, CSS, e, one_line, result_body
from ..labs.runner import RESULTS_FILE, nablab_version
from ..sweep import load as load_sweep
from .run import LabInfo, LabRun, read_result
from .sweeps import render_sweep_section

MANIFEST = "report.json"
PAGE = "report.html"

COURSE: list[tuple[str, list[str]]] = [
    ("Feed-forward basics", ["xor-relu", "autodiff-xor", "vanishing-chain", "moons-mlp",
                             "vanishing-mlp", "dead-relu", "zero-init", "bias-penalty",
                             "backprop-by-hand", "regularization"]),
    ("Generalization and numerical stability",
     ["poly-fit", "weight-decay", "gradient-explosion", "activations"]),
    ("Recurrent networks", ["rnn-lm"]),
    ("Optimization", ["optimizers", "init-schemes"]),
    ("Distribution shift and normalization", ["distribution-shift", "normalization"]),
]  # fmt: skip
OTHER = "Other labs"


def course_parts(runs: list[LabRun]) -> list[tuple[str, list[LabRun]]]:
    """The runs grouped by the course's sections, in its order; labs it does not name last."""
    by_name = {run.lab.name: run for run in runs}
    named = {name for _, names in COURSE for name in names}
    parts = [(title, [by_name[n] for n in names if n in by_name]) for title, names in COURSE]
    parts.append((OTHER, [run for run in runs if run.lab.name not in named]))
    return [(title, part) for title, part in parts if part]


def render_html(runs: list[LabRun], title: str = "nablab report", sweeps=()) -> str:
    """The handout of ``runs`` (and of ``sweeps``: (sweep.json data, folder) pairs)."""
    parts = course_parts(runs)
    stamp = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    seeds = sorted({run.seed for run in runs})
    meta = (
        f"{len(runs)} labs · seed {', '.join(map(str, seeds))} · nablab {e(nablab_version())} "
        f"· <span class=time>written {stamp}</span>"
    )
    banner = ""
    if any(run.quick for run in runs):
        banner = (
            "<p class=banner><b>Quick run.</b> Every lab ran its fast variant (fewer steps "
            "and seeds than its defaults): the numbers show the method, not the lab's results, "
            "and a claim may not hold as it does in a full run (nablab report without "
            "--quick).</p>"
        )
    body = "".join(
        f"<h2 class=part>{e(part)}</h2>" + "".join(_section(run) for run in part_runs)
        for part, part_runs in parts
    )
    body += "".join(render_sweep_section(data, out) for data, out in sweeps)
    return (
        "<!doctype html>\n<html lang=en><head><meta charset=utf-8>"
        '<meta name=viewport content="width=device-width, initial-scale=1">'
        f"<title>{e(title)}</title><style>{CSS}{_PAGE_CSS}</style></head><body>\n"
        f"<header><h1>{e(title)}</h1><p class=meta>{meta}</p>{banner}</header>\n"
        f"{_summary(parts)}\n<main>{body}</main></body></html>\n"
    )


def _summary(parts) -> str:
    rows = []
    for part, part_runs in parts:
        rows.append(f"<tr class=part><th colspan=4>{e(part)}</th></tr>")
        for run in part_runs:
            name = f'<a href="#{e(run.lab.name)}">{e(run.lab.name)}</a>'
            if run.result is None:
                cells = f"<td>{e(run.lab.summary)}</td><td class=err>failed: {e(_error_line(run))}"
                rows.append(f"<tr><td>{name}</td>{cells}</td><td class=err>✘ failed</td></tr>")
                continue
            r = run.result
            rows.append(
                f"<tr><td>{name}</td><td>{e(r.question)}</td><td>{e(one_line(r.answer))}</td>"
                f"<td class=tally>{_tally_html(r.claims)}</td></tr>"
            )
    head = "<tr><th>lab</th><th>question</th><th>answer</th><th>claims</th></tr>"
    return f"<nav><h2>Summary</h2><table class=summary>{head}{''.join(rows)}</table></nav>"


def _tally_html(claims: list[dict]) -> str:
    marks = [(CLAIM_CLASS[value], mark, sum(c["holds"] is value for c in claims))
             for value, mark in CLAIM_MARKS.items()]  # fmt: skip
    return " ".join(f"<span class={cls}>{mark} {n}</span>" for cls, mark, n in marks if n) or "–"


def _section(run: LabRun) -> str:
    lab = run.lab
    head = (
        f'<section id="{e(lab.name)}"><h3>{e(lab.name)} — {e(lab.summary)}</h3>'
        f"<p class=meta>{e(lab.source)} · seed {run.seed}{' · quick' if run.quick else ''}"
        f" · <span class=time>{run.seconds:.1f} s</span></p>"
    )
    if run.result is None:
        return (
            f"{head}<p class=err>The lab failed: {e(_error_line(run))}</p>"
            f"<details><summary>traceback</summary><pre>{e(run.error or '')}</pre></details>"
            "</section>\n"
        )
    metrics = json.dumps(run.result.to_dict()["metrics"], indent=1)
    return (
        f"{head}{result_body(run.result)}"
        f"<details class=metrics><summary>metrics</summary><pre>{e(metrics)}</pre></details>"
        "</section>\n"
    )


def _error_line(run: LabRun) -> str:
    lines = [line for line in (run.error or "").strip().splitlines() if line.strip()]
    return lines[-1].strip() if lines else "unknown error"


def write_report(runs: list[LabRun], out, title: str = "nablab report", sweeps=()) -> Path:
    """Write ``out``/report.html and the manifest report.json that ``load_report`` reads."""
    out = Path(out)
    manifest = {
        "title": title,
        "labs": [
            {"lab": run.lab.name, "summary": run.lab.summary, "source": run.lab.source,
             "folder": _relative(run.out, out), "seed": run.seed, "quick": run.quick,
             "seconds": round(run.seconds, 3), "error": run.error}
            for run in runs
        ],
        "sweeps": [str(Path(folder).resolve()) for _, folder in sweeps],
    }  # fmt: skip
    write_atomic(out / MANIFEST, json.dumps(manifest, indent=2) + "\n")
    return write_atomic(out / PAGE, render_html(runs, title, sweeps))


def load_report(folder) -> tuple[str, list[LabRun], list[tuple[dict, Path]]]:
    """(title, runs, sweeps) of the report written into ``folder``, from its report.json and
    each lab's results.json, without running anything. A folder without report.json (e.g.
    runs/ after `nablab run` of several labs) gives every LAB/results.json under it."""
    folder = Path(folder)
    manifest_path = folder / MANIFEST
    if manifest_path.exists():
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    else:
        found = sorted(folder.glob(f"*/{RESULTS_FILE}"))
        if not found:
            raise FileNotFoundError(
                f"no {MANIFEST} and no LAB/{RESULTS_FILE} in '{folder}': expected the folder "
                "of a `nablab report` or of `nablab run` results"
            )
        manifest = {"title": "nablab report", "sweeps": [],
                    "labs": [{"folder": p.parent.name, "error": None} for p in found]}  # fmt: skip
    runs = [_load_run(folder, entry) for entry in manifest["labs"]]
    sweeps = [(load_sweep(Path(s)), Path(s)) for s in manifest.get("sweeps", [])]
    return manifest["title"], runs, sweeps


def _load_run(folder: Path, entry: dict) -> LabRun:
    out = folder / entry["folder"]
    if entry.get("error"):
        info = LabInfo(entry["lab"], entry["summary"], entry["source"])
        return LabRun(info, None, entry["seconds"], entry["error"], entry["seed"],
                      entry["quick"], out)  # fmt: skip
    result = read_result(out)
    info = LabInfo(result.lab, result.summary, result.source)
    return LabRun(info, result, result.seconds, None, result.seed, result.quick, out)


def _relative(path, base: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(base.resolve()))
    except ValueError:
        return str(Path(path).resolve())


_PAGE_CSS = (
    "body{max-width:76rem;margin:1.5rem auto;padding:0 1rem}"
    "h1{margin-bottom:.2rem}h2.part{margin-top:2.5rem;border-bottom:2px solid #444}"
    "section{border-top:1px solid #ccc;margin-top:1.5rem}"
    ".banner{background:#fff4d6;border:1px solid #e0b040;padding:.5rem .8rem}"
    "table.summary{width:100%}table.summary td,table.summary th{text-align:left;"
    "vertical-align:top}"
    "table.summary tr.part th{text-align:left;background:#e8e8e8}"
    ".tally,table.summary td:first-child{white-space:nowrap}"
    "@page{size:A4;margin:1.4cm}"
    "@media print{body{max-width:none;margin:0;padding:0;font-size:10pt}"
    "h2.part{break-before:page}nav h2,header+nav{break-before:avoid}"
    "section{break-inside:auto}figure,table,.answer{break-inside:avoid}"
    "details.metrics{display:none}a{color:inherit;text-decoration:none}"
    ".grid{grid-template-columns:repeat(2,1fr)}}"
)
