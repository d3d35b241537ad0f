"""nablab.load checks every byte: fuzzed files, consistent but hostile archives, zip bombs.

Every file here either loads exactly what was saved or raises CheckpointError naming the
path and what is wrong; nothing in a file is ever run, nothing big is ever allocated.
"""

import hashlib
import json
import os
import pickle
import random
import re
import struct
import subprocess
import sys
import textwrap
import zipfile
import zlib
from io import BytesIO
from pathlib import Path

import numpy as np
import pytest
from test_io import _same  # structure, types, dtypes, shapes and bytes all equal

import nablab
from nablab.io import FORMAT, CheckpointError, load, save

HERE = Path(__file__).parent


def _state():
    rng = np.random.default_rng(0)
    return {
        "w": nablab.tensor(rng.standard_normal((32, 64)), dtype=nablab.float32),  # 8 KiB
        "b": nablab.tensor(rng.standard_normal(64), requires_grad=True),
        "ids": rng.integers(0, 9, size=3000, dtype=np.int16),  # 6 KiB
        "step": np.int64(7),
        "lr": 0.01,
        "name": "run-1",
    }


# ----- fuzz: bit flips and truncations ---------------------------------------------------


def _metadata_offsets(good):
    """Byte offsets near zip headers, .npy headers and the manifest: where parsing happens."""
    starts = [m.start() for m in re.finditer(rb"PK\x01\x02|PK\x03\x04|PK\x05\x06|\x93NUMPY", good)]
    starts.append(good.index(b'{"format"'))
    return [i for s in starts for i in range(s, min(s + 160, len(good)))]


def _member_bytes(good):
    """Offsets of every byte of every member's content (the .npy headers and data)."""
    infos = zipfile.ZipFile(BytesIO(good)).infolist()
    starts = [i.header_offset + 30 + len(i.filename) + 20 for i in infos]  # + the zip64 extra
    assert all(good[s : s + 6] == b"\x93NUMPY" for s in starts)
    return {at for s, i in zip(starts, infos) for at in range(s, s + i.file_size)}


def test_fuzzed_checkpoints_load_identical_or_raise_checkpoint_error(tmp_path):
    state = _state()
    save(state, tmp_path / "good.npz")
    good = (tmp_path / "good.npz").read_bytes()
    assert len(good) > 14_000
    rng = random.Random(12)
    near_headers, content = _metadata_offsets(good), _member_bytes(good)
    cases = [(None, good[: rng.randrange(len(good))]) for _ in range(150)]
    for i in range(450):
        flipped = bytearray(good)
        at = rng.choice(near_headers) if i % 2 else rng.randrange(len(good))
        flipped[at] ^= 1 << rng.randrange(8)
        cases.append((at, bytes(flipped)))
    refused, path = 0, tmp_path / "fuzzed.npz"
    for at, data in cases:
        path.write_bytes(data)
        try:
            loaded = load(path)
        except CheckpointError as e:
            assert str(path) in str(e)
            refused += 1
        else:
            _same(state, loaded)
            assert at is not None and at not in content  # a zip field load does not use
    assert refused >= 450, refused


@pytest.mark.parametrize("edit", [(b"(32, 64)", b"(32, 44)"), (b"'<f4'", b"'<f2'")])
def test_a_flip_that_numpy_alone_misses_is_caught(tmp_path, edit):
    """A shape digit (one bit) or the dtype (two) in a .npy header of a member over 4 KiB:
    NumPy stops reading before the member's end, so it never checks that member's CRC."""
    save(_state(), tmp_path / "good.npz")
    good = (tmp_path / "good.npz").read_bytes()
    assert sum((a ^ b).bit_count() for a, b in zip(*edit)) <= 2
    (tmp_path / "bad.npz").write_bytes(good.replace(*edit, 1))
    with np.load(tmp_path / "bad.npz") as unchecked:
        assert unchecked["arr_0"].tobytes() != _state()["w"].array.tobytes()  # and no error
    with pytest.raises(CheckpointError, match=r"arr_0.npy declares shape \(32, [46]4\)"):
        load(tmp_path / "bad.npz")


# ----- archives with valid CRCs but lying contents ------------------------------------


def _npy(array=None, header=None, data=b""):
    """A .npy member: `array` written by NumPy, or a hand-made `header` dict and raw `data`."""
    buffer = BytesIO()
    if array is not None:
        np.lib.format.write_array(buffer, array, allow_pickle=False)
    else:
        np.lib.format.write_array_header_1_0(buffer, header)
        buffer.write(data)
    return buffer.getvalue()


def _node(kind, key, array, **extra):
    digest = hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()
    node = {"type": kind, "key": key, "dtype": array.dtype.str, "shape": list(array.shape)}
    return {**node, "sha256": digest, **extra}


