"""Recurrent layers with PyTorch's interface: RNN, GRU, LSTM and their single-step cells.

Constructor arguments, call signature, parameter names and shapes, gate order and
default init are PyTorch's, so the same weights give the same outputs and gradients:
layer k has `weight_ih_l{k}` (gates·H, in), `weight_hh_l{k}` (gates·H, H), `bias_ih_l{k}`
and `bias_hh_l{k}` (gates·H), with `_reverse` for the backward direction; gates are
stacked LSTM i, f, g, o and GRU r, z, n; every parameter starts U(−1/√H, 1/√H).

Each layer-direction is one fused op of `recurrence.py` (the gate equations are in its
docstrings): one graph node for all T steps instead of about ten per step.
"""

import math

import numpy as np

from .. import devices, dtypes
from ..autograd.tensor import Tensor
from ..creation import from_numpy
from ..ops.nn import dropout as dropout_op
from ..ops.shape import cat, stack
from . import init
from .module import Module
from .parameter import Parameter
from .recurrence import gru_recurrence, lstm_recurrence, rnn_recurrence

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "GRU": 3, "LSTM": 4}


def _run(mode, x, state, weights, reverse):
    """One layer-direction: (output (T, B, H), final state tuple)."""
    if mode == "LSTM":
        y, h, c = lstm_recurrence(x, *state, *weights, reverse=reverse)
        return y, (h, c)
    if mode == "GRU":
        y, h = gru_recurrence(x, state[0], *weights, reverse=reverse)
    else:
        nonlinearity = "tanh" if mode == "RNN_TANH" else "relu"
        y, h = rnn_recurrence(x, state[0], *weights, nonlinearity=nonlinearity, reverse=reverse)
    return y, (h,)


class _RecurrentParameters(Module):
    """Creation, init and dtype checks shared by the layers and the cells."""

    def _make(self, mode, input_size, hidden_size, bias, dtype):
        if mode not in _GATES:
            raise ValueError(f"Unknown recurrent mode '{mode}'")
        for name, n in (("input_size", input_size), ("hidden_size", hidden_size)):
            if not isinstance(n, (int, np.integer)) or n <= 0:
                raise ValueError(f"{name} must be a positive integer, got {n!r}")
        self.mode, self.input_size, self.hidden_size, self.bias = (
            mode,
            input_size,
            hidden_size,
            bias,
        )
        self._dtype = dtypes.as_dtype(dtype) if dtype is not None else dtypes.get_default_dtype()

    def _add_weights(self, in_size, suffix):
        rows = _GATES[self.mode] * self.hidden_size
        shapes = [("weight_ih", (rows, in_size)), ("weight_hh", (rows, self.hidden_size))]
        if self.bias:
            shapes += [("bias_ih", (rows,)), ("bias_hh", (rows,))]
        for name, shape in shapes:
            setattr(self, name + suffix, Parameter(np.empty(shape, self._dtype)))
        return tuple(name + suffix for name, _ in shapes)

    def reset_parameters(self, generator=None):
        """Every weight and bias ~ U(−1/√H, 1/√H) (PyTorch's default)."""
        bound = 1 / math.sqrt(self.hidden_size)
        for param in self.parameters():
            init.uniform_(param, -bound, bound, generator)

    def _weights(self, names):
        weights = [getattr(self, n) for n in names]
        return tuple(weights) + (None, None) * (not self.bias)

    def _check_dtype(self, what, tensor):
        dtype = next(iter(self._parameters.values())).dtype
        if tensor.dtype != dtype:
            raise TypeError(
                f"{self._get_name()}: {what} has dtype {tensor.dtype} but the parameters have "
                f"dtype {dtype}; convert one of them with .to()"
            )


