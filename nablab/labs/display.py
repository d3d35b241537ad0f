"""A lab's result and its tables as HTML: the pieces a notebook shows (``_repr_html_``) and the
report's handout is made of, so both read the same. Every figure is embedded as a base64 PNG.
"""

from __future__ import annotations

import base64
import html
import re
from pathlib import Path

import numpy as np

CLAIM_MARKS = {True: "✔", False: "✘", None: "–"}
CLAIM_CLASS = {True: "ok", False: "err", None: "na"}


def e(text) -> str:
    """``text`` escaped for HTML (quotes too)."""
    return html.escape(str(text), quote=True)


def format_cell(value) -> str:
    """A table cell as text: floats to 4 significant digits, None as an empty cell."""
    if value is None:
        return ""
    if isinstance(value, (float, np.floating)):
        return f"{value:.4g}"
    return str(value)


def claim_line(claim: dict) -> str:
    """'✔ text', '✘ text (numbers)' or '– text (does not apply to these parameters)'."""
    mark = CLAIM_MARKS[claim["holds"]]
    numbers = ", ".join(f"{k} = {format_cell(v)}" for k, v in claim["numbers"].items())
    if claim["holds"] is None:
        numbers = "does not apply to these parameters"
    return f"{mark} {claim['text']}" + (f" ({numbers})" if numbers else "")


def claims_tally(claims: list[dict]) -> str:
    """'✔ 3 ✘ 1' (and '– n' for claims that do not apply); '' without claims."""
    counts = [
        (mark, sum(c["holds"] is value for c in claims)) for value, mark in CLAIM_MARKS.items()
    ]
    return " ".join(f"{mark} {n}" for mark, n in counts if n)


def one_line(text: str, limit: int = 220) -> str:
    """The first sentence of ``text`` (cut at ``limit`` characters with an ellipsis)."""
    first = re.split(r"(?<=[.!?])\s+(?=[A-Z(])", text.strip(), maxsplit=1)[0]
    return first if len(first) <= limit else first[: limit - 1].rstrip() + "…"


def table_html(table) -> str:
    """One Table as an HTML table with its title as caption (numbers right-aligned)."""
    head = "".join(f"<th>{e(c)}</th>" for c in table.columns)
    body = "".join("<tr>" + "".join(_cell(v) for v in row) + "</tr>" for row in table.rows)
    wide = " class=wide" if len(table.columns) > 4 else ""
    return f"<table{wide}><caption>{e(table.title)}</caption><tr>{head}</tr>{body}</table>"


def _cell(value) -> str:
    """A <td>: numbers right-aligned (the CSS default), prose (a long string) left-aligned."""
    text = format_cell(value)
    prose = isinstance(value, str) and len(text) > 24 and " " in text
    return f"<td class=text>{e(text)}</td>" if prose else f"<td>{e(text)}</td>"


def figure_html(path: Path, out: Path) -> str:
    """The PNG at ``path`` (relative paths: under ``out``) embedded, captioned with its name."""
    path = Path(path)
    if not path.is_absolute() and not path.exists():
        path = Path(out) / path
    if not path.exists():
        return f"<p class=err>missing figure: {e(str(path))}</p>"
    png = path.read_bytes()
    data = base64.b64encode(png).decode("ascii")
    wide = " class=wide" if _png_width(png) >= WIDE_PIXELS else ""
    return (
        f'<figure{wide}><img alt="{e(path.name)}" src="data:image/png;base64,{data}">'
        f"<figcaption>{e(path.name)}</figcaption></figure>"
    )


WIDE_PIXELS = 1000  # a figure this wide (several panels) spans the whole grid row


def _png_width(png: bytes) -> int:
    """The width in pixels from a PNG's IHDR chunk (0 if the bytes are not a PNG)."""
    return int.from_bytes(png[16:20], "big") if png[:8] == b"\x89PNG\r\n\x1a\n" else 0


def claims_html(claims: list[dict]) -> str:
    """The claims as a list, each marked ✔ (holds), ✘ (does not) or – (does not apply)."""
    if not claims:
        return ""
    items = "".join(f"<li class={CLAIM_CLASS[c['holds']]}>{e(claim_line(c))}</li>" for c in claims)
    return f"<ul class=claims>{items}</ul>"


def result_body(result) -> str:
    """A lab result answer-first: the question, the answer, the claims, the setting, then its
    tables and figures in a grid, then the notes."""
    grid = "".join(table_html(t) for t in result.tables) + "".join(
        figure_html(Path(f), result.out) for f in result.figures
    )
    notes = "".join(f"<li>{e(n)}</li>" for n in result.notes)
    return (
        f"<p class=question><b>Question.</b> {e(result.question)}</p>"
        f"<div class=answer><b>Answer.</b> {e(result.answer)}</div>"
        f"{claims_html(result.claims)}"
        f"<p class=setting><b>Setting.</b> {e(result.setting)}</p>"
        f"<div class=grid>{grid}</div>"
        + (f"<details><summary>Notes ({len(result.notes)})</summary><ul>{notes}</ul></details>"
           if notes else "")
    )  # fmt: skip


def result_html(result) -> str:
    """A LabResult for a notebook cell: a heading, the body and the style it needs."""
    quick = " · quick" if result.quick else ""
    return (
        f"<div class=nablab><style>{CSS}</style>"
        f"<h3>{e(result.lab)} — {e(result.summary)}</h3>"
        f"<p class=meta>{e(result.source)} · seed {result.seed}{quick}</p>"
        f"{result_body(result)}</div>"
    )


CSS = (
    ".nablab,body{font-family:system-ui,sans-serif;line-height:1.45;color:#222}"
    ".nablab table,body table{border-collapse:collapse;margin:.5rem 0;font-size:.9em}"
    ".nablab caption,body caption{font-weight:600;text-align:left;caption-side:top}"
    ".nablab td,.nablab th,body td,body th{border:1px solid #ccc;padding:.2rem .5rem;"
    "text-align:right}.nablab th,body th{background:#f3f3f3}"
    ".nablab td:first-child,body td:first-child,td.text{text-align:left}"
    ".nablab img,body img{max-width:100%}figure{margin:0}"
    "figcaption,.meta{color:#666;font-size:.85em}.err{color:#b00}.ok{color:#060}.na{color:#666}"
    ".claims{list-style:none;padding-left:0}"
    ".answer{background:#eef6ee;border-left:4px solid #4a4;padding:.5rem .8rem;margin:.5rem 0}"
    ".grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(30rem,1fr));gap:1rem;"
    "align-items:start}.grid>.wide{grid-column:1/-1}.grid>table{justify-self:start}"
    "pre{background:#f6f6f6;padding:.5rem;overflow:auto;font-size:.85em}"
)
