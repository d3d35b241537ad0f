"""nn.RNN / GRU / LSTM and their cells against PyTorch (same weights, float64), the fused
recurrence ops against finite differences, and the error messages of bad input."""

import itertools
import math

import numpy as np
import pytest

import nablab
from nablab import nn
from nablab.nn.recurrence import gru_recurrence, lstm_recurrence, rnn_recurrence

torch = pytest.importorskip("torch")

T, B, IN, H = 4, 3, 5, 3
KINDS = {
    "rnn_tanh": (nn.RNN, torch.nn.RNN, {"nonlinearity": "tanh"}),
    "rnn_relu": (nn.RNN, torch.nn.RNN, {"nonlinearity": "relu"}),
    "gru": (nn.GRU, torch.nn.GRU, {}),
    "lstm": (nn.LSTM, torch.nn.LSTM, {}),
}
CELLS = {
    "rnn_tanh": (nn.RNNCell, torch.nn.RNNCell, {"nonlinearity": "tanh"}),
    "rnn_relu": (nn.RNNCell, torch.nn.RNNCell, {"nonlinearity": "relu"}),
    "gru": (nn.GRUCell, torch.nn.GRUCell, {}),
    "lstm": (nn.LSTMCell, torch.nn.LSTMCell, {}),
}


def pair(table, kind, *args, **kwargs):
    """A torch module and a nablab module holding the same float64 weights."""
    ours_cls, theirs_cls, extra = table[kind]
    torch.manual_seed(0)
    theirs = theirs_cls(*args, **extra, **kwargs).double()
    ours = ours_cls(*args, **extra, **kwargs, dtype=nablab.float64)
    ours.load_state_dict(theirs.state_dict())
    return ours, theirs


def leaf(array):
    return nablab.tensor(array, dtype=nablab.float64, requires_grad=True)


def as_torch(array):
    return torch.tensor(array, dtype=torch.float64, requires_grad=True)


def weighted_sum(tensors, weights):
    return sum((t * w).sum() for t, w in zip(tensors, weights))


def flat(out):
    """(output, h) or (output, (h, c)) -> [output, h(, c)]."""
    first, rest = out
    return [first, *rest] if isinstance(rest, tuple) else [first, rest]


def check_against_torch(ours, theirs, inputs):
    """Same forward values and the same gradients of a random weighted sum of all outputs."""
    rng = np.random.default_rng(1)
    ours_in, theirs_in = [leaf(a) for a in inputs], [as_torch(a) for a in inputs]

    def call(module, args):
        x, *state = args
        if not state:
            return module(x)
        return module(x, tuple(state) if len(state) == 2 else state[0])

    out_t = call(theirs, theirs_in)
    out_t = flat(out_t) if isinstance(out_t, tuple) and len(out_t) == 2 else out_t
    out_t = out_t if isinstance(out_t, (list, tuple)) else [out_t]
    out_o = call(ours, ours_in)
    out_o = flat(out_o) if isinstance(out_o, tuple) and len(out_o) == 2 else out_o
    out_o = out_o if isinstance(out_o, (list, tuple)) else [out_o]
    assert len(out_o) == len(out_t)
    weights = [rng.standard_normal(tuple(t.shape)) for t in out_t]
    weighted_sum(out_t, [torch.tensor(w) for w in weights]).backward()
    weighted_sum(out_o, [nablab.tensor(w, dtype=nablab.float64) for w in weights]).backward()
    for o, t in zip(out_o, out_t):
        np.testing.assert_allclose(o.array, t.detach().numpy(), rtol=1e-10, atol=1e-12)
    for o, t in zip(ours_in, theirs_in):
        np.testing.assert_allclose(o.grad.array, t.grad.numpy(), rtol=1e-10, atol=1e-12)
    grads_t = {k: p.grad for k, p in theirs.named_parameters()}
    grads_o = {k: p.grad for k, p in ours.named_parameters()}
    assert grads_o.keys() == grads_t.keys()
    for k, g in grads_t.items():
        if g is None:
            assert grads_o[k] is None, k
            continue
        np.testing.assert_allclose(grads_o[k].array, g.numpy(), rtol=1e-10, atol=1e-12, err_msg=k)


