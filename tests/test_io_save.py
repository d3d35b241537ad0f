"""Saving: only regular files, through symlinks, modes kept, killed saves never half-written.

These cover `nablab.atomicfile`, the one writer behind `save`, the labs' results, sweeps
and data downloads (`labs.base.write_atomic` is the same function).
"""

import fcntl
import json
import os
import random
import re
import signal
import stat
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest

from nablab import atomicfile
from nablab.atomicfile import NotRegularFileError, write_atomic
from nablab.data import text
from nablab.io import load, save
from nablab.labs import base


def _temporaries(folder):
    return sorted(p.name for p in Path(folder).iterdir() if p.name.endswith(".tmp"))


def test_every_writer_is_the_one_atomic_write():
    assert base.write_atomic is write_atomic and text.write_atomic is write_atomic


def test_only_atomicfile_renames_files_into_place():
    package = Path(atomicfile.__file__).parent
    renaming = sorted(
        str(p.relative_to(package))
        for p in package.rglob("*.py")
        if re.search(r"os\.(replace|rename)\(|\.savefig\((?!png)", p.read_text("utf-8"))
    )
    assert renaming == ["atomicfile.py"]


def test_write_atomic_takes_text_or_bytes(tmp_path):
    assert write_atomic(tmp_path / "a.txt", "naïve\n") == tmp_path / "a.txt"
    write_atomic(tmp_path / "b.bin", b"\x00\xff")
    assert (tmp_path / "a.txt").read_text("utf-8") == "naïve\n"
    assert (tmp_path / "b.bin").read_bytes() == b"\x00\xff" and _temporaries(tmp_path) == []


