"""nablab sweep: a lab over a grid and seeds, locally or on Ray, resumable, with its summary."""

import json
import signal
import subprocess
import sys
import time

import pytest

import nablab.labs as labs
from nablab import cli
from nablab.labs import LABS, Claim, Metric, Outcome, Param, Table, lab
from nablab.sweep import SweepError, load, sweep
from nablab.sweep.folder import SweepFolder

XOR = {"hidden": [2], "epochs": 150}  # a fast xor-relu: 150 epochs of one width


def xor_sweep(tmp_path, **options):
    options = {"grid": {"lr": [0.1, 0.5]}, "seeds": [0, 1], "fixed": XOR, "quick": True,
               "out": tmp_path / "sweep", **options}  # fmt: skip
    return sweep("xor-relu", **options)


@pytest.fixture
def toy_lab():
    """An in-process lab (for one worker): its metric is a + 10·b + seed; b = 3 fails."""

    def experiment(p, ctx):
        if p.b == 3:
            raise RuntimeError("b = 3 is broken")
        value = p.a + 10 * p.b + ctx.seed
        return Outcome(tables=[Table("t", ["x"], [[value]])], metrics={"value": value})

    lab(
        "toy-sweep-lab",
        summary="s",
        source="tests",
        question="q",
        setting="a = {a}",
        answer="done",
        params=[Param("a", 1, "a number", min=0, max=100), Param("b", 0, "another", min=0)],
        claims=[Claim("a is below 50 (a = {a})", lambda m, p: p.a < 50)],
        metrics=[Metric("value", lambda m, p: m["value"])],
    )(experiment)
    yield "toy-sweep-lab"
    LABS.pop("toy-sweep-lab")


def test_two_workers_give_exactly_the_numbers_of_nablab_run(tmp_path):
    result = xor_sweep(tmp_path, workers=2)
    assert (result.computed, result.reused, result.failed) == (4, 0, [])
    for record in result.records:
        alone = labs.run("xor-relu", quick=True, seed=record["seed"], out=tmp_path / "alone",
                         lr=record["point"]["lr"], seeds=1, **XOR)  # fmt: skip
        assert record["metrics"] == json.loads(json.dumps(alone.to_dict()["metrics"]))
        assert record["measures"] == alone.measures
        assert record["params"]["seeds"] == 1 and record["params"]["lr"] == record["point"]["lr"]


def test_rerun_computes_nothing_and_a_bigger_grid_only_the_new_points(tmp_path):
    first = xor_sweep(tmp_path, workers=1)
    again = xor_sweep(tmp_path, workers=1)
    assert (again.computed, again.reused) == (0, 4)
    assert again.records == first.records
    bigger = xor_sweep(tmp_path, workers=1, grid={"lr": [0.1, 0.5, 1.0]})
    assert (bigger.computed, bigger.reused) == (2, 4)


def test_ray_backend_equals_the_local_backend_bit_for_bit(tmp_path):
    pytest.importorskip("ray")
    local = xor_sweep(tmp_path / "local", workers=2)
    on_ray = xor_sweep(tmp_path / "ray", workers=2, backend="ray")
    assert on_ray.computed == 4 and not on_ray.failed

    def by_task(result):
        return {
            (r["point"]["lr"], r["seed"]): (r["metrics"], r["measures"]) for r in result.records
        }

    assert by_task(on_ray) == by_task(local)


def test_batch_seeds_runs_one_task_per_point_with_one_value_per_seed(tmp_path):
    result = xor_sweep(tmp_path, workers=1, batch_seeds=True, seeds=[3, 4, 5])
    assert result.computed == 2
    assert all(r["seeds"] == [3, 4, 5] and r["params"]["seeds"] == 3 for r in result.records)
    assert result.table.rows[0][1].endswith(tuple("0123456789"))  # a median over 3 seeds


def test_interrupted_sweep_keeps_finished_tasks_and_resumes(tmp_path):
    out = tmp_path / "sweep"
    argv = ["sweep", "xor-relu", "--quick", "--grid", "lr=0.05,0.1,0.2,0.3,0.4,0.5",
            "--seeds", "0-1", "--set", "hidden=[2]", "--set", "epochs=600", "--workers", "1",
            "--out", str(out), "--no-progress"]  # fmt: skip
    code = f"import sys; from nablab.cli import main; sys.exit(main({argv!r}))"
    child = subprocess.Popen([sys.executable, "-c", code], stderr=subprocess.PIPE)
    tasks = out / "tasks"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list(tasks.glob("*.json"))) < 2:
        time.sleep(0.05)
    child.send_signal(signal.SIGINT)
    assert child.wait(timeout=60) == 130
    finished = len(list(tasks.glob("*.json")))
    assert 2 <= finished < 12 and not list(tasks.glob(".*.tmp"))
    grid, fixed = {"lr": [0.05, 0.1, 0.2, 0.3, 0.4, 0.5]}, {"hidden": [2], "epochs": 600}
    result = sweep("xor-relu", grid=grid, seeds=[0, 1], fixed=fixed, quick=True, out=out, workers=1)
    assert (result.reused, result.computed) == (finished, 12 - finished)


