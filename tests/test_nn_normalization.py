"""BatchNorm1d, LayerNorm, F.batch_norm and F.layer_norm: values, gradients and running
statistics against PyTorch in train and eval mode, finite differences in float64, state
dicts both ways, and the messages for bad input."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import SETTINGS

import nablab
import nablab.nn.functional as F
from nablab import nn

BN_SHAPES = [(6, 3), (5, 3, 4), (2, 3, 1)]


def _pair(lib, array, grad=True):
    if lib is nablab:
        return nablab.tensor(array, requires_grad=grad)
    return lib.tensor(array, requires_grad=grad)


def _step(torch, ours, theirs, x, upstream):
    """One forward and backward through both modules; the outputs and input gradients."""
    xo, xt = _pair(nablab, x), _pair(torch, x)
    yo, yt = ours(xo), theirs(xt)
    yo.backward(nablab.tensor(upstream))
    yt.backward(torch.tensor(upstream))
    return (yo.array, xo.grad.array), (yt.detach().numpy(), xt.grad.numpy())


def _assert_same_state(ours, theirs, rtol=1e-7, atol=1e-9):
    t_state = theirs.state_dict()
    assert list(ours.state_dict()) == list(t_state)
    for name, value in ours.state_dict().items():
        np.testing.assert_allclose(value.array, t_state[name].numpy(), rtol, atol, err_msg=name)
        assert value.array.dtype == t_state[name].numpy().dtype, name
    for name, p in ours.named_parameters():
        t_grad = dict(theirs.named_parameters())[name].grad
        np.testing.assert_allclose(p.grad.array, t_grad.numpy(), rtol, atol, err_msg=name)


@pytest.mark.parametrize("shape", BN_SHAPES)
@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("momentum", [0.1, 0.3, None])
@pytest.mark.parametrize("track", [True, False])
def test_batchnorm1d_matches_torch_in_train_and_eval_mode(torch, shape, affine, momentum, track):
    kwargs = dict(eps=1e-3, momentum=momentum, affine=affine, track_running_stats=track)
    ours, theirs = nn.BatchNorm1d(3, **kwargs).double(), torch.nn.BatchNorm1d(3, **kwargs).double()
    rng = np.random.default_rng(0)
    if affine:  # γ and β away from 1 and 0, so that a mix-up shows
        ours.weight.array[:] = theirs.weight.data.numpy()[:] = rng.uniform(0.5, 2, 3)
        ours.bias.array[:] = theirs.bias.data.numpy()[:] = rng.standard_normal(3)
    for step in range(4):  # batches from different distributions move the running statistics
        x = rng.standard_normal(shape) * (step + 1) + step
        mine, torchs = _step(torch, ours, theirs, x, rng.standard_normal(shape))
        for a, b in zip(mine, torchs):
            np.testing.assert_allclose(a, b, rtol=1e-7, atol=1e-9)
    _assert_same_state(ours, theirs)
    if track:
        assert int(ours.num_batches_tracked.array) == 4
    ours.eval(), theirs.eval()
    x = rng.standard_normal(shape) * 3 - 1
    mine, torchs = _step(torch, ours, theirs, x, rng.standard_normal(shape))
    for a, b in zip(mine, torchs):
        np.testing.assert_allclose(a, b, rtol=1e-7, atol=1e-9)
    _assert_same_state(ours, theirs)  # eval mode leaves the running statistics alone


def test_batchnorm1d_float32_and_no_bias_match_torch(torch):
    ours, theirs = nn.BatchNorm1d(4, bias=False), torch.nn.BatchNorm1d(4, bias=False)
    x = np.random.default_rng(1).standard_normal((8, 4, 3)).astype(np.float32) * 5
    upstream = np.ones((8, 4, 3), np.float32)
    mine, torchs = _step(torch, ours, theirs, x, upstream)
    for a, b in zip(mine, torchs):
        assert a.dtype == np.float32
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    _assert_same_state(ours, theirs, rtol=1e-5, atol=1e-6)
    assert "bias" not in ours.state_dict()


def test_running_statistics_follow_the_formulas():
    """momentum m: running ← (1 − m)·running + m·batch (unbiased variance); None: the plain
    mean of the batches' statistics."""
    rng = np.random.default_rng(2)
    batches = [rng.standard_normal((5, 2)) * (k + 1) + k for k in range(3)]
    ema, cma = nn.BatchNorm1d(2, momentum=0.25).double(), nn.BatchNorm1d(2, momentum=None).double()
    mean, var = np.zeros(2), np.ones(2)
    for x in batches:
        ema(nablab.tensor(x)), cma(nablab.tensor(x))
        mean = 0.75 * mean + 0.25 * x.mean(0)
        var = 0.75 * var + 0.25 * x.var(0, ddof=1)
    np.testing.assert_allclose(ema.running_mean.array, mean, rtol=1e-12)
    np.testing.assert_allclose(ema.running_var.array, var, rtol=1e-12)
    np.testing.assert_allclose(cma.running_mean.array, np.mean([x.mean(0) for x in batches], 0))
    np.testing.assert_allclose(
        cma.running_var.array, np.mean([x.var(0, ddof=1) for x in batches], 0)
    )
    out = ema(nablab.tensor(batches[0])).array  # train mode normalises with the biased variance
    expected = (batches[0] - batches[0].mean(0)) / np.sqrt(batches[0].var(0) + 1e-5)
    np.testing.assert_allclose(out, expected, rtol=1e-12)