@pytest.mark.parametrize(
    "kind, num_layers, bidirectional, batch_first, with_state",
    list(itertools.product(KINDS, (1, 2), (False, True), (False, True), (False, True))),
)
def test_layer_matches_torch(kind, num_layers, bidirectional, batch_first, with_state):
    ours, theirs = pair(
        KINDS, kind, IN, H, num_layers, bidirectional=bidirectional, batch_first=batch_first
    )
    rng = np.random.default_rng(0)
    x = rng.standard_normal((B, T, IN) if batch_first else (T, B, IN))
    states = []
    if with_state:
        n = 2 if kind == "lstm" else 1
        states = [rng.standard_normal((num_layers * (1 + bidirectional), B, H)) for _ in range(n)]
    check_against_torch(ours, theirs, [x, *states])


@pytest.mark.parametrize("kind", KINDS)
def test_layer_unbatched_input_matches_torch(kind):
    ours, theirs = pair(KINDS, kind, IN, H, 2, bidirectional=True)
    rng = np.random.default_rng(0)
    n = 2 if kind == "lstm" else 1
    check_against_torch(ours, theirs, [rng.standard_normal((T, IN))])
    ours.zero_grad()
    theirs.zero_grad()
    states = [rng.standard_normal((4, H)) for _ in range(n)]
    check_against_torch(ours, theirs, [rng.standard_normal((T, IN)), *states])


@pytest.mark.parametrize("kind", KINDS)
def test_layer_without_bias_matches_torch(kind):
    ours, theirs = pair(KINDS, kind, IN, H, 2, bias=False, bidirectional=True)
    assert not any("bias" in k for k in ours.state_dict())
    check_against_torch(ours, theirs, [np.random.default_rng(0).standard_normal((T, B, IN))])


@pytest.mark.parametrize(
    "kind, batched, with_state", list(itertools.product(CELLS, (True, False), (True, False)))
)
def test_cell_matches_torch(kind, batched, with_state):
    ours, theirs = pair(CELLS, kind, IN, H)
    rng = np.random.default_rng(0)
    lead = (B,) if batched else ()
    states = []
    if with_state:
        states = [rng.standard_normal(lead + (H,)) for _ in range(2 if kind == "lstm" else 1)]
    check_against_torch(ours, theirs, [rng.standard_normal(lead + (IN,)), *states])


@pytest.mark.parametrize(
    "kind, num_layers, bidirectional", list(itertools.product(KINDS, (1, 3), (False, True)))
)
def test_parameter_names_and_shapes_match_torch(kind, num_layers, bidirectional):
    ours_cls, theirs_cls, extra = KINDS[kind]
    ours = ours_cls(IN, H, num_layers, bidirectional=bidirectional, **extra)
    theirs = theirs_cls(IN, H, num_layers, bidirectional=bidirectional, **extra)
    assert [(k, tuple(v.shape)) for k, v in ours.state_dict().items()] == [
        (k, tuple(v.shape)) for k, v in theirs.state_dict().items()
    ]


@pytest.mark.parametrize("table", [KINDS, CELLS])
def test_default_init_is_uniform_within_one_over_sqrt_hidden(table):
    for kind in table:
        cls, _, extra = table[kind]
        nablab.manual_seed(0)
        module = cls(20, 64, **extra)
        bound = 1 / math.sqrt(64)
        for name, p in module.named_parameters():
            assert np.abs(p.array).max() <= bound, name
            assert np.abs(p.array).max() > 0.95 * bound, name
            assert abs(p.array.mean()) < 0.1 * bound, name


def test_same_seed_same_weights():
    nablab.manual_seed(3)
    a = nn.LSTM(4, 5, 2)
    nablab.manual_seed(3)
    b = nn.LSTM(4, 5, 2)
    for (k, p), (_, q) in zip(a.named_parameters(), b.named_parameters()):
        np.testing.assert_array_equal(p.array, q.array, err_msg=k)


def test_dropout_between_layers_only_in_training():
    """p = 1 zeroes the first layer's output in training (so does torch); eval ignores it."""
    ours, theirs = pair(KINDS, "lstm", IN, H, 2, dropout=1.0)
    x = np.random.default_rng(0).standard_normal((T, B, IN))
    check_against_torch(ours, theirs, [x])
    ours.eval()
    theirs.eval()
    ours.zero_grad()
    theirs.zero_grad()
    check_against_torch(ours, theirs, [x])


