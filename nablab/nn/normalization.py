"""Batch and layer normalisation (NNDL §7.5), with PyTorch's arguments, buffers and names.

    Z = γ ⊙ (X − μ) / √(σ² + ε) + β

BatchNorm1d takes μ and σ² per channel over the batch (N×C) or the batch and length (N×C×L)
in train mode, and keeps running estimates for eval mode:

    running_mean ← (1 − m)·running_mean + m·μ_B,   running_var ← (1 − m)·running_var + m·s²_B

where σ²_B (dividing by the count M) normalises and s²_B = σ²_B·M/(M − 1) (unbiased) goes into
running_var, as in PyTorch; m = `momentum`, or 1/t at the t-th batch when momentum is None
(the cumulative average of all batches). LayerNorm takes μ and σ² per example over the
trailing `normalized_shape` axes, the same in train and eval mode.
"""

import math

import numpy as np

from .. import devices, dtypes
from ..creation import from_numpy
from ..ops.normalization import normalize
from .module import Module
from .parameter import Parameter


def batch_norm(
    input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1,
    eps=1e-5,
):  # fmt: skip
    """Batch normalisation over dim 1 (channels) of an (N, C, *) input.

    training: normalise with the batch's μ and σ² and, if running_mean/running_var are given,
    update them in place with `momentum` (the unbiased variance goes into running_var).
    Otherwise normalise with running_mean and running_var.
    """
    shape = input.shape
    if input.ndim < 2:
        raise ValueError(f"batch_norm expects an input of shape (N, C, *), got shape {shape}")
    channels = shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):  # fmt: skip
        if t is not None and t.shape != (channels,):
            raise RuntimeError(
                f"batch_norm: {name} has shape {tuple(t.shape)}, expected ({channels},) for "
                f"an input of shape {shape} (C = {channels} at dim 1)"
            )
    axes = (0, *range(2, input.ndim))
    view = (1, channels) + (1,) * (input.ndim - 2)
    if not training:
        if running_mean is None or running_var is None:
            raise ValueError(
                "batch_norm: running_mean and running_var are needed when not training"
            )
        stats = (running_mean.array.reshape(view), running_var.array.reshape(view))
        return normalize(input, axes, weight, bias, eps, stats, view, "batch_norm")[0]
    count = _values_per_channel(shape)
    out, mean, var = normalize(input, axes, weight, bias, eps, None, view, "batch_norm")
    for buffer, batch in ((running_mean, mean), (running_var, var * (count / (count - 1)))):
        if buffer is not None:
            data = buffer.array
            data *= 1 - momentum
            data += momentum * batch.reshape(channels).astype(data.dtype, copy=False)
    return out


