"""Write docs/labs.md from the labs' own declarations (run after changing a lab):

    python docs/build_labs.py

tests/test_docs.py fails when docs/labs.md is out of date.
"""

from __future__ import annotations

import sys
from pathlib import Path

LABS_MD = Path(__file__).with_name("labs.md")


def _cell(value) -> str:
    from nablab.labs.params import format_value

    return format_value(value).replace("|", "\\|")


def _text(text, lab) -> str:
    from nablab.labs.runner import render_partial

    return render_partial(text, {p.name: p.value(quick=False) for p in lab.params})


def markdown() -> str:
    """The catalogue of every lab: question, parameters, claims, published figures, timings."""
    import nablab.labs as labs
    from nablab.labs.base import format_seconds

    lines = [
        "# The labs",
        "",
        "Written by `python docs/build_labs.py` from each lab's declaration "
        "(`nablab/labs/<lab>.py`); `nablab show LAB` prints the same for one lab.",
        "",
        "Run one with `nablab run LAB`, change a parameter with `--set NAME=VALUE` "
        "(repeatable; a list as `[2,3]` or `2,3`), `--quick` for the fast variant "
        "(written to `runs/LAB-quick/`), `--iterations N` for the main training length, "
        "`--check` to exit 1 when a claim does not hold. From Python: "
        '`nablab.labs.run("LAB", quick=False, seed=0, **parameters)`.',
        "",
        "Seeding: `--seed s` calls `nablab.manual_seed(s)`; a lab that repeats over seeds "
        "runs s, s + 1, …, and run k draws its data and its model from two independent "
        "streams of `SeedSequence(k)`.",
        "",
    ]
    for name in sorted(labs.LABS):
        lab = labs.get_lab(name)
        timing = lab.timing()
        lines += [f"## {name}", "", f"{lab.summary}. *Source: {lab.source}.*", ""]
        lines += [f"**Question.** {lab.question}", ""]
        if {"full", "quick"} <= set(timing):
            lines += [
                f"Measured time: full {format_seconds(timing['full'])}, "
                f"quick {format_seconds(timing['quick'])} "
                "(benchmarks/lab_times.py).",
                "",
            ]
        if lab.params:
            lines += [
                "| parameter | default | quick | accepts | meaning |",
                "|---|---|---|---|---|",
            ]
            for p in lab.params:
                full, quick = p.value(quick=False), p.value(quick=True)
                note = " (`--iterations`)" if p.name == lab.length else ""
                unit = f" {p.unit}" if p.unit else ""
                shown = _cell(quick) if quick != full else "="
                cells = [f"`{p.name}`{note}", _cell(full) + unit, shown, p.expects(), p.help]
                lines.append("| " + " | ".join(cells) + " |")
            lines.append("")
        if lab.claims:
            lines += ["Claims (checked on every run, printed ✔/✘):", ""]
            lines += [f"- {_text(c.text, lab)}" for c in lab.claims] + [""]
        if lab.published:
            lines += ["Published figures shown beside ours:", ""]
            for q in lab.published:
                where = f"{q.column}" + (f", row {q.row}" if q.row is not None else "")
                lines.append(f"- {_cell(q.value)} ({where}) — {q.source}")
            lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    LABS_MD.write_text(markdown(), encoding="utf-8")
    print(f"wrote {LABS_MD}")
