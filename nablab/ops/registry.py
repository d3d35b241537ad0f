"""The one registry of ops: `@register` above an op's `def` is all it takes to add one.

    @register
    def sin(a):
        ...

From the registry come `nablab.sin` and `nablab.ops.sin` (the `public` ops), and the
test table's check (tests/test_ops.py) that every differentiable op has a gradcheck row.
Tensor methods and operators (`x.sin()`, `x + y`) are the rows of
nablab.ops.methods.TENSOR_METHODS.
"""

OPS = {}  # name -> op function, every registered op, in registration order
PUBLIC = {}  # name -> op function: exported as nablab.<name> and nablab.ops.<name>
NOT_DIFFERENTIABLE = set()  # names of ops with no gradient (argmax, one_hot, comparisons)


def register(fn=None, *, public=True, differentiable=True):
    """Add the op `fn` under its own name. `public=False`: an engine op behind an operator
    or a method only (rsub behind `2 - x`); `differentiable=False`: no gradcheck row due."""

    def add(fn):
        name = fn.__name__
        if name in OPS:
            raise ValueError(f"op {name!r} is registered twice ({OPS[name]} and {fn})")
        OPS[name] = fn
        if public:
            PUBLIC[name] = fn
        if not differentiable:
            NOT_DIFFERENTIABLE.add(name)
        return fn

    return add if fn is None else add(fn)
