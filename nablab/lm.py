"""Character-level language models (d2l ch. 8–9, seeds/004): models, truncated
back-propagation through time, perplexity, greedy generation.

A model maps a batch of token ids X (B, T) and a state to logits (T·B, V) (time-major
rows, as d2l) and the next state; `begin_state(batch_size)` gives the zero state.

    loader, vocab = nablab.data.load_data_time_machine(32, 35)
    model = RNNModel(nn.GRU(len(vocab), 256), len(vocab))
    history = train(model, loader, vocab, lr=1, num_epochs=500)
    predict("time traveller", 50, model, vocab)

Perplexity = exp(mean cross-entropy per token): 1 is a perfect predictor, V = 28 the
uniform guess. Near 1 on d2l's 10,000 characters is memorisation, not language.
"""

import math
import time

import numpy as np

from . import nn, optim
from .autograd.grad_mode import no_grad
from .autograd.tensor import Tensor
from .creation import from_numpy, zeros
from .ops import cat, one_hot, sigmoid, tanh


def _one_hot(X, vocab_size, dtype):
    """Token ids (B, T) -> time-major one-hot floats (T, B, V)."""
    ids = X.array if isinstance(X, Tensor) else np.asarray(X)
    return one_hot(from_numpy(np.ascontiguousarray(ids.T)), vocab_size).to(dtype)


class RNNModel(nn.Module):
    """A recurrent layer between one-hot (or embedded) tokens and a linear read-out:

    O_t = H_t W_hqᵀ + b_q over all (T·B) rows at once; H_t is (H_→, H_←) side by side for
    a bidirectional layer (D·H features). `embedding_dim` replaces the one-hot input by
    an `nn.Embedding` (the layer's input_size must then equal it).
    """

    def __init__(self, rnn_layer, vocab_size, embedding_dim=None):
        super().__init__()
        dtype = rnn_layer.weight_ih_l0.dtype
        expected = embedding_dim or vocab_size
        if rnn_layer.input_size != expected:
            raise ValueError(
                f"RNNModel: the recurrent layer takes {rnn_layer.input_size} input features, "
                f"expected {expected} (the {'embedding' if embedding_dim else 'vocabulary'} size)"
            )
        self.rnn, self.vocab_size = rnn_layer, vocab_size
        self.num_hiddens = rnn_layer.hidden_size
        self.num_directions = 2 if rnn_layer.bidirectional else 1
        if embedding_dim:
            self.embedding = nn.Embedding(vocab_size, embedding_dim, dtype=dtype)
        else:
            self.embedding = None
        self.linear = nn.Linear(self.num_directions * self.num_hiddens, vocab_size, dtype=dtype)

    def forward(self, inputs, state):
        if self.embedding is not None:
            ids = inputs.array if isinstance(inputs, Tensor) else np.asarray(inputs)
            X = self.embedding(from_numpy(np.ascontiguousarray(ids.T)))
        else:
            X = _one_hot(inputs, self.vocab_size, self.linear.weight.dtype)
        Y, state = self.rnn(X, state)
        return self.linear(Y.reshape(-1, Y.shape[-1])), state

    def begin_state(self, batch_size=1):
        shape = (self.num_directions * self.rnn.num_layers, batch_size, self.num_hiddens)
        h = zeros(*shape, dtype=self.linear.weight.dtype)
        if isinstance(self.rnn, nn.LSTM):
            return h, zeros(*shape, dtype=h.dtype)
        return h


# ----- from scratch, step by step (seeds/004's functions with nablab tensors) ------------


def rnn(inputs, state, params):
    """H_t = tanh(X_t W_xh + H_{t−1} W_hh + b_h),  O_t = H_t W_hq + b_q."""
    W_xh, W_hh, b_h, W_hq, b_q = params
    (H,) = state
    outputs = []
    for X in inputs:
        H = tanh(X @ W_xh + H @ W_hh + b_h)
        outputs.append(H @ W_hq + b_q)
    return cat(outputs, dim=0), (H,)


def gru(inputs, state, params):
    """The seed's GRU (its reset gate multiplies H_{t−1} W_hh, PyTorch's placement):

    Z_t = σ(X_t W_xz + H_{t−1} W_hz + b_z),  R_t = σ(X_t W_xr + H_{t−1} W_hr + b_r)
    H̃_t = tanh(X_t W_xh + R_t ⊙ (H_{t−1} W_hh) + b_h),  H_t = Z_t ⊙ H_{t−1} + (1 − Z_t) ⊙ H̃_t
    """
    W_xz, W_hz, b_z, W_xr, W_hr, b_r, W_xh, W_hh, b_h, W_hq, b_q = params
    (H,) = state
    outputs = []
    for X in inputs:
        Z = sigmoid(X @ W_xz + H @ W_hz + b_z)
        R = sigmoid(X @ W_xr + H @ W_hr + b_r)
        H_tilda = tanh(X @ W_xh + R * (H @ W_hh) + b_h)
        H = Z * H + (1 - Z) * H_tilda
        outputs.append(H @ W_hq + b_q)
    return cat(outputs, dim=0), (H,)


def lstm(inputs, state, params):
    """The seed's LSTM:

    I_t = σ(X_t W_xi + H_{t−1} W_hi + b_i),  F_t = σ(X_t W_xf + H_{t−1} W_hf + b_f)
    O_t = σ(X_t W_xo + H_{t−1} W_ho + b_o),  C̃_t = tanh(X_t W_xc + H_{t−1} W_hc + b_c)
    C_t = F_t ⊙ C_{t−1} + I_t ⊙ C̃_t,  H_t = O_t ⊙ tanh(C_t)
    """
    W_xi, W_hi, b_i, W_xf, W_hf, b_f, W_xo, W_ho, b_o, W_xc, W_hc, b_c, W_hq, b_q = params
    (H, C) = state
    outputs = []
    for X in inputs:
        I = sigmoid(X @ W_xi + H @ W_hi + b_i)
        F = sigmoid(X @ W_xf + H @ W_hf + b_f)
        O = sigmoid(X @ W_xo + H @ W_ho + b_o)
        C_tilda = tanh(X @ W_xc + H @ W_hc + b_c)
        C = F * C + I * C_tilda
        H = O * tanh(C)
        outputs.append(H @ W_hq + b_q)
    return cat(outputs, dim=0), (H, C)


