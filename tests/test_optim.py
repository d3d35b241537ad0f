"""nablab.optim: PyTorch's trajectories, the seeds' decoupled decay, checks, checkpoints."""

import numpy as np
import pytest

import nablab
from nablab import io, nn, optim
from nablab.data import DataLoader, TensorDataset

STEPS = 100
RNG = np.random.default_rng(7)
X, T = RNG.standard_normal((6, 3)), RNG.standard_normal(6)
W0, V0 = 0.5 * RNG.standard_normal((3, 4)), 0.5 * RNG.standard_normal(4)


def objective(W, v, sign=1.0):
    """½‖X W v − t‖² + 0.01 ΣW⁴: two parameters, not quadratic (times `sign`)."""
    r = X @ W @ v - T
    return sign * (0.5 * (r * r).sum() + 0.01 * (W**4).sum())


CONFIGS = [
    ("SGD", {"lr": 0.02}),
    ("SGD", {"lr": 0.02, "momentum": 0.9}),
    ("SGD", {"lr": 0.02, "momentum": 0.9, "dampening": 0.3}),
    ("SGD", {"lr": 0.02, "momentum": 0.9, "nesterov": True}),
    ("SGD", {"lr": 0.02, "momentum": 0.5, "weight_decay": 0.1}),
    ("SGD", {"lr": 0.02, "maximize": True}),
    ("Adam", {"lr": 0.02}),
    ("Adam", {"lr": 0.02, "betas": (0.3, 0.6), "eps": 1e-3}),
    ("Adam", {"lr": 0.02, "amsgrad": True}),
    ("Adam", {"lr": 0.02, "weight_decay": 0.1}),
    ("Adam", {"lr": 0.02, "weight_decay": 0.1, "amsgrad": True, "maximize": True}),
    ("AdamW", {"lr": 0.02}),
    ("AdamW", {"lr": 0.02, "weight_decay": 0.5, "amsgrad": True}),
    ("RMSprop", {"lr": 0.005}),
    ("RMSprop", {"lr": 0.005, "momentum": 0.9}),
    ("RMSprop", {"lr": 0.005, "centered": True}),
    ("RMSprop", {"lr": 0.005, "centered": True, "momentum": 0.5, "weight_decay": 0.1}),
    ("Adagrad", {"lr": 0.1}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.01, "weight_decay": 0.1}),
    ("Adagrad", {"lr": 0.1, "initial_accumulator_value": 0.5, "eps": 1e-6}),
]
ALL = ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad"]


def two_groups(W, v, kwargs):
    """W with the given options, v in a second group with half the lr."""
    return [{"params": [W]}, {"params": [v], "lr": kwargs["lr"] / 2}]


@pytest.mark.parametrize("name, kwargs", CONFIGS, ids=lambda c: str(c))
def test_follows_torch_trajectory(torch, name, kwargs):
    W, v = nablab.tensor(W0, requires_grad=True), nablab.tensor(V0, requires_grad=True)
    tW, tv = torch.tensor(W0, requires_grad=True), torch.tensor(V0, requires_grad=True)
    ours = getattr(optim, name)(two_groups(W, v, kwargs), **kwargs)
    theirs = getattr(torch.optim, name)(two_groups(tW, tv, kwargs), foreach=False, **kwargs)
    sign = -1.0 if kwargs.get("maximize") else 1.0
    Xt, Tt = torch.tensor(X), torch.tensor(T)
    for step in range(STEPS):
        ours.zero_grad()
        objective(W, v, sign).backward()
        ours.step()
        theirs.zero_grad()
        r = Xt @ tW @ tv - Tt
        (sign * (0.5 * (r * r).sum() + 0.01 * (tW**4).sum())).backward()
        theirs.step()
        for mine, ref in ((W, tW), (v, tv)):
            np.testing.assert_allclose(
                mine.array, ref.detach().numpy(), rtol=1e-10, atol=1e-12, err_msg=f"step {step}"
            )
    assert abs(W.array - W0).max() > 1e-3  # it moved


