"""Tests for nablab.scalar: the scalar autodiff engine of seeds/001, done right."""

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nablab import scalar
from nablab.scalar import Value, gradients, sigmoid, zero_grad

METHODS = ["topological", "paths"]


def floats(lo, hi):
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


def away_from_zero(lo, hi, gap=1e-3):
    return floats(lo, hi).filter(lambda x: abs(x) > gap)


def central_difference(f, xs, i, h=1e-6):
    """∂f/∂xs[i] by (f(x+h) - f(x-h)) / 2h, with f taking and returning floats."""
    h = h * max(1.0, abs(xs[i]))
    up, down = list(xs), list(xs)
    up[i] += h
    down[i] -= h
    return (f(*up) - f(*down)) / (2 * h)


def check_op(op, *xs):
    """Analytic gradients of op (both methods, and .backward()) against central differences."""
    leaves = [Value(x) for x in xs]
    y = op(*leaves)
    y.backward()
    by_method = {m: gradients(y, m) for m in METHODS}
    for i, leaf in enumerate(leaves):
        numeric = central_difference(lambda *a: op(*[Value(v) for v in a]).data, xs, i)
        for m in METHODS:
            assert by_method[m][leaf] == pytest.approx(numeric, rel=1e-5, abs=1e-6), (m, i)
        assert leaf.grad == pytest.approx(numeric, rel=1e-5, abs=1e-6)


# ---- each op against central differences -------------------------------------------------

BINARY = {
    "add": (lambda a, b: a + b, floats(-10, 10), floats(-10, 10)),
    "sub": (lambda a, b: a - b, floats(-10, 10), floats(-10, 10)),
    "mul": (lambda a, b: a * b, floats(-10, 10), floats(-10, 10)),
    "truediv": (lambda a, b: a / b, floats(-10, 10), away_from_zero(-5, 5, 0.1)),
}


@pytest.mark.parametrize("name", BINARY)
@settings(max_examples=50, deadline=None)
@given(data=st.data())
def test_binary_op_derivatives(name, data):
    op, sa, sb = BINARY[name]
    check_op(op, data.draw(sa), data.draw(sb))


UNARY = {
    "neg": (lambda a: -a, floats(-10, 10)),
    "radd": (lambda a: 2.5 + a, floats(-10, 10)),
    "rsub": (lambda a: 2.5 - a, floats(-10, 10)),
    "rmul": (lambda a: 2.5 * a, floats(-10, 10)),
    "rtruediv": (lambda a: 2.5 / a, away_from_zero(-5, 5, 0.1)),
    "add_const": (lambda a: a + 2.5, floats(-10, 10)),
    "sub_const": (lambda a: a - 2.5, floats(-10, 10)),
    "div_const": (lambda a: a / 2.5, floats(-10, 10)),
    "square": (lambda a: a**2, floats(-10, 10)),
    "cube": (lambda a: a**3, floats(-5, 5)),
    "inverse": (lambda a: a**-1, away_from_zero(-5, 5, 0.1)),
    "sqrt": (lambda a: a**0.5, floats(0.05, 20)),
    "exp": (lambda a: a.exp(), floats(-5, 5)),
    "log": (lambda a: a.log(), floats(0.05, 20)),
    "tanh": (lambda a: a.tanh(), floats(-5, 5)),
    "sigmoid": (lambda a: a.sigmoid(), floats(-10, 10)),
    "relu": (lambda a: a.relu(), away_from_zero(-10, 10)),
    "leaky_relu": (lambda a: a.leaky_relu(), away_from_zero(-10, 10)),
    "leaky_relu_0.2": (lambda a: a.leaky_relu(0.2), away_from_zero(-10, 10)),
    "fn_exp": (scalar.exp, floats(-5, 5)),
    "fn_log": (scalar.log, floats(0.05, 20)),
    "fn_tanh": (scalar.tanh, floats(-5, 5)),
    "fn_sigmoid": (scalar.sigmoid, floats(-10, 10)),
    "fn_relu": (scalar.relu, away_from_zero(-10, 10)),
    "fn_leaky_relu": (lambda a: scalar.leaky_relu(a, slope=0.1), away_from_zero(-10, 10)),
}


@pytest.mark.parametrize("name", UNARY)
@settings(max_examples=50, deadline=None)
@given(data=st.data())
def test_unary_op_derivatives(name, data):
    op, sa = UNARY[name]
    check_op(op, data.draw(sa))


