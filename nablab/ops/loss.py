"""Loss functions as fused primitive ops: one graph node each, stable at any logit.

Each op computes the per-element loss ℓ and, in its backward, ∂ℓ/∂input from closed
forms (no chain of small ops, no log of an underflowed probability). `reduction`:
'none' returns ℓ; 'sum' returns Σ ℓ; 'mean' returns Σ ℓ / n, where n is the number of
elements, except for class-index targets where n = Σ of the weights of the targets
that are not `ignore_index` (the count of such targets without class weights), as in
PyTorch. Then δ_ℓ = δ_Z (none, sum) or δ_Z / n (mean).

Prediction and target must have the same shape: unlike PyTorch (which warns and
broadcasts an (N, 1) prediction against an (N,) target into an (N, N) loss), nablab
refuses. Class weights, `weight`, `pos_weight` are constants (no gradient).
"""

import numpy as np

from .base import Tensor, operands, record

REDUCTIONS = ("mean", "sum", "none")


def _check_reduction(op, reduction):
    if reduction not in REDUCTIONS:
        raise ValueError(
            f"{op}: {reduction!r} is not a valid value for reduction; "
            "expected one of 'mean', 'sum', 'none'"
        )


def _reduce(loss, reduction, parents, grads, op, divisor=None):
    """Record the reduced loss; `grads(δ_ℓ)` returns one gradient per parent."""
    _check_reduction(op, reduction)
    if reduction == "none":
        return record(loss, parents, grads, op)
    total = np.add.reduce(loss, axis=None)
    if reduction == "sum":
        return record(np.asarray(total), parents, grads, op)
    n = loss.size if divisor is None else divisor
    mean = np.asarray(total / n if n else np.nan, dtype=loss.dtype)  # 0/0 = NaN, as PyTorch
    return record(mean, parents, lambda g: grads(g / n if n else g * np.nan), op)


def _shape_hint(a, b):
    if a != b and tuple(n for n in a if n != 1) == tuple(n for n in b if n != 1):
        return (
            f" They differ only by axes of size 1 (a column against a row?): reshape one "
            f"to the other's shape, e.g. target.reshape{tuple(a)}; broadcasting them would "
            "compare every prediction with every target."
        )
    return ""


def _pair(op, input, target):
    """(input, target) as float Tensors of one dtype and the same shape."""
    x, y = operands(input, target)
    if x.array.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating point input, got dtype {x.array.dtype}")
    if x.array.shape != y.array.shape:
        raise ValueError(
            f"{op}: input shape {x.array.shape} and target shape {y.array.shape} differ; "
            "pass a target of the input's shape." + _shape_hint(x.array.shape, y.array.shape)
        )
    return x, y


def _constant(op, name, value, like):
    """A weight argument as an array broadcastable to `like` (None stays None)."""
    if value is None:
        return None
    if isinstance(value, Tensor):
        if value.requires_grad:
            raise ValueError(f"{op}: {name} is a constant here; pass {name}.detach()")
        value = value.array
    w = np.asarray(value, dtype=like.dtype)
    try:
        shape = np.broadcast_shapes(w.shape, like.shape)
    except ValueError:
        shape = None
    if shape != like.shape:
        raise ValueError(
            f"{op}: {name} of shape {w.shape} does not broadcast to the input's shape {like.shape}"
        )
    return w


def mse_loss(input, target, reduction="mean"):
    """ℓ = (x − y)².   δ_x = 2(x − y) ⊙ δ_ℓ,  δ_y = −δ_x."""
    x, y = _pair("mse_loss", input, target)
    d = x.array - y.array

    def grads(g):
        gx = 2 * d * g
        return gx, -gx if y.requires_grad else None

    return _reduce(d * d, reduction, (x, y), grads, "mse_loss")


def l1_loss(input, target, reduction="mean"):
    """ℓ = |x − y|.   δ_x = sign(x − y) ⊙ δ_ℓ (0 where x = y),  δ_y = −δ_x."""
    x, y = _pair("l1_loss", input, target)
    d = x.array - y.array

    def grads(g):
        gx = np.sign(d) * g
        return gx, -gx if y.requires_grad else None

    return _reduce(np.abs(d), reduction, (x, y), grads, "l1_loss")