def test_dropout_is_random_in_training_and_off_after_the_last_layer():
    nablab.manual_seed(0)
    gru = nn.GRU(IN, H, 2, dropout=0.5)
    x = nablab.randn(T, B, IN)
    a, b = gru(x)[0].array, gru(x)[0].array
    assert not np.allclose(a, b)
    single = nn.GRU(IN, H, 1, dropout=0.5)
    np.testing.assert_array_equal(single(x)[0].array, single(x)[0].array)


def test_float32_by_default_and_no_graph_under_no_grad():
    lstm = nn.LSTM(IN, H)
    out, (h, c) = lstm(nablab.randn(T, B, IN))
    assert out.dtype == nablab.float32 and h.dtype == c.dtype == nablab.float32
    assert out.requires_grad
    with nablab.no_grad():
        out, (h, c) = lstm(nablab.randn(T, B, IN))
    assert not out.requires_grad


@pytest.mark.parametrize("kind", KINDS)
def test_no_grad_forward_gives_the_values_of_the_recorded_one(kind):
    """The kernels skip the backward's buffers under no_grad; the outputs must not change."""
    nablab.manual_seed(0)
    layer = KINDS[kind][0](IN, H, 2, bidirectional=True, **KINDS[kind][2])
    x = nablab.randn(T, B, IN)
    recorded = flat(layer(x))
    with nablab.no_grad():
        plain = flat(layer(x))
    for r, p in zip(recorded, plain):
        np.testing.assert_array_equal(r.array, p.array)


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_frozen_input_weights_and_recurrent_weights_get_no_gradient(kind):
    ours, theirs = pair(KINDS, kind, IN, H, 1, bidirectional=True)
    for module in (ours, theirs):
        module.weight_ih_l0_reverse.requires_grad_(False)
        module.weight_hh_l0.requires_grad_(False)
        module.bias_hh_l0.requires_grad_(False)
    check_against_torch(ours, theirs, [np.random.default_rng(0).standard_normal((T, B, IN))])
    assert ours.weight_ih_l0_reverse.grad is None and ours.weight_hh_l0.grad is None
    assert ours.bias_hh_l0.grad is None and ours.bias_ih_l0.grad is not None


def test_state_carries_over_like_one_long_sequence():
    nablab.manual_seed(0)
    lstm = nn.LSTM(IN, H, 2, dtype=nablab.float64)
    x = nablab.randn(2 * T, B, IN, dtype=nablab.float64)
    whole, _ = lstm(x)
    first, state = lstm(x[:T])
    second, _ = lstm(x[T:], state)
    np.testing.assert_allclose(whole.array, np.concatenate([first.array, second.array]), atol=1e-13)


# ----- the fused ops against finite differences ---------------------------------------


def run_fused(kind, reverse, bias):
    def fn(x, h0, c0, w_ih, w_hh, b_ih, b_hh):
        biases = (b_ih, b_hh) if bias else (None, None)
        if kind == "lstm":
            outs = lstm_recurrence(x, h0, c0, w_ih, w_hh, *biases, reverse=reverse)
        elif kind == "gru":
            outs = gru_recurrence(x, h0, w_ih, w_hh, *biases, reverse=reverse)
        else:
            outs = rnn_recurrence(x, h0, w_ih, w_hh, *biases, kind[4:], reverse=reverse)
        return nablab.cat([o.reshape(-1) for o in outs])

    return fn


@pytest.mark.parametrize(
    "kind, reverse, bias", list(itertools.product(KINDS, (False, True), (True, False)))
)
def test_fused_recurrence_gradcheck(kind, reverse, bias):
    rng = np.random.default_rng(0)
    gates = {"lstm": 4, "gru": 3}.get(kind, 1)
    steps, batch, n_in, hidden = 3, 2, 3, 2
    shapes = [
        (steps, batch, n_in),
        (batch, hidden),
        (batch, hidden),
        (gates * hidden, n_in),
        (gates * hidden, hidden),
        (gates * hidden,),
        (gates * hidden,),
    ]
    inputs = [leaf(rng.standard_normal(s)) for s in shapes]
    if kind == "rnn_relu":  # keep pre-activations away from the kink at 0
        inputs[0].array += np.sign(inputs[0].array) * 0.1
    assert nablab.gradcheck(run_fused(kind, reverse, bias), inputs, atol=1e-7, rtol=1e-5)