def _values_per_channel(shape):
    """N·L of an (N, C, L) shape; ValueError if 1 (no variance to normalise with)."""
    count = math.prod(shape) // shape[1]
    if count <= 1:
        raise ValueError(
            f"Expected more than 1 value per channel when training, got input size {shape}"
        )
    return count


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Layer normalisation over the trailing axes `normalized_shape` of the input."""
    normalized = _as_shape(normalized_shape)
    k = len(normalized)
    if input.ndim < k or tuple(input.shape[input.ndim - k :]) != normalized:
        listed = ", ".join(map(str, normalized))
        raise RuntimeError(
            f"Given normalized_shape=[{listed}], expected input with shape [*, {listed}], "
            f"but got input of size {tuple(input.shape)}"
        )
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != normalized:
            raise RuntimeError(
                f"layer_norm: {name} has shape {tuple(t.shape)}, expected normalized_shape "
                f"{normalized}"
            )
    axes = tuple(range(input.ndim - k, input.ndim))
    return normalize(input, axes, weight, bias, eps, op="layer_norm")[0]


def _as_shape(shape):
    return (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(int(n) for n in shape)


def _dtype(dtype):
    return dtypes.as_dtype(dtype) if dtype is not None else dtypes.get_default_dtype()


class BatchNorm1d(Module):
    """Batch normalisation of an (N, C) or (N, C, L) input over N (and L), per channel.

    weight γ (ones) and bias β (zeros) of shape (C,) when `affine` (no β with bias=False);
    buffers running_mean (zeros), running_var (ones) and num_batches_tracked (0, int64) when
    `track_running_stats`. Train mode normalises with the batch's statistics and updates the
    running ones; eval mode uses the running ones (the batch's, if they are not tracked).
    """

    def __init__(
        self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
        dtype=None, *, bias=True, device=None,
    ):  # fmt: skip
        devices.cpu(device)
        super().__init__()
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        dtype = _dtype(dtype)
        if affine:
            self.weight = Parameter(np.ones(num_features, dtype))
            if bias:
                self.bias = Parameter(np.zeros(num_features, dtype))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", from_numpy(np.zeros(num_features, dtype)))
            self.register_buffer("running_var", from_numpy(np.ones(num_features, dtype)))
            self.register_buffer("num_batches_tracked", from_numpy(np.array(0, np.int64)))
        else:
            for name in ("running_mean", "running_var", "num_batches_tracked"):
                self.register_buffer(name, None)

    def reset_running_stats(self):
        """running_mean ← 0, running_var ← 1, num_batches_tracked ← 0."""
        if self.track_running_stats:
            self.running_mean.array[...] = 0
            self.running_var.array[...] = 1
            self.num_batches_tracked.array[...] = 0

    def reset_parameters(self):
        """Running statistics reset, γ ← 1, β ← 0."""
        self.reset_running_stats()
        if self.weight is not None:
            self.weight.array[...] = 1
        if self.bias is not None:
            self.bias.array[...] = 0

    def forward(self, input):
        if input.ndim not in (2, 3):
            raise ValueError(f"expected 2D or 3D input (got {input.ndim}D input)")
        if input.shape[1] != self.num_features:
            raise RuntimeError(
                f"BatchNorm1d({self.num_features}): expected input of shape "
                f"(N, {self.num_features}) or (N, {self.num_features}, L), got {input.shape} "
                f"({input.shape[1]} features at dim 1)"
            )
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            _values_per_channel(input.shape)  # a batch of one fails before the count moves
            self.num_batches_tracked.array += 1
            if self.momentum is None:
                factor = 1.0 / float(self.num_batches_tracked.array)
        use_batch = self.training or self.running_mean is None
        track = not self.training or self.track_running_stats
        return batch_norm(
            input,
            self.running_mean if track else None,
            self.running_var if track else None,
            self.weight,
            self.bias,
            use_batch,
            factor,
            self.eps,
        )

    def extra_repr(self):
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
            f"affine={self.affine}, bias={self.bias is not None}, "
            f"track_running_stats={self.track_running_stats}"
        )


class LayerNorm(Module):
    """Layer normalisation over the trailing axes `normalized_shape` of each example.

    weight γ (ones) and bias β (zeros) of shape normalized_shape when `elementwise_affine`
    (no β with bias=False). No running statistics: train and eval mode compute the same.
    """

    def __init__(
        self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True, dtype=None,
        device=None,
    ):  # fmt: skip
        devices.cpu(device)
        super().__init__()
        self.normalized_shape = _as_shape(normalized_shape)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        dtype = _dtype(dtype)
        if elementwise_affine:
            self.weight = Parameter(np.ones(self.normalized_shape, dtype))
            if bias:
                self.bias = Parameter(np.zeros(self.normalized_shape, dtype))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def reset_parameters(self):
        """γ ← 1, β ← 0."""
        if self.weight is not None:
            self.weight.array[...] = 1
        if self.bias is not None:
            self.bias.array[...] = 0

    def forward(self, input):
        return layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (
            f"{self.normalized_shape}, eps={self.eps}, "
            f"elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}"
        )