_SCRATCH = {
    "rnn": (rnn, ("h",), 1),
    "gru": (gru, ("z", "r", "h"), 1),
    "lstm": (lstm, ("i", "f", "o", "c"), 2),
}


class RNNModelScratch(nn.Module):
    """d2l's RNNModelScratch: the step functions above, parameters named as in the seed
    (W_xz, W_hz, b_z, ..., W_hq, b_q), weights N(0, 0.01²), biases 0."""

    def __init__(self, kind, vocab_size, num_hiddens, dtype=None, generator=None):
        super().__init__()
        if kind not in _SCRATCH:
            raise ValueError(f"kind must be one of {sorted(_SCRATCH)}, got {kind!r}")
        self.kind, self.vocab_size, self.num_hiddens = kind, vocab_size, num_hiddens
        self.step_fn, gates, self.num_states = _SCRATCH[kind]
        V, H = vocab_size, num_hiddens
        shapes = {}
        for g in gates:
            shapes.update({f"W_x{g}": (V, H), f"W_h{g}": (H, H), f"b_{g}": (H,)})
        shapes.update(W_hq=(H, V), b_q=(V,))
        self.param_names = tuple(shapes)
        for name, shape in shapes.items():
            p = nn.Parameter(zeros(*shape, dtype=dtype))
            if name.startswith("W"):
                nn.init.normal_(p, 0.0, 0.01, generator)
            setattr(self, name, p)

    def forward(self, inputs, state):
        X = _one_hot(inputs, self.vocab_size, self.W_hq.dtype)
        return self.step_fn(X, state, [getattr(self, n) for n in self.param_names])

    def begin_state(self, batch_size=1):
        return tuple(
            zeros(batch_size, self.num_hiddens, dtype=self.W_hq.dtype)
            for _ in range(self.num_states)
        )


# ----- training and generation --------------------------------------------------------------


def detach_state(state):
    """Cut the graph at the batch boundary (truncated BPTT): same values, no history."""
    if isinstance(state, (tuple, list)):
        return type(state)(s.detach() for s in state)
    return state.detach()


def train_epoch(model, loader, loss, optimizer, use_random_iter=False, clip=1.0):
    """One pass over `loader`; returns (perplexity, tokens per second).

    Sequential batches continue the previous batch's text, so the state is carried over
    and detached (gradients stop at the batch boundary); random batches start fresh.
    Gradients are clipped to global norm `clip` (None: no clipping) before each step.
    """
    state, total, count = None, 0.0, 0
    start = time.perf_counter()
    for X, Y in loader:
        if state is None or use_random_iter:
            state = model.begin_state(X.shape[0])
        else:
            state = detach_state(state)
        y = from_numpy(np.ascontiguousarray(np.asarray(Y).T).reshape(-1))
        y_hat, state = model(X, state)
        l = loss(y_hat, y)
        optimizer.zero_grad()
        l.backward()
        if clip is not None:
            nn.utils.clip_grad_norm_(model.parameters(), clip)
        optimizer.step()
        total += l.item() * y.shape[0]
        count += y.shape[0]
    return math.exp(total / count), count / (time.perf_counter() - start)


def train(
    model,
    loader,
    vocab,
    lr,
    num_epochs,
    use_random_iter=False,
    clip=1.0,
    optimizer=None,
    prefix="time traveller",
    num_chars=50,
    callback=None,
):
    """Train with SGD(lr) (or `optimizer`) and mean cross-entropy for `num_epochs`.

    Returns a history dict: per-epoch `perplexity` and `tokens_per_s`, the final
    `generation` for `prefix`, and `seconds` of training. `callback(epoch, perplexity,
    tokens_per_s)` is called after every epoch (progress display).
    """
    loss = nn.CrossEntropyLoss()
    optimizer = optimizer or optim.SGD(model.parameters(), lr=lr)
    history = {"perplexity": [], "tokens_per_s": []}
    start = time.perf_counter()
    model.train()
    for epoch in range(num_epochs):
        ppl, speed = train_epoch(model, loader, loss, optimizer, use_random_iter, clip)
        history["perplexity"].append(ppl)
        history["tokens_per_s"].append(speed)
        if callback is not None:
            callback(epoch, ppl, speed)
    history["seconds"] = time.perf_counter() - start
    history["generation"] = predict(prefix, num_chars, model, vocab)
    return history


def predict(prefix, num_chars, model, vocab):
    """Greedy generation: warm the state up on `prefix`, then append the arg-max token
    `num_chars` times, each fed back as the next input. Returns prefix + new characters."""
    if not prefix:
        raise ValueError("predict: the prefix must contain at least one token")
    was_training = model.training
    model.eval()
    outputs = [vocab[prefix[0]]]
    with no_grad():
        state = model.begin_state(batch_size=1)
        for token in prefix[1:]:
            _, state = model(np.array([[outputs[-1]]]), state)
            outputs.append(vocab[token])
        for _ in range(num_chars):
            y, state = model(np.array([[outputs[-1]]]), state)
            outputs.append(int(y.array.argmax(axis=1)[0]))
    model.train(was_training)
    return "".join(vocab.to_tokens(outputs))
