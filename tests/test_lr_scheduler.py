"""nablab.optim.lr_scheduler: PyTorch's learning-rate sequences, checkpoints, checks."""

import math

import numpy as np
import pytest

import nablab
from nablab import io, optim
from nablab.optim import lr_scheduler

EPOCHS = 40
SCHEDULES = [
    ("StepLR", {"step_size": 3, "gamma": 0.7}),
    ("StepLR", {"step_size": 1}),
    ("ExponentialLR", {"gamma": 0.9}),
    ("CosineAnnealingLR", {"T_max": 10}),  # 40 epochs: two full periods, lr back up twice
    ("CosineAnnealingLR", {"T_max": 7, "eta_min": 0.01}),
    ("LambdaLR", {"lr_lambda": lambda epoch: 1 / (1 + epoch) ** 0.5}),
    ("LambdaLR", {"lr_lambda": [lambda epoch: 0.95**epoch, lambda epoch: 1 + epoch % 3]}),
]
IDS = ["step", "step-1", "exponential", "cosine", "cosine-eta-min", "lambda", "lambda-per-group"]


def _groups(make_tensor):
    return [{"params": [make_tensor()]}, {"params": [make_tensor()], "lr": 0.3}]


@pytest.mark.parametrize("name, kwargs", SCHEDULES, ids=IDS)
def test_lr_sequence_equals_torch(torch, name, kwargs):
    ours_opt = optim.SGD(_groups(lambda: nablab.zeros(2, requires_grad=True)), lr=0.1)
    theirs_opt = torch.optim.SGD(_groups(lambda: torch.zeros(2, requires_grad=True)), lr=0.1)
    ours = getattr(lr_scheduler, name)(ours_opt, **kwargs)
    theirs = getattr(torch.optim.lr_scheduler, name)(theirs_opt, **kwargs)
    sequence = []
    for _ in range(EPOCHS):
        assert ours.get_last_lr() == theirs.get_last_lr()  # the same floats, bit for bit
        assert [g["lr"] for g in ours_opt.param_groups] == ours.get_last_lr()
        sequence.append(ours.get_last_lr()[0])
        ours_opt.step()
        theirs_opt.step()
        ours.step()
        theirs.step()
    assert len(set(sequence)) > 1


def test_closed_forms():
    opt = optim.SGD([nablab.zeros(1, requires_grad=True)], lr=0.5)
    cosine = lr_scheduler.CosineAnnealingLR(opt, T_max=8, eta_min=0.1)
    for t in range(1, 17):
        cosine.step()
        expected = 0.1 + (0.5 - 0.1) * (1 + math.cos(math.pi * t / 8)) / 2
        assert cosine.get_last_lr()[0] == pytest.approx(expected, abs=1e-12)
    opt = optim.SGD([nablab.zeros(1, requires_grad=True)], lr=0.5)
    step = lr_scheduler.StepLR(opt, step_size=4, gamma=0.5)
    lrs = []
    for _ in range(12):
        lrs.append(step.get_last_lr()[0])
        step.step()
    assert lrs == [0.5] * 4 + [0.25] * 4 + [0.125] * 4


@pytest.mark.parametrize("name, kwargs", SCHEDULES[:5], ids=IDS[:5])
def test_resume_from_state_dict_through_save(tmp_path, name, kwargs):
    def make():
        opt = optim.Adam(_groups(lambda: nablab.zeros(2, requires_grad=True)), lr=0.1)
        return opt, getattr(lr_scheduler, name)(opt, **kwargs)

    straight_opt, straight = make()
    opt, scheduler = make()
    for _ in range(13):
        straight.step()
        scheduler.step()
    io.save({"opt": opt.state_dict(), "sched": scheduler.state_dict()}, tmp_path / "s.npz")
    opt, scheduler = make()  # fresh: its lrs start over
    saved = io.load(tmp_path / "s.npz")
    opt.load_state_dict(saved["opt"])
    scheduler.load_state_dict(saved["sched"])
    for _ in range(20):
        assert scheduler.get_last_lr() == straight.get_last_lr()
        assert opt.param_groups[1]["lr"] == straight_opt.param_groups[1]["lr"]
        straight.step()
        scheduler.step()


def test_lambda_lr_state_dict_leaves_out_the_functions():
    opt = optim.SGD([nablab.zeros(1, requires_grad=True)], lr=1.0)
    scheduler = lr_scheduler.LambdaLR(opt, lambda epoch: 0.5**epoch)
    scheduler.step()
    state = scheduler.state_dict()
    assert "lr_lambdas" not in state and state["last_epoch"] == 1
    assert "optimizer" not in state


def test_checks():
    opt = optim.SGD([nablab.zeros(1, requires_grad=True)], lr=1.0)
    with pytest.raises(ValueError, match="step_size must be a positive integer, got 0"):
        lr_scheduler.StepLR(opt, step_size=0)
    with pytest.raises(ValueError, match="T_max must be a positive integer"):
        lr_scheduler.CosineAnnealingLR(opt, T_max=0)
    with pytest.raises(ValueError, match="expected 1 lr_lambdas, got 2"):
        lr_scheduler.LambdaLR(opt, [lambda e: 1.0, lambda e: 1.0])
    with pytest.raises(KeyError, match="initial_lr"):
        lr_scheduler.ExponentialLR(opt, gamma=0.9, last_epoch=3)
    with pytest.raises(TypeError, match="is not an Optimizer"):
        lr_scheduler.StepLR(object(), step_size=1)


def test_lrs_reach_the_update():
    """The scheduled lr is the one the next step uses."""
    p = nablab.tensor(np.zeros(1), requires_grad=True)
    opt = optim.SGD([p], lr=1.0)
    scheduler = lr_scheduler.ExponentialLR(opt, gamma=0.5)
    for _ in range(3):
        p.grad = nablab.tensor(-np.ones(1))
        opt.step()
        scheduler.step()
    assert p.array[0] == 1.0 + 0.5 + 0.25
