"""zero-init: a constant start keeps the hidden units identical, whatever the constant."""

import math

import numpy as np
import pytest

import nablab.labs as labs
from nablab.labs import zero_init
from nablab.labs.recipes import init_linears, mlp_l2


def test_row_spread_is_zero_exactly_for_identical_units():
    model = init_linears(mlp_l2(5), ("constant", 0.3), 0.3)
    assert zero_init.row_spread(model) == 0.0
    model.fc1.weight.array[2, 1] += 1e-3
    assert zero_init.row_spread(model) == pytest.approx(1e-3, rel=1e-4)  # float32


def test_step_one_matches_the_books_formulas(quick_run):
    m = quick_run("zero-init").metrics
    for s in m["step1_by_seed"].values():
        assert s["first_loss"] == pytest.approx(math.log(2), abs=1e-6)
        assert not np.any(s["fc1.weight"]) and not np.any(s["fc1.bias"])
        p = s["positives"] / 640
        assert np.allclose(s["fc2.weight"], -0.2 * 0.5 * (0.5 - p), atol=1e-8)
        assert s["fc2.bias"][0] == pytest.approx(-0.2 * (0.5 - p), abs=1e-8)
    assert m["positives"] != 320  # the book's steps are shown on an unbalanced draw
    assert "symmetric-units" in m["circles_monitor_kinds"]["constant"]


def test_a_non_zero_constant_is_still_symmetric(tmp_path):
    result = labs.run(
        "zero-init", quick=True, out=tmp_path, init_value=0.5, other_constant=-0.3,
        check_seeds=2, epochs=20, circle_epochs=20,
    )  # fmt: skip
    assert "all weights and biases 0.5;" in result.setting
    m = result.metrics
    assert m["symmetric"] == "constant 0.5, 5 units"
    assert max(m["book_steps_unit_spread"]) < 1e-9  # the hidden units stay equal
    assert "symmetric-units" in m["monitor_kinds"]
    assert max(m["circles_unit_spread_last"]["constant"]) < 1e-5  # constant 0.5
    assert max(m["circles_unit_spread_last"]["other_constant"]) < 1e-5  # constant -0.3
    assert abs(m["step1_by_seed"]["0"]["first_loss"] - math.log(2)) > 1e-3  # not the 0 start
    holds = [c["holds"] for c in result.claims]
    assert holds[:3] == [None, None, None]  # the step-1 formulas are those of the zero start
    assert holds[3] is True and holds[4] is True
