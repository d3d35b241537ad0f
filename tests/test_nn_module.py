"""Module and Parameter: registration, traversal, modes, state dicts (to and from PyTorch),
hooks, dtype casts, printing, containers."""

import copy
from collections import OrderedDict

import numpy as np
import pytest

import nablab
from nablab import nn


def mlp(lib, dtype=None):
    model = lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.ReLU(), lib.nn.Linear(4, 2))
    return model.double() if dtype == "double" else model


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(2, 3)
        self.register_buffer("running", nablab.zeros(3))
        self.register_buffer("scratch", nablab.zeros(1), persistent=False)

    def forward(self, x):
        return self.fc(x) + self.running


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.blocks = nn.ModuleList([Block(), Block()])
        self.head = nn.Linear(3, 1, bias=False)
        self.scale = nn.Parameter(nablab.ones(1))

    def forward(self, x):
        for block in self.blocks:
            x = block(x)[:, :2]
        return self.head(block.fc(x)) * self.scale


def torch_net(torch):
    class TBlock(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = torch.nn.Linear(2, 3)
            self.register_buffer("running", torch.zeros(3))
            self.register_buffer("scratch", torch.zeros(1), persistent=False)

    class TNet(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.blocks = torch.nn.ModuleList([TBlock(), TBlock()])
            self.head = torch.nn.Linear(3, 1, bias=False)
            self.scale = torch.nn.Parameter(torch.ones(1))

    return TNet()


# ----- Parameter -------------------------------------------------------------------


def test_parameter_is_a_leaf_tensor_that_requires_grad():
    p = nn.Parameter(nablab.tensor([1.0, 2.0]))
    assert isinstance(p, nablab.Tensor) and p.is_leaf and p.requires_grad
    assert not nn.Parameter(nablab.zeros(2), requires_grad=False).requires_grad


def test_parameter_shares_memory_with_a_tensor_and_copies_arrays():
    t = nablab.zeros(3)
    p = nn.Parameter(t)
    t.array[0] = 5
    assert p.array[0] == 5
    a = np.zeros(3, np.float32)
    q = nn.Parameter(a)
    a[0] = 5
    assert q.array[0] == 0


def test_parameter_repr_matches_torch(torch):
    p = nn.Parameter(nablab.tensor([[1.0, 2.0], [3.0, 4.0]]))
    assert repr(p) == repr(torch.nn.Parameter(torch.tensor([[1.0, 2.0], [3.0, 4.0]])))


def test_parameter_works_in_ops_on_either_side():
    w = nn.Parameter(nablab.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=nablab.float64))
    x = nablab.tensor([[1.0, -1.0]], dtype=nablab.float64)
    y = (x @ w + w * 2 - 1 + w[0] + nablab.linear(x, w) @ w).relu().sum() + (3 * w).mean()
    y.backward()
    v = nablab.tensor(w.array, requires_grad=True)
    z = (x @ v + v * 2 - 1 + v[0] + nablab.linear(x, v) @ v).relu().sum() + (3 * v).mean()
    z.backward()
    np.testing.assert_allclose(w.grad.array, v.grad.array)
    assert type(w.grad) is nablab.Tensor and type(x @ w) is nablab.Tensor


def test_integer_parameter_cannot_require_grad():
    with pytest.raises(RuntimeError, match="only floating point"):
        nn.Parameter(nablab.tensor([1, 2]))


# ----- registration and traversal ---------------------------------------------------


def test_attribute_assignment_registers_parameters_modules_and_buffers():
    net = Net()
    assert list(net._parameters) == ["scale"] and list(net._modules) == ["blocks", "head"]
    assert list(net.blocks[0]._buffers) == ["running", "scratch"]
    assert [n for n, _ in net.named_parameters()] == [
        "scale",
        "blocks.0.fc.weight",
        "blocks.0.fc.bias",
        "blocks.1.fc.weight",
        "blocks.1.fc.bias",
        "head.weight",
    ]
    assert [n for n, _ in net.named_buffers()] == [
        "blocks.0.running",
        "blocks.0.scratch",
        "blocks.1.running",
        "blocks.1.scratch",
    ]
    assert len(list(net.parameters(recurse=False))) == 1
    assert [n for n, _ in net.named_modules()] == [
        "",
        "blocks",
        "blocks.0",
        "blocks.0.fc",
        "blocks.1",
        "blocks.1.fc",
        "head",
    ]
    assert [n for n, _ in net.named_children()] == ["blocks", "head"]
    assert list(net.children()) == [net.blocks, net.head]


def test_named_parameters_match_torch(torch):
    ours = [n for n, _ in Net().named_parameters()]
    assert ours == [n for n, _ in torch_net(torch).named_parameters()]


def test_reassigning_and_deleting_keep_the_registry_in_step():
    m = nn.Linear(2, 2)
    m.bias = None
    assert [n for n, _ in m.named_parameters()] == ["weight"]
    m.bias = nn.Parameter(nablab.zeros(2))
    assert [n for n, _ in m.named_parameters()] == ["weight", "bias"]
    del m.bias
    assert [n for n, _ in m.named_parameters()] == ["weight"] and not hasattr(m, "bias")
    m.extra = nn.ReLU()
    m.extra = nn.Tanh()
    assert list(m._modules) == ["extra"] and isinstance(m.extra, nn.Tanh)


def test_shared_parameter_is_listed_once():
    a = nn.Linear(2, 2)
    b = nn.Linear(2, 2)
    b.weight = a.weight
    model = nn.Sequential(a, b)
    assert len(list(model.parameters())) == 3


def test_bad_assignments_raise_clear_errors():
    m = nn.Linear(2, 2)
    with pytest.raises(TypeError, match="cannot assign 'Tensor' as parameter 'weight'"):
        m.weight = nablab.zeros(2, 2)
    seq = nn.Sequential(nn.ReLU())
    with pytest.raises(TypeError, match="cannot assign 'int' as child module '0'"):
        setattr(seq, "0", 3)
    with pytest.raises(TypeError, match="cannot assign 'list' as buffer"):
        Block().register_buffer("x", [1, 2])

    class Early(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(nablab.zeros(1))

    with pytest.raises(AttributeError, match=r"before Module.__init__\(\) call"):
        Early()


def test_forward_is_required():
    with pytest.raises(NotImplementedError, match="Module has no forward"):
        nn.Module()(1)


# ----- modes, gradients, dtype --------------------------------------------------------


def test_train_and_eval_reach_every_submodule():
    net = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.Dropout()))
    assert all(m.training for m in net.modules())
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())
    with pytest.raises(ValueError, match="training mode is expected to be boolean"):
        net.train("yes")


