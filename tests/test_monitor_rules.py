"""Each Monitor rule on its own, from recorded numbers: the case it names, and the look-alike
it must not name (false positives are failures too)."""

import numpy as np
import pytest

import nablab
from nablab import nn, optim
from nablab.autograd import tensor as tensor_module
from nablab.diagnostics import Finding, Monitor
from nablab.diagnostics.gradient_rules import (
    exploding_findings,
    update_findings,
    vanishing_findings,
    zero_gradient_findings,
)
from nablab.diagnostics.loss_rules import (
    diverging_findings,
    oscillating_findings,
    overfitting_findings,
    plateau_findings,
)
from nablab.diagnostics.record import Thinned
from nablab.diagnostics.rules import EXPLAINED_BY, RULES, run_rules
from nablab.diagnostics.setup_rules import (
    accumulation_findings,
    probability_findings,
    unchanged_findings,
)
from nablab.diagnostics.unit_rules import (
    dead_unit_findings,
    saturated_unit_findings,
    symmetric_unit_findings,
)

STEPS = np.arange(0, 320, 32)
NAMES = ["fc1", "fc2", "fc3"]
NUMEL = np.array([64, 1024, 32])


def columns(*values):
    """A (steps, layers) record with each layer's value constant over the steps."""
    return np.tile(np.array(values, dtype=float), (len(STEPS), 1))


def kinds(found):
    return [f.kind for f in found]


# ----- gradients ---------------------------------------------------------------------------
def test_zero_gradients_over_the_run():
    grad = columns(0.0, 0.0, 1.0)
    (f,) = zero_gradient_findings(NAMES, STEPS, grad)
    assert f.evidence["layers"] == ["fc1", "fc2"] and f.severity == "warning"
    assert f.evidence["first_step"] == 0 and f.evidence["last_step"] == STEPS[-1]


def test_zero_gradient_at_one_step_only_is_not_a_finding():
    grad = columns(1.0, 1.0, 1.0)
    grad[0, 0] = 0.0  # e.g. zero-initialised weights downstream, at the first step only
    assert zero_gradient_findings(NAMES, STEPS, grad) == []


def test_vanishing_relative_to_the_best_fed_layer():
    grad, weight = columns(1e-7, 1e-3, 1.0), columns(1.0, 1.0, 1.0)
    (f,) = vanishing_findings(NAMES, STEPS, grad, weight, NUMEL)
    assert f.layer == "fc1" and f.evidence["layers"] == ["fc1"] and f.evidence["ratio"] < 1e-3
    assert "from step 0 to step 288" in f.message


def test_vanishing_is_scale_free():
    """A layer with 1000 times smaller gradients but 1000 times smaller weights is fine."""
    grad, weight = columns(1e-4, 1e-1, 1.0), columns(1e-4, 1.0, 1.0)
    assert vanishing_findings(NAMES, STEPS, grad, weight, NUMEL) == []


def test_vanishing_that_begins_mid_run_gives_its_first_step():
    grad, weight = columns(1.0, 1.0, 1.0), columns(1.0, 1.0, 1.0)
    grad[3:, 0] = 1e-8
    (f,) = vanishing_findings(NAMES, STEPS, grad, weight, NUMEL)
    assert f.evidence["first_step"] == STEPS[3]


def test_uniform_vanishing_from_the_start():
    grad, weight = columns(1e-9, 1e-9, 2e-9), columns(1.0, 1.0, 1.0)
    (f,) = vanishing_findings(NAMES, STEPS, grad, weight, NUMEL)
    assert f.layer == "(every layer)" and f.severity == "error"


def test_uniform_small_gradients_count_only_while_the_loss_does_not_fall():
    grad, weight = columns(1e-4, 2e-4, 1e-4), columns(1.0, 1.0, 1.0)
    assert kinds(vanishing_findings(NAMES, STEPS, grad, weight, NUMEL, loss_falls=False)) == [
        "vanishing-gradients"
    ]
    assert vanishing_findings(NAMES, STEPS, grad, weight, NUMEL, loss_falls=True) == []


