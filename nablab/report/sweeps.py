"""A sweep (its sweep.json and the sweep.png beside it) as an HTML section or its own page."""

from __future__ import annotations

from pathlib import Path

from ..labs.base import Table
from ..labs.display import CSS, e, figure_html, table_html
from ..labs.params import format_value


def render_sweep_section(data: dict, out) -> str:
    """One sweep as an HTML section: grid, seeds, table, claims, plot and failed tasks."""
    grid = ", ".join(
        f"{k} ∈ {{{', '.join(map(format_value, v))}}}" for k, v in data["grid"].items()
    )
    seeds = data["seeds"]
    table = Table("Each grid point over its seeds", data["table"]["columns"], data["table"]["rows"])
    claims = "".join(f"<li>claim {i + 1}: {e(text)}</li>" for i, text in enumerate(data["claims"]))
    failed = "".join(
        f"<li class=err>{e(f['point'])}, seed {f['seed']}: {e(f['error'])}</li>"
        for f in data["failed"]
    )
    plot = Path(out) / "sweep.png"
    return (
        f'<section id="sweep-{e(data["lab"])}"><h2>Sweep: {e(data["lab"])}</h2>'
        f"<p class=meta>{e(grid)} · seeds {seeds[0]}–{seeds[-1]} ({len(seeds)})"
        f"{' · quick' if data['quick'] else ''} · fixed {e(data['fixed'] or 'nothing')}"
        f" · {data['tasks']} tasks on {e(data['backend'])}</p>"
        f"{table_html(table)}<ul class=claims>{claims}</ul>"
        f"{figure_html(plot, out) if plot.exists() else ''}"
        f"{'<h3>Failed tasks</h3><ul>' + failed + '</ul>' if failed else ''}</section>\n"
    )


def render_sweep_page(data: dict, out) -> str:
    """A sweep's own self-contained HTML page."""
    title = f"nablab sweep: {data['lab']}"
    return (
        f"<!doctype html>\n<html lang=en><head><meta charset=utf-8><title>{e(title)}</title>"
        f"<style>{CSS}</style></head><body>\n{render_sweep_section(data, out)}</body></html>\n"
    )
