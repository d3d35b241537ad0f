"""Lab parameters: typed, validated, parsed from --set text, with one-line messages; and the
Python entry point nablab.labs.run."""

import pytest

import nablab.labs as labs
from nablab.labs import Param, ParameterError
from nablab.labs.params import resolve


def test_types_come_from_the_default():
    assert Param("n", 3, "h").kind is int
    assert Param("lr", 0.1, "h").kind is float
    assert Param("on", True, "h").kind is bool
    assert Param("act", "relu", "h").kind is str
    assert Param("w", [2, 3], "h").kind is int and Param("w", [2, 3], "h").is_list
    assert Param("s", [0.01, 1], "h").kind is float
    with pytest.raises(TypeError, match="a list default needs items of one type"):
        Param("e", [], "h")


@pytest.mark.parametrize(
    "param, text, value",
    [
        (Param("lr", 0.1, "h"), "1e-3", 0.001),
        (Param("lr", 0.1, "h"), "2", 2.0),
        (Param("n", 3, "h"), " 12 ", 12),
        (Param("on", True, "h"), "false", False),
        (Param("on", False, "h"), "YES", True),
        (Param("act", "relu", "h", choices=("relu", "tanh")), "tanh", "tanh"),
        (Param("w", [2], "h"), "[20]", [20]),
        (Param("w", [2], "h"), "2,3, 4", [2, 3, 4]),
        (Param("s", [0.1], "h"), "[0.01, 0.2]", [0.01, 0.2]),
        (Param("names", ["a"], "h", choices=("a", "b")), "b,a", ["b", "a"]),
    ],
)
def test_parse(param, text, value):
    assert param.parse(text) == value


def test_python_values_are_checked():
    lr = Param("lr", 0.1, "learning rate", min=0, min_open=True)
    assert lr.check(1) == 1.0 and isinstance(lr.check(1), float)
    for bad, message in [
        ("0.5", "lr expects a number > 0, got '0.5' (str)"),
        (True, "lr expects a number > 0, got True (bool)"),
        (0, "lr expects a number > 0, got 0.0"),
    ]:
        with pytest.raises(ParameterError) as error:
            lr.check(bad)
        assert str(error.value) == message
    n = Param("n", 3, "h", min=1, max=10)
    with pytest.raises(
        ParameterError, match=r"n expects an integer in \[1, 10\], got 2.0 \(float\)"
    ):
        n.check(2.0)
    widths = Param("hidden", [2, 3], "h", min=1)
    with pytest.raises(ParameterError, match=r"got the single value 20; write hidden=\[20\]"):
        widths.check(20)


def test_a_bad_default_is_caught_at_declaration():
    with pytest.raises(ParameterError, match="n expects an integer ≥ 1, got 0"):
        Param("n", 0, "h", min=1)
    with pytest.raises(ParameterError, match="quick"):
        Param("n", 5, "h", quick="quick")
    with pytest.raises(TypeError, match="unsupported type"):
        Param("x", None, "h")


def test_resolve_uses_quick_defaults_and_overrides():
    params = (Param("n", 10, "h", quick=2), Param("lr", 0.1, "h"))
    assert dict(resolve(params, quick=True, overrides={})) == {"n": 2, "lr": 0.1}
    p = resolve(params, quick=False, overrides={"lr": 1})
    assert (p.n, p.lr) == (10, 1.0)
    with pytest.raises(AttributeError, match="read-only"):
        p.lr = 3
    with pytest.raises(ParameterError, match="no parameter 'l'; did you mean 'lr'"):
        resolve(params, quick=False, overrides={"l": 1})


def test_list_defaults_are_not_shared_between_runs():
    widths = Param("w", [2, 3], "h")
    first = widths.value(quick=False)
    first.append(99)
    assert widths.value(quick=False) == [2, 3]


def test_python_run_rejects_bad_parameters_before_any_work(tmp_path):
    with pytest.raises(ParameterError, match="no parameter 'hiden'; did you mean 'hidden'"):
        labs.run("xor-relu", out=tmp_path, hiden=[3])
    with pytest.raises(ParameterError, match=r"write hidden=\[3\]"):
        labs.run("xor-relu", out=tmp_path, hidden=3)
    with pytest.raises(ParameterError, match="iterations expects a positive integer, got 0"):
        labs.run("xor-relu", out=tmp_path, iterations=0)
    with pytest.raises(ParameterError, match="seed expects a non-negative integer, got -1"):
        labs.run("xor-relu", out=tmp_path, seed=-1)
    assert list(tmp_path.iterdir()) == []


def test_python_run_with_one_change(tmp_path):
    result = labs.run("xor-relu", quick=True, out=tmp_path, hidden=[3], seeds=2, epochs=300)
    assert result.params["hidden"] == [3] and result.params["lr"] == 0.1
    assert (
        "300 full-batch epochs" in result.setting and "H = 3, each from 2 seeds" in result.setting
    )
    assert (tmp_path / "results.json").exists()


def test_a_list_of_fixed_size():
    weights = Param("weights", [0.1, 0.2, 0.3], "initial weights", size=3)
    assert weights.expects() == "a list of 3 numbers"
    assert weights.parse("1,2,3") == [1.0, 2.0, 3.0]
    with pytest.raises(ParameterError, match="weights expects a list of 3 numbers, got 2 values"):
        weights.parse("[1, 2]")


def test_the_runners_own_arguments_are_not_parameter_names():
    with pytest.raises(ValueError, match=r"\['iterations'\] are the runner's own arguments"):
        labs.lab("bad-lab", summary="s", source="s", question="q", setting="s", answer="a",
                 params=[Param("iterations", 3, "h")])  # fmt: skip