def test_gradients_shrinking_at_convergence_are_not_vanishing():
    grad, weight = columns(1.0, 1.0, 1.0), columns(1.0, 1.0, 1.0)
    grad[1:] = 1e-9  # a minimum reached after the first step
    assert vanishing_findings(NAMES, STEPS, grad, weight, NUMEL) == []


def test_exploding_over_the_run():
    grad = columns(1.0, 1.0, 1.0) * np.logspace(0, 4, len(STEPS))[:, None]
    (f,) = exploding_findings(NAMES, STEPS, grad, columns(1.0, 1.0, 1.0))
    assert f.evidence["growth"] >= 1e3 and f.evidence["first_step"] == STEPS[3]


def test_exploding_then_nan_needs_less_growth():
    grad = (
        columns(1.0, 1.0, 1.0)
        * np.array([1, 10, 200, 200, 200, 200, 200, 200, 200, np.nan])[:, None]
    )
    (f,) = exploding_findings(NAMES, STEPS, grad, columns(1.0, 1.0, 1.0))
    assert "NaN" in f.message


def test_large_but_steady_gradients_are_not_exploding():
    """Sum reduction over a large batch: every gradient is big, none grows."""
    grad = columns(4e3, 5e3, 2e3)
    assert exploding_findings(NAMES, STEPS, grad, columns(10.0, 10.0, 10.0)) == []


def test_exploding_through_the_layers():
    grad, weight = columns(1e4, 1.0, 1.0), columns(1.0, 1.0, 1.0)
    (f,) = exploding_findings(NAMES, STEPS, grad, weight)
    assert f.layer == "fc1" and f.evidence["ratio"] >= 1e3


def test_updates_larger_than_the_weights():
    assert update_findings([(0, 5.0, "fc1")], blew_up=False) == []  # a first step from init
    (f,) = update_findings([(0, 5.0, "fc1")], blew_up=True)
    assert f.layer == "fc1" and f.evidence["update_ratio"] == 5.0
    persistent = [(s, 3.0, "fc2") for s in (0, 32, 64, 96)]
    assert kinds(update_findings(persistent, blew_up=False)) == ["exploding-gradients"]
    assert update_findings([(s, 0.01, "fc2") for s in (0, 32, 64)], blew_up=True) == []


# ----- units -------------------------------------------------------------------------------
def test_dead_units_from_half_a_layer():
    streak = np.array([500] * 20 + [0] * 12)
    (f,) = dead_unit_findings("act1", streak, 500, 256, 0.5)
    assert f.units == list(range(20)) and f.severity == "warning"
    assert "Leaky ReLU" in f.fix


def test_a_few_dead_units_are_the_cost_of_relu():
    streak = np.array([500] * 8 + [0] * 24)  # a quarter dead: common in a healthy ReLU net
    assert dead_unit_findings("act1", streak, 500, 256, 0.5) == []


def test_saturated_units():
    saturated = np.array([98] * 6 + [10] * 2)
    (f,) = saturated_unit_findings("act1", "tanh", saturated, 100, 0.5)
    assert f.units == list(range(6)) and f.evidence["fraction"] == 0.75


def test_units_sometimes_saturated_are_fine():
    saturated = np.array([60] * 8)  # flat on 60 % of inputs: confident, still learning
    assert saturated_unit_findings("act1", "sigmoid", saturated, 100, 0.5) == []


def test_symmetric_units_from_constant_init():
    weight = np.full((4, 3), 0.3, np.float32)
    (f,) = symmetric_unit_findings("fc1", weight, np.zeros(4, np.float32))
    assert f.evidence["groups"] == [[0, 1, 2, 3]] and f.severity == "error"


def test_symmetric_tolerance_is_relative_to_the_units_own_weights():
    """Two small, different units next to a huge one are not identical (a tolerance taken
    from the layer's largest weight, 1e-5 · 1e9 = 1e4, would call them so)."""
    weight = np.array([[0.1, 0.2], [0.3, -0.1], [1e9, 1e9]])
    assert symmetric_unit_findings("fc1", weight, None) == []
    rounded = np.array([[0.1, 0.2], [0.1 * (1 + 1e-7), 0.2], [1e9, 1e9]])
    (f,) = symmetric_unit_findings("fc1", rounded, None)
    assert f.evidence["groups"] == [[0, 1]]


