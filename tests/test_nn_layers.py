"""Layers against PyTorch: the same MLP with the same weights and data gives the same
outputs, loss and parameter gradients (float64) for every activation and every loss;
Dropout's mask; Embedding's lookup and scatter-add gradient; the small layers."""

import numpy as np
import pytest

import nablab
import nablab.nn.functional as F
from nablab import nn

ACTIVATIONS = {
    "ReLU": lambda n: n.ReLU(),
    "LeakyReLU": lambda n: n.LeakyReLU(0.1),
    "ELU": lambda n: n.ELU(alpha=0.7),
    "Sigmoid": lambda n: n.Sigmoid(),
    "Tanh": lambda n: n.Tanh(),
    "Softplus": lambda n: n.Softplus(beta=2.0, threshold=1.5),
}

N = 6


def _probabilities(lib, out):
    return lib.sigmoid(out)


def _log_probs(lib, out):
    return lib.log_softmax(out, dim=1)


# name -> (output width, target maker, loss module name, transform of the model output)
LOSSES = {
    "MSE": (2, lambda r: r.standard_normal((N, 2)), "MSELoss", None),
    "L1": (2, lambda r: r.standard_normal((N, 2)), "L1Loss", None),
    "BCE": (1, lambda r: r.integers(0, 2, (N, 1)).astype(float), "BCELoss", _probabilities),
    "BCEWithLogits": (3, lambda r: r.random((N, 3)), "BCEWithLogitsLoss", None),
    "CrossEntropy": (4, lambda r: r.integers(0, 4, N), "CrossEntropyLoss", None),
    "NLL": (4, lambda r: r.integers(0, 4, N), "NLLLoss", _log_probs),
}


def _model(lib, activation, width, dropout=False):
    n = lib.nn
    layers = [
        n.Linear(3, 5),
        ACTIVATIONS[activation](n),
        n.Linear(5, 4),
        ACTIVATIONS[activation](n),
    ]
    if dropout:
        layers.append(n.Dropout(0.5))
    return n.Sequential(*layers, n.Linear(4, width)).double()


def _as(lib, array):
    dtype = None if array.dtype.kind == "i" else lib.float64
    return lib.tensor(array, dtype=dtype)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("loss_name", LOSSES)
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_mlp_matches_torch(torch, activation, loss_name, reduction):
    width, make_target, module, transform = LOSSES[loss_name]
    rng = np.random.default_rng(0)
    x, target = rng.standard_normal((N, 3)) * 2, make_target(rng)
    theirs = _model(torch, activation, width)
    ours = _model(nablab, activation, width)
    ours.load_state_dict(theirs.state_dict())

    def run(lib, model):
        out = model(_as(lib, x))
        pred = transform(lib, out) if transform else out
        loss = getattr(lib.nn, module)(reduction=reduction)(pred, _as(lib, target))
        upstream = np.random.default_rng(1).standard_normal(tuple(loss.shape))
        loss.backward(_as(lib, upstream))
        return out, loss

    out, loss = run(nablab, ours)
    t_out, t_loss = run(torch, theirs)
    close = dict(rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(out.array, t_out.detach().numpy(), **close)
    np.testing.assert_allclose(loss.array, t_loss.detach().numpy(), **close)
    t_params = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad.array, t_params[name].grad.numpy(), **close, err_msg=name)


def test_mlp_with_dropout_in_eval_mode_matches_torch(torch):
    rng = np.random.default_rng(0)
    x, target = rng.standard_normal((N, 3)), rng.integers(0, 4, N)
    theirs, ours = _model(torch, "Tanh", 4, True).eval(), _model(nablab, "Tanh", 4, True).eval()
    ours.load_state_dict(theirs.state_dict())
    loss = nn.CrossEntropyLoss()(ours(_as(nablab, x)), _as(nablab, target))
    t_loss = torch.nn.CrossEntropyLoss()(theirs(torch.tensor(x)), torch.tensor(target))
    loss.backward()
    t_loss.backward()
    np.testing.assert_allclose(loss.item(), t_loss.item(), rtol=1e-13)
    for (name, p), tp in zip(ours.named_parameters(), theirs.parameters()):
        np.testing.assert_allclose(p.grad.array, tp.grad.numpy(), rtol=1e-12, err_msg=name)


# ----- Dropout -------------------------------------------------------------------------


def test_dropout_eval_mode_is_identity():
    x = nablab.randn(4, 5, requires_grad=True)
    drop = nn.Dropout(0.7).eval()
    assert drop(x) is x


