"""Hypothesis strategies shared by the tests: small shapes (broadcasting ones too),
values kept inside an op's domain and away from its kinks, and the `Case` an op test
draws: the float64 arrays to differentiate plus the op's other arguments."""

from dataclasses import dataclass, field

import numpy as np
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

MAX_DIMS, MAX_SIDE = 3, 4

# Few, small examples: every op is checked by finite differences, which costs two
# forward passes per input element.
SETTINGS = settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.function_scoped_fixture,
    ],
)


@dataclass
class Case:
    """Inputs of one op call: `arrays` are differentiated, `params` passed as keywords."""

    arrays: tuple
    params: dict = field(default_factory=dict)


# ----- shapes -------------------------------------------------------------------


def shapes(min_dims=0, max_dims=MAX_DIMS, min_side=1, max_side=MAX_SIDE):
    return hnp.array_shapes(
        min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side
    )


def broadcast_shapes(num_shapes=2):
    """Shapes that broadcast together: size-1 axes and missing leading dims included."""
    return hnp.mutually_broadcastable_shapes(
        num_shapes=num_shapes, max_dims=MAX_DIMS, max_side=MAX_SIDE
    ).map(lambda b: b.input_shapes)


def matmul_shapes():
    """Operand shapes of matmul: 1-D, 2-D and batched with broadcast batch dims."""
    return hnp.mutually_broadcastable_shapes(
        signature="(m?,n),(n,p?)->(m?,p?)", max_dims=4, max_side=MAX_SIDE
    ).map(lambda b: b.input_shapes)


@st.composite
def broadcastable_to(draw, shape):
    """A shape that broadcasts to `shape` without growing it (a mask for masked_fill)."""
    lead = draw(st.integers(0, len(shape)))
    return tuple(1 if draw(st.booleans()) else n for n in shape[lead:])


@st.composite
def expanded(draw, shape):
    """Target sizes for `expand(shape)`: new leading dims, size-1 axes grown, −1 to keep."""
    lead = tuple(draw(st.lists(st.integers(1, 3), max_size=2)))
    kept = tuple(
        draw(st.integers(1, 3)) if n == 1 else draw(st.sampled_from([n, -1])) for n in shape
    )
    return lead + kept


# ----- values --------------------------------------------------------------------


def real(lo=-2.0, hi=2.0):
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False, allow_subnormal=False)


def away_from_zero(lo=0.2, hi=2.0):
    """|v| in [lo, hi], either sign: for kinks at 0 (abs, relu) and divisors."""
    return real(lo, hi) | real(-hi, -lo)


def on_grid(offset=0.0, step=0.1, n=20):
    """Values k·step + offset, |k| ≤ n. Two grids with offsets 0 and step/2 never come
    closer than step/2: ties and kinks stay far from the finite-difference step."""
    return st.integers(-n, n).map(lambda k: round(k * step + offset, 10))


def arrays(shape, elements=None, unique=False):
    return hnp.arrays(
        np.float64, shape, elements=real() if elements is None else elements, unique=unique
    )


def dim_of(ndim):
    """One valid dim of an `ndim`-dimensional tensor, negative ones included."""
    return st.integers(-ndim, ndim - 1)


# ----- cases ---------------------------------------------------------------------


@st.composite
def unary(draw, elements=None, shape=None, unique=False):
    shape = draw(shapes() if shape is None else shape)
    return Case((draw(arrays(shape, elements, unique)),))


@st.composite
def binary(draw, a=None, b=None):
    sa, sb = draw(broadcast_shapes(2))
    return Case((draw(arrays(sa, a)), draw(arrays(sb, b))))


@st.composite
def reduction(draw, elements=None, none=True, tuple_dims=True, min_side=1, unique=False):
    """An array and `dim` (None, an int or a tuple) and `keepdim` for a reduction."""
    shape = draw(shapes(min_dims=1, min_side=min_side))
    n = len(shape)
    dims = [st.none(), dim_of(n)] if none else [dim_of(n)]
    if tuple_dims:
        dims.append(st.lists(st.integers(0, n - 1), min_size=1, max_size=n, unique=True).map(tuple))
    params = {"dim": draw(st.one_of(*dims)), "keepdim": draw(st.booleans())}
    return Case((draw(arrays(shape, elements, unique)),), params)