class RNNBase(_RecurrentParameters):
    """A stack of `num_layers` recurrent layers, each one- or two-directional.

    forward(input, hx=None) -> (output, h_n), or (output, (h_n, c_n)) for an LSTM:
    input (L, N, H_in) ((N, L, H_in) if batch_first; (L, H_in) unbatched), hx of shape
    (num_layers·D, N, H) (D = 2 if bidirectional) or (h_0, c_0) for an LSTM, zeros if None;
    output (L, N, D·H) holds the last layer's H_t (both directions side by side); h_n and
    c_n the final states of every layer-direction. Between layers (not after the last),
    `dropout` is applied in training mode.
    """

    mode = None  # "GRU" or "LSTM" in the subclasses; RNN picks RNN_TANH or RNN_RELU

    def __init__(
        self,
        input_size,
        hidden_size,
        num_layers=1,
        bias=True,
        batch_first=False,
        dropout=0.0,
        bidirectional=False,
        dtype=None,
        generator=None,
        *,
        mode=None,
        device=None,
    ):
        devices.cpu(device)
        super().__init__()
        self._make(mode or type(self).mode, input_size, hidden_size, bias, dtype)
        if not isinstance(num_layers, (int, np.integer)) or num_layers < 1:
            raise ValueError(f"num_layers must be a positive integer, got {num_layers!r}")
        if isinstance(dropout, bool) or not 0 <= dropout <= 1:
            raise ValueError(f"dropout should be a number in range [0, 1], got {dropout!r}")
        self.num_layers, self.batch_first = num_layers, batch_first
        self.dropout, self.bidirectional = float(dropout), bidirectional
        self.num_directions = 2 if bidirectional else 1
        self._weight_names = [
            self._add_weights(
                input_size if layer == 0 else hidden_size * self.num_directions,
                f"_l{layer}" + ("_reverse" if direction else ""),
            )
            for layer in range(num_layers)
            for direction in range(self.num_directions)
        ]
        self.reset_parameters(generator)

    def forward(self, input, hx=None):
        x, batched = self._check_input(input)
        states = self._initial_states(hx, x.shape[1], batched)
        finals, D = [], self.num_directions
        for layer in range(self.num_layers):
            outputs = []
            for d in range(D):
                k = layer * D + d
                state = tuple(s[k] for s in states)
                y, final = _run(self.mode, x, state, self._weights(self._weight_names[k]), d == 1)
                outputs.append(y)
                finals.append(final)
            x = outputs[0] if D == 1 else cat(outputs, dim=2)
            if self.dropout and self.training and layer < self.num_layers - 1:
                x = dropout_op(x, self.dropout)
        final = tuple(stack([f[i] for f in finals]) for i in range(len(states)))
        if self.batch_first:
            x = x.transpose(0, 1)
        if not batched:
            x, final = x.squeeze(1), tuple(s.squeeze(1) for s in final)
        return x, (final if self.mode == "LSTM" else final[0])

    def _check_input(self, input):
        """The input as (L, N, H_in) and whether it came with a batch dim."""
        name, n_in = self._get_name(), self.input_size
        layout = f"(batch, seq_len, {n_in})" if self.batch_first else f"(seq_len, batch, {n_in})"
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}: expected input to be a Tensor, got {type(input).__name__}")
        if input.ndim not in (2, 3) or input.shape[-1] != n_in:
            raise ValueError(
                f"{name}: expected input of shape {layout} or (seq_len, {n_in}), "
                f"got {tuple(input.shape)}"
            )
        self._check_dtype("input", input)
        batched = input.ndim == 3
        x = input if batched else input.unsqueeze(1)
        if self.batch_first and batched:
            x = x.transpose(0, 1)
        if x.shape[0] == 0:
            raise ValueError(f"{name}: expected a sequence of length > 0, got input {input.shape}")
        return x, batched

    def _initial_states(self, hx, batch, batched):
        """hx as a tuple of (num_layers·D, N, H) tensors (h, and c for an LSTM)."""
        n = 2 if self.mode == "LSTM" else 1
        shape = (self.num_layers * self.num_directions, batch, self.hidden_size)
        if hx is None:
            zeros = from_numpy(np.zeros(shape, self.weight_ih_l0.dtype))
            return (zeros,) * n
        states = tuple(hx) if n == 2 else (hx,)
        if n == 2 and len(states) != 2:
            raise ValueError(f"{self._get_name()}: expected hx = (h_0, c_0), got {len(states)}")
        expected = shape if batched else (shape[0], shape[2])
        for label, s in zip(("h_0", "c_0"), states):
            if not isinstance(s, Tensor) or tuple(s.shape) != expected:
                got = tuple(s.shape) if isinstance(s, Tensor) else type(s).__name__
                raise ValueError(
                    f"{self._get_name()}: expected {label} of shape {expected}, got {got}"
                )
            self._check_dtype(label, s)
        return states if batched else tuple(s.unsqueeze(1) for s in states)

    def extra_repr(self):
        text = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            text += f", num_layers={self.num_layers}"
        if self.mode == "RNN_RELU":
            text += ", nonlinearity='relu'"
        for key, default in (("bias", True), ("batch_first", False), ("dropout", 0.0)):
            if getattr(self, key) != default:
                text += f", {key}={getattr(self, key)}"
        return text + (", bidirectional=True" if self.bidirectional else "")


class RNN(RNNBase):
    """Elman RNN: H_t = φ(X_t W_ihᵀ + b_ih + H_{t−1} W_hhᵀ + b_hh), φ = tanh or ReLU
    (seeds/004's deep RNN when num_layers > 1: layer ℓ reads layer ℓ−1's H_t)."""

    def __init__(
        self,
        input_size,
        hidden_size,
        num_layers=1,
        nonlinearity="tanh",
        bias=True,
        batch_first=False,
        dropout=0.0,
        bidirectional=False,
        dtype=None,
        generator=None,
        device=None,
    ):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'; expected 'tanh' or 'relu'")
        mode = "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU"
        args = (input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional)
        super().__init__(*args, dtype, generator, mode=mode, device=device)
        self.nonlinearity = nonlinearity