def binary_cross_entropy(input, target, weight=None, reduction="mean"):
    """ℓ = −w [y ln x + (1 − y) ln(1 − x)], each log clamped at −100 (PyTorch's rule).

    δ_x = w (x − y) / max(x(1 − x), 10⁻¹²) ⊙ δ_ℓ,  δ_y = w [ln(1 − x) − ln x] ⊙ δ_ℓ.
    Prefer binary_cross_entropy_with_logits on logits: it needs no clamp.
    """
    x, y = _pair("binary_cross_entropy", input, target)
    xd, yd = x.array, y.array
    if xd.size and not (xd.min() >= 0 and xd.max() <= 1):
        raise ValueError(
            "binary_cross_entropy: all elements of input should be between 0 and 1, got "
            f"values in [{xd.min()}, {xd.max()}] (apply sigmoid first, or use "
            "binary_cross_entropy_with_logits)"
        )
    w = _constant("binary_cross_entropy", "weight", weight, xd)
    with np.errstate(divide="ignore"):
        log_x = np.maximum(np.log(xd), -100)
        log_1mx = np.maximum(np.log1p(-xd), -100)
    loss = -(yd * log_x + (1 - yd) * log_1mx)
    if w is not None:
        loss *= w

    def grads(g):
        if w is not None:
            g = g * w
        gx = g * (xd - yd) / np.maximum(xd * (1 - xd), 1e-12) if x.requires_grad else None
        return gx, g * (log_1mx - log_x) if y.requires_grad else None

    return _reduce(loss, reduction, (x, y), grads, "binary_cross_entropy")


def binary_cross_entropy_with_logits(input, target, weight=None, reduction="mean", pos_weight=None):
    """BCE of σ(x), from the logit x, with s = ln(1 + e^(−x)) = ln(1 + e^(−|x|)) + max(−x, 0)
    (NumPy's logaddexp(0, −x), which computes it that way, finite at any x):

    ℓ = w [(1 − y) x + (1 + (p − 1) y) s]   (p = pos_weight; for p = 1 this is
        max(x, 0) − x y + ln(1 + e^(−|x|)), finite at any x).
    δ_x = w [(1 − y) − (1 + (p − 1) y) σ(−x)] ⊙ δ_ℓ   (p = 1: w (σ(x) − y) ⊙ δ_ℓ),
    δ_y = w [(p − 1) s − x] ⊙ δ_ℓ.
    """
    op = "binary_cross_entropy_with_logits"
    x, y = _pair(op, input, target)
    xd, yd = x.array, y.array
    w = _constant(op, "weight", weight, xd)
    p = _constant(op, "pos_weight", pos_weight, xd)
    s = np.logaddexp(0, -xd)
    coef = 1 if p is None else 1 + (p - 1) * yd
    loss = (1 - yd) * xd + (s if p is None else coef * s)
    if w is not None:
        loss *= w

    def grads(g):
        if w is not None:
            g = g * w
        gx = None
        if x.requires_grad:
            sigmoid = np.exp(-s)  # σ(x) = e^(−s), as ln σ(x) = −ln(1 + e^(−x))
            gx = g * (sigmoid - yd) if p is None else g * ((1 - yd) - coef * (1 - sigmoid))
        gy = None
        if y.requires_grad:
            gy = g * (-xd if p is None else (p - 1) * s - xd)
        return gx, gy

    return _reduce(loss, reduction, (x, y), grads, op)


def _class_weights(op, weight, num_classes, ndim, class_dim, dtype):
    """Class weights shaped to broadcast along the class axis (None stays None)."""
    if weight is None:
        return None
    if isinstance(weight, Tensor):
        if weight.requires_grad:
            raise ValueError(f"{op}: weight is a constant here; pass weight.detach()")
        weight = weight.array
    w = np.asarray(weight, dtype=dtype)
    if w.shape != (num_classes,):
        raise ValueError(
            f"{op}: weight should have one entry per class, shape ({num_classes},); "
            f"got shape {w.shape}"
        )
    shape = [1] * ndim
    shape[class_dim] = num_classes
    return w.reshape(shape)


def _index_targets(op, x, target, w, class_dim, ignore_index, smoothing):
    """q with ℓ = −Σ_c q_c ln p_c for class-index targets t, and the 'mean' divisor.

    q_c = (1 − ε) w_t [c = t] + (ε/C) w_c, and q = 0 where t = ignore_index;
    divisor = Σ over kept targets of w_t.
    """
    t = target.array if isinstance(target, Tensor) else np.asarray(target)
    expected = x.shape[:class_dim] + x.shape[class_dim + 1 :]
    if t.shape != expected:
        raise ValueError(
            f"{op}: for input of shape {x.shape}, class-index targets need shape {expected}, "
            f"got {t.shape}"
        )
    num_classes = x.shape[class_dim]
    keep = t != ignore_index
    bad = keep & ((t < 0) | (t >= num_classes))
    if bad.any():
        raise IndexError(
            f"{op}: Target {t[bad].flat[0]} is out of bounds: classes are 0..{num_classes - 1}"
            f" (ignore_index={ignore_index})"
        )
    t = np.expand_dims(np.where(keep, t, 0), class_dim)
    keep = np.expand_dims(keep, class_dim).astype(x.dtype)
    w_t = (
        keep if w is None else keep * np.take_along_axis(np.broadcast_to(w, x.shape), t, class_dim)
    )
    q = np.zeros(x.shape, x.dtype)
    np.put_along_axis(q, t, (1 - smoothing) * w_t, class_dim)
    if smoothing:
        q += (smoothing / num_classes) * keep * (1 if w is None else w)
    return q, float(w_t.sum())