def test_zero_grad_sets_none_or_zeros():
    m = nn.Linear(2, 2)
    m(nablab.ones(1, 2)).sum().backward()
    m.zero_grad(set_to_none=False)
    assert m.weight.grad is not None and not m.weight.grad.array.any()
    m.zero_grad()
    assert m.weight.grad is None and m.bias.grad is None


def test_requires_grad_and_apply():
    net = mlp(nablab)
    net.requires_grad_(False)
    assert not any(p.requires_grad for p in net.parameters())
    seen = []
    assert net.apply(lambda m: seen.append(type(m).__name__)) is net
    assert seen == ["Linear", "ReLU", "Linear", "Sequential"]


def test_to_double_float_cast_in_place():
    net = Net()
    params = list(net.parameters())
    net(nablab.ones(1, 2)).sum().backward()
    assert net.double() is net
    assert all(p.dtype == nablab.float64 and p.grad.dtype == nablab.float64 for p in params)
    assert all(b.dtype == nablab.float64 for b in net.buffers())
    assert list(net.parameters())[0] is params[0]
    net.float()
    assert all(p.dtype == nablab.float32 for p in net.parameters())
    assert net.to("cpu") is net
    with pytest.raises(TypeError, match="only accepts floating point dtypes"):
        net.to(nablab.int64)