@pytest.mark.parametrize("name", ALL)
def test_float32_stays_float32_in_place(torch, name):
    p = nablab.tensor(V0.astype(np.float32), requires_grad=True)
    tp = torch.tensor(V0.astype(np.float32), requires_grad=True)
    array = p.array
    ours, theirs = getattr(optim, name)([p], lr=0.01), getattr(torch.optim, name)([tp], lr=0.01)
    for _ in range(10):
        p.grad, tp.grad = nablab.tensor(p.array**3), torch.tensor(p.array**3)
        ours.step()
        theirs.step()
    assert p.array is array and p.dtype == np.float32
    assert all(s.dtype == np.float32 for s in ours.state[p].values() if hasattr(s, "dtype"))
    np.testing.assert_allclose(p.array, tp.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_sgd_decoupled_weight_decay_is_the_seeds_formula():
    """θ ← (1 − β)θ − α·g (NNDL's BatchGD), bit for bit, the decay not scaled by α."""
    alpha, beta = 0.2, 0.001
    p = nablab.tensor(W0, requires_grad=True)
    opt = optim.SGD([p], lr=alpha, weight_decay=beta, decoupled=True)
    theta = W0.copy()
    for _ in range(20):
        g = RNG.standard_normal(W0.shape)
        p.grad = nablab.tensor(g)
        opt.step()
        theta = (1 - beta) * theta - alpha * g
        np.testing.assert_array_equal(p.array, theta)


def test_sgd_decoupled_with_beta_alpha_lambda_equals_coupled():
    """Plain SGD: coupled decay λ is θ ← (1 − αλ)θ − αg, i.e. decoupled with β = αλ."""
    alpha, lam = 0.1, 0.3
    a, b = nablab.tensor(V0, requires_grad=True), nablab.tensor(V0, requires_grad=True)
    coupled = optim.SGD([a], lr=alpha, weight_decay=lam)
    decoupled = optim.SGD([b], lr=alpha, weight_decay=alpha * lam, decoupled=True)
    for _ in range(20):
        g = RNG.standard_normal(V0.shape)
        a.grad, b.grad = nablab.tensor(g), nablab.tensor(g)
        coupled.step()
        decoupled.step()
    np.testing.assert_allclose(a.array, b.array, rtol=1e-13)
    assert not np.array_equal(a.array, V0)


def test_sgd_decoupled_decay_bypasses_momentum():
    p = nablab.tensor([1.0], dtype=nablab.float64, requires_grad=True)
    opt = optim.SGD([p], lr=0.5, momentum=0.9, weight_decay=0.1, decoupled=True)
    for _ in range(3):
        p.grad = nablab.zeros(1, dtype=nablab.float64)
        opt.step()
    assert p.array[0] == pytest.approx(0.9**3)  # pure shrinking: the buffer stays 0
    np.testing.assert_array_equal(opt.state[p]["momentum_buffer"], [0.0])


@pytest.mark.parametrize("name", ALL)
def test_skips_params_without_grad_and_never_touches_grad(name):
    a, b = nablab.tensor(V0, requires_grad=True), nablab.tensor(V0, requires_grad=True)
    opt = getattr(optim, name)([a, b], lr=0.1, weight_decay=0.1)
    a.grad = nablab.tensor(np.ones(4))
    opt.step()
    np.testing.assert_array_equal(b.array, V0)
    assert b not in opt.state and a in opt.state
    np.testing.assert_array_equal(a.grad.array, np.ones(4))
    assert not np.array_equal(a.array, V0)


def test_sgd_maximize_ascends():
    a, b = nablab.tensor(V0, requires_grad=True), nablab.tensor(V0, requires_grad=True)
    up, down = optim.SGD([a], lr=0.1, maximize=True), optim.SGD([b], lr=0.1)
    a.grad, b.grad = nablab.tensor(np.ones(4)), nablab.tensor(-np.ones(4))
    up.step()
    down.step()
    np.testing.assert_array_equal(a.array, V0 + 0.1)
    np.testing.assert_array_equal(a.array, b.array)


def test_zero_grad():
    p = nablab.tensor(V0, requires_grad=True)
    opt = optim.SGD([p], lr=0.1)
    p.grad = nablab.tensor(np.ones(4))
    opt.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(p.grad.array, np.zeros(4))
    opt.zero_grad()
    assert p.grad is None


def test_step_with_closure_returns_its_loss():
    W, v = nablab.tensor(W0, requires_grad=True), nablab.tensor(V0, requires_grad=True)
    opt = optim.SGD([W, v], lr=0.01)

    def closure():
        opt.zero_grad()
        loss = objective(W, v)
        loss.backward()
        return loss

    first = opt.step(closure).item()
    assert opt.step(closure).item() < first


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda p: optim.SGD(p, lr=-0.1), r"SGD: invalid lr=-0\.1, expected a number >= 0"),
        (lambda p: optim.SGD(p, momentum=-1), r"invalid momentum=-1"),
        (lambda p: optim.SGD(p, nesterov=True), r"Nesterov momentum needs"),
        (lambda p: optim.SGD(p, momentum=0.9, dampening=0.1, nesterov=True), r"nesterov"),
        (lambda p: optim.SGD(p, weight_decay=1.5, decoupled=True), r"β < 1"),
        (lambda p: optim.Adam(p, lr=-1), r"Adam: invalid lr=-1"),
        (lambda p: optim.Adam(p, betas=(1.0, 0.999)), r"betas=\(1\.0, 0\.999\).*\[0, 1\)"),
        (lambda p: optim.Adam(p, betas=(0.9, -0.1)), r"betas"),
        (lambda p: optim.AdamW(p, eps=-1e-8), r"AdamW: invalid eps"),
        (lambda p: optim.RMSprop(p, alpha=-0.5), r"RMSprop: invalid alpha"),
        (lambda p: optim.Adagrad(p, lr_decay=-1), r"Adagrad: invalid lr_decay"),
        (lambda p: optim.Adam([{"params": p, "lr": -2}]), r"invalid lr=-2"),
        (lambda p: optim.SGD([]), r"empty parameter list"),
        (lambda p: optim.SGD([{"params": p}, {"params": p}]), r"more than one parameter group"),
        (lambda p: optim.SGD(p + p), r"more than once"),
    ],
)
def test_bad_arguments_raise_value_error(make, message):
    with pytest.raises(ValueError, match=message):
        make([nablab.tensor(V0, requires_grad=True)])


