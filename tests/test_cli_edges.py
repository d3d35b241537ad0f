"""The CLI's edges, in this process: a missing package named before anything runs, --out that is a
file, and the lock that keeps two runs (reports, sweeps) out of one output folder."""

import sys

import pytest
from test_cli import declare

from nablab import cli
from nablab.labs import LABS
from nablab.labs.runner import hold


@pytest.fixture
def tiny_lab():
    yield declare("tiny-edge-lab")
    LABS.pop("tiny-edge-lab", None)


@pytest.mark.parametrize("command", ["run", "report"])
def test_a_missing_package_is_one_line_before_anything_runs(
    tiny_lab, tmp_path, monkeypatch, capsys, command
):
    monkeypatch.setitem(sys.modules, "rich", None)  # find_spec → None: as if not installed
    monkeypatch.setitem(sys.modules, "sklearn", None)
    argv = [tiny_lab] if command == "run" else ["--labs", tiny_lab]
    assert cli.main([command, *argv, "--quick", "--out", str(tmp_path / "out")]) == 1
    captured = capsys.readouterr()
    assert captured.err == f"nablab {command} needs rich, scikit-learn: pip install 'nablab[lab]'\n"
    assert captured.out == "" and not (tmp_path / "out").exists()


def test_labs_and_show_need_no_extras(tiny_lab, monkeypatch, capsys):
    for module in cli.LAB_NEEDS:
        monkeypatch.setitem(sys.modules, module, None)
    assert cli.main(["labs"]) == 0 and cli.main(["show", tiny_lab]) == 0
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize(
    "argv",
    [
        ["run", "tiny-edge-lab", "--quick"],
        ["report", "--labs", "tiny-edge-lab", "--quick"],
        ["sweep", "tiny-edge-lab", "--grid", "lr=0.1,0.2", "--metric", "steps", "--quick"],
    ],
)
def test_out_that_is_a_file_says_so(tiny_lab, tmp_path, capsys, argv):
    existing = tmp_path / "notes.txt"
    existing.write_text("keep me")
    assert cli.main([*argv, "--no-progress", "--out", str(existing)]) == 1
    err = capsys.readouterr().err
    assert err == f"nablab: error: output folder '{existing}' is a file; give a folder\n"
    assert existing.read_text() == "keep me"


def test_a_run_into_a_folder_another_run_holds_stops_and_keeps_its_files(
    tiny_lab, tmp_path, capsys
):
    (tmp_path / "results.json").write_text('{"from": "the other run"}')
    with hold(tmp_path, "held by the test"):
        assert cli.main(["run", tiny_lab, "--quick", "--out", str(tmp_path), "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"nablab: error: another run is writing to '{tmp_path}'; wait for it")
    assert (tmp_path / "results.json").read_text() == '{"from": "the other run"}'
    assert cli.main(["run", tiny_lab, "--quick", "--out", str(tmp_path), "--no-progress"]) == 0
    assert "the other run" not in (tmp_path / "results.json").read_text()  # released: it ran


def test_a_report_into_a_folder_another_report_holds_stops(tiny_lab, tmp_path, capsys):
    with hold(tmp_path, "held by the test"):
        argv = ["report", "--labs", tiny_lab, "--quick", "--out", str(tmp_path), "--no-progress"]
        assert cli.main(argv) == 1
    assert "another report is writing to" in capsys.readouterr().err
    assert not (tmp_path / "report.html").exists() and not (tmp_path / tiny_lab).exists()


def test_the_lock_is_released_when_the_holder_dies(tmp_path):
    """flock belongs to the process: a killed run never leaves the folder locked."""
    import subprocess

    script = f"import fcntl, os; f = open({str(tmp_path / '.lock')!r}, 'w'); "
    script += "fcntl.flock(f, fcntl.LOCK_EX); os._exit(9)"
    subprocess.run([sys.executable, "-c", script], check=False)
    with hold(tmp_path, "still held"):
        pass