def test_module_deepcopy_is_independent():
    net = Net()
    twin = copy.deepcopy(net)
    twin.head.weight.array += 1
    assert not np.allclose(twin.head.weight.array, net.head.weight.array)
    assert isinstance(twin.head.weight, nn.Parameter)
    assert [n for n, _ in twin.named_parameters()] == [n for n, _ in net.named_parameters()]


# ----- hooks ----------------------------------------------------------------------------


def test_forward_hook_sees_inputs_and_output_and_can_replace_it():
    m = nn.Linear(2, 1)
    x = nablab.ones(3, 2)
    calls = []
    handle = m.register_forward_hook(lambda mod, inputs, out: calls.append((mod, inputs, out)))
    out = m(x)
    ((mod, inputs, seen),) = calls
    assert mod is m and inputs[0] is x and seen is out
    replace = m.register_forward_hook(lambda mod, inputs, out: out * 0)
    assert not m(x).array.any()
    handle.remove()
    replace.remove()
    assert m(x).array.any() and len(calls) == 2


def test_forward_pre_hook_can_replace_the_input():
    m = nn.Identity()
    handle = m.register_forward_pre_hook(lambda mod, inputs: inputs[0] + 1)
    assert m(nablab.zeros(2)).array.tolist() == [1.0, 1.0]
    handle.remove()
    assert m(nablab.zeros(2)).array.tolist() == [0.0, 0.0]


# ----- state dicts -----------------------------------------------------------------------


def test_state_dict_names_and_order_match_torch(torch):
    assert list(Net().state_dict()) == list(torch_net(torch).state_dict())
    assert list(mlp(nablab).state_dict()) == list(mlp(torch).state_dict())


def test_state_dict_is_detached_and_shares_memory():
    m = nn.Linear(2, 2)
    state = m.state_dict()
    assert type(state) is OrderedDict
    assert not state["weight"].requires_grad
    state["weight"].array[0, 0] = 42
    assert m.weight.array[0, 0] == 42
    assert m.state_dict(keep_vars=True)["weight"] is m.weight


def test_load_from_torch_then_outputs_match(torch):
    theirs = mlp(torch, "double")
    ours = mlp(nablab, "double")
    result = ours.load_state_dict(theirs.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    x = np.random.default_rng(0).standard_normal((5, 3))
    np.testing.assert_allclose(
        ours(nablab.tensor(x, dtype=nablab.float64)).array,
        theirs(torch.tensor(x)).detach().numpy(),
        rtol=1e-13,
        atol=1e-14,
    )


def test_load_into_torch_from_nablab(torch):
    ours, theirs = Net(), torch_net(torch)
    ours.blocks[1].running.array[:] = 7
    state = {k: torch.from_numpy(v.numpy().copy()) for k, v in ours.state_dict().items()}
    theirs.load_state_dict(state)
    for name, value in theirs.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), ours.state_dict()[name].array)


def test_load_keeps_each_parameter_dtype_and_object():
    m = nn.Linear(2, 2)
    weight = m.weight
    m.load_state_dict({"weight": np.ones((2, 2)), "bias": nablab.zeros(2, dtype=nablab.float64)})
    assert m.weight is weight and m.weight.dtype == nablab.float32
    assert m.weight.array.tolist() == [[1, 1], [1, 1]] and m.bias.dtype == nablab.float32


def test_strict_load_lists_every_problem_and_changes_nothing():
    m = nn.Sequential(nn.Linear(2, 3), nn.Linear(3, 1))
    before = {k: v.array.copy() for k, v in m.state_dict().items()}
    bad = {
        "0.weight": np.ones((3, 2)),
        "0.bias": np.ones(4),
        "1.weight": np.ones((1, 3)),
        "2.weight": np.ones(1),
    }
    with pytest.raises(RuntimeError) as info:
        m.load_state_dict(bad)
    message = str(info.value)
    assert 'Missing key(s) in state_dict: "1.bias".' in message
    assert 'Unexpected key(s) in state_dict: "2.weight".' in message
    assert "size mismatch for 0.bias: copying a param with shape (4,)" in message
    assert "the shape in current model is (3,)" in message
    for k, v in m.state_dict().items():
        np.testing.assert_array_equal(v.array, before[k])