def _manifest(root, format=FORMAT):
    text = json.dumps({"format": format, "root": root}).encode()
    return _npy(np.frombuffer(text, dtype=np.uint8))


def _zip(path, members, compression=zipfile.ZIP_STORED):
    with zipfile.ZipFile(path, "w", compression) as archive:
        for name, data in members:
            archive.writestr(name, data)
    return path


W = np.arange(6.0).reshape(2, 3)
TENSOR = _node("tensor", "arr_0", W, requires_grad=False)
MANIFEST = ("__manifest__.npy", _manifest(TENSOR))


def _lying(case):
    """(zip members, compression) for each named lie; every CRC in them is right."""
    good = ("arr_0.npy", _npy(W))
    words = np.array(["abc", "def"])
    deep = {"type": "list", "items": [None]}
    for _ in range(150):
        deep = {"type": "list", "items": [deep]}
    header = {"descr": "<f8", "fortran_order": False, "shape": (2, 3)}
    return {
        "strings where a Tensor is declared": [
            ("arr_0.npy", _npy(words)),
            ("__manifest__.npy", _manifest(_node("tensor", "arr_0", words, requires_grad=False))),
        ],
        "dtype other than declared": [
            good,
            ("__manifest__.npy", _manifest({**TENSOR, "dtype": "<f4"})),
        ],
        "shape other than declared": [
            good,
            ("__manifest__.npy", _manifest({**TENSOR, "shape": [3, 2]})),
        ],
        "bytes other than hashed": [
            ("arr_0.npy", _npy(W + 1)),
            ("__manifest__.npy", _manifest(TENSOR)),
        ],
        "an array named twice": [
            good,
            ("__manifest__.npy", _manifest({"type": "list", "items": [TENSOR, TENSOR]})),
        ],
        "a missing array": [("__manifest__.npy", _manifest(TENSOR))],
        "an array the manifest does not name": [
            good,
            ("arr_1.npy", _npy(W)),
            ("__manifest__.npy", _manifest(TENSOR)),
        ],
        "raw bytes as a member": [("arr_0", b"raw bytes"), ("__manifest__.npy", _manifest(TENSOR))],
        "raw bytes as an array": [
            ("arr_0.npy", b"raw bytes"),
            ("__manifest__.npy", _manifest(TENSOR)),
        ],
        "an unknown node": [("__manifest__.npy", _manifest({"type": "pickle", "key": "arr_0"}))],
        "a node with extra fields": [
            good,
            ("__manifest__.npy", _manifest({**TENSOR, "class": "os.system"})),
        ],
        "a scalar that is not 0-d": [
            good,
            ("__manifest__.npy", _manifest(_node("scalar", "arr_0", W))),
        ],
        "nesting deeper than 100": [("__manifest__.npy", _manifest(deep))],
        "JSON nesting deeper than Python's stack": [
            ("__manifest__.npy", _npy(np.frombuffer(b"[" * 100_000, dtype=np.uint8)))
        ],
        "an unknown format": [("__manifest__.npy", _manifest(None, "nablab-checkpoint-99"))],
        "a manifest of floats": [("__manifest__.npy", _npy(np.zeros(3)))],
        "an object dtype": [
            ("arr_0.npy", _npy(header={**header, "descr": "|O"}, data=b"\0" * 48)),
            ("__manifest__.npy", _manifest(TENSOR)),
        ],
        "a structured dtype": [
            ("arr_0.npy", _npy(header={**header, "descr": [("a", "<f8")]}, data=b"\0" * 48)),
            ("__manifest__.npy", _manifest(TENSOR)),
        ],
        "a negative shape": [
            ("arr_0.npy", _npy(header={**header, "shape": (-2, -3)}, data=b"\0" * 48)),
            ("__manifest__.npy", _manifest(TENSOR)),
        ],
        "code in a .npy header": [
            ("arr_0.npy", _header_text("{'descr': __import__('os').system('touch pwned')}")),
            ("__manifest__.npy", _manifest(TENSOR)),
        ],
        "an unclosed .npy header": [
            ("arr_0.npy", _header_text("{'descr': '<f8")),
            ("__manifest__.npy", _manifest(TENSOR)),
        ],
        "a null byte in a .npy header": [
            ("arr_0.npy", _header_text("{'descr': '<f8'\0}")),
            ("__manifest__.npy", _manifest(TENSOR)),
        ],
        "the same member twice": [good, good, ("__manifest__.npy", _manifest(TENSOR))],
        "a compressed member": [good, ("__manifest__.npy", _manifest(TENSOR))],
    }[case]


def _header_text(text):
    text = text.encode("latin-1") + b"\n"
    return b"\x93NUMPY\x01\x00" + len(text).to_bytes(2, "little") + text