def test_fused_op_is_one_graph_node_per_layer_direction():
    lstm = nn.LSTM(IN, H)
    out, _ = lstm(nablab.randn(50, B, IN))
    assert out.grad_fn.name() == "GetitemBackward"
    ((fused, _),) = out.grad_fn.next_functions
    assert fused.name() == "LstmBackward" and fused.op == "lstm"
    assert fused.next_functions[0] == (None, 0)  # the input: a leaf that needs no gradient


# ----- bad input ------------------------------------------------------------------------


def test_wrong_rank_raises_naming_shapes():
    lstm = nn.LSTM(IN, H)
    with pytest.raises(ValueError, match=r"expected input of shape \(seq_len, batch, 5\).*"):
        lstm(nablab.randn(T, B, IN, 1))
    with pytest.raises(ValueError, match=r"got \(5,\)"):
        lstm(nablab.randn(IN))


def test_wrong_feature_size_raises_naming_shapes():
    gru = nn.GRU(IN, H, batch_first=True)
    with pytest.raises(ValueError, match=r"GRU: expected input of shape \(batch, seq_len, 5\) "):
        gru(nablab.randn(B, T, IN + 1))
    with pytest.raises(ValueError, match=r"got \(3, 4, 6\)"):
        gru(nablab.randn(B, T, IN + 1))


def test_wrong_initial_state_shape_raises_naming_shapes():
    rnn = nn.RNN(IN, H, 2, bidirectional=True)
    x = nablab.randn(T, B, IN)
    with pytest.raises(ValueError, match=r"expected h_0 of shape \(4, 3, 3\), got \(2, 3, 3\)"):
        rnn(x, nablab.zeros(2, B, H))
    lstm = nn.LSTM(IN, H)
    with pytest.raises(ValueError, match=r"expected c_0 of shape \(1, 3, 3\), got \(1, 2, 3\)"):
        lstm(x, (nablab.zeros(1, B, H), nablab.zeros(1, 2, H)))
    with pytest.raises(ValueError, match=r"expected h_0 of shape \(1, 3\), got \(1, 1, 3\)"):
        lstm(nablab.randn(T, IN), (nablab.zeros(1, 1, H), nablab.zeros(1, 1, H)))


def test_cell_bad_input_raises_naming_shapes():
    cell = nn.LSTMCell(IN, H)
    with pytest.raises(ValueError, match=r"expected input of shape \(batch, 5\) or \(5,\), got"):
        cell(nablab.randn(B, IN + 2))
    with pytest.raises(ValueError, match=r"expected c of shape \(3, 3\), got \(3, 4\)"):
        cell(nablab.randn(B, IN), (nablab.zeros(B, H), nablab.zeros(B, H + 1)))


def test_dtype_mismatch_and_bad_arguments():
    with pytest.raises(TypeError, match="input has dtype float64 but the parameters have"):
        nn.GRU(IN, H)(nablab.randn(T, B, IN, dtype=nablab.float64))
    with pytest.raises(ValueError, match="Unknown nonlinearity 'sigmoid'"):
        nn.RNN(IN, H, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match=r"dropout should be a number in range \[0, 1\]"):
        nn.LSTM(IN, H, dropout=1.5)
    with pytest.raises(ValueError, match="sequence of length > 0"):
        nn.LSTM(IN, H)(nablab.randn(0, B, IN))


def test_repr_like_torch():
    for args, kwargs in [((10, 20, 2), {"batch_first": True}), ((3, 4, 2), {"dropout": 0.5})]:
        assert repr(nn.LSTM(*args, **kwargs)) == repr(torch.nn.LSTM(*args, **kwargs))
    assert repr(nn.GRU(3, 4, bias=False, bidirectional=True)) == repr(
        torch.nn.GRU(3, 4, bias=False, bidirectional=True)
    )
    assert repr(nn.GRUCell(3, 4, bias=False)) == repr(torch.nn.GRUCell(3, 4, bias=False))
    assert repr(nn.RNN(3, 4, nonlinearity="relu")) == "RNN(3, 4, nonlinearity='relu')"


def test_frozen_parameters_get_no_gradient_and_the_input_still_does():
    ours, theirs = pair(KINDS, "gru", IN, H, 2)
    ours.weight_hh_l0.requires_grad_(False)
    theirs.weight_hh_l0.requires_grad_(False)
    check_against_torch(ours, theirs, [np.random.default_rng(0).standard_normal((T, B, IN))])
    assert ours.weight_hh_l0.grad is None and ours.weight_ih_l0.grad is not None