@st.composite
def along_dim(draw, elements=None, unique=False):
    """An array of at least one dim and one `dim` of it (softmax, max with dim, ...)."""
    shape = draw(shapes(min_dims=1))
    return Case((draw(arrays(shape, elements, unique)),), {"dim": draw(dim_of(len(shape)))})


@st.composite
def clamp_case(draw):
    """Values on a half-step grid, bounds on the whole-step grid: never on a bound."""
    lo, hi = sorted(draw(st.lists(on_grid(), min_size=2, max_size=2, unique=True)))
    lo, hi = draw(st.sampled_from([(lo, hi), (lo, None), (None, hi)]))
    shape = draw(shapes())
    return Case((draw(arrays(shape, on_grid(offset=0.05))),), {"min": lo, "max": hi})


@st.composite
def where_case(draw):
    sc, sa, sb = draw(broadcast_shapes(3))
    cond = draw(hnp.arrays(np.bool_, sc))
    return Case((draw(arrays(sa)), draw(arrays(sb))), {"condition": cond})


@st.composite
def masked_fill_case(draw):
    shape = draw(shapes())
    mask = draw(hnp.arrays(np.bool_, draw(broadcastable_to(shape))))
    return Case((draw(arrays(shape)),), {"mask": mask, "value": draw(real())})


VECTOR_MATMULS = [
    ((3,), (3,)),
    ((3,), (3, 2)),
    ((2, 3), (3,)),
    ((2, 1, 2, 3), (3,)),
    ((3,), (2, 3, 2)),
]


@st.composite
def matmul_case(draw, operand_shapes=None):
    """Drawn operand shapes, or one pair of `operand_shapes` (for the 1-D cases)."""
    pairs = matmul_shapes() if operand_shapes is None else st.sampled_from(operand_shapes)
    sa, sb = draw(pairs)
    return Case((draw(arrays(sa)), draw(arrays(sb))))


@st.composite
def linear_case(draw):
    lead = draw(shapes(max_dims=2))
    n_in, n_out = draw(st.integers(1, MAX_SIDE)), draw(st.integers(1, MAX_SIDE))
    x, w = draw(arrays(lead + (n_in,))), draw(arrays((n_out, n_in)))
    if draw(st.booleans()):
        return Case((x, w, draw(arrays((n_out,)))))
    return Case((x, w))


@st.composite
def reshape_case(draw):
    """A target with the same number of elements: the sides permuted, maybe one −1."""
    shape = draw(shapes())
    target = list(draw(st.permutations(shape)))
    if target and draw(st.booleans()):
        target[draw(st.integers(0, len(target) - 1))] = -1
    return Case((draw(arrays(shape)),), {"shape": tuple(target)})


@st.composite
def flatten_case(draw):
    shape = draw(shapes(min_dims=1))
    n = len(shape)
    start = draw(st.integers(0, n - 1))
    end = draw(st.integers(start, n - 1))
    end = draw(st.sampled_from([end, end - n]))
    return Case((draw(arrays(shape)),), {"start_dim": start, "end_dim": end})


@st.composite
def permute_case(draw):
    shape = draw(shapes())
    dims = tuple(draw(st.permutations(range(len(shape)))))
    return Case((draw(arrays(shape)),), {"dims": dims})


@st.composite
def transpose_case(draw):
    shape = draw(shapes(min_dims=1))
    n = len(shape)
    return Case((draw(arrays(shape)),), {"dim0": draw(dim_of(n)), "dim1": draw(dim_of(n))})


@st.composite
def squeeze_case(draw):
    shape = draw(shapes(max_side=2))
    dim = draw(st.none() | dim_of(len(shape))) if shape else None
    return Case((draw(arrays(shape)),), {"dim": dim})


@st.composite
def unsqueeze_case(draw):
    shape = draw(shapes())
    n = len(shape)
    return Case((draw(arrays(shape)),), {"dim": draw(st.integers(-n - 1, n))})


