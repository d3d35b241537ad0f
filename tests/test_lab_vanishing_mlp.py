"""vanishing-mlp: the first-step norms per activation, and exercise 4-9's learning rates."""

import numpy as np

import nablab.labs as labs


def test_first_step_norms_do_not_depend_on_the_learning_rate(quick_run):
    m = quick_run("vanishing-mlp").metrics
    firsts = [run["grad_norms_first"] for run in m["exercise_4_9"].values()]
    assert all(first == firsts[0] for first in firsts)  # print_grads sees the initial weights
    for run in m["exercise_4_9"].values():  # no learning rate brings fc1 near fc5
        assert run["grad_norms_first"][0] < 1e-6 * run["grad_norms_first"][4]
    sigmoid = np.array(m["grad_norms"]["sigmoid"])
    assert np.allclose(m["exercise_4_9"]["0.01"]["grad_norms_first"], sigmoid[0], rtol=1e-6)


def test_relu_alone_shows_in_the_setting_and_drops_the_other_arms(tmp_path):
    result = labs.run("vanishing-mlp", quick=True, out=tmp_path, activations=["relu"], seeds=3)
    assert "each followed by the activation (relu)" in result.setting
    assert list(result.metrics["grad_norms"]) == ["relu"]
    assert [c["holds"] for c in result.claims][:6] == [None, None, None, True, None, None]
    relu = np.array(result.metrics["grad_norms"]["relu"])
    assert (relu[:, 0] < 1e-3 * relu[:, 4]).all()  # vanishes with N(0, 0.01²) weights


def test_a_larger_learning_rate_moves_fc1_but_not_near_fc5(tmp_path):
    result = labs.run(
        "vanishing-mlp", quick=True, out=tmp_path, activations=["sigmoid"], seeds=1,
        lr=[0.01, 10.0], epochs=50,
    )  # fmt: skip
    assert "for 50 full-batch epochs with SGD lr 0.01, 10.0" in result.setting
    small, large = (result.metrics["exercise_4_9"][k]["weights_moved"] for k in ("0.01", "10.0"))
    assert small[0] == 0 < large[0]  # lr 0.01: every fc1 update rounds away in float32
    assert large[0] < 0.02 * large[4]
    assert result.to_dict()["changed"] == {
        "activations": ["sigmoid"], "seeds": 1, "lr": [0.01, 10.0], "epochs": 50
    }  # fmt: skip