class GRU(RNNBase):
    """Gated recurrent unit (seeds/004's `gru`, PyTorch's reset-gate placement):

    R_t = σ(X_t W_xrᵀ + b_xr + H_{t−1} W_hrᵀ + b_hr)              reset gate
    Z_t = σ(X_t W_xzᵀ + b_xz + H_{t−1} W_hzᵀ + b_hz)              update gate
    H̃_t = tanh(X_t W_xhᵀ + b_xh + R_t ⊙ (H_{t−1} W_hhᵀ + b_hh))   candidate state
    H_t = Z_t ⊙ H_{t−1} + (1 − Z_t) ⊙ H̃_t
    """

    mode = "GRU"


class LSTM(RNNBase):
    """Long short-term memory (seeds/004's `lstm`):

    I_t = σ(X_t W_xiᵀ + H_{t−1} W_hiᵀ + b_i),  F_t = σ(X_t W_xfᵀ + H_{t−1} W_hfᵀ + b_f)
    C̃_t = tanh(X_t W_xcᵀ + H_{t−1} W_hcᵀ + b_c),  O_t = σ(X_t W_xoᵀ + H_{t−1} W_hoᵀ + b_o)
    C_t = F_t ⊙ C_{t−1} + I_t ⊙ C̃_t,  H_t = O_t ⊙ tanh(C_t)

    (each b is PyTorch's b_ih + b_hh). Returns (output, (h_n, c_n)).
    """

    mode = "LSTM"


class RNNCellBase(_RecurrentParameters):
    """One time step: forward(input (N, H_in) or (H_in,), hx=None) -> the next state.

    The same fused op as the layers, run for one step.
    """

    def __init__(self, mode, input_size, hidden_size, bias, dtype, generator):
        super().__init__()
        self._make(mode, input_size, hidden_size, bias, dtype)
        self._names = self._add_weights(input_size, "")
        self.reset_parameters(generator)

    def forward(self, input, hx=None):
        name, n_in, H = self._get_name(), self.input_size, self.hidden_size
        if not isinstance(input, Tensor) or input.ndim not in (1, 2) or input.shape[-1] != n_in:
            got = tuple(input.shape) if isinstance(input, Tensor) else type(input).__name__
            raise ValueError(
                f"{name}: expected input of shape (batch, {n_in}) or ({n_in},), got {got}"
            )
        self._check_dtype("input", input)
        batched = input.ndim == 2
        x = input if batched else input.unsqueeze(0)
        n = 2 if self.mode == "LSTM" else 1
        if hx is None:
            zeros = from_numpy(np.zeros((x.shape[0], H), self.weight_ih.dtype))
            states = (zeros,) * n
        else:
            states = tuple(hx) if n == 2 else (hx,)
            expected = (x.shape[0], H) if batched else (H,)
            for label, s in zip(("h", "c"), states):
                if not isinstance(s, Tensor) or tuple(s.shape) != expected:
                    got = tuple(s.shape) if isinstance(s, Tensor) else type(s).__name__
                    raise ValueError(f"{name}: expected {label} of shape {expected}, got {got}")
                self._check_dtype(label, s)
            if not batched:
                states = tuple(s.unsqueeze(0) for s in states)
        _, final = _run(self.mode, x.unsqueeze(0), states, self._weights(self._names), False)
        if not batched:
            final = tuple(s.squeeze(0) for s in final)
        return final if self.mode == "LSTM" else final[0]

    def extra_repr(self):
        text = f"{self.input_size}, {self.hidden_size}"
        if not self.bias:
            text += ", bias=False"
        return text + (", nonlinearity='relu'" if self.mode == "RNN_RELU" else "")


class RNNCell(RNNCellBase):
    """H' = φ(X W_ihᵀ + b_ih + H W_hhᵀ + b_hh), φ = tanh or ReLU."""

    def __init__(
        self, input_size, hidden_size, bias=True, nonlinearity="tanh", dtype=None, generator=None,
        device=None,
    ):  # fmt: skip
        devices.cpu(device)
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'; expected 'tanh' or 'relu'")
        mode = "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU"
        super().__init__(mode, input_size, hidden_size, bias, dtype, generator)
        self.nonlinearity = nonlinearity


class GRUCell(RNNCellBase):
    """One GRU step (gates as in `GRU`): returns H'."""

    def __init__(self, input_size, hidden_size, bias=True, dtype=None, generator=None, device=None):
        devices.cpu(device)
        super().__init__("GRU", input_size, hidden_size, bias, dtype, generator)


class LSTMCell(RNNCellBase):
    """One LSTM step (gates as in `LSTM`): forward(input, (h, c)) returns (h', c')."""

    def __init__(self, input_size, hidden_size, bias=True, dtype=None, generator=None, device=None):
        devices.cpu(device)
        super().__init__("LSTM", input_size, hidden_size, bias, dtype, generator)
