"""Devices as no-ops on the CPU: nablab.device, Tensor.device, `device=` on the factories
and layers, `.to(...)`/`.cpu()` beside torch; CUDA and bad device strings give one clear
error; nablab.cuda reports no GPU."""

import numpy as np
import pytest

import nablab
from nablab import nn

CUDA_ERROR = "nablab runs on the CPU only: device 'cuda.*' is not available; use device='cpu'"


def both(fn):
    """fn(lib) run with nablab and with torch (the same code, `import nablab as torch`)."""
    torch = pytest.importorskip("torch")
    return fn(nablab), fn(torch)


def dtype_name(dtype):
    return str(dtype).removeprefix("torch.")


def test_device_object_as_torch():
    def describe(lib):
        devices = [
            lib.device("cpu"),
            lib.device("cuda:1"),
            lib.device("cuda", 0),
            lib.device("cpu:0"),
        ]
        return [(str(d), repr(d), d.type, d.index) for d in devices]

    ours, theirs = both(describe)
    assert ours == theirs
    assert ours[0] == ("cpu", "device(type='cpu')", "cpu", None)
    assert nablab.device("cpu") == nablab.device(nablab.device("cpu"))
    assert nablab.device("cpu") != nablab.device("cpu:0")
    assert len({nablab.device("cpu"), nablab.device("cpu")}) == 1


def test_device_equals_its_name():
    """A documented difference: torch.device('cpu') == 'cpu' is False, nablab's is True."""
    assert nablab.device("cpu") == "cpu"
    assert nablab.ones(1).device == "cpu"
    assert nablab.device("cuda:0") == "cuda:0" and nablab.device("cuda:0") != "cpu"


def test_tensor_device_is_the_cpu():
    def devices(lib):
        x = lib.ones(2)
        return [str(x.device), x.device.type, str((x * 2).device), str(x.cpu().device)]

    ours, theirs = both(devices)
    assert ours == theirs == ["cpu", "cpu", "cpu", "cpu"]


FACTORIES = {
    "tensor": lambda lib, **kw: lib.tensor([1.0, 2.0], **kw),
    "as_tensor": lambda lib, **kw: lib.as_tensor([1, 2], **kw),
    "zeros": lambda lib, **kw: lib.zeros(2, 3, **kw),
    "ones": lambda lib, **kw: lib.ones((2,), **kw),
    "empty": lambda lib, **kw: lib.empty(2, **kw),
    "full": lambda lib, **kw: lib.full((2, 2), 7.0, **kw),
    "eye": lambda lib, **kw: lib.eye(3, **kw),
    "arange": lambda lib, **kw: lib.arange(5, **kw),
    "linspace": lambda lib, **kw: lib.linspace(0, 1, 5, **kw),
    "rand": lambda lib, **kw: lib.rand(2, 2, **kw),
    "randn": lambda lib, **kw: lib.randn(3, **kw),
    "randint": lambda lib, **kw: lib.randint(0, 5, (4,), **kw),
    "zeros_like": lambda lib, **kw: lib.zeros_like(lib.ones(2), **kw),
    "ones_like": lambda lib, **kw: lib.ones_like(lib.ones(2), **kw),
    "full_like": lambda lib, **kw: lib.full_like(lib.ones(2), 3.0, **kw),
    "rand_like": lambda lib, **kw: lib.rand_like(lib.ones(2), **kw),
    "randn_like": lambda lib, **kw: lib.randn_like(lib.ones(2), **kw),
}
RANDOM = {"empty", "rand", "randn", "randint", "rand_like", "randn_like"}


@pytest.mark.parametrize("name", FACTORIES)
@pytest.mark.parametrize("where", ["cpu", "device"])
def test_factories_take_a_cpu_device(name, where):
    def make(lib):
        t = FACTORIES[name](lib, device="cpu" if where == "cpu" else lib.device("cpu"))
        values = None if name in RANDOM else np.asarray(t.tolist())
        return tuple(t.shape), dtype_name(t.dtype), str(t.device), values

    (shape, dtype, device, values), theirs = both(make)
    assert (shape, dtype, device) == theirs[:3]
    if values is not None:
        np.testing.assert_array_equal(values, theirs[3])


@pytest.mark.parametrize("name", FACTORIES)
@pytest.mark.parametrize("where", ["cuda", "cuda:0", nablab.device("cuda")])
def test_factories_refuse_cuda_with_one_error(name, where):
    with pytest.raises(RuntimeError, match=CUDA_ERROR):
        FACTORIES[name](nablab, device=where)


@pytest.mark.parametrize("bad", ["gpu", "cpux", "tpu:0"])
def test_bad_device_strings_name_what_was_expected(bad):
    def refuse(lib):
        with pytest.raises(RuntimeError) as info:
            lib.device(bad)
        return info.type

    ours, theirs = both(refuse)
    assert ours is theirs is RuntimeError
    with pytest.raises(RuntimeError, match=rf"expected a device 'cpu' .*got '{bad}'"):
        nablab.zeros(1, device=bad)
    with pytest.raises(RuntimeError, match="expected a device 'cpu'"):
        nablab.ones(1).to(bad)
    with pytest.raises(RuntimeError, match=r"invalid device string 'cuda:x': expected 'cpu'"):
        nablab.device("cuda:x")
    with pytest.raises(TypeError, match=r"expected a device such as 'cpu', got 1\.5"):
        nablab.device(1.5)


