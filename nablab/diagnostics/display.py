"""The Monitor and its findings as HTML, for a notebook: a table of findings with the severity
highlighted, the evidence, the cause and the fix, under the last sampled step's gradient norms.

The Monitor and Finding classes show themselves with these (their ``_repr_html_``).
"""

from __future__ import annotations

import html

_SEVERITY_STYLE = {
    "error": "background:#fde2e1;color:#8a1010;font-weight:600",
    "warning": "background:#fff1cc;color:#6b4b00;font-weight:600",
}
_CSS = (
    "<style>.nablab-monitor table{border-collapse:collapse;font-size:.9em;margin:.4rem 0}"
    ".nablab-monitor td,.nablab-monitor th{border:1px solid #ccc;padding:.25rem .5rem;"
    "text-align:left;vertical-align:top}.nablab-monitor th{background:#f3f3f3}"
    ".nablab-monitor .num{text-align:right;font-family:monospace}</style>"
)


def _e(text) -> str:
    return html.escape(str(text), quote=True)


def _evidence(evidence: dict) -> str:
    def number(value):
        if isinstance(value, float):
            return f"{value:.3g}"
        if isinstance(value, (list, tuple)) and len(value) > 6:
            return f"[{', '.join(map(number, value[:6]))}, … ({len(value)} values)]"
        return str(value)

    return "<br>".join(f"{_e(k)} = {_e(number(v))}" for k, v in evidence.items())


def findings_html(findings) -> str:
    """A list of Findings as one HTML table: severity (highlighted), kind, layer, what is
    wrong, its evidence, the likely cause and the fix; "No findings." when empty."""
    if not findings:
        return f"<div class=nablab-monitor>{_CSS}<p>No findings.</p></div>"
    head = "".join(
        f"<th>{h}</th>"
        for h in ("severity", "finding", "layer", "what", "evidence", "cause", "fix")
    )
    rows = "".join(
        f"<tr><td style='{_SEVERITY_STYLE.get(f.severity, '')}'>{_e(f.severity)}</td>"
        f"<td><code>{_e(f.kind)}</code></td><td>{_e(f.layer)}</td><td>{_e(f.message)}</td>"
        f"<td>{_evidence(f.evidence)}</td><td>{_e(f.cause)}</td><td>{_e(f.fix)}</td></tr>"
        for f in sorted(findings, key=lambda f: f.severity != "error")
    )
    return f"<div class=nablab-monitor>{_CSS}<table><tr>{head}</tr>{rows}</table></div>"


def monitor_html(monitor) -> str:
    """A Monitor: what it watched, the last sampled step's ‖∇W‖ per layer, and its findings."""
    history = monitor.history
    latest = history[-1] if history else {}
    summary = (
        f"<p><b>Monitor</b>: {len(monitor.layers)} weight layers, {monitor.steps} steps "
        f"({len(history)} sampled, every {monitor.every})</p>"
    )
    norms = ""
    if latest:
        cells = "".join(
            f"<tr><td>{_e(name)}</td><td class=num>{norm:.3e}</td></tr>"
            for name, norm in latest.items()
        )
        norms = f"<table><tr><th>layer</th><th>‖∇W‖, last sampled step</th></tr>{cells}</table>"
    return (
        f"<div class=nablab-monitor>{_CSS}{summary}{norms}</div>{findings_html(monitor.findings())}"
    )
