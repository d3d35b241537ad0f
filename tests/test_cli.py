"""The `nablab` command, driven through cli.main with tiny labs declared by the tests."""

import json
from pathlib import Path

import pytest

from nablab import cli
from nablab.labs import LABS, Claim, Outcome, Param, Published, Table, lab
from nablab.viz import curves, save

PNG = b"\x89PNG\r\n\x1a\n"


def _tiny(p, ctx):
    draws = [float(v) for v in ctx.track(ctx.rng.random(p.steps), p.steps, "drawing")]
    figure = save(curves({"loss": draws}), ctx.out / "loss.png")
    return Outcome(
        tables=[Table("draws", ["name", "ours"], [["first", draws[0]], ["last", draws[-1]]])],
        figures=[figure],
        metrics={"steps": p.steps, "first": draws[0]},
        notes=["a note"],
    )


def declare(name, experiment=_tiny, **declaration):
    """Register a test lab (removed again by the fixture that calls this)."""
    options = dict(
        summary="a lab for the CLI tests",
        source="tests",
        question="Does the tiny lab run [at all]?",
        setting="{steps} random numbers with lr {lr}, widths {widths}.",
        answer="Yes: first draw {first:.3f}.",
        params=[
            Param("steps", 10, "how many numbers to draw", quick=3, min=1, max=1000),
            Param("lr", 0.1, "a learning rate", min=0, min_open=True),
            Param("widths", [2, 3], "hidden widths", min=1),
            Param("act", "relu", "an activation", choices=("relu", "tanh")),
        ],
        length="steps",
        claims=[
            Claim("the first of {steps} draws is below 1", lambda m, p: (m["first"] < 1, {"x": 1})),
            Claim("the lr is small", lambda m, p: p.lr < 0.5),
            Claim("only for two widths", lambda m, p: True if len(p.widths) == 2 else None),
        ],
        published=[Published(0.5, "a test book", "published", row="first")],
    )
    options.update(declaration)
    lab(name, **options)(experiment)
    return name


@pytest.fixture
def tiny_lab():
    yield declare("tiny-test-lab")
    LABS.pop("tiny-test-lab", None)


@pytest.fixture
def cleanup():
    names = []
    yield names
    for name in names:
        LABS.pop(name, None)


def run(*argv):
    return cli.main(["run", *argv])


def test_labs_lists_registered_labs_with_summaries_and_parameters(tiny_lab, capsys):
    assert cli.main(["labs"]) == 0
    out = capsys.readouterr().out
    assert "tiny-test-lab" in out and "a lab for the CLI tests" in out
    assert "parameters: steps, lr, widths, act" in out


def test_run_prints_tables_claims_and_writes_results_and_png(tiny_lab, tmp_path, capsys):
    out = tmp_path / "deep" / "dir"
    code = run(tiny_lab, "--quick", "--seed", "3", "--out", str(out), "--no-progress")
    assert code == 0
    printed = capsys.readouterr().out
    assert "draws" in printed and "Yes: first draw" in printed and "a note" in printed
    assert "[at all]" in printed  # brackets are text, not rich markup
    assert "3 random numbers with lr 0.1, widths 2, 3." in printed
    assert "✔ the first of 3 draws is below 1 (x = 1)" in printed and "✔ the lr is small" in printed
    results = json.loads((out / "results.json").read_text())
    assert results["lab"] == tiny_lab and results["seed"] == 3 and results["quick"] is True
    assert results["parameters"] == {"steps": 3, "lr": 0.1, "widths": [2, 3], "act": "relu"}
    assert results["changed"] == {}
    assert results["metrics"]["steps"] == 3
    assert results["tables"][0]["columns"] == ["name", "published", "ours"]
    assert results["tables"][0]["rows"][0][1] == 0.5 and results["tables"][0]["rows"][1][1] is None
    assert results["published"] == [
        {"value": 0.5, "source": "a test book", "column": "published", "row": "first"}
    ]
    assert [c["holds"] for c in results["claims"]] == [True, True, True]
    assert results["figures"] == ["loss.png"]  # relative to the output folder
    assert results["nablab_version"] == "0.1.0"
    assert (out / "loss.png").read_bytes().startswith(PNG)
    assert not list(out.glob(".*.tmp"))


