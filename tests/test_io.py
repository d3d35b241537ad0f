"""nablab.io: save/load round trips, atomic writes, corrupted files, and no pickle ever."""

import json
import math
import os
import pickle
import re

import numpy as np
import pytest

import nablab
from nablab import io, nn, optim
from nablab.io import CheckpointError, load, save


def _same(a, b):
    """Structural equality with types and dtypes, arrays compared bit for bit."""
    assert type(a) is type(b), (a, b)
    if isinstance(a, dict):
        assert list(a) == list(b)
        for key in a:
            _same(a[key], b[key])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _same(x, y)
    elif isinstance(a, nablab.Tensor):
        assert a.requires_grad == b.requires_grad
        _same(a.array, b.array)
    elif isinstance(a, (np.ndarray, np.generic)):
        assert a.dtype == b.dtype and a.shape == b.shape
        assert a.tobytes() == b.tobytes()
    elif isinstance(a, float) and math.isnan(a):
        assert math.isnan(b)
    else:
        assert a == b and repr(a) == repr(b)


NESTED = {
    "weights": nablab.tensor(np.arange(6.0).reshape(2, 3), dtype=nablab.float32),
    "trainable": nablab.tensor([1.5, -2.0], dtype=nablab.float64, requires_grad=True),
    "ids": nablab.tensor([3, 1, 4]),
    "mask": nablab.tensor([True, False]),
    "scalar_tensor": nablab.tensor(2.5),
    "empty": np.zeros((0, 3), dtype=np.float16),
    "arrays": [np.array([1, 2], dtype=np.uint8), np.array([1 + 2j]), np.array(["ab", "ç"])],
    "numpy_scalars": (np.float32(0.1), np.int64(-7), np.bool_(True)),
    0: {"step": 12, "nested": {1: [None, True, False]}},
    "numbers": [0, -1, 2**80, 0.1, -0.0, float("inf"), float("nan"), 1e-310],
    "text": "naïve ∇lab",
    "tuple_of_tuples": ((1, 2), ()),
    "empty_containers": [{}, [], ()],
}


def test_round_trip_of_nested_structures_and_dtypes(tmp_path):
    save(NESTED, tmp_path / "ckpt.npz")
    _same(NESTED, load(tmp_path / "ckpt.npz"))


def test_a_bare_tensor_and_str_paths(tmp_path):
    path = str(tmp_path / "t.npz")
    save(nablab.ones(2, 2), path)
    _same(nablab.ones(2, 2), load(path))


