"""autodiff-xor: the two engines (and PyTorch) take the same steps, the path counts are the
formula's, and the knobs (iterations, lr, depths) show in the setting and move the outcome."""

import numpy as np

import nablab.labs as labs
from nablab.labs import autodiff_xor as ax
from nablab.labs.runner import Context
from nablab.scalar import Value

CTX = Context(seed=0, quick=True, out=None, progress=False)
FAST = {"depths": [3, 4, 5], "paths_budget": 0.05}


def test_path_counts_are_the_formula():
    for d in range(1, 8):
        nodes, edges, steps = ax.graph_counts(ax.repeated_square_plus(Value(0.3), d))
        assert (nodes, edges, steps) == (2 * d + 1, 4 * d, 2 * (3**d - 1))


def test_scalar_and_tensor_engines_take_the_same_steps():
    w0 = np.random.default_rng(5).standard_normal(9)
    w_s, costs_s, out_s = ax.train_scalar(w0, 50, 0.3, CTX)
    w_t, costs_t, out_t = ax.train_tensor(w0, 50, 0.3, CTX)
    np.testing.assert_allclose(costs_s, costs_t, rtol=0, atol=1e-12)
    np.testing.assert_allclose(w_s, w_t, rtol=0, atol=1e-12)
    np.testing.assert_allclose(out_s, out_t, rtol=0, atol=1e-12)


def test_tensor_engine_is_torch(torch):
    w0 = np.random.default_rng(6).standard_normal(9)
    w = torch.tensor(w0, dtype=torch.float64, requires_grad=True)
    X = torch.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], dtype=torch.float64)
    y = torch.tensor([0.0, 1.0, 1.0, 0.0], dtype=torch.float64)
    for _ in range(20):
        h1 = torch.sigmoid(X[:, 0] * w[0] + X[:, 1] * w[1] + w[2])
        h2 = torch.sigmoid(X[:, 0] * w[3] + X[:, 1] * w[4] + w[5])
        cost = ((torch.sigmoid(w[6] * h1 + w[7] * h2 + w[8]) - y) ** 2).sum()
        (grad,) = torch.autograd.grad(cost, w)
        w = (w - 0.1 * grad).detach().requires_grad_(True)
    ours, _, _ = ax.train_tensor(w0, 20, 0.1, CTX)
    np.testing.assert_allclose(ours, w.detach().numpy(), rtol=0, atol=1e-12)


def test_default_quick_run_times_the_paths_at_several_depths(quick_run):
    measured = [r for r in quick_run("autodiff-xor").metrics["gradient_costs"] if r["paths_s"]]
    assert len(measured) >= 3 and all(r["paths_agree"] for r in measured)


def test_iterations_set_the_steps_and_fewer_steps_leave_a_higher_cost(tmp_path, quick_run):
    short = labs.run("autodiff-xor", quick=True, out=tmp_path, iterations=300, **FAST)
    assert short.params["steps"] == 300 and "lr 0.1, 300 iterations" in short.setting
    assert short.metrics["final_cost"] > quick_run("autodiff-xor").metrics["final_cost"]


def test_learning_rate_and_depths_show_in_the_setting(tmp_path):
    slow = labs.run("autodiff-xor", quick=True, out=tmp_path / "a", steps=300, lr=0.01, **FAST)
    fast = labs.run("autodiff-xor", quick=True, out=tmp_path / "b", steps=300, lr=1.0, **FAST)
    assert "lr 0.01, 300 iterations" in slow.setting and "d = 3…5" in slow.setting
    assert "over 0.05 s" in slow.setting
    assert fast.metrics["final_cost"] < slow.metrics["final_cost"]
    assert [r["d"] for r in slow.metrics["gradient_costs"]] == [3, 4, 5]
