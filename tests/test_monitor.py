"""Monitor: each finding fires on the network built to show it, and stays silent on a
healthy run (false positives are failures too)."""

from collections import OrderedDict

import numpy as np
import pytest

import nablab
from nablab import nn, optim
from nablab.data import moons
from nablab.diagnostics import Finding, Monitor, first_nonfinite_op
from nablab.diagnostics.gradient_rules import exploding_findings
from nablab.diagnostics.loss_rules import overfitting_findings


@pytest.fixture(autouse=True)
def _seeded():
    nablab.manual_seed(0)


def mlp_l5(act=nn.ReLU, weight_std=0.01, bias=1.0, seed=0):
    """NNDL's Model_MLP_L5: fc1(2→3), fc2…fc4(3→3) each followed by act, fc5(3→1) → σ."""
    gen = np.random.default_rng(seed)
    layers = OrderedDict()
    for i, (n_in, n_out) in enumerate([(2, 3), (3, 3), (3, 3), (3, 3), (3, 1)], start=1):
        fc = layers[f"fc{i}"] = nn.Linear(n_in, n_out)
        nn.init.normal_(fc.weight, 0.0, weight_std, generator=gen)
        nn.init.constant_(fc.bias, bias)
        layers[f"act{i}"] = nn.Sigmoid() if i == 5 else act()
    return nn.Sequential(layers)


def one_step(model, X, y, mon):
    loss = nn.BCELoss()(model(X), y)
    model.zero_grad()
    loss.backward()
    mon.step()
    return loss


def kinds(findings):
    return sorted({f.kind for f in findings})


@pytest.fixture(scope="module")
def moon_data():
    """NNDL's Moon1000 training split: the first 640 of make_moons(1000, noise=0.5); seed 3
    gives the book's 307 positive labels (seeds 0 and 1 give 320 of 640, where a zero-init
    net's first gradient is exactly 0 and only float32 rounding noise is left)."""
    X, y = moons(1000, noise=0.5, seed=3)
    return nablab.tensor(X[:640]), nablab.tensor(y[:640])


def standardized_moons(n=600, n_train=400, seed=1):
    X, y = moons(n, noise=0.2, seed=seed)
    X = (X - X[:n_train].mean(axis=0)) / X[:n_train].std(axis=0)
    return [nablab.tensor(a) for a in (X[:n_train], y[:n_train], X[n_train:], y[n_train:])]


def kaiming_relu_mlp(width, seed):
    gen = np.random.default_rng(seed)
    model = nn.Sequential(
        nn.Linear(2, width), nn.ReLU(), nn.Linear(width, width), nn.ReLU(), nn.Linear(width, 1)
    )
    for m in (model[0], model[2], model[4]):
        nn.init.kaiming_normal_(m.weight, nonlinearity="relu", generator=gen)
        nn.init.zeros_(m.bias)
    return model


def dead_on(model, X):
    """Ground truth: per ReLU layer, the units that output 0 on every row of X."""
    with nablab.no_grad():
        h1 = model[1](model[0](X))
        h2 = model[3](model[2](h1))
    return {
        "1": np.flatnonzero((h1.array == 0).all(0)),
        "3": np.flatnonzero((h2.array == 0).all(0)),
    }


def test_dead_relu_biases_minus_8(moon_data):
    model = mlp_l5(nn.ReLU, weight_std=0.01, bias=-8.0)
    mon = Monitor(model)
    one_step(model, *moon_data, mon)
    found = mon.findings()
    assert kinds(found) == ["dead-units", "zero-gradients"]
    dead = {f.layer: f.evidence for f in found if f.kind == "dead-units"}
    assert set(dead) == {"act1", "act2", "act3", "act4"}
    assert dead["act1"]["units"] == [0, 1, 2] and dead["act1"]["inputs"] == 640
    (zero,) = [f for f in found if f.kind == "zero-gradients"]
    assert zero.evidence["layers"] == ["fc1", "fc2", "fc3", "fc4", "fc5"]
    assert all(norm == 0.0 for norm in mon.history[-1].values())


def test_zero_init_is_symmetric_not_vanishing(moon_data):
    model = nn.Sequential(nn.Linear(2, 5), nn.Sigmoid(), nn.Linear(5, 1), nn.Sigmoid())
    for p in model.parameters():
        nn.init.zeros_(p)
    mon = Monitor(model)
    opt = optim.SGD(model.parameters(), lr=0.2)
    for _ in range(3):
        one_step(model, *moon_data, mon)
        opt.step()
    found = mon.findings()
    symmetric = {f.layer: f.evidence for f in found if f.kind == "symmetric-units"}
    assert symmetric["0"]["groups"] == [[0, 1, 2, 3, 4]] and symmetric["0"]["distinct_units"] == 1
    assert "vanishing-gradients" not in kinds(found)