@st.composite
def expand_case(draw):
    shape = draw(shapes(max_side=2))
    return Case((draw(arrays(shape)),), {"sizes": draw(expanded(shape))})


@st.composite
def cat_case(draw):
    """1 to 3 arrays equal in shape except along `dim`."""
    shape = list(draw(shapes(min_dims=1)))
    dim = draw(dim_of(len(shape)))
    parts = []
    for _ in range(draw(st.integers(1, 3))):
        shape[dim] = draw(st.integers(1, MAX_SIDE))
        parts.append(draw(arrays(tuple(shape))))
    return Case(tuple(parts), {"dim": dim})


@st.composite
def stack_case(draw):
    shape = draw(shapes())
    n = len(shape)
    parts = tuple(draw(arrays(shape)) for _ in range(draw(st.integers(1, 3))))
    return Case(parts, {"dim": draw(st.integers(-n - 1, n))})


@st.composite
def split_case(draw):
    """`split_size` an int, or section sizes adding up to the length of `dim`."""
    shape = draw(shapes(min_dims=1))
    dim = draw(dim_of(len(shape)))
    n = shape[dim]
    size = draw(st.integers(1, n + 1))
    if draw(st.booleans()):
        cuts = sorted(draw(st.lists(st.integers(0, n), max_size=3)))
        size = [int(k) for k in np.diff([0, *cuts, n])]
    return Case((draw(arrays(shape)),), {"split_size_or_sections": size, "dim": dim})


@st.composite
def chunk_case(draw):
    shape = draw(shapes(min_dims=1))
    dim = draw(dim_of(len(shape)))
    chunks = draw(st.integers(1, shape[dim] + 1))
    return Case((draw(arrays(shape)),), {"chunks": chunks, "dim": dim})


def _no_reversed_slice(index):
    """PyTorch refuses negative slice steps."""
    parts = index if isinstance(index, tuple) else (index,)
    return not any(isinstance(p, slice) and (p.step or 1) < 0 for p in parts)


@st.composite
def basic_index_case(draw):
    shape = draw(shapes(min_dims=1))
    index = draw(hnp.basic_indices(shape, allow_newaxis=True).filter(_no_reversed_slice))
    return Case((draw(arrays(shape)),), {"index": index})


@st.composite
def put_index_case(draw):
    """`a[index] = v`: a basic index of a and values of the indexed part's shape."""
    shape = draw(shapes(min_dims=1))
    index = draw(hnp.basic_indices(shape).filter(_no_reversed_slice))
    part = np.empty(shape)[index].shape
    return Case((draw(arrays(shape)), draw(arrays(part))), {"index": index})


@st.composite
def integer_index_case(draw):
    """Integer arrays (with repeats, negative entries) indexing the leading k dims."""
    shape = draw(shapes(min_dims=1))
    k = draw(st.integers(1, len(shape)))
    result = shapes(min_dims=1, max_dims=2, max_side=6)
    index = draw(hnp.integer_array_indices(shape[:k], result_shape=result))
    return Case((draw(arrays(shape)),), {"index": index})


@st.composite
def mask_index_case(draw):
    """A boolean mask over the leading k dims."""
    shape = draw(shapes(min_dims=1))
    k = draw(st.integers(1, len(shape)))
    mask = draw(hnp.arrays(np.bool_, shape[:k]))
    return Case((draw(arrays(shape)),), {"index": mask})


@st.composite
def gather_case(draw):
    """An index of the input's rank, no larger off `dim`, entries in range along `dim`."""
    shape = draw(shapes(min_dims=1))
    dim = draw(dim_of(len(shape)))
    index_shape = tuple(
        draw(st.integers(1, MAX_SIDE)) if i == dim % len(shape) else draw(st.integers(1, n))
        for i, n in enumerate(shape)
    )
    index = draw(hnp.arrays(np.int64, index_shape, elements=st.integers(0, shape[dim] - 1)))
    return Case((draw(arrays(shape)),), {"dim": dim, "index": index})


