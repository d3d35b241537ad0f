"""A state dict to a JSON manifest plus arrays (`encode`), and back, checked (`decode`).

Manifest nodes: null/true/1/1.5/"s" stand for themselves; containers and arrays are
    {"type": "dict", "items": [[key, node], ...]}          str or int keys
    {"type": "list" | "tuple", "items": [node, ...]}
    {"type": "tensor", "key": "arr_0", "dtype": "<f4", "shape": [2, 3],
     "sha256": "…", "requires_grad": false}
    {"type": "array" | "scalar", "key": …, "dtype": …, "shape": …, "sha256": …}
(format 1 files have only "type", "key" and "requires_grad" in array nodes.) `decode`
checks every node's fields, that its array has the declared dtype, shape and SHA-256, that a
tensor holds numbers or booleans and a scalar is 0-d, and that no array is named twice.
"""

import hashlib

import numpy as np

from ..autograd.tensor import Tensor, from_numpy

MAX_DEPTH = 100
TENSOR_KINDS = "biuf"  # bool, int, uint, float: what a Tensor holds
_ARRAY_FIELDS = {"type", "key", "dtype", "shape", "sha256"}
_ARRAY_FIELDS_1 = {"type", "key"}
_EXTRA = {"tensor": {"requires_grad"}, "array": set(), "scalar": set()}


def encode(obj, arrays, where="root", inside=()):
    """The manifest node of `obj`; its arrays are added to `arrays` as arr_<n>."""
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, (dict, list, tuple)):
        if id(obj) in inside:
            raise ValueError(f"save: {where} contains itself (a cycle); a checkpoint is a tree")
        if len(inside) >= MAX_DEPTH:
            raise ValueError(f"save: {where} is nested deeper than {MAX_DEPTH} levels")
        inside = (*inside, id(obj))
    if isinstance(obj, dict):
        for key in obj:
            if not isinstance(key, (str, int)) or isinstance(key, bool):
                raise TypeError(f"save: dict keys must be str or int, got {key!r} in {where}")
        items = [[k, encode(v, arrays, f"{where}[{k!r}]", inside)] for k, v in obj.items()]
        return {"type": "dict", "items": items}
    if isinstance(obj, (list, tuple)):
        items = [encode(v, arrays, f"{where}[{i}]", inside) for i, v in enumerate(obj)]
        return {"type": "tuple" if isinstance(obj, tuple) else "list", "items": items}
    if isinstance(obj, Tensor):
        if obj.array.dtype.kind not in TENSOR_KINDS:
            raise TypeError(f"save: {where} is a Tensor of {obj.array.dtype}, not of numbers")
        return {**_store(obj.array, arrays, "tensor", where), "requires_grad": obj.requires_grad}
    if isinstance(obj, np.ndarray):
        return _store(obj, arrays, "array", where)
    if isinstance(obj, np.generic):
        return _store(np.asarray(obj), arrays, "scalar", where)
    raise TypeError(
        f"save: cannot store {type(obj).__name__} ({where}); a checkpoint holds dicts, lists, "
        "tuples, Tensors, arrays, numbers, strings, booleans and None"
    )


def _store(array, arrays, kind, where):
    if array.dtype.hasobject or array.dtype.fields is not None or array.dtype.itemsize == 0:
        raise TypeError(
            f"save: {where} has dtype {array.dtype}: plain dtypes only (objects would need pickle)"
        )
    array = array if array.flags.c_contiguous else np.array(array, order="C")
    key = f"arr_{len(arrays)}"
    arrays[key] = array
    digest = hashlib.sha256(array.reshape(-1).view(np.uint8)).hexdigest()
    return {"type": kind, "key": key, "dtype": array.dtype.str, "shape": list(array.shape),
            "sha256": digest}  # fmt: skip


def decode(node, archive, hashed, where="root", depth=0):
    """The value of manifest `node`; `hashed`: the format has dtype/shape/sha256 fields."""
    if node is None or isinstance(node, (bool, int, float, str)):
        return node
    if depth >= MAX_DEPTH:
        raise ValueError(f"manifest: {where} is nested deeper than {MAX_DEPTH} levels")
    kind = node.get("type") if isinstance(node, dict) else None
    if kind in ("dict", "list", "tuple"):
        items = node.get("items")
        if set(node) != {"type", "items"} or not isinstance(items, list):
            raise ValueError(f"manifest: {where} is not a {kind} node: {_short(node)}")
        if kind != "dict":
            values = (
                decode(v, archive, hashed, f"{where}[{i}]", depth + 1) for i, v in enumerate(items)
            )
            return list(values) if kind == "list" else tuple(values)
        return dict(_decode_item(item, archive, hashed, where, depth) for item in items)
    if kind not in _EXTRA:
        raise ValueError(f"manifest: {where} is not a node: {_short(node)}")
    fields = (_ARRAY_FIELDS if hashed else _ARRAY_FIELDS_1) | _EXTRA[kind]
    if set(node) != fields or not isinstance(node["key"], str):
        raise ValueError(f"manifest: {where} is not a {kind} node: {_short(node)}")
    array = archive.array(node["key"], node["sha256"] if hashed else None)
    if hashed and (node["dtype"] != array.dtype.str or node["shape"] != list(array.shape)):
        raise ValueError(
            f"manifest: {where} declares {node['dtype']} {tuple(node['shape'])}, but "
            f"{node['key']}.npy holds {array.dtype.str} {array.shape}"
        )
    if kind == "scalar":
        if array.ndim != 0:
            raise ValueError(
                f"manifest: {where} is a scalar but {node['key']} has shape {array.shape}"
            )
        return array[()]
    if kind == "array":
        return array
    if array.dtype.kind not in TENSOR_KINDS or not isinstance(node["requires_grad"], bool):
        raise ValueError(f"manifest: {where} is a Tensor but {node['key']} holds {array.dtype}")
    tensor = from_numpy(array)
    return tensor.requires_grad_() if node["requires_grad"] else tensor


def _decode_item(item, archive, hashed, where, depth):
    if not isinstance(item, list) or len(item) != 2 or type(item[0]) not in (str, int):
        raise ValueError(f"manifest: {where} has an item that is not [key, value]: {_short(item)}")
    key, value = item
    return key, decode(value, archive, hashed, f"{where}[{key!r}]", depth + 1)


def _short(value):
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
