"""Devices: nablab runs on the CPU only. `device` mirrors torch.device so that course code
(`x.to(device)`, `zeros(3, device=device)`, `.cpu()`) runs unchanged; asking for CUDA
gives one clear error (`cpu(device)`), whatever the way it is asked."""

import numpy as np

from . import dtypes

TYPES = ("cpu", "cuda")


class device:  # noqa: N801 -- torch's name
    """`device("cpu")`, `device("cuda:0")`, `device("cuda", 0)`: a name only; a tensor can
    only be made on the CPU (`cpu` checks)."""

    __slots__ = ("type", "index")

    def __init__(self, type, index=None):  # noqa: A002 -- torch's argument name
        if isinstance(type, device):
            type, index = type.type, type.index
        elif isinstance(type, (int, np.integer)) and not isinstance(type, bool):
            type, index = "cuda", int(type)  # torch: an int is a CUDA index
        if not isinstance(type, str):
            raise TypeError(f"expected a device such as 'cpu', got {type!r}")
        name, colon, number = type.partition(":")
        if name not in TYPES:
            raise RuntimeError(
                f"expected a device 'cpu' (or 'cuda', 'cuda:0'), got {type!r}; "
                "nablab runs on the CPU only"
            )
        if colon:
            if not number.isdigit() or index is not None:
                raise RuntimeError(f"invalid device string {type!r}: expected 'cpu' or 'cuda:N'")
            index = int(number)
        if index is not None and (not isinstance(index, (int, np.integer)) or index < 0):
            raise RuntimeError(f"a device index must be a non-negative integer, got {index!r}")
        self.type = name
        self.index = None if index is None else int(index)

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self):
        index = "" if self.index is None else f", index={self.index}"
        return f"device(type='{self.type}'{index})"

    def __eq__(self, other):
        if isinstance(other, str):
            return str(self) == other
        if isinstance(other, device):
            return (self.type, self.index) == (other.type, other.index)
        return NotImplemented

    def __hash__(self):
        return hash(str(self))


CPU = device("cpu")


def cpu(where):
    """The CPU device for `where` (None, a device, its name); anything else raises one error."""
    if where is None or where is CPU:
        return CPU
    where = device(where)
    if where.type != "cpu":
        raise RuntimeError(
            f"nablab runs on the CPU only: device {str(where)!r} is not available; "
            "use device='cpu' or drop the device argument"
        )
    return where


def _names_device(arg):
    if isinstance(arg, str):
        try:
            np.dtype(arg)
        except TypeError:
            return True  # not a dtype name, so a device string (device() says if it is bad)
        return arg.partition(":")[0] in TYPES
    return isinstance(arg, (device, int, np.integer)) and not isinstance(arg, bool)


def to_arguments(args, dtype=None, device=None):
    """The dtype (or None) that torch's `.to(...)` asks for: `.to(device)`, `.to(dtype)`,
    `.to(device, dtype)`, `.to(other)` (other's dtype), `.to(dtype=…, device=…)`; the
    device must be the CPU."""
    if len(args) > 2:
        raise TypeError(f"to() takes at most a device and a dtype, got {len(args)} arguments")
    for arg in args:
        if _names_device(arg):
            device = arg
        elif hasattr(arg, "device") and hasattr(arg, "dtype"):
            dtype = arg.dtype  # a tensor: its dtype
        else:
            dtype = arg
    cpu(device)
    return None if dtype is None else dtypes.as_dtype(dtype)