def _class_losses(op, input, target, weight, ignore_index, reduction, smoothing, from_logits):
    """Shared by cross_entropy and nll_loss: ℓ = −Σ_c q_c L_c along the class axis, with
    L = log_softmax(x) (cross_entropy, from logits) or L = x (nll_loss, log-probabilities)."""
    _check_reduction(op, reduction)
    if not 0.0 <= smoothing <= 1.0:
        raise ValueError(f"{op}: label_smoothing must be between 0.0 and 1.0, got {smoothing}")
    target_kind = (target.array if isinstance(target, Tensor) else np.asarray(target)).dtype.kind
    if target_kind == "f" and from_logits:
        x, y = _pair(op, input, target)
    elif target_kind in "iu":
        x, y = (input if isinstance(input, Tensor) else Tensor(input)), None
    else:
        raise TypeError(
            f"{op}: expected class indices of an integer dtype"
            + (" or class probabilities of a float dtype" if from_logits else "")
            + f", got a target of dtype {np.asarray(target).dtype}"
        )
    xd = x.array
    if xd.dtype.kind != "f" or xd.ndim == 0:
        raise ValueError(
            f"{op}: expected a float input of shape (N, C, ...) or (C,), got "
            f"{xd.dtype} of shape {xd.shape}"
        )
    class_dim = 1 if xd.ndim >= 2 else 0
    num_classes = xd.shape[class_dim]
    w = _class_weights(op, weight, num_classes, xd.ndim, class_dim, xd.dtype)
    logp = _log_softmax(xd, class_dim) if from_logits else xd
    if y is None:
        q, divisor = _index_targets(op, xd, target, w, class_dim, ignore_index, smoothing)
    else:
        q = y.array * (1 - smoothing) + smoothing / num_classes
        if w is not None:
            q = q * w
        divisor = None
    loss = -(q * logp).sum(axis=class_dim)

    def grads(g):
        g = np.expand_dims(g, class_dim) if np.ndim(g) else g
        gx = None
        if x.requires_grad:
            if from_logits:
                gx = g * (np.exp(logp) * q.sum(axis=class_dim, keepdims=True) - q)
            else:
                gx = -g * q
        if y is None:
            return (gx,)
        gy = None
        if y.requires_grad:
            gy = -g * (1 - smoothing) * logp * (1 if w is None else w)
        return gx, gy

    parents = (x,) if y is None else (x, y)
    return _reduce(np.asarray(loss), reduction, parents, grads, op, divisor)


def _log_softmax(x, axis):
    """ln softmax(x) = x − max x − ln Σ e^(x − max x): no overflow, no log of 0."""
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def cross_entropy(
    input, target, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0
):
    """Softmax cross-entropy from logits x of shape (N, C, d1, ...) (class axis 1) or (C,).

    Targets: class indices of shape (N, d1, ...) (`ignore_index` entries skipped), or
    class probabilities y of the input's shape. With q the target distribution
    (one-hot or y, mixed with the uniform one by ε = label_smoothing, times class weights):
    ℓ = −Σ_c q_c ln softmax(x)_c,  ln softmax(x) = x − max x − ln Σ e^(x − max x).
    δ_x = δ_ℓ ⊙ (softmax(x) Σ_c q_c − q)  (= softmax(x) − onehot(t) in the plain case).
    """
    return _class_losses(
        "cross_entropy", input, target, weight, ignore_index, reduction, label_smoothing, True
    )


def nll_loss(input, target, weight=None, ignore_index=-100, reduction="mean"):
    """Negative log-likelihood of class-index targets from log-probabilities x:
    ℓ = −w_t x_t.   δ_x = −w_t [c = t] ⊙ δ_ℓ.   cross_entropy = nll_loss ∘ log_softmax."""
    return _class_losses("nll_loss", input, target, weight, ignore_index, reduction, 0.0, False)
