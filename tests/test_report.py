"""The HTML report and results.json: self-contained, escaped, every figure embedded."""

import base64
import json
import os
import re

import numpy as np
import pytest

from nablab.diagnostics import Finding
from nablab.labs import Lab, LabConfig, LabResult, Table
from nablab.report import format_cell, render_html, run_lab, write_atomic
from nablab.viz import curves

PNG = b"\x89PNG\r\n\x1a\n"


def _lab(figures=2):
    def run(config):
        paths = [
            curves({"loss": [3.0, 2.0, 1.0 + i]}, config.out / f"fig{i}.png")
            for i in range(figures)
        ]
        return LabResult(
            question="Is <b>this</b> escaped?",
            setting="a & b",
            tables=[Table("t", ["name", "ours"], [["w", np.float32(0.5)], ["b", None]])],
            figures=paths,
            answer="yes",
            metrics={
                "array": np.arange(3),
                "scalar": np.float64(1.5),
                "pair": (1, 2),
                "findings": [Finding("dead-units", "act1", "m", {"units": np.arange(2)})],
            },
            notes=["note one"],
        )

    return Lab(name="fake-lab", summary="a fake lab", source="tests", run=run)


def test_report_embeds_every_image_and_references_no_file(tmp_path):
    run = run_lab(_lab(), LabConfig(out=tmp_path / "fake-lab", progress=False))
    page = render_html([run])
    images = re.findall(r'<img[^>]*src="([^"]+)"', page)
    assert len(images) == 2
    for src in images:
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1]).startswith(PNG)
    assert "<b>this</b>" not in page and "Is &lt;b&gt;this&lt;/b&gt; escaped?" in page
    assert "a &amp; b" in page and "note one" in page and "missing figure" not in page
    assert "<summary>metrics</summary>" in page and "&quot;scalar&quot;: 1.5" in page


def test_report_names_a_missing_figure(tmp_path):
    def run(config):
        return LabResult("q", "s", [], [config.out / "never-written.png"], "a", {})

    lab_run = run_lab(Lab("x", "s", "src", run), LabConfig(out=tmp_path, progress=False))
    assert "missing figure" in render_html([lab_run]) and "never-written.png" in render_html(
        [lab_run]
    )


def test_results_json_is_plain_json_with_relative_figures(tmp_path):
    out = tmp_path / "fake-lab"
    run_lab(_lab(), LabConfig(seed=4, out=out, progress=False))
    results = json.loads((out / "results.json").read_text())
    assert results["metrics"] == {
        "array": [0, 1, 2],
        "scalar": 1.5,
        "pair": [1, 2],
        "findings": [
            {"kind": "dead-units", "layer": "act1", "message": "m", "evidence": {"units": [0, 1]}}
        ],
    }
    assert results["figures"] == ["fig0.png", "fig1.png"]
    assert results["seed"] == 4 and results["question"] == "Is <b>this</b> escaped?"


def test_lab_error_is_recorded_with_catch_and_raised_without(tmp_path):
    def broken(config):
        raise ValueError("bad lab")

    lab = Lab("broken", "s", "src", broken)
    config = LabConfig(out=tmp_path, progress=False)
    with pytest.raises(ValueError, match="bad lab"):
        run_lab(lab, config)
    caught = run_lab(lab, config, catch=True)
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