@pytest.mark.parametrize(
    "shape, normalized",
    [((4, 5), 5), ((3, 2, 4), (4,)), ((3, 2, 4), (2, 4)), ((2, 3, 2, 2), [3, 2, 2])],
)
@pytest.mark.parametrize("affine, bias", [(True, True), (True, False), (False, True)])
def test_layernorm_matches_torch(torch, shape, normalized, affine, bias):
    kwargs = dict(eps=1e-4, elementwise_affine=affine, bias=bias)
    ours = nn.LayerNorm(normalized, **kwargs).double()
    theirs = torch.nn.LayerNorm(normalized, **kwargs).double()
    rng = np.random.default_rng(3)
    for p in ours.parameters():
        p.array[...] = rng.uniform(0.5, 2, p.shape)
    theirs.load_state_dict({k: torch.tensor(v.array) for k, v in ours.state_dict().items()})
    for mode in (True, False):  # no running statistics: eval mode computes the same
        ours.train(mode), theirs.train(mode)
        for p, q in zip(ours.parameters(), theirs.parameters()):
            p.grad, q.grad = None, None
        x = rng.standard_normal(shape) * 2 + 1
        mine, torchs = _step(torch, ours, theirs, x, rng.standard_normal(shape))
        for a, b in zip(mine, torchs):
            np.testing.assert_allclose(a, b, rtol=1e-7, atol=1e-9)
        _assert_same_state(ours, theirs)


def test_functional_forms_match_torch(torch):
    tf = torch.nn.functional
    rng = np.random.default_rng(4)
    x, w, b = rng.standard_normal((6, 3, 2)), rng.uniform(0.5, 2, 3), rng.standard_normal(3)
    rm, rv = rng.standard_normal(3), rng.uniform(0.5, 2, 3)
    ours_rm, ours_rv = nablab.tensor(rm.copy()), nablab.tensor(rv.copy())
    theirs_rm, theirs_rv = torch.tensor(rm.copy()), torch.tensor(rv.copy())
    for training in (True, False):
        mine = F.batch_norm(nablab.tensor(x), ours_rm, ours_rv, nablab.tensor(w),
                            nablab.tensor(b), training, 0.2, 1e-3)  # fmt: skip
        theirs = tf.batch_norm(torch.tensor(x), theirs_rm, theirs_rv, torch.tensor(w),
                               torch.tensor(b), training, 0.2, 1e-3)  # fmt: skip
        np.testing.assert_allclose(mine.array, theirs.numpy(), rtol=1e-10)
        np.testing.assert_allclose(ours_rm.array, theirs_rm.numpy(), rtol=1e-12)
        np.testing.assert_allclose(ours_rv.array, theirs_rv.numpy(), rtol=1e-12)
    mine = F.batch_norm(nablab.tensor(x), None, None, training=True)
    np.testing.assert_allclose(
        mine.array, tf.batch_norm(torch.tensor(x), None, None, training=True)
    )
    mine = F.layer_norm(nablab.tensor(x), (3, 2), nablab.tensor(np.ones((3, 2))))
    np.testing.assert_allclose(mine.array, tf.layer_norm(torch.tensor(x), (3, 2)), rtol=1e-10)


@st.composite
def bn_case(draw):
    n = draw(st.integers(2, 4))
    shape = (n, draw(st.integers(1, 3))) + draw(st.sampled_from([(), (1,), (3,)]))
    return shape, draw(st.integers(0, 2**16))


@given(case=bn_case(), training=st.booleans())
@SETTINGS
def test_batch_norm_gradcheck(case, training):
    shape, seed = case
    rng = np.random.default_rng(seed)
    c = shape[1]
    x = nablab.tensor(rng.standard_normal(shape), requires_grad=True)
    w = nablab.tensor(rng.uniform(0.5, 2, c), requires_grad=True)
    b = nablab.tensor(rng.standard_normal(c), requires_grad=True)
    rm, rv = nablab.tensor(rng.standard_normal(c)), nablab.tensor(rng.uniform(0.5, 2, c))
    assert nablab.gradcheck(
        lambda x, w, b: F.batch_norm(x, rm, rv, w, b, training, 0.0, 1e-3), (x, w, b)
    )


