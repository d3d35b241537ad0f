"""The Monitor and its findings as HTML for a notebook: severity highlighted, cause and fix."""

import nablab as nl
from nablab import nn
from nablab.diagnostics import Finding, Monitor
from nablab.diagnostics.display import findings_html, monitor_html


def test_findings_table_highlights_severity_escapes_and_puts_errors_first():
    found = [
        Finding("loss-oscillating", "(loss)", "the loss <jumps>", {"swings": 12, "ratio": 0.123456},
                "warning", "lr too large", "halve the lr"),
        Finding("zero-gradients", "fc1", "all zero", {"layers": list(range(10))}, "error",
                "dead ReLUs", "init biases at 0"),
    ]  # fmt: skip
    page = findings_html(found)
    assert page.count("<tr>") == 3 and "<th>cause</th>" in page and "<th>fix</th>" in page
    assert page.index("zero-gradients") < page.index("loss-oscillating")  # errors first
    assert "background:#fde2e1" in page and "background:#fff1cc" in page
    assert "the loss &lt;jumps&gt;" in page and "<jumps>" not in page
    assert "ratio = 0.123" in page and "… (10 values)" in page
    assert "No findings." in findings_html([])


def test_a_monitor_of_dead_relus_shows_its_norms_and_findings():
    model = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 1))
    for p in model.parameters():
        if p.ndim == 1:
            nn.init.constant_(p, -8.0)
    monitor = Monitor(model)
    X, y = nl.data.moons(n_samples=200, seed=0)
    nn.BCEWithLogitsLoss()(model(X), y).backward()
    monitor.step()
    page = monitor_html(monitor)
    assert "‖∇W‖, last sampled step" in page and "2 weight layers" in page
    assert "dead-units" in page and "zero-gradients" in page and ">error<" in page
    assert monitor._repr_html_() == page  # what Jupyter shows for the Monitor
    (finding, *_) = monitor.findings()
    assert finding._repr_html_() == findings_html([finding])