def test_bad_params_raise():
    p = nablab.tensor(V0, requires_grad=True)
    with pytest.raises(TypeError, match="iterable of Tensors"):
        optim.SGD(p, lr=0.1)
    with pytest.raises(TypeError, match="can only optimize Tensors"):
        optim.SGD([V0], lr=0.1)
    with pytest.raises(ValueError, match="non-leaf"):
        optim.SGD([p * 2], lr=0.1)


def test_add_param_group_fills_defaults():
    a, b = nablab.tensor(V0, requires_grad=True), nablab.tensor(V0, requires_grad=True)
    opt = optim.SGD([a], lr=0.1, momentum=0.9)
    opt.add_param_group({"params": b, "lr": 0.5})
    assert opt.param_groups[1]["lr"] == 0.5 and opt.param_groups[1]["momentum"] == 0.9
    with pytest.raises(ValueError, match="more than one"):
        opt.add_param_group({"params": [a]})


BUFFERS = {"SGD": {"momentum": 0.9}, "Adam": {"amsgrad": True}, "RMSprop": {"centered": True}}


def _run(opt, params, steps, seed):
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        for p in params:
            p.grad = nablab.tensor(rng.standard_normal(p.shape) + p.array)
        opt.step()


@pytest.mark.parametrize("name", ALL)
def test_state_dict_round_trip_resumes_exactly(name):
    kwargs = BUFFERS.get(name, {})
    a = [nablab.tensor(W0, requires_grad=True), nablab.tensor(V0, requires_grad=True)]
    b = [nablab.tensor(W0, requires_grad=True), nablab.tensor(V0, requires_grad=True)]
    first = getattr(optim, name)(two_groups(*a, {"lr": 0.05}), lr=0.05, **kwargs)
    _run(first, a, 5, seed=1)
    saved = first.state_dict()
    assert sorted(saved["state"]) == [0, 1] and saved["param_groups"][1]["params"] == [1]
    for p, q in zip(a, b):
        q.array[...] = p.array
    second = getattr(optim, name)([{"params": [b[0]]}, {"params": [b[1]]}], lr=1.0)
    second.load_state_dict(saved)
    assert second.param_groups[1]["lr"] == 0.025
    _run(first, a, 5, seed=2)  # mutating the optimizer must not change `saved`
    _run(second, b, 5, seed=2)
    for p, q in zip(a, b):
        np.testing.assert_array_equal(p.array, q.array)