# ----- the loss ----------------------------------------------------------------------------
def losses(values):
    return np.arange(len(values)), np.asarray(values, dtype=float)


def test_plateau_with_tiny_updates():
    gen = np.random.default_rng(0)
    flat = losses(0.693 + 0.001 * gen.standard_normal(100))
    (f,) = plateau_findings(*flat, [(t, 3e-8, "fc1") for t in range(0, 100, 10)])
    assert f.kind == "loss-not-decreasing" and f.evidence["largest_update"] == 3e-8
    assert "with updates of at most 3e-08 of the weights" in f.message


def test_a_short_flat_start_with_ordinary_updates_is_no_plateau():
    """The slow first phase of a healthy run (the playground's circle set at step 60)."""
    gen = np.random.default_rng(0)
    flat = losses(0.693 + 0.001 * gen.standard_normal(100))
    assert plateau_findings(*flat, [(t, 2e-3, "fc1") for t in range(0, 100, 10)]) == []
    assert plateau_findings(*flat) == []  # no update checked yet: too early to say
    long_flat = losses(0.693 + 0.001 * gen.standard_normal(1000))
    (f,) = plateau_findings(*long_flat, [(0, 2e-3, "fc1")])  # flat for 1,000 steps: a finding
    assert f.evidence["steps"] == 1000 and f.evidence["largest_update"] == 2e-3


def test_a_loss_that_converges_early_is_no_plateau():
    assert plateau_findings(*losses([0.9] + [0.28] * 99)) == []


def test_a_noisy_falling_minibatch_loss_is_no_plateau():
    gen = np.random.default_rng(1)
    values = np.linspace(0.7, 0.3, 200) * (1 + 0.3 * gen.standard_normal(200))
    assert plateau_findings(*losses(np.abs(values))) == []


def test_diverging():
    (f,) = diverging_findings(*losses(np.r_[np.linspace(1, 0.5, 20), np.geomspace(0.5, 1e4, 40)]))
    assert f.kind == "loss-diverging" and f.evidence["loss_end"] > 2 * f.evidence["loss_best"]
    assert diverging_findings(*losses(np.geomspace(1, 1e-3, 60))) == []


def test_oscillating_two_cycle():
    (f,) = oscillating_findings(*losses(np.r_[np.linspace(2, 1, 20), [0.8, 1.3] * 40]))
    assert f.evidence["flips"] > 0.95


def test_minibatch_noise_is_not_oscillation():
    gen = np.random.default_rng(2)
    noisy = 0.3 * (1 + 0.4 * gen.standard_normal(200))
    assert oscillating_findings(*losses(np.abs(noisy))) == []


def test_overfitting_by_loss_and_by_accuracy():
    train = [0.9, 0.5, 0.3, 0.2, 0.1, 0.05, 0.04, 0.03]
    (f,) = overfitting_findings(train, [0.9, 0.6, 0.55, 0.6, 0.7, 0.8, 0.9, 0.9], False, 0.1)
    assert f.evidence["best_epoch"] == 1 and "epoch 1" in f.fix  # 0.6: within 10 % of 0.55
    assert f.evidence["test_now"] == 0.9 and "0.9 over the last 3 epochs" in f.message
    flat = overfitting_findings(
        [0.8, 0.93, 0.97, 1.0, 1.0, 1.0, 1.0], [0.79, 0.8, 0.81, 0.8] + [0.8] * 3, True, 0.1
    )
    assert kinds(flat) == ["over-fitting"]


def test_train_and_test_improving_together_is_not_overfitting():
    train = [0.9, 0.5, 0.3, 0.2, 0.15, 0.12, 0.1]
    test = [0.95, 0.55, 0.35, 0.25, 0.2, 0.17, 0.15]
    assert overfitting_findings(train, test, False, 0.1) == []
    accs = [0.58, 0.69, 0.79, 0.88, 0.9, 0.91]
    assert overfitting_findings([0.6, 0.7, 0.8, 0.9, 0.92, 0.93], accs, True, 0.1) == []