LIES = {
    "strings where a Tensor is declared": "is a Tensor but arr_0 holds <U3",
    "dtype other than declared": r"declares <f4 \(2, 3\), but arr_0.npy holds <f8 \(2, 3\)",
    "shape other than declared": r"declares <f8 \(3, 2\), but arr_0.npy holds <f8 \(2, 3\)",
    "bytes other than hashed": "arr_0.npy: SHA-256 mismatch",
    "an array named twice": "names arr_0 twice",
    "a missing array": "names arr_0, which the archive does not hold",
    "an array the manifest does not name": r"members the manifest does not name: \['arr_1'\]",
    "raw bytes as a member": "unexpected zip member 'arr_0'",
    "raw bytes as an array": "arr_0.npy is not a .npy array",
    "an unknown node": "root is not a node",
    "a node with extra fields": "root is not a tensor node",
    "a scalar that is not 0-d": r"root is a scalar but arr_0 has shape \(2, 3\)",
    "nesting deeper than 100": "nested deeper than 100 levels",
    "JSON nesting deeper than Python's stack": "RecursionError",
    "an unknown format": "format is 'nablab-checkpoint-99'; this nablab reads nablab-checkpoint-2",
    "a manifest of floats": r"manifest is a float64 array of shape \(3,\)",
    "an object dtype": r"dtype '\|O' refused",
    "a structured dtype": r"dtype \[\('a', '<f8'\)\] refused",
    "a negative shape": r"shape \(-2, -3\) is not a tuple of sizes",
    "code in a .npy header": "ValueError|malformed",
    "an unclosed .npy header": "SyntaxError",
    "a null byte in a .npy header": "null bytes",
    "the same member twice": "arr_0.npy appears twice",
    "a compressed member": "compressed or encrypted",
}


@pytest.mark.filterwarnings("ignore:Duplicate name")
@pytest.mark.parametrize("case", list(LIES))
def test_archives_that_lie_are_refused_naming_what_is_wrong(tmp_path, case, monkeypatch):
    monkeypatch.chdir(tmp_path)
    compression = zipfile.ZIP_DEFLATED if case == "a compressed member" else zipfile.ZIP_STORED
    path = _zip(tmp_path / "lie.npz", _lying(case), compression)
    with pytest.raises(CheckpointError) as refused:
        load(path)
    assert str(path) in str(refused.value)
    assert re.search(LIES[case], str(refused.value)), str(refused.value)
    assert not (tmp_path / "pwned").exists()


def test_a_big_int_in_the_manifest_is_refused(tmp_path):
    text = b'{"format": "nablab-checkpoint-2", "root": ' + b"9" * 5000 + b"}"
    path = _zip(tmp_path / "c.npz", [("__manifest__.npy", _npy(np.frombuffer(text, np.uint8)))])
    with pytest.raises(CheckpointError, match="Exceeds the limit"):
        load(path)


# ----- zip bombs and huge shapes, in a child process with little memory -------------


def _bombs(folder):
    """name -> (path, the reason it must be refused for); each would need ≥ 256 MiB."""
    bombs = {}
    zeros = np.zeros(2**25)  # 256 MiB declared, as a deflate stream of 0.25 MB
    path = folder / "deflate.npz"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open("arr_0.npy", "w", force_zip64=True) as member:
            member.write(
                _npy(header={"descr": "<f8", "fortran_order": False, "shape": zeros.shape})
            )
            chunk = np.zeros(2**17).tobytes()
            for _ in range(2**25 // 2**17):
                member.write(chunk)
        archive.writestr("__manifest__.npy", _manifest(_node("array", "arr_0", zeros[:0])))
    bombs["deflate"] = (path, "compressed or encrypted")
    huge = {"descr": "<f8", "fortran_order": False, "shape": (10**12,)}
    bombs["10^12 elements"] = (
        _zip(folder / "huge.npz", [("arr_0.npy", _npy(header=huge, data=b"\0" * 64)), MANIFEST]),
        r"declares shape \(1000000000000,\) of float64 \(8000000000000 bytes\) but holds 64",
    )
    four_gib = {"descr": "|u1", "fortran_order": False, "shape": (2**16, 2**16)}
    bombs["4 GiB in 0.5 MB"] = (
        _zip(
            folder / "4gib.npz",
            [("arr_0.npy", _npy(header=four_gib, data=b"\0" * 2**19)), MANIFEST],
        ),
        r"declares shape \(65536, 65536\) of uint8 \(4294967296 bytes\) but holds 524288",
    )
    bombs["overlapping members"] = (_overlapping(folder / "overlap.npz"), "overlap")
    return bombs


def _overlapping(path, members=600, kernel=2**19):
    """A stored zip whose member i holds members i+1, i+2, ... inside its data: each a valid
    uint8 .npy with a right CRC, together declaring ~`members` × `kernel` bytes (360 MB)
    from a file of 0.6 MB."""
    names = [f"arr_{i}.npy".encode() for i in range(members)]
    data, entries = _npy(np.zeros(kernel, np.uint8)), []
    for i in reversed(range(members)):
        entries.append((names[i], len(data), zlib.crc32(data)))
        if i:
            inner = _local_header(names[i], len(data), entries[-1][2]) + data
            data = _npy(header={"descr": "|u1", "fortran_order": False, "shape": (len(inner),)})
            data += inner
    name, size, crc = entries[-1]
    file = _local_header(name, size, crc) + data
    central = b"".join(
        struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, 0, 0, 0, crc, size, size,
                    len(name), 0, 0, 0, 0, 0, len(file) - size - 30 - len(name)) + name
        for name, size, crc in reversed(entries)
    )  # fmt: skip
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, members, members, len(central), len(file), 0)
    path.write_bytes(file + central + end)
    return path


