"""save / load: checkpoints as a plain `.npz`, never pickle, written atomically.

`save(obj, path)` takes a state dict (nested dicts, lists and tuples of Tensors, NumPy
arrays, numbers, strings, booleans and None: a model's or an optimizer's `state_dict()`,
or `{"model": ..., "optimizer": ..., "epoch": 3}`) and writes one `.npz` archive
(`np.savez`, no compression):

    arr_0, arr_1, ...   every Tensor and array, in the order met walking the structure
    __manifest__        UTF-8 JSON (a uint8 array) describing the structure:
                        null/true/1/1.5/"s" stand for themselves; containers and arrays are
                        {"type": "dict", "items": [[key, node], ...]}   (str or int keys)
                        {"type": "list" | "tuple", "items": [node, ...]}
                        {"type": "tensor" | "array" | "scalar", "key": "arr_0", ...}

`load(path)` reads it back with `np.load(allow_pickle=False)`: Tensors come back as
Tensors (a Parameter as a plain Tensor, `requires_grad` kept), arrays as arrays, NumPy
scalars as NumPy scalars, tuples as tuples, any dict (OrderedDict too) as a dict, int
dict keys as ints. A file that is not
such an archive, is truncated or corrupted, or holds pickled data raises
`CheckpointError` (a ValueError) naming the path; no code in the file is ever run.

The archive is first written to a temporary file beside `path`, flushed to disk, then
renamed over `path` (`os.replace`), so a crash mid-save leaves the previous file intact.
"""

import json
import os
import secrets
import zipfile

import numpy as np

from .autograd.tensor import Tensor
from .creation import from_numpy

MANIFEST = "__manifest__"
FORMAT = "nablab-checkpoint-1"


class CheckpointError(ValueError):
    """A file that `load` refuses: not a nablab checkpoint, truncated, corrupted or pickled."""


def save(obj, path):
    """Write `obj` (a state dict) to `path` as an `.npz` archive, atomically."""
    arrays = {}
    manifest = {"format": FORMAT, "root": _encode(obj, arrays)}
    arrays[MANIFEST] = np.frombuffer(json.dumps(manifest).encode(), dtype=np.uint8)
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(directory, f".{os.path.basename(path)}.{secrets.token_hex(8)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # the umask applies
    try:
        with os.fdopen(fd, "wb") as f:
            _write_npz(f, arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    _fsync_directory(directory)


def load(path):
    """Read a checkpoint written by `save` and rebuild its structure."""
    path = os.fspath(path)
    with open(path, "rb") as f:
        if f.read(4) != b"PK\x03\x04":
            raise CheckpointError(
                f"{path}: not a nablab checkpoint (expected a .npz zip archive; "
                "pickle files are refused)"
            )
    try:
        with np.load(path, allow_pickle=False) as archive:
            manifest = json.loads(archive[MANIFEST].tobytes().decode())
            if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
                raise ValueError(f"its manifest is not a {FORMAT} manifest")
            return _decode(manifest["root"], archive)
    except (zipfile.BadZipFile, ValueError, KeyError, EOFError, OSError, TypeError) as e:
        raise CheckpointError(
            f"{path}: truncated, corrupted or not a nablab checkpoint ({e})"
        ) from e


def _write_npz(file, arrays):
    np.savez(file, **arrays)


def _fsync_directory(directory):
    """Make the rename durable (POSIX); a no-op where directories cannot be opened."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _encode(obj, arrays):
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, dict):
        for key in obj:
            if not isinstance(key, (str, int)) or isinstance(key, bool):
                raise TypeError(f"save: dict keys must be str or int, got {key!r}")
        return {"type": "dict", "items": [[k, _encode(v, arrays)] for k, v in obj.items()]}
    if isinstance(obj, (list, tuple)):
        kind = "tuple" if isinstance(obj, tuple) else "list"
        return {"type": kind, "items": [_encode(v, arrays) for v in obj]}
    if isinstance(obj, Tensor):
        node = _store(obj.data, arrays, "tensor")
        node["requires_grad"] = obj.requires_grad
        return node
    if isinstance(obj, np.ndarray):
        return _store(obj, arrays, "array")
    if isinstance(obj, np.generic):
        return _store(np.asarray(obj), arrays, "scalar")
    raise TypeError(
        f"save: cannot store {type(obj).__name__}; a checkpoint holds dicts, lists, tuples, "
        "Tensors, arrays, numbers, strings, booleans and None"
    )


def _store(array, arrays, kind):
    if array.dtype.hasobject:
        raise TypeError("save: arrays of Python objects would need pickle; they are not stored")
    key = f"arr_{len(arrays)}"
    arrays[key] = array
    return {"type": kind, "key": key}


def _decode(node, archive):
    if not isinstance(node, dict):
        return node
    kind = node["type"]
    if kind == "dict":
        return {key: _decode(value, archive) for key, value in node["items"]}
    if kind == "list":
        return [_decode(value, archive) for value in node["items"]]
    if kind == "tuple":
        return tuple(_decode(value, archive) for value in node["items"])
    array = archive[node["key"]]
    if kind == "array":
        return array
    if kind == "scalar":
        return array[()]
    if kind == "tensor":
        tensor = from_numpy(array)
        return tensor.requires_grad_() if node["requires_grad"] else tensor
    raise ValueError(f"unknown node type {kind!r} in the manifest")