@given(
    shape=st.lists(st.integers(1, 3), min_size=1, max_size=3),
    k=st.integers(1, 3),
    seed=st.integers(0, 2**16),
)
@SETTINGS
def test_layer_norm_gradcheck(shape, k, seed):
    shape = tuple(shape) + (2,)  # at least two values to normalise over
    k = min(k, len(shape))
    rng = np.random.default_rng(seed)
    normalized = shape[len(shape) - k :]
    x = nablab.tensor(rng.standard_normal(shape), requires_grad=True)
    w = nablab.tensor(rng.uniform(0.5, 2, normalized), requires_grad=True)
    b = nablab.tensor(rng.standard_normal(normalized), requires_grad=True)
    assert nablab.gradcheck(lambda x, w, b: F.layer_norm(x, normalized, w, b, 1e-3), (x, w, b))


def _net(lib):
    n = lib.nn
    return n.Sequential(
        n.Linear(2, 4), n.BatchNorm1d(4), n.ReLU(), n.Linear(4, 3), n.LayerNorm(3), n.Linear(3, 1)
    ).double()


def _train(lib, model, x):
    optimizer = lib.optim.SGD(model.parameters(), lr=0.1)
    for k in range(3):
        optimizer.zero_grad()
        loss = (model(lib.tensor(x * (k + 1))) ** 2).mean()
        loss.backward()
        optimizer.step()


@pytest.mark.parametrize("direction", ["torch to nablab", "nablab to torch"])
def test_state_dicts_load_both_ways(torch, direction):
    x = np.random.default_rng(5).standard_normal((8, 2))
    ours, theirs = _net(nablab), _net(torch)
    if direction == "torch to nablab":
        _train(torch, theirs, x)
        ours.load_state_dict(theirs.state_dict())
    else:
        _train(nablab, ours, x)
        theirs.load_state_dict(
            {k: torch.from_numpy(v.numpy()) for k, v in ours.state_dict().items()}
        )
    assert int(ours[1].num_batches_tracked.array) == int(theirs[1].num_batches_tracked) == 3
    ours.eval(), theirs.eval()
    test = np.random.default_rng(6).standard_normal((5, 2))
    with nablab.no_grad():
        mine = ours(nablab.tensor(test)).array
    np.testing.assert_allclose(mine, theirs(torch.tensor(test)).detach().numpy(), rtol=1e-10)


def test_repr_and_buffers_as_torch(torch):
    for args, kwargs in [((3,), {}), ((3,), dict(momentum=None, affine=False,
                                                track_running_stats=False))]:  # fmt: skip
        assert repr(nn.BatchNorm1d(*args, **kwargs)) == repr(torch.nn.BatchNorm1d(*args, **kwargs))
    assert repr(nn.LayerNorm([3, 4])) == repr(torch.nn.LayerNorm([3, 4]))
    bn = nn.BatchNorm1d(3, track_running_stats=False)
    assert list(bn.state_dict()) == ["weight", "bias"] and bn.running_mean is None
    bn = nn.BatchNorm1d(3).double()
    assert bn.running_var.dtype == np.float64 and bn.num_batches_tracked.dtype == np.int64


def test_bad_inputs_name_what_was_expected():
    bn = nn.BatchNorm1d(3)
    with pytest.raises(RuntimeError, match=r"BatchNorm1d\(3\): expected input of shape \(N, 3\) "
                       r"or \(N, 3, L\), got \(4, 5\) \(5 features at dim 1\)"):  # fmt: skip
        bn(nablab.randn(4, 5))
    with pytest.raises(ValueError, match=r"expected 2D or 3D input \(got 4D input\)"):
        bn(nablab.randn(2, 3, 4, 5))
    for shape in [(1, 3), (1, 3, 1)]:
        with pytest.raises(
            ValueError,
            match=rf"Expected more than 1 value per channel when training, got input size "
            rf"\({shape[0]}, 3(, 1)?\)",
        ):
            bn(nablab.randn(*shape))
    assert int(bn.num_batches_tracked.array) == 0  # the failed batches counted nothing
    assert bn.eval()(nablab.randn(1, 3)).shape == (1, 3)  # eval mode takes a single example
    ln = nn.LayerNorm([3, 4])
    with pytest.raises(
        RuntimeError,
        match=r"Given normalized_shape=\[3, 4\], expected input with shape \[\*, 3, 4\], but got "
        r"input of size \(2, 4, 3\)",
    ):
        ln(nablab.randn(2, 4, 3))
    with pytest.raises(RuntimeError, match=r"running_mean has shape \(2,\), expected \(3,\)"):
        F.batch_norm(nablab.randn(4, 3), nablab.zeros(2), nablab.ones(2), training=True)