def test_load_state_dict_rejects_a_different_layout():
    a, b = nablab.tensor(V0, requires_grad=True), nablab.tensor(V0, requires_grad=True)
    saved = optim.Adam([a, b]).state_dict()
    with pytest.raises(ValueError, match="parameter group 0 has 2 parameters in the state dict"):
        optim.Adam([a]).load_state_dict(saved)
    with pytest.raises(
        ValueError, match="parameter groups: 1 in the state dict, 2 in the optimizer"
    ):
        optim.Adam([{"params": [a]}, {"params": [b]}]).load_state_dict(saved)


def _training_setup(name, seed):
    nablab.manual_seed(seed)
    model = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1))
    opt = getattr(optim, name)(model.parameters(), lr=0.05)
    scheduler = optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    data = np.random.default_rng(0).standard_normal((40, 3)).astype(np.float32)
    loader = DataLoader(TensorDataset(data[:, :2], data[:, 2:]), batch_size=8, shuffle=True)
    return model, opt, scheduler, loader


def _train_epochs(model, opt, scheduler, loader, epochs):
    loss_fn = nn.MSELoss()
    for _ in range(epochs):
        for x, y in loader:
            opt.zero_grad()
            loss_fn(model(x), y).backward()
            opt.step()
        scheduler.step()


@pytest.mark.parametrize("name", ALL)
def test_training_resumes_bitwise_from_a_checkpoint(name, tmp_path):
    """2N epochs in one go ≡ N epochs, save everything, load into fresh objects, N more."""
    straight = _training_setup(name, seed=3)
    _train_epochs(*straight, epochs=4)

    model, opt, scheduler, loader = _training_setup(name, seed=3)
    _train_epochs(model, opt, scheduler, loader, epochs=2)
    checkpoint = {
        "model": model.state_dict(),
        "optimizer": opt.state_dict(),
        "scheduler": scheduler.state_dict(),
        "rng": nablab.random.get_rng_state(),
        "epoch": 2,
    }
    io.save(checkpoint, tmp_path / "ckpt.npz")
    nablab.manual_seed(12345)  # a different stream, to be replaced by the checkpoint's

    model, opt, scheduler, loader = _training_setup(name, seed=99)  # fresh, other weights
    restored = io.load(tmp_path / "ckpt.npz")
    model.load_state_dict(restored["model"])
    opt.load_state_dict(restored["optimizer"])
    scheduler.load_state_dict(restored["scheduler"])
    nablab.random.set_rng_state(restored["rng"])
    assert restored["epoch"] == 2
    _train_epochs(model, opt, scheduler, loader, epochs=2)

    for (key, ours), theirs in zip(model.state_dict().items(), straight[0].state_dict().values()):
        np.testing.assert_array_equal(ours.array, theirs.array, err_msg=key)
    assert opt.param_groups[0]["lr"] == straight[1].param_groups[0]["lr"] == 0.05 / 4


def test_same_seed_same_training_run():
    runs = []
    for seed in (5, 5, 6):
        setup = _training_setup("SGD", seed)
        _train_epochs(*setup, epochs=2)
        runs.append(np.concatenate([p.array.ravel() for p in setup[0].parameters()]))
    np.testing.assert_array_equal(runs[0], runs[1])
    assert not np.array_equal(runs[0], runs[2])


@pytest.mark.parametrize("unordered", [set, frozenset])
def test_a_set_of_parameters_is_refused_at_the_top_or_in_a_group(unordered):
    params = [nablab.zeros(2, requires_grad=True) for _ in range(3)]
    message = f"params must be an ordered collection .* got a {unordered.__name__}, whose order"
    with pytest.raises(TypeError, match=message):
        optim.SGD(unordered(params), lr=0.1)
    with pytest.raises(TypeError, match=message):
        optim.Adam([{"params": unordered(params)}], lr=0.1)
    opt = optim.SGD(params[:1], lr=0.1)
    with pytest.raises(TypeError, match=message):
        opt.add_param_group({"params": unordered(params[1:])})


def test_ordered_iterables_of_parameters_are_accepted():
    params = {"a": nablab.zeros(2, requires_grad=True), "b": nablab.zeros(3, requires_grad=True)}
    for given in (params.values(), iter(list(params.values())), tuple(params.values())):
        opt = optim.SGD(given, lr=0.1)
        assert opt.param_groups[0]["params"] == [params["a"], params["b"]]