def test_dropout_train_mode_scales_kept_units_and_reuses_the_mask_in_backward():
    p = 0.25
    x = nablab.tensor(np.arange(1.0, 2001.0).reshape(40, 50), requires_grad=True)
    y = nn.Dropout(p)(x)
    kept = y.array != 0
    np.testing.assert_allclose(y.array[kept], x.array[kept] / (1 - p))
    assert abs(kept.mean() - (1 - p)) < 0.04
    upstream = np.random.default_rng(0).standard_normal(x.shape)
    y.backward(upstream)
    np.testing.assert_allclose(x.grad.array, upstream * kept / (1 - p))


def test_dropout_masks_repeat_with_the_seed_and_change_between_calls():
    drop, x = nn.Dropout(0.5), nablab.ones(8, 8)
    nablab.manual_seed(3)
    first, second = drop(x).array, drop(x).array
    nablab.manual_seed(3)
    np.testing.assert_array_equal(drop(x).array, first)
    assert not np.array_equal(first, second)


def test_dropout_edge_probabilities_and_errors():
    x = nablab.ones(3, 3)
    assert nn.Dropout(0.0)(x) is x
    assert not nn.Dropout(1.0)(x).array.any()
    for p in (-0.1, 1.5):
        with pytest.raises(ValueError, match=f"between 0 and 1, but got {p}"):
            nn.Dropout(p)
    assert F.dropout(x, 0.5, training=False) is x


# ----- Embedding -------------------------------------------------------------------------


def test_embedding_lookup_and_gradient_match_torch(torch):
    idx = np.array([[0, 2, 2], [4, 0, 2]])
    theirs = torch.nn.Embedding(5, 3, padding_idx=2).double()
    ours = nn.Embedding(5, 3, padding_idx=2).double()
    ours.load_state_dict(theirs.state_dict())
    out, t_out = ours(nablab.tensor(idx)), theirs(torch.tensor(idx))
    np.testing.assert_array_equal(out.array, t_out.detach().numpy())
    upstream = np.random.default_rng(0).standard_normal(out.shape)
    out.backward(upstream)
    t_out.backward(torch.tensor(upstream))
    np.testing.assert_allclose(ours.weight.grad.array, theirs.weight.grad.numpy(), rtol=1e-14)
    assert not ours.weight.grad.array[2].any() and ours.weight.grad.array[0].any()


def test_embedding_init_and_padding_row():
    nablab.manual_seed(0)
    emb = nn.Embedding(2000, 50, padding_idx=-1)
    assert emb.padding_idx == 1999 and not emb.weight.array[1999].any()
    w = emb.weight.array[:-1]
    assert abs(w.mean()) < 0.01 and abs(w.std() - 1) < 0.01


def test_embedding_errors_name_the_valid_range():
    emb = nn.Embedding(5, 2)
    with pytest.raises(IndexError, match=r"index 5 is out of range; valid indices are 0..4"):
        emb(nablab.tensor([1, 5]))
    with pytest.raises(IndexError, match=r"index -1 is out of range"):
        emb(nablab.tensor([-1]))
    with pytest.raises(TypeError, match="indices must be an integer tensor"):
        emb(nablab.tensor([1.0]))
    with pytest.raises(ValueError, match=r"padding_idx must be within \[-5, 4\]"):
        nn.Embedding(5, 2, padding_idx=5)


# ----- small layers ---------------------------------------------------------------------


def test_linear_default_init_and_shapes():
    nablab.manual_seed(0)
    layer = nn.Linear(400, 300)
    bound = 1 / np.sqrt(400)
    assert layer.weight.shape == (300, 400) and layer.bias.shape == (300,)
    for p in (layer.weight.array, layer.bias.array):
        assert p.min() >= -bound and p.max() <= bound and p.max() > 0.95 * bound
    assert abs(layer.weight.array.std() - bound / np.sqrt(3)) < 0.01 * bound
    assert layer(nablab.ones(2, 7, 400)).shape == (2, 7, 300)
    assert nn.Linear(2, 3, bias=False).bias is None
    assert nn.Linear(2, 3, dtype=nablab.float64).weight.dtype == nablab.float64


def test_linear_generator_makes_init_repeatable():
    a = nn.Linear(3, 3, generator=np.random.default_rng(5))
    b = nn.Linear(3, 3, generator=np.random.default_rng(5))
    np.testing.assert_array_equal(a.weight.array, b.weight.array)


@pytest.mark.parametrize(
    "make",
    [
        lambda n: n.Softmax(dim=1),
        lambda n: n.LogSoftmax(dim=-1),
        lambda n: n.Flatten(),
        lambda n: n.Flatten(0, 1),
        lambda n: n.Identity(7, key=1),
        lambda n: n.ReLU(inplace=True),
    ],
)
def test_small_layers_match_torch(torch, make):
    x = np.random.default_rng(0).standard_normal((2, 3, 4))
    ours, theirs = make(nn)(nablab.tensor(x, requires_grad=True)), make(torch.nn)(torch.tensor(x))
    np.testing.assert_allclose(ours.array, theirs.numpy(), rtol=1e-12)