def test_set_changes_parameters_setting_and_results(tiny_lab, tmp_path, capsys):
    argv = [tiny_lab, "--out", str(tmp_path), "--no-progress", "--set", "lr=0.7"]
    assert run(*argv, "--set", "widths=[4, 5,6]", "--set", "steps=5") == 0
    printed = capsys.readouterr().out
    assert "5 random numbers with lr 0.7, widths 4, 5, 6." in printed
    assert "Changed from the defaults: steps = 5, lr = 0.7, widths = [4, 5, 6]" in printed
    assert "✘ the lr is small" in printed
    assert "– only for two widths (does not apply to these parameters)" in printed
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["changed"] == {"steps": 5, "lr": 0.7, "widths": [4, 5, 6]}
    assert [c["holds"] for c in results["claims"]] == [True, False, None]
    assert any("Changed from the lab's defaults: steps, lr, widths" in n for n in results["notes"])


def test_a_failed_claim_exits_0_and_1_with_check(tiny_lab, tmp_path, capsys):
    argv = [tiny_lab, "--quick", "--out", str(tmp_path), "--no-progress", "--set", "lr=0.9"]
    assert run(*argv) == 0
    assert run(*argv, "--check") == 1
    assert "1 claim(s) did not hold" in capsys.readouterr().err
    assert run(tiny_lab, "--quick", "--out", str(tmp_path), "--no-progress", "--check") == 0


@pytest.mark.parametrize(
    "assignment, message",
    [
        ("stpes=3", "this lab has no parameter 'stpes'; did you mean 'steps'? "
                    "(its parameters: steps, lr, widths, act)"),
        ("zzz=3", "this lab has no parameter 'zzz' (its parameters: steps, lr, widths, act)"),
        ("steps=2.5", "steps expects an integer in [1, 1000], got '2.5'"),
        ("steps=0", "steps expects an integer in [1, 1000], got 0"),
        ("steps=1001", "steps expects an integer in [1, 1000], got 1001"),
        ("lr=fast", "lr expects a number > 0, got 'fast'"),
        ("lr=0", "lr expects a number > 0, got 0.0"),
        ("lr", "--set expects NAME=VALUE, got 'lr'"),
        ("=3", "--set expects NAME=VALUE, got '=3'"),
        ("widths=4", "widths expects a list of integers ≥ 1, got the single value '4'; "
                     "write widths=[4]"),
        ("widths=[4,x]", "widths expects a list of integers ≥ 1, got 'x'"),
        ("widths=[]", "widths expects a list of integers ≥ 1, got an empty list"),
        ("act=gelu", "act expects one of relu, tanh, got 'gelu'"),
    ],
)  # fmt: skip
def test_bad_set_is_one_line_error_exit_2(tiny_lab, tmp_path, assignment, message, capsys):
    assert run(tiny_lab, "--out", str(tmp_path), "--set", assignment) == 2
    err = capsys.readouterr().err
    assert err == f"nablab: error: {message}\n"
    assert not (tmp_path / "results.json").exists()


def test_show_prints_parameters_and_json(tiny_lab, capsys):
    assert cli.main(["show", tiny_lab]) == 0
    out = capsys.readouterr().out
    assert "steps = 10 (quick: 3) [--iterations sets it]" in out
    assert "how many numbers to draw; an integer in [1, 1000]" in out
    assert "widths = [2, 3]" in out and "act = relu" in out and "one of relu, tanh" in out
    assert cli.main(["show", tiny_lab, "--json"]) == 0
    declaration = json.loads(capsys.readouterr().out)
    assert declaration["lab"] == tiny_lab and declaration["length"] == "steps"
    steps = declaration["parameters"][0]
    assert steps["name"] == "steps" and steps["type"] == "int"
    assert (steps["default"], steps["quick"], steps["min"], steps["max"]) == (10, 3, 1, 1000)
    assert declaration["parameters"][2]["type"] == "list[int]"
    assert declaration["published"][0]["source"] == "a test book"