def test_model_and_optimizer_state_dicts_round_trip(tmp_path):
    nablab.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    opt = optim.Adam(model.parameters(), lr=0.01)
    model(nablab.randn(5, 3)).sum().backward()
    opt.step()
    save({"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 3}, tmp_path / "c")
    restored = load(tmp_path / "c")
    assert list(restored["model"]) == list(model.state_dict())
    assert restored["epoch"] == 3 and restored["optimizer"]["state"][0]["step"] == 1
    assert restored["optimizer"]["param_groups"][0]["betas"] == (0.9, 0.999)
    other = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    other.load_state_dict(restored["model"])
    for p, q in zip(model.parameters(), other.parameters()):
        np.testing.assert_array_equal(p.array, q.array)


def test_the_file_is_a_plain_npz_with_a_json_manifest(tmp_path):
    save({"w": np.eye(2), "lr": 0.1}, tmp_path / "c.npz")
    with np.load(tmp_path / "c.npz", allow_pickle=False) as archive:
        assert sorted(archive.files) == ["__manifest__", "arr_0"]
        manifest = json.loads(archive["__manifest__"].tobytes())
        np.testing.assert_array_equal(archive["arr_0"], np.eye(2))
    assert manifest["root"]["items"][1] == ["lr", 0.1]


@pytest.mark.parametrize(
    "obj, message",
    [
        ({"f": len}, "cannot store builtin_function_or_method"),
        ({"s": {1, 2}}, "cannot store set"),
        ({(1, 2): 3}, r"dict keys must be str or int, got \(1, 2\)"),
        ({"o": np.array([object()])}, "would need pickle"),
    ],
)
def test_unsupported_values_are_refused_before_writing(tmp_path, obj, message):
    with pytest.raises(TypeError, match=message):
        save(obj, tmp_path / "c.npz")
    assert os.listdir(tmp_path) == []


def test_interrupted_save_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.npz"
    save({"epoch": 1, "w": np.ones(3)}, path)
    before = path.read_bytes()

    def crash_midway(file, arrays):
        file.write(b"PK\x03\x04 half an archive")
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(io, "_write_npz", crash_midway)
    with pytest.raises(RuntimeError, match="disk on fire"):
        save({"epoch": 2, "w": np.zeros(3)}, path)
    monkeypatch.setattr(
        io, "_write_npz", lambda file, arrays: (_ for _ in ()).throw(KeyboardInterrupt)
    )
    with pytest.raises(KeyboardInterrupt):
        save({"epoch": 3}, path)
    assert os.listdir(tmp_path) == ["ckpt.npz"]  # no temporary file left behind
    assert path.read_bytes() == before
    assert load(path)["epoch"] == 1


def test_save_replaces_an_existing_file(tmp_path):
    path = tmp_path / "ckpt.npz"
    save({"epoch": 1}, path)
    save({"epoch": 2}, path)
    assert load(path) == {"epoch": 2} and os.listdir(tmp_path) == ["ckpt.npz"]


def _corruptions(good):
    middle = len(good) // 2
    flipped = bytearray(good)
    flipped[good.index(np.arange(64.0).tobytes()) + 100] ^= 0xFF  # the member's CRC fails
    return {
        "empty": b"",
        "truncated": good[:middle],
        "bit flipped": bytes(flipped),
        "garbage": b"\x00\x01not a checkpoint at all",
        "zip magic then garbage": b"PK\x03\x04" + b"\x00" * 100,
    }


@pytest.mark.parametrize(
    "kind", ["empty", "truncated", "bit flipped", "garbage", "zip magic then garbage"]
)
def test_corrupted_files_raise_a_clear_error_naming_the_path(tmp_path, kind):
    good_path = tmp_path / "good.npz"
    save({"w": np.arange(64.0), "epoch": 7}, good_path)
    path = tmp_path / "bad.npz"
    path.write_bytes(_corruptions(good_path.read_bytes())[kind])
    with pytest.raises(CheckpointError, match=re.escape(str(path))):
        load(path)
    assert issubclass(CheckpointError, ValueError)


def test_npz_files_that_are_not_checkpoints_are_refused(tmp_path):
    np.savez(tmp_path / "plain.npz", x=np.ones(2))
    with pytest.raises(CheckpointError, match="plain.npz"):
        load(tmp_path / "plain.npz")
    bad_manifest = np.frombuffer(b'{"format": "other"}', dtype=np.uint8)
    np.savez(tmp_path / "other.npz", __manifest__=bad_manifest)
    with pytest.raises(CheckpointError, match="not a nablab checkpoint manifest"):
        load(tmp_path / "other.npz")


def test_missing_file_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "nope.npz")


class _Payload:
    """Unpickling this object creates a directory: the side effect a pickle must not get."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


def test_the_payload_is_live(tmp_path):
    """The malicious pickle really runs code when unpickled, so the refusals below mean it."""
    pickle.loads(pickle.dumps(_Payload(tmp_path / "ran")))
    assert (tmp_path / "ran").is_dir()


def test_pickles_are_refused_never_unpickled(tmp_path):
    marker = tmp_path / "pwned"
    raw = tmp_path / "raw.pkl"
    raw.write_bytes(pickle.dumps({"model": _Payload(marker)}))
    npy = tmp_path / "object.npy"
    np.save(npy, np.array([_Payload(marker)], dtype=object), allow_pickle=True)
    npz = tmp_path / "object.npz"
    manifest = {"format": io.FORMAT, "root": {"type": "array", "key": "arr_0"}}
    np.savez(
        npz,
        arr_0=np.array([_Payload(marker)], dtype=object),
        __manifest__=np.frombuffer(json.dumps(manifest).encode(), dtype=np.uint8),
    )
    for path in (raw, npy, npz):
        with pytest.raises(CheckpointError, match=re.escape(str(path))):
            load(path)
    assert not marker.exists()
