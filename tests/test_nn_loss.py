"""Fused loss ops: finite-difference gradients over drawn shapes, agreement with PyTorch
(values and gradients, weights, ignore_index, label smoothing, probability targets),
stability at logits ±1e4, and the errors for bad input."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import SETTINGS, arrays, on_grid, real, shapes

import nablab
import nablab.nn.functional as F
from nablab import nn

REDUCTIONS = ["mean", "sum", "none"]


def t64(array, requires_grad=False):
    return nablab.tensor(array, dtype=nablab.float64, requires_grad=requires_grad)


# ----- gradcheck over drawn shapes ---------------------------------------------------------


@st.composite
def pair(draw, x_elements, y_elements):
    shape = draw(shapes())
    return draw(arrays(shape, x_elements)), draw(arrays(shape, y_elements))


@st.composite
def class_case(draw):
    """Logits (N, C) or (N, C, d) or (C,), integer targets with some ignore_index."""
    n, c, d = draw(st.integers(1, 3)), draw(st.integers(1, 4)), draw(st.integers(1, 3))
    shape = draw(st.sampled_from([(n, c), (n, c, d), (c,)]))
    target_shape = shape[:1] + shape[2:] if len(shape) > 1 else ()
    x = draw(arrays(shape, real(-3, 3)))
    target = draw(arrays(target_shape, st.integers(0, c - 1)).map(lambda a: a.astype(np.int64)))
    if target.size and draw(st.booleans()):
        target.flat[0] = -100
    return x, target


@SETTINGS
@given(pair(real(), real()), st.sampled_from(REDUCTIONS))
def test_mse_gradcheck(xy, reduction):
    x, y = xy
    assert nablab.gradcheck(
        lambda a, b: F.mse_loss(a, b, reduction=reduction), (t64(x, True), t64(y, True))
    )


@SETTINGS
@given(pair(on_grid(), on_grid(offset=0.05)), st.sampled_from(REDUCTIONS))
def test_l1_gradcheck(xy, reduction):
    x, y = xy
    assert nablab.gradcheck(
        lambda a, b: F.l1_loss(a, b, reduction=reduction), (t64(x, True), t64(y, True))
    )


@SETTINGS
@given(pair(real(0.05, 0.95), real(0, 1)), st.sampled_from(REDUCTIONS), st.booleans())
def test_bce_gradcheck(xy, reduction, weighted):
    x, y = xy
    w = t64(np.linspace(0.5, 2, x.size).reshape(x.shape)) if weighted else None
    assert nablab.gradcheck(
        lambda a, b: F.binary_cross_entropy(a, b, w, reduction),
        (t64(x, True), t64(y, True)),
        rtol=1e-4,
    )


@SETTINGS
@given(pair(real(-4, 4), real(0, 1)), st.sampled_from(REDUCTIONS), st.booleans())
def test_bce_with_logits_gradcheck(xy, reduction, pos_weighted):
    x, y = xy
    pw = t64(np.linspace(0.5, 3, x.shape[-1])) if pos_weighted and x.ndim else None
    assert nablab.gradcheck(
        lambda a, b: F.binary_cross_entropy_with_logits(a, b, None, reduction, pw),
        (t64(x, True), t64(y, True)),
    )


@SETTINGS
@given(class_case(), st.sampled_from(REDUCTIONS), st.sampled_from([0.0, 0.3]), st.booleans())
def test_cross_entropy_gradcheck(case, reduction, smoothing, weighted):
    x, target = case
    c = x.shape[1] if x.ndim > 1 else x.shape[0]
    w = t64(np.linspace(0.5, 2, c)) if weighted else None
    if reduction == "mean" and (target == -100).all():
        return
    assert nablab.gradcheck(
        lambda a: F.cross_entropy(a, nablab.tensor(target), w, -100, reduction, smoothing),
        (t64(x, True),),
    )


@SETTINGS
@given(class_case(), st.sampled_from(REDUCTIONS))
def test_cross_entropy_with_probability_targets_gradcheck(case, reduction):
    x, _ = case
    y = np.random.default_rng(0).random(x.shape)
    y /= y.sum(axis=1 if x.ndim > 1 else 0, keepdims=True)
    assert nablab.gradcheck(
        lambda a, b: F.cross_entropy(a, b, reduction=reduction, label_smoothing=0.1),
        (t64(x, True), t64(y, True)),
    )


@SETTINGS
@given(class_case(), st.sampled_from(REDUCTIONS))
def test_nll_gradcheck(case, reduction):
    x, target = case
    if reduction == "mean" and (target == -100).all():
        return
    assert nablab.gradcheck(
        lambda a: F.nll_loss(a, nablab.tensor(target), reduction=reduction), (t64(x, True),)
    )


# ----- agreement with PyTorch ------------------------------------------------------------


def _compare(torch, name, inputs, grads_of=(0,), grad_rtol=1e-11, **kwargs):
    """Run F.<name> and torch's on the same float64 arrays; compare values and gradients."""
    ours = [
        t64(a, i in grads_of) if a.dtype.kind == "f" else nablab.tensor(a)
        for i, a in enumerate(inputs)
    ]
    theirs = [torch.tensor(a, requires_grad=i in grads_of) for i, a in enumerate(inputs)]
    t_kwargs = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    out = getattr(F, name)(*ours, **kwargs)
    ref = getattr(torch.nn.functional, name)(*theirs, **t_kwargs)
    np.testing.assert_allclose(out.array, ref.detach().numpy(), rtol=1e-12, atol=1e-300)
    upstream = np.random.default_rng(1).standard_normal(out.shape)
    out.backward(upstream)
    ref.backward(torch.tensor(upstream))
    for i in grads_of:
        np.testing.assert_allclose(
            ours[i].grad.array, theirs[i].grad.numpy(), rtol=grad_rtol, atol=1e-300, err_msg=str(i)
        )
    return out


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_elementwise_losses_match_torch(torch, reduction):
    rng = np.random.default_rng(0)
    x, y, p = rng.standard_normal((4, 3)), rng.random((4, 3)), rng.random((4, 3))
    w, pw = rng.random((4, 3)) + 0.5, rng.random(3) * 3
    both = (0, 1)
    _compare(torch, "mse_loss", (x, y), both, reduction=reduction)
    _compare(torch, "l1_loss", (x, y), both, reduction=reduction)
    _compare(torch, "binary_cross_entropy", (p, y), both, weight=w, reduction=reduction)
    _compare(
        torch,
        "binary_cross_entropy_with_logits",
        (x, y),
        both,
        weight=w,
        pos_weight=pw,
        reduction=reduction,
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("smoothing", [0.0, 0.25])
@pytest.mark.parametrize("weighted", [False, True])
def test_class_losses_match_torch(torch, reduction, smoothing, weighted):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((5, 4, 2))
    target = rng.integers(0, 4, (5, 2))
    target[1, 0] = target[3, 1] = -100
    weight = rng.random(4) + 0.5 if weighted else None
    _compare(
        torch,
        "cross_entropy",
        (x, target),
        weight=weight,
        reduction=reduction,
        label_smoothing=smoothing,
    )
    probs = rng.random(x.shape)
    probs /= probs.sum(axis=1, keepdims=True)
    _compare(
        torch,
        "cross_entropy",
        (x, probs),
        (0, 1),
        weight=weight,
        reduction=reduction,
        label_smoothing=smoothing,
    )
    _compare(torch, "nll_loss", (x, target), weight=weight, reduction=reduction)


def test_ignore_index_other_than_default_and_unbatched_input(torch):
    rng = np.random.default_rng(0)
    _compare(
        torch, "cross_entropy", (rng.standard_normal((3, 5)), np.array([1, 4, 4])), ignore_index=4
    )
    _compare(torch, "cross_entropy", (rng.standard_normal(5), np.array(2)))


def test_all_targets_ignored_gives_nan_mean_as_torch(torch):
    out = F.cross_entropy(t64(np.zeros((2, 3))), nablab.tensor([-100, -100]))
    assert np.isnan(out.item())
    assert (
        F.nll_loss(t64(np.zeros((2, 3))), nablab.tensor([-100, -100]), reduction="sum").item() == 0
    )


# ----- stability ----------------------------------------------------------------------------


@pytest.mark.parametrize("scale", [1e4, -1e4])
def test_losses_are_finite_and_equal_torch_at_huge_logits(torch, scale):
    x = np.array([[1.0, -1.0, 0.5], [-0.3, 1.0, -1.0]]) * scale
    y = np.array([[1.0, 0.0, 1.0], [0.0, 0.0, 1.0]])
    for reduction in REDUCTIONS:
        bce = _compare(
            torch, "binary_cross_entropy_with_logits", (x, y), (0, 1), reduction=reduction
        )
        ce = _compare(torch, "cross_entropy", (x, np.array([1, 2])), reduction=reduction)
        assert np.isfinite(bce.array).all() and np.isfinite(ce.array).all()


def test_bce_clamps_its_logs_at_minus_100_as_torch(torch):
    # torch's 1e-12 floor of x(1 − x) in the gradient is a float32 constant: rtol 1e-8
    x, y = np.array([0.0, 1.0, 1e-50]), np.array([1.0, 0.0, 1.0])
    _compare(torch, "binary_cross_entropy", (x, y), grad_rtol=1e-8)


def test_float32_in_float32_out():
    x = nablab.randn(4, 3, requires_grad=True)
    loss = F.cross_entropy(x, nablab.tensor([0, 1, 2, 0]))
    loss.backward()
    assert loss.dtype == nablab.float32 and x.grad.dtype == nablab.float32
    assert F.mse_loss(x, nablab.zeros(4, 3)).dtype == nablab.float32


# ----- modules ---------------------------------------------------------------------------------


def test_loss_modules_repr_and_state_dict_match_torch(torch):
    w = np.array([1.0, 2.0])
    for name in (
        "MSELoss",
        "L1Loss",
        "BCELoss",
        "BCEWithLogitsLoss",
        "CrossEntropyLoss",
        "NLLLoss",
    ):
        assert repr(getattr(nn, name)()) == repr(getattr(torch.nn, name)())
    ours = nn.CrossEntropyLoss(weight=t64(w))
    theirs = torch.nn.CrossEntropyLoss(weight=torch.tensor(w))
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["weight"]
    assert list(nn.BCEWithLogitsLoss(pos_weight=t64(w)).state_dict()) == ["pos_weight"]
    assert isinstance(nn.NLLLoss(weight=[1.0, 2.0]).weight, nablab.Tensor)


def test_loss_modules_pass_their_options():
    x = t64(np.random.default_rng(0).standard_normal((3, 2)))
    target = nablab.tensor([0, 1, -1])
    module = nn.CrossEntropyLoss(
        weight=t64([1.0, 3.0]), ignore_index=-1, reduction="sum", label_smoothing=0.1
    )
    expected = F.cross_entropy(x, target, t64([1.0, 3.0]), -1, "sum", 0.1)
    assert module(x, target).item() == expected.item()
    assert nn.NLLLoss(reduction="none")(x, nablab.tensor([0, 1, 1])).shape == (3,)


# ----- errors ------------------------------------------------------------------------------------


def test_bad_reduction_lists_the_valid_ones():
    with pytest.raises(
        ValueError,
        match="'avg' is not a valid value for reduction; expected one of 'mean', 'sum', 'none'",
    ):
        F.mse_loss(nablab.zeros(2), nablab.zeros(2), reduction="avg")
    with pytest.raises(ValueError, match="CrossEntropyLoss: 'total' is not a valid value"):
        nn.CrossEntropyLoss(reduction="total")


def test_shape_mismatch_names_both_shapes():
    with pytest.raises(
        ValueError, match=r"mse_loss: input shape \(4, 3\) and target shape \(4, 2\) differ"
    ):
        F.mse_loss(nablab.zeros(4, 3), nablab.zeros(4, 2))


def test_column_against_row_is_refused_with_a_hint():
    with pytest.raises(
        ValueError,
        match=r"\(4, 1\) and target shape \(4,\) differ.*column against a row.*"
        r"target.reshape\(4, 1\)",
    ):
        nn.BCEWithLogitsLoss()(nablab.zeros(4, 1), nablab.zeros(4))
    with pytest.raises(ValueError, match=r"input shape \(4,\) and target shape \(4, 1\)"):
        nn.MSELoss()(nablab.zeros(4), nablab.zeros(4, 1))


def test_class_loss_errors():
    x = nablab.zeros(2, 3)
    with pytest.raises(IndexError, match=r"Target 3 is out of bounds: classes are 0..2"):
        F.cross_entropy(x, nablab.tensor([0, 3]))
    with pytest.raises(ValueError, match=r"class-index targets need shape \(2,\), got \(2, 1\)"):
        F.cross_entropy(x, nablab.tensor([[0], [1]]))
    with pytest.raises(
        TypeError, match="nll_loss: expected class indices of an integer dtype, got"
    ):
        F.nll_loss(x, nablab.zeros(2, 3))
    with pytest.raises(
        ValueError, match=r"weight should have one entry per class, shape \(3,\); got shape \(2,\)"
    ):
        F.cross_entropy(x, nablab.tensor([0, 1]), weight=nablab.ones(2))
    with pytest.raises(ValueError, match="label_smoothing must be between 0.0 and 1.0, got 1.5"):
        F.cross_entropy(x, nablab.tensor([0, 1]), label_smoothing=1.5)
    with pytest.raises(ValueError, match="weight is a constant here"):
        F.cross_entropy(x, nablab.tensor([0, 1]), weight=nablab.ones(3, requires_grad=True))


def test_bce_input_outside_0_1_is_refused():
    with pytest.raises(ValueError, match=r"should be between 0 and 1, got values in \[-0.5, 0.5\]"):
        F.binary_cross_entropy(nablab.tensor([-0.5, 0.5]), nablab.tensor([0.0, 1.0]))
    with pytest.raises(ValueError, match=r"weight of shape \(3,\) does not broadcast"):
        F.binary_cross_entropy(
            nablab.tensor([0.5, 0.5]), nablab.tensor([0.0, 1.0]), weight=nablab.ones(3)
        )
