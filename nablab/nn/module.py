"""Module: the base class of every layer and model.

Attribute assignment registers things: a `Parameter` goes to `_parameters`, a `Module`
to `_modules`, and `register_buffer` adds a non-learned Tensor (running statistics, ...)
to `_buffers`. Registered values also stay plain instance attributes, so reading
`self.weight` in `forward` costs one dict lookup (no `__getattr__` detour).

Names are dotted paths as in PyTorch (`layers.0.weight`), so state dicts move between
nablab and PyTorch models of the same architecture.
"""

import itertools
from collections import OrderedDict, namedtuple

import numpy as np

from .. import devices, dtypes
from ..autograd.tensor import Tensor
from .parameter import Parameter

IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])

_hook_ids = itertools.count()


class RemovableHandle:
    """Returned by `register_forward_hook`; `.remove()` unregisters the hook."""

    __slots__ = ("_hooks", "id")

    def __init__(self, hooks):
        self._hooks, self.id = hooks, next(_hook_ids)

    def remove(self):
        self._hooks.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


class Module:
    """Base class: subclass it, assign layers/Parameters in `__init__`, define `forward`."""

    def __init__(self):
        d = self.__dict__
        d["training"] = True
        d["_parameters"], d["_buffers"], d["_modules"] = {}, {}, {}
        d["_non_persistent_buffers"] = set()
        d["_forward_hooks"], d["_forward_pre_hooks"] = {}, {}

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} has no forward() defined")

    def __call__(self, *args, **kwargs):
        if self._forward_hooks or self._forward_pre_hooks:
            return self._call_with_hooks(args, kwargs)
        return self.forward(*args, **kwargs)

    def _call_with_hooks(self, args, kwargs):
        for hook in tuple(self._forward_pre_hooks.values()):
            result = hook(self, args)
            if result is not None:
                args = result if isinstance(result, tuple) else (result,)
        out = self.forward(*args, **kwargs)
        for hook in tuple(self._forward_hooks.values()):
            result = hook(self, args, out)
            if result is not None:
                out = result
        return out

    def register_forward_hook(self, hook):
        """Call `hook(module, inputs, output)` after each forward; a non-None return replaces
        the output. Returns a handle whose `.remove()` unregisters it."""
        handle = RemovableHandle(self._forward_hooks)
        self._forward_hooks[handle.id] = hook
        return handle

    def register_forward_pre_hook(self, hook):
        """Call `hook(module, inputs)` before each forward; a non-None return replaces the
        inputs (a tuple, or a single value). Returns a removable handle."""
        handle = RemovableHandle(self._forward_pre_hooks)
        self._forward_pre_hooks[handle.id] = hook
        return handle

    # ----- registration -------------------------------------------------------
    def __setattr__(self, name, value):
        d = self.__dict__
        params = d.get("_parameters")
        if isinstance(value, (Parameter, Module)) and params is None:
            raise AttributeError(
                f"cannot assign {type(value).__name__} {name!r} before Module.__init__() call"
            )
        if params is None:
            d[name] = value
            return
        if isinstance(value, Parameter):
            self._forget(name)
            params[name] = value
        elif name in params:
            if value is not None:
                raise TypeError(
                    f"cannot assign {type(value).__name__!r} as parameter {name!r} "
                    "(nablab.nn.Parameter or None expected)"
                )
            params[name] = None
        elif isinstance(value, Module):
            self._forget(name)
            self._modules[name] = value
        elif name in self._modules:
            if value is not None:
                raise TypeError(
                    f"cannot assign {type(value).__name__!r} as child module {name!r} "
                    "(nablab.nn.Module or None expected)"
                )
            self._modules[name] = None
        elif name in self._buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(
                    f"cannot assign {type(value).__name__!r} as buffer {name!r} "
                    "(nablab.Tensor or None expected)"
                )
            self._buffers[name] = value
        d[name] = value

    def __delattr__(self, name):
        self._forget(name)
        self.__dict__.pop(name, None)

    def _forget(self, name):
        for registry in (self._parameters, self._buffers, self._modules):
            registry.pop(name, None)
        self._non_persistent_buffers.discard(name)

    def register_parameter(self, name, param):
        """Add `param` (a Parameter, or None for an absent one such as `bias=False`)."""
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(
                f"cannot assign {type(param).__name__!r} as parameter {name!r} "
                "(nablab.nn.Parameter or None expected)"
            )
        self._forget(name)
        self._parameters[name] = param
        self.__dict__[name] = param

    def register_buffer(self, name, tensor, persistent=True):
        """Add a Tensor that is state but not learned; in `state_dict` if `persistent`."""
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(
                f"cannot assign {type(tensor).__name__!r} as buffer {name!r} "
                "(nablab.Tensor or None expected)"
            )
        self._forget(name)
        self._buffers[name] = tensor
        if not persistent:
            self._non_persistent_buffers.add(name)
        self.__dict__[name] = tensor

    def add_module(self, name, module):
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        self._forget(name)
        self._modules[name] = module
        self.__dict__[name] = module

    register_module = add_module

    def get_submodule(self, target):
        """The module at dotted path `target` ('' is self)."""
        module = self
        for part in target.split(".") if target else ():
            if part not in module._modules:
                raise AttributeError(f"{type(module).__name__} has no submodule {part!r}")
            module = module._modules[part]
        return module

    # ----- traversal ------------------------------------------------------------
    def named_modules(self, memo=None, prefix="", remove_duplicate=True):
        """(dotted name, module) for self and every descendant, depth first."""
        if memo is None:
            memo = set()
        if remove_duplicate:
            if self in memo:
                return
            memo.add(self)
        yield prefix, self
        for name, module in self._modules.items():
            if module is not None:
                sub = f"{prefix}.{name}" if prefix else name
                yield from module.named_modules(memo, sub, remove_duplicate)

    def modules(self):
        for _, module in self.named_modules():
            yield module

    def named_children(self):
        seen = set()
        for name, module in self._modules.items():
            if module is not None and module not in seen:
                seen.add(module)
                yield name, module

    def children(self):
        for _, module in self.named_children():
            yield module

    def _named_members(self, registry, prefix, recurse, remove_duplicate=True):
        modules = self.named_modules(prefix=prefix) if recurse else [(prefix, self)]
        seen = set()
        for module_prefix, module in modules:
            for name, value in getattr(module, registry).items():
                if value is None or (remove_duplicate and id(value) in seen):
                    continue
                seen.add(id(value))
                yield (f"{module_prefix}.{name}" if module_prefix else name), value

    def named_parameters(self, prefix="", recurse=True, remove_duplicate=True):
        """(dotted name, Parameter) pairs; a Parameter shared by two modules comes once."""
        return self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse=True):
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(self, prefix="", recurse=True, remove_duplicate=True):
        return self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse=True):
        for _, buffer in self.named_buffers(recurse=recurse):
            yield buffer

    def apply(self, fn):
        """Call `fn(module)` on every child (recursively), then on self; return self."""
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    # ----- modes and gradients -----------------------------------------------
    def train(self, mode=True):
        """Set training mode (Dropout active) on self and every descendant."""
        if not isinstance(mode, bool):
            raise ValueError(f"training mode is expected to be boolean, got {mode!r}")
        for module in self.modules():
            module.__dict__["training"] = mode
        return self

    def eval(self):
        """Evaluation mode: `train(False)`."""
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        for param in self.parameters():
            param.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none=True):
        """Forget accumulated gradients: `.grad = None`, or zero them in place."""
        for param in self.parameters():
            if set_to_none:
                param.grad = None
            elif param.grad is not None:
                param.grad.array[...] = 0

    # ----- dtype and device ---------------------------------------------------------
    def to(self, *args, dtype=None, device=None, non_blocking=False):
        """Cast floating-point parameters, their gradients and buffers to `dtype`, in place
        (the Parameter objects stay the same, so optimizers keep working). torch's forms
        `.to(device)`, `.to(device, dtype)`, `.to(dtype=…)`; the device must be the CPU."""
        dtype = devices.to_arguments(args, dtype, device)
        if dtype is None:
            return self
        if dtype.kind != "f":
            raise TypeError(f"Module.to only accepts floating point dtypes, but got {dtype}")
        for t in itertools.chain(self.parameters(), self.buffers()):
            if t.array.dtype.kind == "f":
                t.array = t.array.astype(dtype, copy=False)
                if t.grad is not None:
                    t.grad.array = t.grad.array.astype(dtype, copy=False)
        return self

    def cpu(self):
        return self

    def cuda(self, device=None):
        """Raises the one CPU-only error: nablab has no CUDA."""
        devices.cpu("cuda")

    def double(self):
        return self.to(dtypes.float64)

    def float(self):
        return self.to(dtypes.float32)

    # ----- state ------------------------------------------------------------------
    def _state_tensors(self, prefix=""):
        """Every entry of the state dict, name -> the live Parameter/buffer (PyTorch's order:
        a module's parameters, then its persistent buffers, then its children's)."""
        out = OrderedDict()
        for name, param in self._parameters.items():
            if param is not None:
                out[prefix + name] = param
        for name, buffer in self._buffers.items():
            if buffer is not None and name not in self._non_persistent_buffers:
                out[prefix + name] = buffer
        for name, module in self._modules.items():
            if module is not None:
                out.update(module._state_tensors(f"{prefix}{name}."))
        return out

    def state_dict(self, prefix="", keep_vars=False):
        """OrderedDict name -> Tensor, detached but sharing memory with the live values."""
        state = self._state_tensors(prefix)
        if not keep_vars:
            for name, value in state.items():
                state[name] = value.detach()
        return state

    def load_state_dict(self, state_dict, strict=True):
        """Copy values (nablab/torch Tensors, NumPy arrays) into the parameters and buffers.

        All problems (missing keys and unexpected keys when `strict`, shape mismatches
        always) are reported together in one RuntimeError, and then nothing is changed.
        Values are copied into the existing arrays, in each parameter's dtype. Returns
        `(missing_keys, unexpected_keys)`.
        """
        own = self._state_tensors()
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        arrays, errors = {}, []
        if strict:
            if missing:
                errors.append("Missing key(s) in state_dict: " + _quoted(missing) + ".")
            if unexpected:
                errors.append("Unexpected key(s) in state_dict: " + _quoted(unexpected) + ".")
        for name, target in own.items():
            if name not in state_dict:
                continue
            value = _as_numpy(state_dict[name], name)
            if value.shape != target.array.shape:
                errors.append(
                    f"size mismatch for {name}: copying a param with shape {value.shape} from "
                    f"checkpoint, the shape in current model is {target.array.shape}."
                )
            arrays[name] = value
        if errors:
            raise RuntimeError(
                f"Error(s) in loading state_dict for {type(self).__name__}:\n\t"
                + "\n\t".join(errors)
            )
        for name, value in arrays.items():
            np.copyto(own[name].array, value, casting="unsafe")
        return IncompatibleKeys(missing, unexpected)

    # ----- printing ---------------------------------------------------------------
    def extra_repr(self):
        """The text inside this module's parentheses; layers override it."""
        return ""

    def _get_name(self):
        return type(self).__name__

    def __repr__(self):
        extra = self.extra_repr()
        lines = extra.split("\n") if extra else []
        children = [
            f"({name}): " + repr(module).replace("\n", "\n  ")
            for name, module in self._modules.items()
        ]
        if len(lines) == 1 and not children:
            return f"{self._get_name()}({lines[0]})"
        lines += children
        if not lines:
            return f"{self._get_name()}()"
        return f"{self._get_name()}(\n  " + "\n  ".join(lines) + "\n)"


def _quoted(names):
    return ", ".join(f'"{n}"' for n in names)


def _as_numpy(value, name):
    """A NumPy view of a state-dict value: nablab Tensor, ndarray, or a torch tensor."""
    if isinstance(value, Tensor):
        return value.array
    if hasattr(value, "detach") and hasattr(value, "cpu"):
        value = value.detach().cpu()
    try:
        array = np.asarray(value)
    except (TypeError, ValueError, RuntimeError) as e:
        raise TypeError(
            f"load_state_dict: value for {name!r} is a {type(value).__name__}, which cannot be "
            f"converted to an array ({e})"
        ) from None
    if array.dtype.kind not in "fiub":
        raise TypeError(
            f"load_state_dict: value for {name!r} has dtype {array.dtype}; expected numbers"
        )
    return array