def test_show_unknown_lab_exit_2(capsys):
    assert cli.main(["show", "nope"]) == 2
    assert "unknown lab 'nope'" in capsys.readouterr().err


def test_same_seed_same_results(tiny_lab, tmp_path):
    for name in ("a", "b"):
        run(tiny_lab, "--seed", "7", "--out", str(tmp_path / name), "--no-progress")
    a, b = (json.loads((tmp_path / n / "results.json").read_text()) for n in ("a", "b"))
    assert a["metrics"] == b["metrics"]


def test_default_out_is_runs_lab_and_quick_never_overwrites_it(tiny_lab, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert run(tiny_lab) == 0  # with the progress bar
    full = tmp_path / "runs" / tiny_lab / "results.json"
    before = full.read_text()
    assert run(tiny_lab, "--quick", "--no-progress") == 0
    assert (tmp_path / "runs" / f"{tiny_lab}-quick" / "results.json").exists()
    assert full.read_text() == before


def test_unknown_lab_is_one_line_listing_labs_exit_2(tiny_lab, capsys):
    assert run("no-such-lab") == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "unknown lab 'no-such-lab'" in err and tiny_lab in err


@pytest.mark.parametrize("seed", ["-1", "abc"])
def test_bad_seed_is_one_line_error(tiny_lab, seed, capsys):
    assert run(tiny_lab, "--seed", seed) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "--seed" in err and "non-negative integer" in err and repr(seed) in err


def test_unwritable_out_is_one_line_error(tiny_lab, tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    assert run(tiny_lab, "--out", str(blocker / "sub"), "--no-progress") != 0
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "cannot write to output folder" in err and "a-file" in err


def test_missing_command_and_unknown_command_exit_2(capsys):
    assert cli.main([]) == 2
    assert cli.main(["frobnicate"]) == 2
    assert "invalid choice" in capsys.readouterr().err


def test_help_exits_0(capsys):
    assert cli.main(["--help"]) == 0
    out = capsys.readouterr().out
    assert "report" in out and "show" in out


def test_keyboard_interrupt_leaves_no_results_file(tmp_path, capsys, cleanup):
    def interrupted(p, ctx):
        (ctx.out / "partial.png").write_bytes(PNG)
        raise KeyboardInterrupt

    (tmp_path / "results.json").write_text('{"stale": true}')  # from an earlier run
    cleanup.append(declare("interrupted-test-lab", interrupted))
    assert run("interrupted-test-lab", "--out", str(tmp_path), "--no-progress") == 130
    assert "interrupted" in capsys.readouterr().err
    assert not (tmp_path / "results.json").exists()
    assert not list(tmp_path.glob(".*.tmp"))


def test_interrupt_during_write_keeps_no_partial_file(tmp_path, monkeypatch):
    from nablab import atomicfile
    from nablab.labs import base

    def boom(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(atomicfile.os, "replace", boom)
    with pytest.raises(KeyboardInterrupt):
        base.write_atomic(tmp_path / "results.json", "{}")
    assert list(tmp_path.iterdir()) == []


def test_report_command_writes_html_with_claims_and_per_lab_results(tiny_lab, tmp_path, capsys):
    code = cli.main(
        ["report", "--quick", "--labs", tiny_lab, "--out", str(tmp_path), "--no-progress"]
    )
    assert code == 0
    page = (tmp_path / "report.html").read_text()
    assert "Does the tiny lab run [at all]?" in page and "data:image/png;base64," in page
    assert "<ul class=claims>" in page and "✔ the lr is small" in page
    assert (tmp_path / tiny_lab / "results.json").exists()
    assert "report.html" in capsys.readouterr().out


def test_report_unknown_lab_exit_2(tiny_lab, tmp_path, capsys):
    assert cli.main(["report", "--labs", f"{tiny_lab},nope", "--out", str(tmp_path)]) == 2
    assert "unknown lab 'nope'" in capsys.readouterr().err
    assert not (tmp_path / "report.html").exists()


def test_report_keeps_going_when_a_lab_fails(tiny_lab, tmp_path, capsys, cleanup):
    def broken(p, ctx):
        raise RuntimeError("this lab is broken")

    cleanup.append(declare("broken-test-lab", broken))
    labs = f"broken-test-lab,{tiny_lab}"
    code = cli.main(["report", "--quick", "--labs", labs, "--out", str(tmp_path), "--no-progress"])
    assert code == 1
    page = (tmp_path / "report.html").read_text()
    assert "this lab is broken" in page and "Yes: first draw" in page
    assert "this lab is broken" in capsys.readouterr().err


def test_missing_data_is_one_line_error_before_the_lab_starts(tmp_path, capsys, cleanup):
    from nablab.data import DataUnavailableError

    started = []

    def needs():
        raise DataUnavailableError("timemachine.txt not found. Put it in /somewhere")

    def experiment(p, ctx):
        started.append(True)

    cleanup.append(declare("data-test-lab", experiment, needs=needs))
    code = run("data-test-lab", "--out", str(tmp_path), "--no-progress")
    err = capsys.readouterr().err
    assert code == 1 and not started
    assert err == "nablab: error: timemachine.txt not found. Put it in /somewhere\n"
    assert not (tmp_path / "results.json").exists()


@pytest.mark.parametrize("value", ["0", "-3", "ten"])
def test_bad_iterations_is_one_line_error(tiny_lab, value, capsys):
    assert run(tiny_lab, "--iterations", value) == 2
    err = capsys.readouterr().err.strip()
    assert "--iterations" in err and "positive integer" in err and len(err.splitlines()) == 1


def test_iterations_set_the_labs_length(tiny_lab, tmp_path):
    assert run(tiny_lab, "--iterations", "7", "--out", str(tmp_path), "--no-progress") == 0
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["metrics"]["steps"] == 7 and results["parameters"]["steps"] == 7


def test_iterations_and_the_length_parameter_together_exit_2(tiny_lab, capsys):
    assert run(tiny_lab, "--iterations", "7", "--set", "steps=3") == 2
    assert capsys.readouterr().err == "nablab: error: give iterations or steps, not both\n"


def test_labs_shows_the_measured_times(tiny_lab, tmp_path, monkeypatch, capsys):
    from nablab.labs import declaration

    timings = tmp_path / "timings.json"
    timings.write_text(json.dumps({tiny_lab: {"full": 754.0, "quick": 2.4}}))
    monkeypatch.setattr(declaration, "TIMINGS_FILE", timings)
    assert cli.main(["labs"]) == 0
    assert "full ~13 min, quick ~2.4 s; parameters: steps" in capsys.readouterr().out
    timings.write_text(json.dumps({tiny_lab: {"quick": 2.4}}))
    assert cli.main(["labs"]) == 0
    assert "full time not measured, quick ~2.4 s" in capsys.readouterr().out


def test_the_usage_in_the_docstring_and_readme_names_every_option():
    """cli.py's docstring lists each command with all its options; the README shows it."""
    usage = cli.__doc__.split("\n\n")[1]
    commands = cli._build_parser()._subparsers._group_actions[0].choices
    blocks = {}
    for line in usage.splitlines():
        if line.strip().startswith("nablab "):
            name = line.split()[1]
        blocks[name] = blocks.get(name, "") + line
    for name, parser in commands.items():
        options = [o for a in parser._actions for o in a.option_strings if o.startswith("--")]
        missing = [o for o in options if o != "--help" and o not in blocks[name]]
        assert not missing, f"nablab {name}: {missing} not in cli.py's usage"
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text("utf-8")
    assert "\n".join(line[4:] for line in usage.splitlines()) in readme
