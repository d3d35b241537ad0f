"""A finished sweep, summarised: the metric per grid point over seeds (median, min–max), how
often each claim held, and the plot a teacher shows — the metric against the swept parameter
with a min–max band (one grid parameter) or a heatmap of the median (two).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..labs.base import Table, spread
from ..labs.params import format_value
from .tasks import SweepError


def metric_values(record: dict, metric: str) -> list[float]:
    """The values of ``metric`` in one finished task, one per seed it covers: a declared metric
    (record['measures']) or a path into the lab's metrics ('test_accuracy.baseline')."""
    if metric in record["measures"]:
        value = record["measures"][metric]
    else:
        value = record["metrics"]
        for part in metric.split("."):
            if not isinstance(value, dict) or part not in value:
                raise SweepError(f"metric {metric!r}: no {part!r} in the lab's metrics")
            value = value[part]
    if value is None:
        return []
    values = value if isinstance(value, list) else [value]
    try:
        return [float(v) for v in values]
    except (TypeError, ValueError):
        raise SweepError(f"metric {metric!r} is not a number or a list of numbers") from None


def check_metric(lab, metric: str) -> None:
    """SweepError unless ``metric`` is declared by the lab or looks like a path into metrics."""
    declared = [m.name for m in lab.metrics]
    if metric not in declared and ("." not in metric and declared):
        raise SweepError(
            f"lab {lab.name!r} declares no metric {metric!r} (its metrics: {', '.join(declared)};"
            " or give a path into results.json's metrics, e.g. test_accuracy.baseline)"
        )


def summarise(records: list[dict], grid: dict, metrics: list[str]) -> Table:
    """One row per grid point: its values, each metric's median (min–max) over seeds and n,
    and for each claim on how many of the runs it held."""
    claims = records[0]["claims"] if records else []
    rows = []
    for point in _points(grid):
        mine = [r for r in records if r["point"] == point]
        row = [format_value(point[name]) for name in grid]
        for metric in metrics:
            values = np.array([v for r in mine for v in metric_values(r, metric)])
            row.append(_spread(values) if values.size else "—")
        for i in range(len(claims)):
            verdicts = [
                r["claims"][i]["holds"] for r in mine if r["claims"][i]["holds"] is not None
            ]
            row.append(f"{sum(verdicts)}/{len(verdicts)}" if verdicts else "n/a")
        rows.append(row)
    columns = [*grid, *(f"{m}: median (min–max), mean" for m in metrics)]
    columns += [f"claim {i + 1} held" for i in range(len(claims))]
    return Table("Sweep: each grid point over its seeds", columns, rows, name="sweep")


def _spread(values: np.ndarray) -> str:
    return f"{spread(values, fmt='.4g')}, mean {values.mean():.4g}"


def _points(grid: dict) -> list[dict]:
    import itertools

    return [dict(zip(grid, values)) for values in itertools.product(*grid.values())]


def plot(records: list[dict], grid: dict, metrics: list[str], path: Path, title: str) -> Path:
    """The metric against one grid parameter (median line, min–max band, one line per metric),
    or a heatmap of the first metric's median over two grid parameters."""
    from matplotlib.figure import Figure

    from ..viz._figure import save as save_figure

    names = list(grid)
    fig = Figure(figsize=(8.0, 4.4), layout="constrained")
    ax = fig.subplots()
    if len(names) == 2:
        rows, cols = grid[names[0]], grid[names[1]]
        medians = np.full((len(rows), len(cols)), np.nan)
        for i, a in enumerate(rows):
            for j, b in enumerate(cols):
                values = [v for r in records if r["point"] == {names[0]: a, names[1]: b}
                          for v in metric_values(r, metrics[0])]  # fmt: skip
                medians[i, j] = np.median(values) if values else np.nan
        image = ax.imshow(medians, cmap="viridis", aspect="auto", origin="lower")
        shade = image.norm(medians)  # dark text on the light end of viridis
        for (i, j), value in np.ndenumerate(medians):
            color = "k" if shade[i, j] > 0.6 else "w"
            ax.text(j, i, f"{value:.3g}", ha="center", va="center", color=color, fontsize=9)
        ax.set_xticks(range(len(cols)), [format_value(c) for c in cols])
        ax.set_yticks(range(len(rows)), [format_value(r) for r in rows])
        ax.set(xlabel=names[1], ylabel=names[0])
        fig.colorbar(image, ax=ax, label=f"{metrics[0]} (median over seeds)")
    else:
        first = names[0]
        xs = grid[first]
        numeric = all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in xs)
        positions = np.asarray(xs, dtype=float) if numeric else np.arange(len(xs))
        others = _points({k: v for k, v in grid.items() if k != first}) or [{}]
        for metric in metrics:
            for rest in others:
                stats = []
                for x in xs:
                    point = {first: x, **rest}
                    values = [v for r in records if r["point"] == point
                              for v in metric_values(r, metric)]  # fmt: skip
                    stats.append((np.median(values), min(values), max(values), np.mean(values))
                                 if values else (np.nan,) * 4)  # fmt: skip
                med, low, high, mean = np.array(stats).T
                label = (
                    ", ".join(
                        [metric] * (len(metrics) > 1)
                        + [f"{k} = {format_value(v)}" for k, v in rest.items()]
                    )
                    or metric
                )
                (line,) = ax.plot(positions, med, marker="o", label=label)
                ax.fill_between(positions, low, high, color=line.get_color(), alpha=0.2)
                ax.plot(positions, mean, linestyle=":", color=line.get_color())
        if not numeric:
            ax.set_xticks(positions, [format_value(x) for x in xs])
        elif len(xs) > 2 and min(xs) > 0 and max(xs) / min(xs) >= 100:
            ax.set_xscale("log")
        ax.set(xlabel=first, ylabel=metrics[0] if len(metrics) == 1 else "metric")
        ax.grid(alpha=0.3)
        ax.legend(
            fontsize="small",
            title="median; dotted: mean;\nband: min–max over seeds",
            loc="upper left",
            bbox_to_anchor=(1.01, 1.0),
        )
    ax.set_title(title)
    return save_figure(fig, path)


def load(out) -> dict:
    """The sweep.json of the sweep folder ``out``."""
    path = Path(out) / "sweep.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise SweepError(f"no sweep in '{out}': {e.strerror or e}") from None
    except ValueError:
        raise SweepError(f"'{path}' is not a sweep.json") from None