def test_constant_init_is_symmetric(moon_data):
    model = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 1), nn.Sigmoid())
    for p in model.parameters():
        nn.init.constant_(p, 0.3)
    mon = Monitor(model)
    one_step(model, *moon_data, mon)
    (f,) = [f for f in mon.findings() if f.kind == "symmetric-units"]
    assert f.layer == "0" and f.evidence["groups"] == [[0, 1, 2, 3]]


def test_vanishing_sigmoid_l5(moon_data):
    model = mlp_l5(nn.Sigmoid, weight_std=0.01, bias=1.0)
    mon = Monitor(model)
    one_step(model, *moon_data, mon)
    norms = mon.history[-1]
    assert list(norms) == ["fc1", "fc2", "fc3", "fc4", "fc5"]
    assert norms["fc1"] < 1e-6 * norms["fc5"]  # published (Paddle): 6.9e-11 vs 0.29
    found = mon.findings()
    assert kinds(found) == ["vanishing-gradients"]
    assert found[0].layer == "fc1" and found[0].evidence["ratio"] < 1e-3


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # NaN/overflow on purpose
def test_nan_guard_names_the_op_and_reraises(moon_data):
    X, y = moon_data
    model = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 1))
    mon = Monitor(model)
    with pytest.raises(nablab.AnomalyError, match="'log'"):
        with mon.guard():
            loss = nablab.log(model(X) - 100.0).mean()  # log of negative numbers
            loss.backward()
    (f,) = mon.findings()
    assert f.kind == "non-finite" and f.evidence == {"op": "log", "phase": "forward", "step": 0}
    assert "log" in f.cause and "clamp" in f.fix
    assert not nablab.autograd.grad_mode.mode.anomaly  # detect_anomaly switched off again


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # NaN/overflow on purpose
def test_nan_guard_names_the_layer_running(moon_data):
    X, _ = moon_data
    model = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 1))
    nn.init.normal_(model[0].weight, 0.0, 1e38, generator=np.random.default_rng(0))
    mon = Monitor(model)
    with pytest.raises(nablab.AnomalyError), mon.guard():
        model(X * 1e10)
    assert [(f.kind, f.layer) for f in mon.findings()] == [("non-finite", "0")]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # NaN/overflow on purpose
def test_check_finite_finds_the_first_bad_op(moon_data):
    X, y = moon_data
    model = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 1))
    mon = Monitor(model)
    assert mon.check_finite(nn.BCEWithLogitsLoss()(model(X), y))
    loss = (nablab.log(model(X) - 100.0) * 2).mean()
    assert first_nonfinite_op(loss) == ("log", (640, 1))
    assert not mon.check_finite(loss)
    (f,) = mon.findings()
    assert f.kind == "non-finite" and f.layer == "log" and "'log'" in f.message


def test_nan_gradients_found_at_step(moon_data):
    X, y = moon_data
    model = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 1))
    mon = Monitor(model)
    loss = nn.BCEWithLogitsLoss()(model(X), y) * float("nan")
    loss.backward()
    mon.step()
    found = mon.findings()
    assert {(f.kind, f.evidence["phase"]) for f in found} == {("non-finite", "backward")}


def test_healthy_kaiming_relu_run_is_silent():
    X, y, X_test, y_test = standardized_moons()
    loss_fn = nn.BCEWithLogitsLoss()
    for seed in range(3):
        model = kaiming_relu_mlp(32, seed)
        opt = optim.SGD(model.parameters(), lr=0.3)
        mon = Monitor(model)
        for _ in range(100):
            with mon.guard():
                loss = loss_fn(model(X), y)
                opt.zero_grad()
                loss.backward()
            mon.step()
            opt.step()
            with nablab.no_grad():
                mon.record_metrics(loss.item(), loss_fn(model(X_test), y_test).item())
        assert mon.findings() == [], mon.report()
        assert "Findings: none" in mon.report()
        assert mon.test_metric[-1] < 0.3  # it did learn
        # the ground truth behind the silence: fewer than a quarter of any layer is dead
        assert all(units.size < 0.25 * 32 for units in dead_on(model, X).values())