def test_softmax_without_dim_warns_and_picks_torchs_dim(torch):
    x = np.random.default_rng(0).standard_normal((2, 3))
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmax"):
        ours = nn.Softmax()(nablab.tensor(x))
    with pytest.warns(UserWarning):
        theirs = torch.nn.Softmax()(torch.tensor(x))
    np.testing.assert_allclose(ours.array, theirs.numpy(), rtol=1e-12)


def test_functional_forms_match_torch(torch):
    tf = torch.nn.functional
    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal((4, 3)), rng.standard_normal((2, 3)), rng.standard_normal(2)
    ours = nablab.tensor(x, dtype=nablab.float64)
    theirs = torch.tensor(x)
    pairs = [
        (
            F.linear(ours, nablab.tensor(w), nablab.tensor(b)),
            tf.linear(theirs, *map(torch.tensor, (w, b))),
        ),
        (F.relu(ours), tf.relu(theirs)),
        (F.leaky_relu(ours, 0.3), tf.leaky_relu(theirs, 0.3)),
        (F.elu(ours, 0.5), tf.elu(theirs, 0.5)),
        (F.softplus(ours, 2.0, 1.0), tf.softplus(theirs, 2.0, 1.0)),
        (F.sigmoid(ours), torch.sigmoid(theirs)),
        (F.tanh(ours), torch.tanh(theirs)),
        (F.log_softmax(ours, 0), tf.log_softmax(theirs, 0)),
        (F.one_hot(nablab.tensor([2, 0])), tf.one_hot(torch.tensor([2, 0]))),
        (F.embedding(nablab.tensor([1, 1]), ours), tf.embedding(torch.tensor([1, 1]), theirs)),
    ]
    for mine, ref in pairs:
        np.testing.assert_allclose(mine.array, ref.numpy(), rtol=1e-12)


def test_parameter_list_registers_its_parameters(torch):
    def model(lib, make):
        class Model(lib.Module):
            def __init__(self):
                super().__init__()
                self.weights = lib.ParameterList([make(np.ones((2, 3))), make(np.zeros(3))])
                self.weights.append(make(np.full(4, 2.0)))

        return Model()

    ours = model(nn, lambda a: nn.Parameter(nablab.tensor(a)))
    theirs = model(torch.nn, lambda a: torch.nn.Parameter(torch.tensor(a)))
    assert (
        list(ours.state_dict())
        == list(theirs.state_dict())
        == [
            "weights.0",
            "weights.1",
            "weights.2",
        ]
    )
    assert [p.shape for p in ours.parameters()] == [tuple(p.shape) for p in theirs.parameters()]
    assert len(ours.weights) == 3 and ours.weights[-1].array.tolist() == [2.0] * 4
    assert [p.shape for p in ours.weights] == [(2, 3), (3,), (4,)]
    assert list(ours.weights[1:]) == list(ours.weights)[1:]
    plain = nn.ParameterList([nablab.zeros(2)])  # a Tensor is made a Parameter
    assert isinstance(plain[0], nn.Parameter) and plain[0].requires_grad
    with pytest.raises(IndexError, match="out of range for ParameterList of length 1"):
        plain[1]


def test_lazy_linear_infers_in_features_at_the_first_call():
    layer = nn.LazyLinear(4)
    before = list(layer.parameters())
    assert [p.shape for p in before] == [(0,), (0,)]
    optimizer = nablab.optim.SGD(layer.parameters(), lr=0.1)
    x = nablab.randn(5, 3)
    out = layer(x)
    assert out.shape == (5, 4) and type(layer) is nn.Linear and layer.in_features == 3
    assert [p.shape for p in layer.parameters()] == [(4, 3), (4,)]
    assert before[0] is layer.weight and before[1] is layer.bias  # filled in place
    bound = 1 / np.sqrt(3)
    assert np.abs(layer.weight.array).max() <= bound and np.abs(layer.bias.array).max() <= bound
    out.sum().backward()
    old = layer.weight.array.copy()
    optimizer.step()
    assert not np.array_equal(old, layer.weight.array)


def test_lazy_linear_uses_linear_init_and_its_generator():
    lazy = nn.LazyLinear(3, generator=np.random.default_rng(0))
    lazy(nablab.zeros(2, 5))
    eager = nn.Linear(5, 3, generator=np.random.default_rng(0))
    np.testing.assert_array_equal(lazy.weight.array, eager.weight.array)
    np.testing.assert_array_equal(lazy.bias.array, eager.bias.array)
    no_bias = nn.LazyLinear(2, bias=False)
    assert no_bias(nablab.ones(1, 4)).shape == (1, 2) and no_bias.bias is None
