"""nablab (∇lab): a deep-learning framework written from scratch on NumPy.

import nablab
x = nablab.tensor([[1.0, 2.0]], requires_grad=True)
y = (x * x).sum()
y.backward()
x.grad            # tensor([[2., 4.]])
"""

from . import cuda, data, dtypes, lm, nn, optim, scalar, utils
from .autograd.function import Context, Function
from .autograd.grad_mode import (
    AnomalyError,
    detect_anomaly,
    enable_grad,
    is_grad_enabled,
    no_grad,
    set_grad_enabled,
)
from .autograd.gradcheck import GradcheckError, gradcheck
from .autograd.tensor import Tensor
from .creation import (
    arange,
    as_tensor,
    empty,
    eye,
    from_numpy,
    full,
    full_like,
    linspace,
    normal,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randn,
    randn_like,
    tensor,
    zeros,
    zeros_like,
)
from .devices import device
from .dtypes import (
    bool_,
    float16,
    float32,
    float64,
    get_default_dtype,
    int32,
    int64,
    set_default_dtype,
    uint8,
)
from .io import CheckpointError, load, save
from .ops import PUBLIC as _public_ops
from .random import manual_seed

globals().update(_public_ops)  # every public op: nablab.add, nablab.sum, ...
half, float, double, long, int, bool = float16, float32, float64, int64, int32, bool_
clip = _public_ops["clamp"]


def __getattr__(name):
    """`nablab.__version__`: pyproject.toml's version, from the package metadata (read on
    first use: importlib.metadata would add ~30 ms to `import nablab`)."""
    if name != "__version__":
        raise AttributeError(f"module 'nablab' has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        found = version("nablab")
    except PackageNotFoundError:  # a source tree that was never installed: read pyproject.toml
        import re
        from pathlib import Path

        pyproject = (Path(__file__).parent.parent / "pyproject.toml").read_text()
        found = re.search(r'^version = "(.+)"', pyproject, re.MULTILINE).group(1)
    globals()["__version__"] = found
    return found