def test_a_failing_task_is_reported_and_the_others_go_on(toy_lab, tmp_path, capsys):
    argv = ["sweep", toy_lab, "--grid", "b=1,3", "--seeds", "0-1", "--workers", "1",
            "--out", str(tmp_path), "--no-progress"]  # fmt: skip
    assert cli.main(argv) == 1
    captured = capsys.readouterr()
    assert captured.err.count("RuntimeError: b = 3 is broken") == 2
    assert "2 task(s) run, 0 reused" in captured.out
    data = load(tmp_path)
    assert [(r["point"], r["seed"], r["measures"]["value"]) for r in data["points"]] == [
        ({"b": 1}, 0, 11.0),
        ({"b": 1}, 1, 12.0),
    ]
    assert len(data["failed"]) == 2 and data["table"]["rows"][1][1] == "—"
    assert cli.main(argv) == 1  # the failed tasks are tried again, the others reused
    assert "0 task(s) run, 2 reused" in capsys.readouterr().out


def test_summary_table_plot_and_page(toy_lab, tmp_path):
    result = sweep(toy_lab, grid={"a": [1, 2, 60], "b": [0, 1]}, seeds=[0, 1, 2], workers=1,
                   out=tmp_path)  # fmt: skip
    assert result.table.columns == ["a", "b", "value: median (min–max), mean", "claim 1 held"]
    assert result.table.rows[1] == ["1", "1", "12 (11–13), mean 12", "3/3"]
    assert result.table.rows[5] == ["60", "1", "71 (70–72), mean 71", "0/3"]
    assert result.files["plot"].read_bytes().startswith(b"\x89PNG")  # a heatmap: two parameters
    page = result.files["html"].read_text()
    assert "Sweep: toy-sweep-lab" in page and "data:image/png;base64," in page
    assert "claim 1: a is below 50 (a = ‹a›)" in page
    data = json.loads(result.files["json"].read_text())
    assert data["grid"] == {"a": [1, 2, 60], "b": [0, 1]} and data["seeds"] == [0, 1, 2]
    assert {"params", "seed", "measures", "claims", "seconds"} <= set(data["points"][0])


def test_report_includes_a_sweep(toy_lab, tmp_path):
    sweep(toy_lab, grid={"a": [1, 2]}, seeds=[0], workers=1, out=tmp_path / "s")
    argv = ["report", "--labs", toy_lab, "--sweep", str(tmp_path / "s"),
            "--out", str(tmp_path / "r"), "--no-progress"]  # fmt: skip
    assert cli.main(argv) == 0
    page = (tmp_path / "r" / "report.html").read_text()
    assert "Sweep: toy-sweep-lab" in page and page.count("data:image/png;base64,") == 1


def test_two_sweeps_cannot_write_to_one_folder(toy_lab, tmp_path):
    with SweepFolder(tmp_path), pytest.raises(SweepError, match="another sweep is writing"):
        sweep(toy_lab, grid={"a": [1]}, workers=1, out=tmp_path)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--grid", "lrr=0.1,0.2"], "this lab has no parameter 'lrr'; did you mean 'lr'?"),
        (["--grid", "lr=0.1,-1"], "lr expects a number > 0, got -1.0"),
        (["--grid", "lr="], "--grid expects NAME=V1,V2,... with at least one value, got 'lr='"),
        (["--grid", "lr"], "--grid expects NAME=VALUE, got 'lr'"),
        ([], "sweep needs at least one --grid NAME=V1,V2,..."),
        (["--grid", "lr=0.1", "--seeds", "5-2"], "--seeds expects N, A-B with A ≤ B"),
        (["--grid", "lr=0.1", "--set", "lr=0.2"], "lr is both swept (--grid) and fixed (--set)"),
        (["--grid", "seeds=1,2"], "the sweep sets the lab's seeds parameter itself"),
        (["--grid", "lr=0.1", "--metric", "nope"], "lab 'xor-relu' declares no metric 'nope'"),
        (["--grid", "lr=0.1", "--backend", "ray", "--address", "127.0.0.1:1"],
         "cannot reach a Ray cluster at '127.0.0.1:1'"),
    ],
)  # fmt: skip
def test_bad_input_is_one_line_exit_2(args, message, tmp_path, capsys):
    assert cli.main(["sweep", "xor-relu", "--out", str(tmp_path), *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"nablab: error: {message}") and err.count("\n") == 1
    assert not (tmp_path / "sweep.json").exists()


def test_show_lists_the_declared_metrics(capsys):
    assert cli.main(["show", "regularization"]) == 0
    assert "  l2_test: the ℓ2 run's test accuracy, per seed" in capsys.readouterr().out
    assert cli.main(["show", "regularization", "--json"]) == 0
    names = [m["name"] for m in json.loads(capsys.readouterr().out)["metrics"]]
    assert names[:3] == ["baseline_test", "baseline_train", "baseline_gap"] and "l2_gap" in names