def test_a_fifo_is_refused_and_left_alone(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(NotRegularFileError, match=r"is a FIFO, not a regular file.*pipe"):
        save({"epoch": 1}, fifo)
    assert stat.S_ISFIFO(os.stat(fifo).st_mode) and os.listdir(tmp_path) == ["pipe"]
    assert issubclass(NotRegularFileError, OSError)


def test_a_device_node_is_refused_and_left_alone(tmp_path):
    """A private copy of /dev/null (needs CAP_MKNOD, as root in most containers)."""
    node = tmp_path / "null"
    try:
        os.mknod(node, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    except PermissionError:
        pytest.skip("cannot create a device node here (no CAP_MKNOD)")
    with pytest.raises(NotRegularFileError, match="is a character device"):
        save({"epoch": 1}, node)
    assert stat.S_ISCHR(os.stat(node).st_mode) and os.listdir(tmp_path) == ["null"]


def test_a_directory_is_refused(tmp_path):
    (tmp_path / "ckpt").mkdir()
    with pytest.raises(IsADirectoryError, match="is a directory, not a file to write"):
        save({"epoch": 1}, tmp_path / "ckpt")
    assert os.listdir(tmp_path / "ckpt") == [] and _temporaries(tmp_path) == []


def test_a_symlink_is_followed_and_kept(tmp_path):
    (tmp_path / "real").mkdir()
    target = tmp_path / "real" / "ckpt.npz"
    save({"epoch": 1}, target)
    link = tmp_path / "latest.npz"
    link.symlink_to(Path("real") / "ckpt.npz")
    save({"epoch": 2}, link)
    assert link.is_symlink() and os.readlink(link) == os.path.join("real", "ckpt.npz")
    assert load(target) == {"epoch": 2} == load(link)
    dangling = tmp_path / "next.npz"
    dangling.symlink_to(tmp_path / "real" / "new.npz")
    save({"epoch": 3}, dangling)
    assert dangling.is_symlink() and load(tmp_path / "real" / "new.npz") == {"epoch": 3}
    assert _temporaries(tmp_path) == [] and _temporaries(tmp_path / "real") == []


def test_an_existing_files_mode_is_kept(tmp_path):
    path = tmp_path / "ckpt.npz"
    save({"epoch": 1}, path)
    os.chmod(path, 0o600)
    save({"epoch": 2}, path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600 and load(path) == {"epoch": 2}
    os.chmod(path, 0o640)
    write_atomic(path, "text")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640


def test_a_new_file_gets_the_umask(tmp_path):
    umask = os.umask(0o027)
    try:
        save({"epoch": 1}, tmp_path / "ckpt.npz")
    finally:
        os.umask(umask)
    assert stat.S_IMODE(os.stat(tmp_path / "ckpt.npz").st_mode) == 0o640


def _save_over_read_only(folder):
    """What saving over a chmod 444 checkpoint does: (error or None, epoch, mode, files)."""
    path = os.path.join(folder, "ckpt.npz")
    save({"epoch": 1}, path)
    os.chmod(path, 0o444)
    try:
        save({"epoch": 2}, path)
        error = None
    except PermissionError as e:
        error = str(e)
    result = error, int(load(path)["epoch"]), stat.S_IMODE(os.stat(path).st_mode)
    os.unlink(path)
    return (*result, os.listdir(folder))


def _as_nobody(function, folder):
    """`function(folder)` in a forked child that dropped root for user nobody (65534)."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.setgid(65534)
            os.setuid(65534)
            os.write(write, json.dumps(function(folder)).encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        out = pipe.read()
    os.waitpid(pid, 0)
    return tuple(json.loads(out))


def test_a_read_only_file_is_refused_like_open_would_unless_root():
    """Like `torch.save` (an `open(path, "wb")`): PermissionError, the file untouched. Root
    may write any file, and so replaces it (keeping mode 0o444)."""
    with tempfile.TemporaryDirectory() as folder:
        os.chmod(folder, 0o777)
        as_user = _as_nobody(_save_over_read_only, folder) if os.geteuid() == 0 else None
        here = _save_over_read_only(folder)
    if os.geteuid() == 0:
        assert here == (None, 2, 0o444, [])
    else:
        as_user = here
    error, epoch, mode, left = as_user
    assert re.fullmatch(
        r"\[Errno 13\] is read-only \(mode -r--r--r--\); it is left as it is: '.*ckpt.npz.*'", error
    )
    assert (epoch, mode, left) == (1, 0o444, [])


def test_a_failed_save_leaves_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.npz"
    save({"epoch": 1, "w": np.ones(3)}, path)
    before = path.read_bytes()
    for error in (RuntimeError("disk on fire"), KeyboardInterrupt()):

        def fail(file, arrays, error=error):
            file.write(b"PK\x03\x04 half an archive")
            raise error

        monkeypatch.setattr("nablab.io._write_npz", fail)
        with pytest.raises(type(error)):
            save({"epoch": 2}, path)
    assert os.listdir(tmp_path) == ["ckpt.npz"] and path.read_bytes() == before


def test_stale_temporaries_are_removed_by_the_next_save_live_ones_kept(tmp_path):
    path = tmp_path / "ckpt.npz"
    stale = tmp_path / ".ckpt.npz.0123456789abcdef.tmp"
    live = tmp_path / ".ckpt.npz.fedcba9876543210.tmp"
    other = tmp_path / ".other.npz.0123456789abcdef.tmp"
    for p in (stale, live, other):
        p.write_bytes(b"left by a killed save")
    with open(live, "rb") as writer:
        fcntl.flock(writer, fcntl.LOCK_EX)  # as a save in progress holds it
        save({"epoch": 1}, path)
    assert _temporaries(tmp_path) == sorted([live.name, other.name])
    save({"epoch": 2}, path)
    assert _temporaries(tmp_path) == [other.name]


@pytest.mark.parametrize(
    "obj, error, message",
    [
        ("cycle", ValueError, r"save: root\['a'\]\[0\] contains itself \(a cycle\)"),
        ("deep", ValueError, "save: root(\\[0\\]){100} is nested deeper than 100 levels"),
    ],
)
def test_cyclic_or_too_deep_structures_get_a_clear_error(tmp_path, obj, error, message):
    if obj == "cycle":
        obj = {"a": [None]}
        obj["a"][0] = obj
    else:
        obj = []
        for _ in range(2000):
            obj = [obj]
    with pytest.raises(error, match=message):
        save(obj, tmp_path / "c.npz")
    assert os.listdir(tmp_path) == []
    deep_but_fine = [[[{"w": np.ones(2)}]]]
    save(deep_but_fine, tmp_path / "ok.npz")
    assert load(tmp_path / "ok.npz")[0][0][0]["w"].tolist() == [1.0, 1.0]


def _save_in_a_loop(path, epoch):
    """A forked child saving epoch + 1, epoch + 2, ... to `path` until it is killed."""
    pid = os.fork()
    if pid == 0:
        try:
            while True:
                epoch += 1
                save({"epoch": epoch, "w": np.full(50_000, epoch, dtype=np.int64)}, path)
        finally:
            os._exit(1)
    return pid


def test_a_save_killed_at_random_moments_leaves_the_old_or_the_new_file(tmp_path):
    """40 SIGKILLs of a process saving in a loop, every other one while a save is writing its
    temporary: the checkpoint always loads whole, its epoch never goes back, at most the
    killed save's temporary is left, and the next save removes it."""
    path = tmp_path / "ckpt.npz"
    save({"epoch": 0, "w": np.full(50_000, 0, dtype=np.int64)}, path)
    rng, epoch, killed_mid_write = random.Random(3), 0, 0
    for i in range(40):
        pid = _save_in_a_loop(path, epoch)
        time.sleep(rng.uniform(0.0, 0.06))
        deadline = time.monotonic() + 2
        while i % 2 and not _temporaries(tmp_path) and time.monotonic() < deadline:
            time.sleep(0.0005)  # every other kill lands while a temporary is being written
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        left = _temporaries(tmp_path)
        assert len(left) <= 1, left
        killed_mid_write += len(left)
        state = load(path)
        assert state["epoch"] >= epoch and (state["w"] == state["epoch"]).all()
        epoch = state["epoch"]
    print(f"{epoch} saves, {killed_mid_write} of 40 kills mid-write")
    assert epoch >= 10 and killed_mid_write >= 20, (epoch, killed_mid_write)
    save({"epoch": -1}, path)
    assert _temporaries(tmp_path) == []


def test_the_temporary_is_in_the_targets_folder_and_named_after_it(tmp_path, monkeypatch):
    seen = []
    real_replace = atomicfile.os.replace
    monkeypatch.setattr(
        atomicfile.os, "replace", lambda a, b: (seen.append((a, b)), real_replace(a, b))
    )
    save({"epoch": 1}, tmp_path / "ckpt.npz")
    ((tmp, target),) = seen
    assert os.path.dirname(tmp) == str(tmp_path) and target == str(tmp_path / "ckpt.npz")
    assert os.path.basename(tmp).startswith(".ckpt.npz.") and tmp.endswith(".tmp")


def test_figures_are_written_through_the_same_atomic_write(tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")
    from nablab.viz._figure import new_figure
    from nablab.viz._figure import save as save_figure

    fig, ax = new_figure()
    ax.plot([0, 1], [1, 0])
    path = save_figure(fig, tmp_path / "plots" / "f.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and _temporaries(path.parent) == []

    def interrupted(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(atomicfile.os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        save_figure(fig, tmp_path / "plots" / "g.png")
    assert sorted(os.listdir(path.parent)) == ["f.png"]


def test_a_missing_folder_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match=f"cannot write a temporary file in {tmp_path}"):
        save({"epoch": 1}, tmp_path / "nope" / "ckpt.npz")
