"""Loss layers: Modules around the fused loss ops of nablab.ops.loss (formulas there).

Called as loss_fn(prediction, target). `reduction` is 'mean' (default), 'sum' or 'none'.
Prediction and target must have the same shape (nablab refuses the (N, 1) against (N,)
broadcast that PyTorch only warns about). Class weights are buffers, as in PyTorch.
"""

from ..autograd.tensor import Tensor
from ..creation import as_tensor
from ..ops import loss as _loss
from .module import Module


class _Loss(Module):
    def __init__(self, reduction="mean"):
        super().__init__()
        _loss._check_reduction(type(self).__name__, reduction)
        self.reduction = reduction


class _WeightedLoss(_Loss):
    def __init__(self, weight=None, reduction="mean"):
        super().__init__(reduction)
        self.register_buffer("weight", _as_buffer(weight))


def _as_buffer(value):
    """Weights given as arrays or lists become Tensors (None stays None)."""
    return value if value is None or isinstance(value, Tensor) else as_tensor(value)


class MSELoss(_Loss):
    """ℓ = (x − y)²."""

    def forward(self, input, target):
        return _loss.mse_loss(input, target, reduction=self.reduction)


class L1Loss(_Loss):
    """ℓ = |x − y|."""

    def forward(self, input, target):
        return _loss.l1_loss(input, target, reduction=self.reduction)


class BCELoss(_WeightedLoss):
    """ℓ = −w [y ln x + (1 − y) ln(1 − x)] on probabilities x (logs clamped at −100)."""

    def forward(self, input, target):
        return _loss.binary_cross_entropy(input, target, self.weight, self.reduction)


class BCEWithLogitsLoss(_WeightedLoss):
    """Sigmoid and BCE in one stable op: ℓ = max(x, 0) − x y + ln(1 + e^(−|x|)) on logits x
    (with `pos_weight` p the positive term is weighted by p)."""

    def __init__(self, weight=None, reduction="mean", pos_weight=None):
        super().__init__(weight, reduction)
        self.register_buffer("pos_weight", _as_buffer(pos_weight))

    def forward(self, input, target):
        return _loss.binary_cross_entropy_with_logits(
            input, target, self.weight, self.reduction, self.pos_weight
        )


class CrossEntropyLoss(_WeightedLoss):
    """ℓ = −ln softmax(x)_t from logits x (N, C, ...) and class indices t (N, ...), or
    class probabilities; `ignore_index` targets are skipped, `label_smoothing` ε mixes the
    target with the uniform distribution."""

    def __init__(self, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
        super().__init__(weight, reduction)
        self.ignore_index, self.label_smoothing = ignore_index, label_smoothing

    def forward(self, input, target):
        return _loss.cross_entropy(
            input, target, self.weight, self.ignore_index, self.reduction, self.label_smoothing
        )


class NLLLoss(_WeightedLoss):
    """ℓ = −w_t x_t from log-probabilities x (N, C, ...) and class indices t (N, ...)."""

    def __init__(self, weight=None, ignore_index=-100, reduction="mean"):
        super().__init__(weight, reduction)
        self.ignore_index = ignore_index

    def forward(self, input, target):
        return _loss.nll_loss(input, target, self.weight, self.ignore_index, self.reduction)