def test_one_noisy_test_epoch_is_not_overfitting():
    """Mini-batch SGD at a large rate: the test loss jumps on one epoch and comes back (the
    playground's circle set, batch 10, lr 0.3)."""
    gen = np.random.default_rng(3)
    train = 0.03 + 0.01 * np.exp(-np.arange(40) / 10) + 0.002 * gen.standard_normal(40)
    test = train + 0.012 + 0.002 * gen.standard_normal(40)
    test[-1] += 0.03  # one spike, at the last epoch
    assert overfitting_findings(list(train), list(test), False, 0.1) == []
    test[-8:] += 0.03  # the gap stays wide over the last fifth: that is over-fitting
    assert kinds(overfitting_findings(list(train), list(test), False, 0.1)) == ["over-fitting"]


# ----- the loop ----------------------------------------------------------------------------
def test_unchanged_weights():
    names = ["fc1.weight", "fc1.bias", "fc2.weight"]
    found = unchanged_findings(names, [False] * 3, [0.1] * 3, [False] * 3, 100, None)
    assert found[0].cause == "optimizer.step() is never called"
    (f,) = unchanged_findings(names, [False, False, True], [0.1] * 3, [False] * 3, 100, None)
    assert f.evidence["parameters"] == ["fc1.weight", "fc1.bias"] and "not in the" in f.cause


def test_weights_too_well_fed_to_round_away_are_not_unchanged():
    names = ["fc1.weight", "fc2.weight"]
    tiny = unchanged_findings(names, [False, True], [1e-9, 0.1], [False] * 2, 100, None)
    assert tiny == []  # an update of 1e-9 of the weight rounds away in float32: vanishing
    assert unchanged_findings(names, [False] * 2, [0.1] * 2, [False] * 2, 1, None) == []


def test_frozen_layers_count_only_when_the_loss_does_not_fall():
    names = ["fc1.weight", "fc2.weight"]
    assert unchanged_findings(names, [False, True], [0.0, 0.1], [True, False], 100, True) == []
    (f,) = unchanged_findings(names, [False, True], [0.0, 0.1], [True, False], 100, False)
    assert f.evidence["frozen"] and "requires_grad" in f.fix


def test_accumulation():
    (f,) = accumulation_findings(["w", "b"], {"w": 5, "b": 5}, 6)
    assert f.layer == "(every parameter)" and "zero_grad" in f.fix
    assert accumulation_findings(["w", "b"], {"w": 2}, 6) == []
    assert accumulation_findings(["w"], {}, 0) == []


def test_probability_into_logits_loss():
    (f,) = probability_findings("cross_entropy", "softmax", 3, 3)
    assert "Softmax" in f.fix
    assert probability_findings("cross_entropy", "", 0, 3) == []


# ----- records, hooks, memory --------------------------------------------------------------
def test_thinned_records_stay_bounded_and_span_the_run():
    record = Thinned(capacity=8)
    for step in range(1000):
        record.add(step, step)
    assert len(record) < 8 and record.steps[0] == 0 and record.steps[-1] >= 1000 - 2 * 128
    with pytest.raises(ValueError, match="capacity must be at least 2, got 1"):
        Thinned(1)


@pytest.mark.parametrize("capacity", [2, 3, 5, 8])
@pytest.mark.parametrize("count", [1, 7, 100, 1023, 1024, 1025])
def test_thinned_keeps_every_stride_th_arrival_from_the_first(capacity, count):
    record = Thinned(capacity)
    for step in range(count):
        record.add(step, -step)
    expected = list(range(0, count, record.stride))
    assert record.steps == expected and record.values == [-s for s in expected]
    assert len(record) < capacity


def test_sampling_spaces_out_as_a_long_run_goes_on():
    mon = Monitor(nn.Linear(2, 2), every=64)
    schedule, t = [0], 0
    while t < 100_000:
        t = mon._sample_after(t)
        schedule.append(t)
    assert schedule == [t for t in range(schedule[-1] + 1) if mon.sampled(t)]
    assert schedule[:8] == [0, 4, 8, 16, 32, 64, 128, 192]
    early = [t for t in schedule if t < 32 * 64]
    assert np.all(np.diff(early[5:]) == 64)  # every 64th over the first 2,048 steps
    per_doubling = [sum(2**k <= t < 2 ** (k + 1) for t in schedule) for k in range(12, 16)]
    assert per_doubling == [16, 16, 16, 16]  # then the same count per doubling of the run
    every_step = Monitor(nn.Linear(2, 2), every=1)
    assert all(every_step.sampled(t) for t in range(10_000))  # every=1: never thinned out