def test_non_strict_load_returns_missing_and_unexpected_keys():
    m = nn.Linear(2, 1)
    result = m.load_state_dict({"weight": np.zeros((1, 2)), "extra": np.ones(1)}, strict=False)
    assert result == (["bias"], ["extra"])
    assert result.missing_keys == ["bias"] and result.unexpected_keys == ["extra"]
    assert not m.weight.array.any()
    with pytest.raises(RuntimeError, match="size mismatch for weight"):
        m.load_state_dict({"weight": np.zeros((2, 2))}, strict=False)


def test_load_refuses_values_that_are_not_numbers():
    with pytest.raises(TypeError, match="value for 'weight' has dtype <U"):
        nn.Linear(1, 1).load_state_dict({"weight": np.array([["a"]]), "bias": np.zeros(1)})


def test_non_persistent_buffer_stays_out_of_the_state_dict():
    assert "scratch" not in Block().state_dict() and "running" in Block().state_dict()


# ----- printing and containers ----------------------------------------------------------


def test_repr_matches_torch(torch):
    def build(lib):
        n = lib.nn
        return n.Sequential(
            n.Linear(2, 5),
            n.LeakyReLU(0.2),
            n.Sequential(n.Dropout(0.1), n.Linear(5, 1, bias=False)),
            n.ModuleList([n.Linear(1, 1), n.Linear(1, 1), n.Tanh()]),
            n.Embedding(4, 3, padding_idx=0),
            n.Flatten(),
            n.Softplus(),
            n.ELU(),
            n.Sigmoid(),
            n.LogSoftmax(dim=1),
            n.Identity(),
            n.ModuleList(),
        )

    assert repr(build(nablab)) == repr(build(torch))


def test_sequential_indexing_slicing_and_names():
    a, b, c = nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)
    seq = nn.Sequential(a, b, c)
    assert len(seq) == 3 and list(seq) == [a, b, c] and seq[-1] is c
    assert isinstance(seq[1:], nn.Sequential) and list(seq[1:]) == [b, c]
    assert [n for n, _ in seq[1:].named_children()] == ["1", "2"]
    seq.append(nn.Sigmoid())
    assert len(seq) == 4
    del seq[0]
    assert [n for n, _ in seq.named_children()] == ["0", "1", "2"] and seq[0] is b
    with pytest.raises(IndexError, match="index 5 is out of range for Sequential of length 3"):
        seq[5]
    named = nn.Sequential(OrderedDict([("hidden", a), ("act", b)]))
    assert [n for n, _ in named.named_parameters()] == ["hidden.weight", "hidden.bias"]
    assert named.hidden is a and named[0] is a
    x = nablab.ones(4, 2)
    np.testing.assert_array_equal(named(x).array, b(a(x)).array)


def test_module_list_and_dict_register_their_members():
    layers = nn.ModuleList([nn.Linear(1, 1)])
    layers += [nn.Linear(1, 2)]
    layers.insert(0, nn.Tanh())
    assert [type(m).__name__ for m in layers] == ["Tanh", "Linear", "Linear"]
    assert [n for n, _ in layers.named_parameters()][0] == "1.weight"
    assert isinstance(layers[1:], nn.ModuleList) and len(layers[1:]) == 2
    heads = nn.ModuleDict({"a": nn.Linear(1, 1)})
    heads["b"] = nn.Linear(1, 1)
    assert list(heads) == ["a", "b"] and "b" in heads and len(heads) == 2
    assert [n for n, _ in heads.named_parameters()] == ["a.weight", "a.bias", "b.weight", "b.bias"]
    heads.pop("a")
    assert list(heads.keys()) == ["b"]
