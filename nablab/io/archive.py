"""A strict reader of the `.npz` archives `save` writes: every byte checked, nothing trusted.

`Archive(file)` reads the zip's central directory and refuses, before reading any array:
members that are compressed or encrypted, not named `__manifest__.npy` / `arr_<n>.npy`,
duplicated, overlapping one another or reaching past the end of the file. `array(key)` then
parses the member's `.npy` header (a dict literal of at most 10,000 bytes: a plain dtype,
never an object one; the shape as non-negative ints), checks that shape × itemsize is exactly
the member's size, allocates that (so all arrays together never take more than the file's
size), reads the bytes straight into the array and checks the member's zip CRC-32 over
every byte, and the SHA-256 of the data where one is expected. Any problem is a ValueError
saying what is wrong; `load` turns it (and any other error) into a CheckpointError.
"""

import ast
import hashlib
import os
import re
import struct
import zipfile
import zlib

import numpy as np

MANIFEST = "__manifest__"
MAX_HEADER = 10_000  # bytes of a .npy header dict, as NumPy's own limit
_NAME = re.compile(r"(__manifest__|arr_(0|[1-9][0-9]*))\.npy")
_DESCR = re.compile(r"[<>|=][biufcSUVMm][0-9]+(\[[0-9]*[A-Za-z]+\])?")
_LOCAL_HEADER = struct.Struct("<4s5H3L2H")  # a zip local file header: 30 bytes
_NPY_MAGIC = b"\x93NUMPY"
_VERSIONS = (b"\1\0", b"\2\0", b"\3\0")


class Archive:
    """The members of one checkpoint archive, read on demand and checked in full."""

    def __init__(self, file):
        self._file = file
        self._size = os.fstat(file.fileno()).st_size
        self._members = {}
        ranges = []
        for info in zipfile.ZipFile(file).infolist():
            start, end = self._locate(info)
            self._members[info.filename[: -len(".npy")]] = (start, end, info.CRC)
            ranges.append((info.header_offset, end, info.filename))
        ranges.sort()
        for (_, end, name), (start, _, other) in zip(ranges, ranges[1:]):
            if start < end:
                raise ValueError(f"zip members {name} and {other} overlap")
        self._unread = set(self._members)

    def _locate(self, info):
        """(first, last + 1) byte of the member's data in the file, after checking its entry."""
        name = info.filename
        if not _NAME.fullmatch(name):
            raise ValueError(f"unexpected zip member {name!r} (expected arr_<n>.npy)")
        if name[: -len(".npy")] in self._members:
            raise ValueError(f"zip member {name} appears twice")
        if info.compress_type != zipfile.ZIP_STORED or info.flag_bits & 0x1:
            raise ValueError(f"zip member {name} is compressed or encrypted (save writes neither)")
        if info.compress_size != info.file_size:
            raise ValueError(f"zip member {name}: stored size {info.compress_size} != size")
        self._file.seek(info.header_offset)
        header = self._file.read(_LOCAL_HEADER.size)
        if len(header) != _LOCAL_HEADER.size:
            raise ValueError(f"zip member {name}: its header lies past the end of the file")
        signature, *_, name_length, extra_length = _LOCAL_HEADER.unpack(header)
        if signature != b"PK\x03\x04" or self._file.read(name_length) != name.encode():
            raise ValueError(f"zip member {name}: its local header is damaged")
        start = info.header_offset + _LOCAL_HEADER.size + name_length + extra_length
        end = start + info.file_size
        if end > self._size:
            raise ValueError(
                f"zip member {name} declares {info.file_size} bytes, past the end of the "
                f"{self._size}-byte file (truncated?)"
            )
        return start, end

    def unread(self):
        """Members no `array` call asked for, sorted."""
        return sorted(self._unread)

    def array(self, key, sha256=None):
        """The array stored as `key`.npy, every byte checked (see the module docstring)."""
        if key == MANIFEST and key not in self._members:
            raise ValueError("it holds no __manifest__.npy (a plain .npz, not a checkpoint)")
        if key not in self._members:
            raise ValueError(f"the manifest names {key}, which the archive does not hold")
        if key not in self._unread:
            raise ValueError(f"the manifest names {key} twice")
        self._unread.discard(key)
        start, end, crc = self._members[key]
        self._file.seek(start)
        header, dtype, shape, fortran = _read_npy_header(self._file, end - start, key)
        count = 1
        for n in shape:
            count *= n
        expected = end - start - len(header)
        if count * dtype.itemsize != expected:
            raise ValueError(
                f"{key}.npy declares shape {shape} of {dtype} ({count * dtype.itemsize} bytes) "
                f"but holds {expected} bytes of data"
            )
        flat = np.empty(count, dtype)
        raw = flat.view(np.uint8)
        if self._file.readinto(raw) != expected:
            raise ValueError(f"{key}.npy is truncated")
        if zlib.crc32(raw, zlib.crc32(header)) != crc:
            raise ValueError(f"{key}.npy: CRC-32 mismatch (the bytes are corrupted)")
        if sha256 is not None and hashlib.sha256(raw).hexdigest() != sha256:
            raise ValueError(f"{key}.npy: SHA-256 mismatch (the bytes are corrupted)")
        return flat.reshape(shape[::-1]).T if fortran else flat.reshape(shape)


def _read_npy_header(file, size, key):
    """(header bytes, dtype, shape, fortran_order) of the `.npy` member at the file position."""
    prefix = file.read(min(size, 10))
    if len(prefix) < 10 or prefix[:6] != _NPY_MAGIC or prefix[6:8] not in _VERSIONS:
        raise ValueError(f"{key}.npy is not a .npy array (bad magic or version)")
    if prefix[6] == 1:
        (length,) = struct.unpack("<H", prefix[8:10])
    elif size >= 12:
        prefix += file.read(2)
        (length,) = struct.unpack("<I", prefix[8:12])
    else:
        raise ValueError(f"{key}.npy is not a .npy array (its header is cut short)")
    if length > MAX_HEADER or len(prefix) + length > size:
        raise ValueError(
            f"{key}.npy: a header of {length} bytes (more than the member or {MAX_HEADER})"
        )
    text = file.read(length)
    header = prefix + text
    fields = ast.literal_eval(text.decode("utf-8" if prefix[6] == 3 else "latin-1"))
    if not isinstance(fields, dict) or set(fields) != {"descr", "fortran_order", "shape"}:
        raise ValueError(f"{key}.npy: header {fields!r} is not a .npy header")
    descr, fortran, shape = fields["descr"], fields["fortran_order"], fields["shape"]
    if not isinstance(descr, str) or not _DESCR.fullmatch(descr):
        raise ValueError(f"{key}.npy: dtype {descr!r} refused (plain numbers, strings, bytes only)")
    dtype = np.dtype(descr)
    if dtype.itemsize == 0:
        raise ValueError(f"{key}.npy: dtype {descr!r} has no size")
    if not isinstance(fortran, bool) or not isinstance(shape, tuple) or len(shape) > 64:
        raise ValueError(f"{key}.npy: header {fields!r} is not a .npy header")
    if not all(type(n) is int and n >= 0 for n in shape):
        raise ValueError(f"{key}.npy: shape {shape!r} is not a tuple of sizes")
    return header, dtype, shape, fortran
