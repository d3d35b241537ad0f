"""The `nablab` command, driven through cli.main with a tiny lab registered by the test."""

import json

import pytest

from nablab import cli
from nablab.labs import LABS, LabResult, Table, register, track
from nablab.viz import curves

PNG = b"\x89PNG\r\n\x1a\n"


def _tiny_lab(config):
    rng = config.rng()
    steps = 3 if config.quick else 10
    draws = track(rng.random(steps), total=steps, description="drawing", config=config)
    losses = [float(v) for v in draws]
    figure = curves({"loss": losses}, config.out / "loss.png")
    return LabResult(
        question="Does the tiny lab run [at all]?",
        setting="Random numbers, no model.",
        tables=[Table("draws", ["name", "ours", "published"], [["first", losses[0], None]])],
        figures=[figure],
        answer="Yes.",
        metrics={"steps": steps, "first": losses[0]},
        notes=["a note"],
    )


@pytest.fixture
def tiny_lab():
    register("tiny-test-lab", summary="a lab for the CLI tests", source="tests")(_tiny_lab)
    yield "tiny-test-lab"
    LABS.pop("tiny-test-lab", None)


def test_labs_lists_registered_labs_with_summaries(tiny_lab, capsys):
    assert cli.main(["labs"]) == 0
    out = capsys.readouterr().out
    assert "tiny-test-lab" in out and "a lab for the CLI tests" in out


def test_run_prints_tables_and_writes_results_and_png(tiny_lab, tmp_path, capsys):
    out = tmp_path / "deep" / "dir"
    code = cli.main(["run", tiny_lab, "--quick", "--seed", "3", "--out", str(out), "--no-progress"])
    assert code == 0
    printed = capsys.readouterr().out
    assert "draws" in printed and "Yes." in printed and "a note" in printed
    assert "[at all]" in printed  # brackets are text, not rich markup
    results = json.loads((out / "results.json").read_text())
    assert results["lab"] == tiny_lab and results["seed"] == 3 and results["quick"] is True
    assert results["metrics"]["steps"] == 3
    assert results["tables"][0]["rows"][0][2] is None
    assert results["figures"] == ["loss.png"]  # relative to the output folder
    assert (out / "loss.png").read_bytes().startswith(PNG)
    assert not list(out.glob(".*.tmp"))


def test_same_seed_same_results(tiny_lab, tmp_path):
    for name in ("a", "b"):
        cli.main(["run", tiny_lab, "--seed", "7", "--out", str(tmp_path / name), "--no-progress"])
    a, b = (json.loads((tmp_path / n / "results.json").read_text()) for n in ("a", "b"))
    assert a["metrics"] == b["metrics"]


def test_run_default_out_is_runs_lab(tiny_lab, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["run", tiny_lab, "--quick"]) == 0  # with the progress bar
    assert (tmp_path / "runs" / tiny_lab / "results.json").exists()