@pytest.mark.parametrize(
    "op, reference",
    [
        (lambda a, b: a + b, lambda a, b: a + b),
        (lambda a, b: a - b, lambda a, b: a - b),
        (lambda a, b: a * b, lambda a, b: a * b),
        (lambda a, b: a / b, lambda a, b: a / b),
        (lambda a, b: 3.0 - a / b, lambda a, b: 3.0 - a / b),
        (lambda a, b: 2.0 / a + b**3, lambda a, b: 2.0 / a + b**3),
        (lambda a, b: a**-1.5, lambda a, b: a**-1.5),
        (lambda a, b: a.exp() + b.log(), lambda a, b: math.exp(a) + math.log(b)),
        (lambda a, b: a.tanh() * b.sigmoid(), lambda a, b: math.tanh(a) / (1 + math.exp(-b))),
        (lambda a, b: (-a).relu() + (-b).leaky_relu(0.2), lambda a, b: 0.0 - 0.2 * b),
    ],
)
def test_forward_values(op, reference):
    assert op(Value(0.7), Value(1.3)).data == pytest.approx(reference(0.7, 1.3), rel=1e-14)


@settings(max_examples=50, deadline=None)
@given(a=floats(0.1, 5), n=floats(-3, 3))
def test_pow_derivative_any_real_exponent(a, n):
    check_op(lambda v: v**n, a)


def test_pow_edge_cases():
    x = Value(3.0)
    assert gradients(x**0)[x] == 0.0  # ∂(a⁰)/∂a = 0
    z = Value(0.0)
    y = z**0.5
    assert y.data == 0.0 and gradients(y)[z] == math.inf  # √a has a vertical tangent at 0
    assert gradients(z**2)[z] == 0.0
    n = Value(-2.0)
    assert gradients(n**3)[n] == 12.0  # negative base, integer exponent


def test_module_functions_accept_numbers():
    assert scalar.exp(0.0).data == 1.0
    assert scalar.log(1).data == 0.0
    assert scalar.tanh(0.0).data == 0.0
    assert scalar.sigmoid(0).data == 0.5
    assert scalar.relu(-3).data == 0.0
    assert scalar.leaky_relu(-3.0, slope=0.5).data == -1.5
    assert isinstance(scalar.exp(np.float64(1.0)), Value)


def test_kinks_follow_pytorch():
    """relu'(0) = 0 and leaky_relu'(0) = slope, as in torch."""
    for f, expected in [(scalar.relu, 0.0), (lambda v: scalar.leaky_relu(v, 0.3), 0.3)]:
        x = Value(0.0)
        assert gradients(f(x))[x] == expected


# ---- graph structure: shared nodes, accumulation, identity hashing -------------------------


def test_same_input_twice_and_diamond():
    a = Value(3.0)
    assert gradients(a * a)[a] == 6.0  # ∂(a·a)/∂a = 2a: both edges count
    b = a * 2.0
    y = b * b + b.tanh()  # diamond: b reached along three edges
    g = gradients(y)
    expected = (2 * b.data + (1 - math.tanh(b.data) ** 2)) * 2.0
    assert g[a] == pytest.approx(expected)
    assert gradients(y, "paths")[a] == pytest.approx(expected)


def test_backward_accumulates_and_zero_grad_resets():
    w, b = Value(0.5), Value(-1.0)
    y = w * 3.0 + b
    y.backward()
    assert (w.grad, b.grad, y.grad) == (3.0, 1.0, 1.0)
    y.backward()
    assert (w.grad, b.grad, y.grad) == (6.0, 2.0, 2.0)
    zero_grad([w, b, y])
    assert (w.grad, b.grad, y.grad) == (0.0, 0.0, 0.0)


def test_gradients_does_not_touch_grad():
    w = Value(2.0)
    y = (w * w).exp()
    for m in METHODS:
        g = gradients(y, m)
        assert g[y] == 1.0
        assert g[w] == pytest.approx(4.0 * math.exp(4.0))
    assert w.grad == 0.0 and y.grad == 0.0


def test_hash_by_identity_and_repr():
    a, b = Value(1.0), Value(1.0)
    assert len({a, b}) == 2
    d = {a: "a", b: "b"}
    assert d[a] == "a" and d[b] == "b"
    assert repr(Value(0.5)) == "Value(data=0.5, grad=0.0)"
    assert repr(Value(2, label="w")) == "Value(data=2.0, grad=0.0, label='w')"


def test_numpy_scalars_mix_in():
    x = Value(np.float32(2.0))
    y = np.float64(3.0) * x + np.float64(1.0)
    assert isinstance(y, Value) and y.data == 7.0
    assert gradients(y)[x] == 3.0


# ---- the two methods agree on random expression graphs ---------------------------------------

_GRAPH_OPS = [
    lambda a, b: a + b,
    lambda a, b: a - b,
    lambda a, b: a * b,
    lambda a, b: a / (1.0 + b * b),
    lambda a, b: a.tanh(),
    lambda a, b: a.sigmoid() * b,
    lambda a, b: (a * 0.5).exp(),
    lambda a, b: (1.0 + a * a).log(),
    lambda a, b: a.leaky_relu(0.1) + b.relu(),
    lambda a, b: -a + 2.0 * b,
]


