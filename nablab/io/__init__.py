"""save / load: checkpoints as a plain `.npz`, never pickle, written atomically, read checked.

`save(obj, path)` takes a state dict (nested dicts, lists and tuples of Tensors, NumPy
arrays, numbers, strings, booleans and None: a model's or an optimizer's `state_dict()`,
or `{"model": ..., "optimizer": ..., "epoch": 3}`) and writes one uncompressed `.npz`
archive (`np.savez`):

    arr_0.npy, arr_1.npy, ...   every Tensor and array, in the order met walking the structure
    __manifest__.npy            UTF-8 JSON (a uint8 array): {"format": "nablab-checkpoint-2",
                                "root": node}, the nodes described in `nablab.io.structure`,
                                each array's dtype, shape and SHA-256 among them

`load(path)` reads it back: Tensors as Tensors (a Parameter as a plain Tensor,
`requires_grad` kept), arrays as arrays, NumPy scalars as NumPy scalars, tuples as tuples,
any dict (OrderedDict too) as a dict, int dict keys as ints. Before it returns, every byte of
the file that holds data has been checked: the zip CRC-32 of every member, read in full, the
SHA-256 of every array against the manifest, each array's dtype and shape against the
manifest and its size against the file (so a file never allocates more than its own size),
and the manifest's every node. Anything else, whatever goes wrong while decoding, raises
`CheckpointError` (a ValueError) naming the path and what is wrong; no code in the file is
ever run, nothing is unpickled. Files of format "nablab-checkpoint-1" (before SHA-256s were
stored) still load, with the same checks but the SHA-256 and the manifest's dtype/shape.
Missing or unreadable files raise the OSError `open` gives.

Writing goes through `nablab.atomicfile.atomic_writer`: a temporary `.<name>.<hex>.tmp`
beside the target, fsync-ed and renamed over it; regular files only, symlinks followed,
permissions kept, stale temporaries of killed saves removed on the next save.
"""

import json
import os

import numpy as np

from ..atomicfile import atomic_writer
from .archive import MANIFEST, Archive
from .structure import decode, encode

__all__ = ["CheckpointError", "FORMAT", "load", "save"]

FORMAT = "nablab-checkpoint-2"
FORMATS = {FORMAT: True, "nablab-checkpoint-1": False}  # format -> arrays carry SHA-256s


class CheckpointError(ValueError):
    """A file that `load` refuses: not a nablab checkpoint, truncated, corrupted or hostile."""


def save(obj, path):
    """Write `obj` (a state dict) to `path` as an `.npz` archive, atomically."""
    arrays = {}
    manifest = {"format": FORMAT, "root": encode(obj, arrays)}
    arrays[MANIFEST] = np.frombuffer(json.dumps(manifest).encode(), dtype=np.uint8)
    with atomic_writer(path) as file:
        _write_npz(file, arrays)


def _write_npz(file, arrays):
    np.savez(file, **arrays)


def load(path):
    """Read a checkpoint written by `save`, check every byte, and rebuild its structure."""
    path = os.fspath(path)
    with open(path, "rb") as file:
        if file.read(4) != b"PK\x03\x04":
            raise CheckpointError(
                f"{path}: not a nablab checkpoint (expected a .npz zip archive; "
                "pickle files are refused)"
            )
        try:
            archive = Archive(file)
            text = archive.array(MANIFEST)
            if text.dtype != np.uint8 or text.ndim != 1:
                raise ValueError(f"its manifest is a {text.dtype} array of shape {text.shape}")
            manifest = json.loads(text.tobytes().decode("utf-8"))
            if not isinstance(manifest, dict) or set(manifest) != {"format", "root"}:
                raise ValueError("its manifest is not a nablab checkpoint manifest")
            if manifest["format"] not in FORMATS:
                raise ValueError(
                    f"its manifest's format is {manifest['format']!r}; this nablab reads "
                    f"{' and '.join(FORMATS)}"
                )
            obj = decode(manifest["root"], archive, FORMATS[manifest["format"]])
            if archive.unread():
                raise ValueError(f"members the manifest does not name: {archive.unread()}")
            return obj
        except Exception as e:  # noqa: BLE001 (every failure to decode is a CheckpointError)
            what = str(e) if type(e) is ValueError else f"{type(e).__name__}: {e}"
            raise CheckpointError(
                f"{path}: truncated, corrupted or not a nablab checkpoint ({what})"
            ) from e