def test_unknown_lab_is_one_line_listing_labs_exit_2(tiny_lab, capsys):
    assert cli.main(["run", "no-such-lab"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "unknown lab 'no-such-lab'" in err and tiny_lab in err


@pytest.mark.parametrize("seed", ["-1", "abc"])
def test_bad_seed_is_one_line_error(tiny_lab, seed, capsys):
    assert cli.main(["run", tiny_lab, "--seed", seed]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "--seed" in err and "non-negative integer" in err and repr(seed) in err


def test_unwritable_out_is_one_line_error(tiny_lab, tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    assert cli.main(["run", tiny_lab, "--out", str(blocker / "sub"), "--no-progress"]) != 0
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "cannot write to output folder" in err and "a-file" in err


def test_missing_command_and_unknown_command_exit_2(capsys):
    assert cli.main([]) == 2
    assert cli.main(["frobnicate"]) == 2
    assert "invalid choice" in capsys.readouterr().err


def test_help_exits_0(capsys):
    assert cli.main(["--help"]) == 0
    assert "report" in capsys.readouterr().out


def test_keyboard_interrupt_leaves_no_results_file(tmp_path, capsys):
    def interrupted(config):
        (config.out / "partial.png").write_bytes(PNG)
        raise KeyboardInterrupt

    (tmp_path / "results.json").write_text('{"stale": true}')  # from an earlier run
    register("interrupted-test-lab", summary="s", source="tests")(interrupted)
    try:
        code = cli.main(["run", "interrupted-test-lab", "--out", str(tmp_path), "--no-progress"])
    finally:
        LABS.pop("interrupted-test-lab")
    assert code == 130
    assert "interrupted" in capsys.readouterr().err
    assert not (tmp_path / "results.json").exists()
    assert not list(tmp_path.glob(".*.tmp"))


def test_interrupt_during_write_keeps_no_partial_file(tmp_path, monkeypatch):
    from nablab import report

    def boom(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(report.os, "replace", boom)
    with pytest.raises(KeyboardInterrupt):
        report.write_atomic(tmp_path / "results.json", "{}")
    assert list(tmp_path.iterdir()) == []


def test_report_command_writes_html_and_per_lab_results(tiny_lab, tmp_path, capsys):
    code = cli.main(
        ["report", "--quick", "--labs", tiny_lab, "--out", str(tmp_path), "--no-progress"]
    )
    assert code == 0
    page = (tmp_path / "report.html").read_text()
    assert "Does the tiny lab run [at all]?" in page and "data:image/png;base64," in page
    assert (tmp_path / tiny_lab / "results.json").exists()
    assert "report.html" in capsys.readouterr().out


def test_report_unknown_lab_exit_2(tiny_lab, tmp_path, capsys):
    assert cli.main(["report", "--labs", f"{tiny_lab},nope", "--out", str(tmp_path)]) == 2
    assert "unknown lab 'nope'" in capsys.readouterr().err
    assert not (tmp_path / "report.html").exists()


def test_report_keeps_going_when_a_lab_fails(tiny_lab, tmp_path, capsys):
    def broken(config):
        raise RuntimeError("this lab is broken")

    register("broken-test-lab", summary="s", source="tests")(broken)
    try:
        labs = f"broken-test-lab,{tiny_lab}"
        code = cli.main(
            ["report", "--quick", "--labs", labs, "--out", str(tmp_path), "--no-progress"]
        )
    finally:
        LABS.pop("broken-test-lab")
    assert code == 1
    page = (tmp_path / "report.html").read_text()
    assert "this lab is broken" in page and "Yes." in page
    assert "this lab is broken" in capsys.readouterr().err


def test_missing_data_is_one_line_error_without_traceback(tmp_path, capsys):
    from nablab.data import DataUnavailableError

    def needs_data(config):
        raise DataUnavailableError("timemachine.txt not found. Put it in /somewhere")

    register("data-test-lab", summary="s", source="tests")(needs_data)
    try:
        code = cli.main(["run", "data-test-lab", "--out", str(tmp_path), "--no-progress"])
    finally:
        LABS.pop("data-test-lab", None)
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith("nablab: error: timemachine.txt not found. Put it in /somewhere")
    assert "Traceback" not in err
    assert not (tmp_path / "results.json").exists()


@pytest.mark.parametrize("value", ["0", "-3", "ten"])
def test_bad_iterations_is_one_line_error(tiny_lab, value, capsys):
    assert cli.main(["run", tiny_lab, "--iterations", value]) == 2
    err = capsys.readouterr().err.strip()
    assert "--iterations" in err and "positive integer" in err and len(err.splitlines()) == 1


def test_iterations_reach_the_lab_and_the_results(tmp_path):
    def counting(config):
        steps = config.steps(full=10, quick=3)
        return LabResult("q", "s", [], [], "a", {"steps": steps})

    register("counting-test-lab", summary="s", source="tests")(counting)
    try:
        argv = ["run", "counting-test-lab", "--iterations", "7", "--out", str(tmp_path)]
        assert cli.main(argv) == 0
    finally:
        LABS.pop("counting-test-lab", None)
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["metrics"]["steps"] == 7 and results["iterations"] == 7