@st.composite
def expression_recipes(draw):
    """A random DAG as a recipe: leaf values, then ops on operands drawn from earlier nodes."""
    leaf_values = draw(st.lists(floats(-1.5, 1.5), min_size=1, max_size=3))
    steps = []
    for k in range(draw(st.integers(1, 10))):
        n = len(leaf_values) + k
        op = draw(st.integers(0, len(_GRAPH_OPS) - 1))
        steps.append((op, draw(st.integers(0, n - 1)), draw(st.integers(0, n - 1))))
    return leaf_values, steps


def build(leaf_values, steps):
    leaves = [Value(x) for x in leaf_values]
    nodes = list(leaves)
    for op, i, j in steps:
        nodes.append(_GRAPH_OPS[op](nodes[i], nodes[j]))
    return leaves, nodes, nodes[-1]


@settings(max_examples=200, deadline=None)
@given(recipe=expression_recipes())
def test_methods_agree_on_random_graphs(recipe):
    _, nodes, y = build(*recipe)
    topo, paths = gradients(y, "topological"), gradients(y, "paths")
    assert topo.keys() == paths.keys()
    scale = max(1.0, *(abs(g) for g in topo.values()))
    for node, g in topo.items():
        assert paths[node] == pytest.approx(g, rel=1e-9, abs=1e-12 * scale)
    y.backward()
    for node in nodes:
        assert node.grad == topo.get(node, 0.0)


@settings(max_examples=100, deadline=None)
@given(recipe=expression_recipes())
def test_random_graphs_match_central_differences(recipe):
    leaf_values, steps = recipe
    leaves, _, y = build(leaf_values, steps)
    g = gradients(y)

    def f(*xs):
        return build(xs, steps)[2].data

    kinks = [n for n in g if n._op in ("relu", "leaky_relu")]  # g's keys: every node
    if any(abs(n._parents[0][0].data) < 1e-4 for n in kinks):
        return  # too close to a kink for a finite difference
    for i, leaf in enumerate(leaves):
        numeric = central_difference(f, leaf_values, i)
        assert g.get(leaf, 0.0) == pytest.approx(numeric, rel=1e-5, abs=1e-6)


# ---- the seed's examples ---------------------------------------------------------------------


def seed_sigmoid(z):
    """seeds/001's sigmoid, built from primitives: ONE / (ONE + exp(-z))."""
    one = Value(1)
    return one / (one + scalar.exp(-z))


def test_seed_sigmoid_neuron():
    """seeds/001: y = sigmoid(w·x + b) at x=1, w=b=0, then 1000 steps of GD on (y-1)²."""
    x, w, b, target = Value(1), Value(0), Value(0), Value(1)
    y = sigmoid(w * x + b)
    g = gradients(y)
    assert (g[w], g[b]) == (0.25, 0.25)  # σ'(0) = 1/4
    g_seed = gradients(seed_sigmoid(w * x + b), "paths")  # the seed's own formula and method
    assert (g_seed[w], g_seed[b]) == (0.25, 0.25)

    costs = []
    for _ in range(1000):
        y = sigmoid(w * x + b)
        cost = (y - target) * (y - target)
        costs.append(cost.data)
        g = gradients(cost)
        w.data -= 0.1 * g[w]
        b.data -= 0.1 * g[b]
    assert costs[0] == 0.25
    assert all(later < earlier for earlier, later in zip(costs, costs[1:]))
    assert costs[-1] < 0.02 and y.data > 0.86


XOR = [((0, 0), 0), ((0, 1), 1), ((1, 0), 1), ((1, 1), 0)]


def xor_net(w, x1, x2):
    """seeds/001's 2-2-1 sigmoid net with its 9 parameters."""
    h1 = sigmoid(x1 * w[0] + x2 * w[1] + w[2])
    h2 = sigmoid(x1 * w[3] + x2 * w[4] + w[5])
    return sigmoid(w[6] * h1 + w[7] * h2 + w[8])


def test_seed_xor_net_trains():
    """seeds/001's XOR: sum of squared errors over the 4 points, plain GD with lr 0.1.

    The seed runs 30,000 iterations from N(0,1) weights. Measured with this engine: at
    30,000 iterations 16 of the seeds 0..19 of default_rng converge (the other 4 sit in the
    local minimum with one output at 0.5); seed 3 is already within 0.07 of every target
    after 3,000 iterations (0.2 s), which is what this test runs.
    """
    rng = np.random.default_rng(3)
    w = [Value(rng.standard_normal()) for _ in range(9)]
    for _ in range(3000):
        cost = sum((xor_net(w, x1, x2) - t) ** 2 for (x1, x2), t in XOR)
        zero_grad(w)
        cost.backward()
        for p in w:
            p.data -= 0.1 * p.grad
    outputs = [xor_net(w, x1, x2).data for (x1, x2), _ in XOR]
    for out, (_, target) in zip(outputs, XOR):
        assert abs(out - target) < 0.1, outputs
    assert cost.data < 0.02