def test_units_killed_by_a_large_adam_step_are_exactly_the_dead_ones():
    X, y, _, _ = standardized_moons()
    model = kaiming_relu_mlp(32, seed=0)
    opt = optim.Adam(model.parameters(), lr=0.01)
    for _ in range(100):
        loss = nn.BCEWithLogitsLoss()(model(X), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    truth = dead_on(model, X)
    mon = Monitor(model, dead_after=len(X), dead_fraction=0.0)
    model(X)
    found = {f.layer: f.evidence["units"] for f in mon.findings() if f.kind == "dead-units"}
    assert truth["3"].size > 0
    assert found == {k: v.tolist() for k, v in truth.items() if v.size}


def test_detach_removes_hooks(moon_data):
    X, _ = moon_data
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU())
    with Monitor(model) as mon:
        model(X)
        assert mon.activations["1"].samples == 640
    model(X)
    assert mon.activations["1"].samples == 640


def test_dead_units_need_a_long_streak():
    relu = nn.ReLU()
    mon = Monitor(relu, dead_after=10)
    relu(nablab.tensor([[1.0, -1.0]] * 4))  # unit 1 zero on 4 inputs (all seen): dead so far
    assert mon.findings()[0].evidence["units"] == [1]
    relu(nablab.tensor([[-1.0, 1.0]] * 3 + [[1.0, -1.0]]))  # both units came back to life
    assert mon.findings() == []
    relu(nablab.tensor([[-1.0, 1.0]] * 9))  # unit 0 zero on 9 < 10 inputs: not yet dead
    assert mon.findings() == []
    relu(nablab.tensor([[-1.0, 1.0]]))
    (f,) = mon.findings()
    assert f.layer == "(model)" and f.evidence["units"] == [0] and f.evidence["inputs"] == 10


def test_exploding_gradient_rules():
    names, steps, weight = ["fc1", "fc2"], [0, 1, 2], np.ones((3, 2))
    grad = np.array([[1.0, 1.0], [50.0, 1.0], [5e3, 1.0]])  # grew 2500 times over the run
    (f,) = exploding_findings(names, steps, grad, weight)
    assert f.kind == "exploding-gradients" and f.layer == "fc1" and f.evidence["first_step"] == 1
    through = np.array([[5e3, 1.0]] * 3)  # fc1's ρ 5000 times fc2's at every step
    (f,) = exploding_findings(names, steps, through, weight)
    assert f.layer == "fc1" and "every later layer" in f.message
    assert exploding_findings(names, steps, np.array([[0.5, 1.0]] * 3), weight) == []


def test_overfitting_rule():
    train = [1.0, 0.5, 0.3, 0.2, 0.1, 0.08, 0.06]
    (f,) = overfitting_findings(train, [1.0, 0.6, 0.5, 0.6, 0.8, 0.8, 0.9], False, 0.1)
    assert f.kind == "over-fitting" and f.evidence["best_epoch"] == 2
    flat = overfitting_findings(train, [1.0, 0.6, 0.5, 0.51, 0.52, 0.52, 0.53], False, 0.1)
    assert kinds(flat) == ["over-fitting"]  # flat test loss, train still falling: the gap grows
    assert overfitting_findings(train, [1.1, 0.6, 0.4, 0.3, 0.2, 0.15, 0.12], False, 0.1) == []
    assert overfitting_findings(train[:5], [1.0, 0.6, 0.5, 0.51, 0.52], False, 0.1) == []
    accs = overfitting_findings(
        [0.6, 0.8, 0.9, 1.0, 1.0, 1.0], [0.6, 0.8, 0.7, 0.6, 0.6, 0.6], True, 0.1
    )
    assert kinds(accs) == ["over-fitting"]


def test_monitor_records_overfitting_and_refuses_mixed_kinds():
    mon = Monitor(nn.Linear(2, 1))
    for train, test in [(1.0, 1.0), (0.5, 0.6), (0.2, 0.7), (0.1, 0.9), (0.1, 0.9), (0.1, 1.0)]:
        mon.record_metrics(train, test)
    assert kinds(mon.findings()) == ["over-fitting"]
    with pytest.raises(ValueError, match="higher_is_better must stay the same"):
        mon.record_metrics(0.9, 0.8, higher_is_better=True)


def test_report_lists_norms_activations_and_findings(moon_data):
    model = mlp_l5(nn.Sigmoid)
    mon = Monitor(model)
    one_step(model, *moon_data, mon)
    text = mon.report()
    assert "5 weight layers, 1 steps" in text and "fc5" in text and "act4" in text
    assert "[vanishing-gradients] (error) fc1" in text
    assert "cause: every layer multiplies the gradient by less than 1" in text
    assert "fix: initialise with Kaiming (ReLU) or Xavier (tanh)" in text
    assert str(Finding("k", "l", "m")) == "[k] l: m"
    assert str(Finding("k", "l", "m", cause="c", fix="f")) == "[k] l: m. Cause: c. Fix: f"