def test_to_forms_as_torch():
    def casts(lib):
        x = lib.ones(2, 2)
        f64 = lib.float64
        results = [
            x.to("cpu"),
            x.to(lib.device("cpu")),
            x.to(x.device),
            x.to(f64),
            x.to("cpu", f64),
            x.to(lib.device("cpu"), f64),
            x.to(dtype=f64, device="cpu"),
            x.to(device="cpu"),
            x.to(lib.zeros(1, dtype=f64)),
            x.to("cpu", non_blocking=True),
        ]
        same = [r is x for r in results] + [x.cpu() is x]
        return [dtype_name(r.dtype) for r in results], same

    ours, theirs = both(casts)
    assert ours == theirs
    assert ours[1] == [True, True, True, False, False, False, False, True, False, True, True]


def test_to_keeps_the_graph_of_a_cast():
    x = nablab.ones(2, requires_grad=True)
    x.to("cpu", nablab.float64).sum().backward()
    assert x.grad.dtype == nablab.float32 and x.grad.tolist() == [1.0, 1.0]


@pytest.mark.parametrize(
    "ask",
    [
        lambda x: x.cuda(),
        lambda x: x.cuda(0),
        lambda x: x.to("cuda"),
        lambda x: x.to("cuda:0", nablab.float64),
        lambda x: x.to(device="cuda"),
        lambda x: x.to(nablab.device("cuda")),
        lambda x: x.to(0),
    ],
)
def test_tensor_cuda_is_one_clear_error(ask):
    with pytest.raises(RuntimeError, match=CUDA_ERROR):
        ask(nablab.ones(2))


def test_to_takes_at_most_a_device_and_a_dtype():
    with pytest.raises(TypeError, match="at most a device and a dtype, got 3"):
        nablab.ones(1).to("cpu", nablab.float64, nablab.float32)


def test_cuda_module_reports_no_gpu():
    assert nablab.cuda.is_available() is False
    assert nablab.cuda.device_count() == 0


def test_d2l_try_gpu_idiom_falls_back_to_cpu():
    def try_gpu(lib, i=0):
        if lib.cuda.device_count() >= i + 1:
            return lib.device(f"cuda:{i}")
        return lib.device("cpu")

    def run(lib):
        device = lib.device("cuda" if lib.cuda.is_available() else "cpu")
        x = lib.ones(2, 3, device=try_gpu(lib)).to(device)
        return str(try_gpu(lib)), str(device), str(x.device), x.sum().item()

    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("torch sees a GPU here; the fallback is compared on CPU-only machines")
    ours, theirs = both(run)
    assert ours == theirs == ("cpu", "cpu", "cpu", 6.0)


def test_module_to_and_cpu_as_torch():
    def move(lib):
        net = lib.nn.Sequential(lib.nn.Linear(2, 3), lib.nn.Tanh(), lib.nn.Linear(3, 1))
        same = [net.to("cpu") is net, net.to(lib.device("cpu")) is net, net.cpu() is net]
        same.append(net.to("cpu", lib.float64) is net)
        double = [dtype_name(p.dtype) for p in net.parameters()]
        net.to(dtype=lib.float32, device="cpu")
        return same, double, [dtype_name(p.dtype) for p in net.parameters()]

    ours, theirs = both(move)
    assert ours == theirs
    assert ours[1] == ["float64"] * 4 and ours[2] == ["float32"] * 4


@pytest.mark.parametrize(
    "ask",
    [
        lambda net: net.cuda(),
        lambda net: net.to("cuda"),
        lambda net: net.to("cuda:0", nablab.float64),
        lambda net: net.to(device=nablab.device("cuda")),
    ],
)
def test_module_cuda_is_one_clear_error(ask):
    net = nn.Linear(2, 1)
    with pytest.raises(RuntimeError, match=CUDA_ERROR):
        ask(net)
    assert net.weight.dtype == nablab.float32


LAYERS = {
    "Linear": lambda lib, **kw: lib.nn.Linear(2, 3, **kw),
    "Embedding": lambda lib, **kw: lib.nn.Embedding(4, 2, **kw),
    "BatchNorm1d": lambda lib, **kw: lib.nn.BatchNorm1d(3, **kw),
    "LayerNorm": lambda lib, **kw: lib.nn.LayerNorm(3, **kw),
    "RNN": lambda lib, **kw: lib.nn.RNN(2, 3, **kw),
    "GRU": lambda lib, **kw: lib.nn.GRU(2, 3, **kw),
    "LSTM": lambda lib, **kw: lib.nn.LSTM(2, 3, **kw),
    "RNNCell": lambda lib, **kw: lib.nn.RNNCell(2, 3, **kw),
    "GRUCell": lambda lib, **kw: lib.nn.GRUCell(2, 3, **kw),
    "LSTMCell": lambda lib, **kw: lib.nn.LSTMCell(2, 3, **kw),
}


@pytest.mark.parametrize("name", LAYERS)
def test_layers_take_a_cpu_device(name):
    def build(lib):
        layer = LAYERS[name](lib, device="cpu")
        return [(tuple(p.shape), str(p.device)) for p in layer.parameters()]

    ours, theirs = both(build)
    assert ours == theirs
    with pytest.raises(RuntimeError, match=CUDA_ERROR):
        LAYERS[name](nablab, device="cuda")