# ---- depth: no recursion anywhere ---------------------------------------------------------------


def test_chain_of_200k_ops():
    n, c = 200_000, 1.000001
    x = Value(0.5)
    y = x
    for i in range(n):
        y = y * c if i % 2 else y + 0.25
    expected = c ** (n // 2)
    y.backward()
    assert x.grad == pytest.approx(expected, rel=1e-9)
    assert gradients(y)[x] == pytest.approx(expected, rel=1e-9)
    assert gradients(y, "paths")[x] == pytest.approx(expected, rel=1e-9)  # a chain has 1 path
    del y  # freeing a 200k-deep chain must not overflow the C stack either


# ---- the path method is exponential -------------------------------------------------------------


def repeated_square_plus(x, d):
    """y = y*y + y, d times: 2d+1 nodes and 3d edges, but 3^d paths from y to x."""
    y = x
    for _ in range(d):
        y = y * y + y
    return y


def count_paths(y):
    """(paths from y to the leaves, path steps the "paths" method takes), by walking them."""
    to_leaves = steps = 0
    stack = [y]
    while stack:
        node = stack.pop()
        if not node._parents:
            to_leaves += 1
        for parent, _ in node._parents:
            steps += 1
            stack.append(parent)
    return to_leaves, steps


def test_paths_method_agrees_on_repeated_square_plus():
    x = Value(0.1)
    y = repeated_square_plus(x, 6)
    topo, paths = gradients(y), gradients(y, method="paths")
    assert topo.keys() == paths.keys() and len(topo) == 2 * 6 + 1
    for node in topo:
        assert paths[node] == pytest.approx(topo[node], rel=1e-12)
    # analytic: dy_{k+1}/dy_k = 2 y_k + 1
    expected, v = 1.0, 0.1
    for _ in range(6):
        expected *= 2 * v + 1
        v = v * v + v
    assert topo[x] == pytest.approx(expected, rel=1e-12)


def test_number_of_paths_grows_as_3_to_the_d():
    for d in range(1, 9):
        y = repeated_square_plus(Value(0.1), d)
        assert count_paths(y) == (3**d, 2 * (3**d - 1))
        assert len(gradients(y)) == 2 * d + 1  # the topological pass: linear in d


# ---- numerical stability and errors ---------------------------------------------------------


def test_sigmoid_and_tanh_stable_at_large_inputs():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for x, s, t in [(1e4, 1.0, 1.0), (-1e4, 0.0, -1.0)]:
            for f, expected in [(scalar.sigmoid, s), (scalar.tanh, t)]:
                v = Value(x)
                y = f(v)
                assert y.data == expected
                assert gradients(y)[v] == 0.0
                y.backward()
                assert v.grad == 0.0
    # the small tail is accurate, not rounded to 0 through 1 - something
    assert scalar.sigmoid(-700.0).data == pytest.approx(math.exp(-700.0), rel=1e-12)
    assert scalar.sigmoid(-30.0).data == pytest.approx(1 / (1 + math.exp(30.0)), rel=1e-12)


def test_log_of_non_positive_raises():
    with pytest.raises(ValueError, match=r"log of a non-positive number: log\(0\.0\)"):
        Value(0.0).log()
    with pytest.raises(ValueError, match=r"log\(-2\.0\)"):
        scalar.log(-2)


def test_unknown_method_raises():
    with pytest.raises(ValueError, match=r"unknown method 'backprop'.*topological, paths"):
        gradients(Value(1.0), method="backprop")
    with pytest.raises(TypeError, match="needs a Value"):
        gradients(1.0)


def test_other_errors():
    with pytest.raises(OverflowError, match=r"exp\(10000\.0\)"):
        Value(1e4).exp()
    with pytest.raises(TypeError, match="Value \\*\\* Value"):
        Value(2.0) ** Value(3.0)
    with pytest.raises(ValueError, match="not a real number"):
        Value(-8.0) ** (1 / 3)
    with pytest.raises(TypeError):
        Value(Value(1.0))


def test_order_comparisons_compare_data_with_values_and_numbers():
    a, b = Value(1.0), Value(2.0)
    assert a < b and a <= b and b > a and b >= a and a <= Value(1.0) and a >= 1
    assert not (a > b) and not (b < a)
    assert a < 1.5 and 0.5 < a and 3 >= b and 2 > a
    assert max([a, b]) is b and sorted([b, a]) == [a, b]
    assert isinstance(a < b, bool)
    with pytest.raises(TypeError):
        a < "1"  # noqa: B015