def _local_header(name, size, crc):
    return (
        struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, 0, 0, 0, crc, size, size, len(name), 0)
        + name
    )


CHILD = textwrap.dedent(
    """
    import json, resource, sys
    import nablab
    pages = int(open("/proc/self/statm").read().split()[0])
    limit = pages * resource.getpagesize() + 128 * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    results = {}
    for name, path in json.loads(sys.argv[1]).items():
        try:
            nablab.load(path)
            results[name] = "loaded"
        except nablab.CheckpointError as e:
            results[name] = str(e)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"results": results, "growth_kib": peak - before}))
    """
)


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="needs Linux /proc")
def test_zip_bombs_and_huge_shapes_are_refused_without_allocating(tmp_path):
    bombs = _bombs(tmp_path)
    for path, _ in bombs.values():
        assert path.stat().st_size < 3 * 2**20
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    argument = json.dumps({name: str(path) for name, (path, _) in bombs.items()})
    child = subprocess.run(
        [sys.executable, "-c", CHILD, argument], capture_output=True, text=True, env=env, timeout=60
    )
    assert child.returncode == 0, child.stderr
    report = json.loads(child.stdout)
    for name, (path, reason) in bombs.items():
        message = report["results"][name]
        assert str(path) in message and re.search(reason, message), (name, message)
        assert "MemoryError" not in message
    assert report["growth_kib"] < 32 * 1024  # the child never held even one bomb's worth


# ----- pickles ---------------------------------------------------------------------------


class _Payload:
    """Unpickling this creates a directory: the side effect a hostile pickle would have."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


def test_hostile_pickles_never_run(tmp_path):
    marker = tmp_path / "pwned"
    payload = pickle.dumps({"model": _Payload(marker)})
    pickle.loads(pickle.dumps(_Payload(tmp_path / "live")))
    assert (tmp_path / "live").is_dir()  # the payload is live: the refusals below mean it
    object_npy = BytesIO()
    np.save(object_npy, np.array([_Payload(marker)], dtype=object), allow_pickle=True)
    files = {
        "raw.pkl": payload,
        "object.npy": object_npy.getvalue(),
        "torch-style.pt": _zip(tmp_path / "t.zip", [("archive/data.pkl", payload)]).read_bytes(),
        "object-member.npz": _zip(
            tmp_path / "o.zip",
            [("arr_0.npy", object_npy.getvalue()), ("__manifest__.npy", _manifest(TENSOR))],
        ).read_bytes(),
    }
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
        with pytest.raises(CheckpointError, match=re.escape(str(tmp_path / name))):
            load(tmp_path / name)
    assert not marker.exists()


# ----- the previous format -----------------------------------------------------------


def test_format_1_checkpoints_still_load(tmp_path):
    """tests/data/checkpoint-format-1.npz was written by the save of nablab-checkpoint-1."""
    loaded = load(HERE / "data" / "checkpoint-format-1.npz")
    _same(
        loaded["w"],
        nablab.tensor(np.arange(6.0).reshape(2, 3), dtype=nablab.float32).requires_grad_(),
    )
    assert loaded["fortran"].flags.f_contiguous
    _same(loaded["fortran"], np.arange(6, dtype=np.int16).reshape(2, 3))
    _same(loaded["step"], np.int64(12))
    assert loaded["betas"] == (0.9, 0.999) and loaded[3] == [None, "naïve"]
    good = bytearray((HERE / "data" / "checkpoint-format-1.npz").read_bytes())
    good[good.index(np.arange(6, dtype=np.int16).reshape(2, 3).T.tobytes()) + 1] ^= 0x10
    (tmp_path / "bad.npz").write_bytes(good)
    with pytest.raises(CheckpointError, match="CRC-32 mismatch"):
        load(tmp_path / "bad.npz")
