"""The HTML report and results.json: self-contained, escaped, every figure embedded."""

import base64
import json
import os
import re

import numpy as np
import pytest

from nablab.diagnostics import Finding
from nablab.labs import LABS, Claim, Outcome, Table, lab
from nablab.labs.base import write_atomic
from nablab.report import claim_line, format_cell, render_html, run_lab
from nablab.viz import curves, save

PNG = b"\x89PNG\r\n\x1a\n"


def _declare(name, experiment, **declaration):
    options = dict(summary="a fake lab", source="tests", question="Is <b>this</b> escaped?",
                   setting="a & b", answer="yes")  # fmt: skip
    options.update(declaration)
    lab(name, **options)(experiment)
    return LABS.pop(name)  # a Lab object, not left in the registry


def _lab(figures=2):
    def experiment(p, ctx):
        paths = [
            save(curves({"loss": [3.0, 2.0, 1.0 + i]}), ctx.out / f"fig{i}.png")
            for i in range(figures)
        ]
        return Outcome(
            tables=[Table("t", ["name", "ours"], [["w", np.float32(0.5)], ["b", None]])],
            figures=paths,
            metrics={
                "array": np.arange(3),
                "scalar": np.float64(1.5),
                "pair": (1, 2),
                "findings": [Finding("dead-units", "act1", "m", {"units": np.arange(2)})],
            },
            notes=["note one"],
        )

    claims = [
        Claim("<i>holds</i>", lambda m, p: True),
        Claim("fails", lambda m, p: (False, {"n": 2})),
    ]
    return _declare("fake-lab", experiment, claims=claims)


def test_report_embeds_every_image_and_references_no_file(tmp_path):
    run = run_lab(_lab(), out=tmp_path / "fake-lab")
    page = render_html([run])
    images = re.findall(r'<img[^>]*src="([^"]+)"', page)
    assert len(images) == 2
    for src in images:
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1]).startswith(PNG)
    assert "<b>this</b>" not in page and "Is &lt;b&gt;this&lt;/b&gt; escaped?" in page
    assert "a &amp; b" in page and "note one" in page and "missing figure" not in page
    assert "<summary>metrics</summary>" in page and "&quot;scalar&quot;: 1.5" in page
    assert "<li class=ok>✔ &lt;i&gt;holds&lt;/i&gt;</li>" in page
    assert "<li class=err>✘ fails (n = 2)</li>" in page


def test_report_names_a_missing_figure(tmp_path):
    def experiment(p, ctx):
        return Outcome(figures=[ctx.out / "never-written.png"])

    lab_run = run_lab(_declare("x", experiment), out=tmp_path)
    assert "missing figure" in render_html([lab_run]) and "never-written.png" in render_html(
        [lab_run]
    )


def test_results_json_is_plain_json_with_relative_figures(tmp_path):
    out = tmp_path / "fake-lab"
    run_lab(_lab(), seed=4, out=out)
    results = json.loads((out / "results.json").read_text())
    assert results["metrics"] == {
        "array": [0, 1, 2],
        "scalar": 1.5,
        "pair": [1, 2],
        "findings": [
            {
                "kind": "dead-units",
                "layer": "act1",
                "message": "m",
                "evidence": {"units": [0, 1]},
                "severity": "warning",
                "cause": "",
                "fix": "",
                "units": [],
            }
        ],
    }
    assert results["figures"] == ["fig0.png", "fig1.png"]
    assert results["seed"] == 4 and results["question"] == "Is <b>this</b> escaped?"


def test_lab_error_is_recorded_with_catch_and_raised_without(tmp_path):
    def broken(p, ctx):
        raise ValueError("bad lab")

    lab = _declare("broken", broken)
    with pytest.raises(ValueError, match="bad lab"):
        run_lab(lab, out=tmp_path)
    caught = run_lab(lab, out=tmp_path, catch=True)
    assert caught.result is None and "ValueError: bad lab" in caught.error
    assert "bad lab" in render_html([caught])
    assert not (tmp_path / "results.json").exists()


def test_table_rejects_a_row_of_the_wrong_length():
    with pytest.raises(ValueError, match="row 1 has 1 cells, expected 2"):
        Table("t", ["a", "b"], [[1, 2], [3]])


@pytest.mark.parametrize(
    "value, text",
    [(None, ""), (0.123456, "0.1235"), (6.9e-11, "6.9e-11"), (np.float32(0.25), "0.25"),
     (3, "3"), ("x", "x"), (91.0, "91")],
)  # fmt: skip
def test_format_cell(value, text):
    assert format_cell(value) == text


def test_write_atomic_replaces_whole_file(tmp_path):
    path = tmp_path / "r.json"
    write_atomic(path, "old")
    write_atomic(path, "new")
    assert path.read_text() == "new" and sorted(p.name for p in tmp_path.iterdir()) == ["r.json"]
    umask = os.umask(0o022)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask


def test_claim_lines():
    assert claim_line({"text": "t", "holds": True, "numbers": {}}) == "✔ t"
    assert (
        claim_line({"text": "t", "holds": False, "numbers": {"a": 0.123456}}) == "✘ t (a = 0.1235)"
    )
    assert claim_line({"text": "t", "holds": None, "numbers": {}}) == (
        "– t (does not apply to these parameters)"
    )