@st.composite
def remainder_case(draw):
    """A = (q + f) ⊙ B with q an integer and f in [0.1, 0.9]: A/B never near the integers
    where the remainder jumps."""
    shape = draw(shapes())
    b = draw(arrays(shape, away_from_zero(0.3, 2.0)))
    q = draw(hnp.arrays(np.float64, shape, elements=st.integers(-3, 3).map(float)))
    f = draw(arrays(shape, real(0.1, 0.9)))
    return Case((np.asarray((q + f) * b), b))


@st.composite
def norm_case(draw):
    """p among 2, 'fro', 1, 3, inf; values away from 0 (the kink of |A|) and, for inf, with
    distinct |A| (no ties for the max)."""
    p = draw(st.sampled_from([2, "fro", 1, 3, np.inf]))
    if p == np.inf:
        case = draw(reduction(st.integers(2, 60).map(lambda k: k / 20), unique=True))
    else:
        case = draw(reduction(away_from_zero()))
    if p == "fro" and isinstance(case.params["dim"], tuple) and len(case.params["dim"]) > 2:
        case.params["dim"] = case.params["dim"][:2]  # PyTorch's 'fro' takes at most 2 dims
    return Case(case.arrays, {**case.params, "p": p})


EINSUMS = [
    "ij,jk->ik",
    "bij,bjk->bik",
    "ii->i",
    "ij->ji",
    "i,i->",
    "ij->",
    "i,j->ij",
    "ij",
    "bi,bi->b",
    "iij->j",
    "ij,jk,kl->il",
]


@st.composite
def einsum_case(draw):
    """An equation of EINSUMS (or one with '...') and operands of fitting drawn sizes."""
    equation = draw(st.sampled_from(EINSUMS + ["...ij,...jk->...ik", "...i->..."]))
    size = {c: draw(st.integers(1, 3)) for c in sorted(set(equation) - set(",->."))}
    lead = tuple(draw(shapes(max_dims=2, max_side=3)))
    inputs = equation.split("->")[0].split(",")
    operand_shapes = [
        (lead if "..." in sub else ()) + tuple(size[c] for c in sub.replace("...", ""))
        for sub in inputs
    ]
    if len(operand_shapes) == 2 and "..." in equation and draw(st.booleans()):
        operand_shapes[1] = operand_shapes[1][len(lead) :]  # '...' only in the first
        equation = equation.replace(",...", ",", 1)
    return Case(tuple(draw(arrays(s)) for s in operand_shapes), {"equation": equation})


@st.composite
def tensordot_case(draw):
    """dims=n (A's last n dims against B's first n) or dims=([i], [j])."""
    shared = tuple(draw(shapes(max_dims=2, max_side=3)))
    sa, sb = (
        tuple(draw(shapes(max_dims=2, max_side=3))),
        tuple(draw(shapes(max_dims=2, max_side=3))),
    )
    if shared and draw(st.booleans()):
        n = shared[0]
        a, b = draw(arrays((n,) + sa)), draw(arrays(sb + (n,)))
        return Case((a, b), {"dims": ([0], [len(sb)])})
    return Case((draw(arrays(sa + shared)), draw(arrays(shared + sb))), {"dims": len(shared)})


@st.composite
def mm_case(draw, batch=False):
    """(n, m) @ (m, p), or batches (b, n, m) @ (b, m, p) for bmm."""
    n, m, p = (draw(st.integers(1, MAX_SIDE)) for _ in range(3))
    lead = (draw(st.integers(1, 3)),) if batch else ()
    return Case((draw(arrays(lead + (n, m))), draw(arrays(lead + (m, p)))))


@st.composite
def meshgrid_case(draw):
    parts = tuple(
        draw(arrays((draw(st.integers(1, MAX_SIDE)),))) for _ in range(draw(st.integers(1, 3)))
    )
    return Case(parts, {"indexing": draw(st.sampled_from(["ij", "xy"]))})


@st.composite
def triangle_case(draw):
    shape = draw(shapes(min_dims=2))
    return Case((draw(arrays(shape)),), {"diagonal": draw(st.integers(-3, 3))})


@st.composite
def repeat_interleave_case(draw):
    shape = draw(shapes())
    dim = draw(st.none() | dim_of(len(shape))) if shape else None
    return Case((draw(arrays(shape)),), {"repeats": draw(st.integers(1, 3)), "dim": dim})