def test_monitor_memory_is_bounded_over_any_number_of_steps():
    mon = _trained_monitor(600, metrics=True, every=1, capacity=16)
    sizes = [len(mon._grads), len(mon._weights), len(mon.losses), len(mon._updates)]
    assert max(sizes) < 16 and len(mon.history) < 16 and len(mon.test_metric) <= 16
    assert len(mon._events) == 0 and mon.steps == 600


def test_every_parameter_is_watched_recurrent_weights_included():
    rnn = nn.RNN(3, 5)
    mon = Monitor(rnn)
    out, _ = rnn(nablab.randn(4, 2, 3))
    out.sum().backward()
    mon.step()
    assert {"weight_ih_l0", "weight_hh_l0"} <= set(mon.matrices)
    assert np.array(mon._grads.values).shape == (1, 2)


def test_detach_removes_the_accumulation_listener_and_the_hooks():
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU())
    mon = Monitor(model)
    assert mon._on_accumulate in tensor_module.accumulate_listeners and mon._handles
    mon.detach()
    assert mon._on_accumulate not in tensor_module.accumulate_listeners and not mon._handles


def test_monitor_refuses_a_sampling_period_below_one():
    with pytest.raises(ValueError, match="every must be a positive number of steps, got 0"):
        Monitor(nn.Linear(2, 1), every=0)


def test_the_engine_calls_listeners_only_when_backward_adds_into_an_existing_grad():
    seen = []
    w = nablab.tensor([1.0, 2.0], requires_grad=True)
    tensor_module.accumulate_listeners.append(seen.append)
    try:
        (w * w).sum().backward()  # .grad was None: nothing to add into
        assert seen == []
        (w * w).sum().backward()  # zero_grad forgotten: added into the previous gradient
        assert seen == [w] and w.grad.array.tolist() == [4.0, 8.0]
    finally:
        tensor_module.accumulate_listeners.remove(seen.append)


# ----- the registry -------------------------------------------------------------------------
def _trained_monitor(steps=40, metrics=False, **options):
    """A Monitor(**options) over ``steps`` SGD steps of a small ReLU regression net."""
    nablab.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 1))
    opt = optim.SGD(model.parameters(), lr=0.05)
    X, y = nablab.randn(32, 2), nablab.randn(32, 1)
    mon = Monitor(model, **options)
    for _ in range(steps):
        loss = nn.MSELoss()(model(X), y)
        mon.check_finite(loss)
        opt.zero_grad()
        loss.backward()
        mon.step()
        opt.step()
        if metrics:
            mon.record_metrics(loss.item(), loss.item())
    return mon


def test_a_rule_is_one_function_of_the_record_and_the_findings_before_it():
    mon = _trained_monitor()
    seen = []

    def long_run(record, found):
        seen.append((record.steps, len(record.losses), record.matrices, list(found)))
        return [Finding("long-run", "(model)", f"{record.steps} steps")] if record.steps else []

    found = run_rules(mon.record(), [*RULES, long_run])
    assert [f.kind for f in found][-1:] == ["long-run"] and found[-1].message == "40 steps"
    assert seen[0][:3] == (40, 40, ["0", "2"]) and seen[0][3] == found[:-1]


def test_rules_run_in_order_and_explained_findings_are_dropped():
    mon = _trained_monitor(5)
    accumulation = Finding("zero-grad-forgotten", "0", "grads accumulate")
    swing = Finding("loss-oscillating", "(model)", "the loss swings")

    def first(record, found):
        return [swing, accumulation]

    def second(record, found):
        assert found == [swing, accumulation]
        return []

    assert run_rules(mon.record(), [first, second]) == [accumulation]
    assert "loss-oscillating" in EXPLAINED_BY["zero-grad-forgotten"]


def test_every_rule_of_the_registry_reads_a_record_and_returns_findings():
    record = _trained_monitor().record()
    for rule in RULES:
        out = rule(record, [])
        assert isinstance(out, list) and all(isinstance(f, Finding) for f in out), rule.__name__
