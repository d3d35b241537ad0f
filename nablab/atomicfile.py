"""The one way nablab writes a file: whole or not at all, and only ever a regular file.

`atomic_writer(path)` yields a binary file; when the `with` block ends normally the data is
flushed to disk (`fsync`), renamed over the target (`os.replace`) and the rename made
durable (`fsync` of the folder). Readers see the old file or the whole new one, never a part.

The rules:
- the target is `path` with every symlink followed (`os.path.realpath`): saving through a
  link updates the file it points to and keeps the link;
- the target must be a regular file or not exist: a directory raises IsADirectoryError, a
  device, FIFO or socket raises `NotRegularFileError` (an OSError), before anything is written;
- a target we may not write (`chmod a-w`, as `open(path, "wb")` would find it) raises
  PermissionError and is left alone; an existing file keeps its permission bits (and its
  owner and group where the OS allows); a new one gets 0o666 minus the umask;
- the temporary file is `.<name>.<16 hex digits>.tmp` in the target's folder. Any exception
  (KeyboardInterrupt included) removes it; a process killed mid-write leaves it behind, and
  the next write to the same target deletes it. A writer holds an `flock` on its temporary
  for as long as it exists, so only those whose writer has died are deleted (on a file
  system without `flock`, none are).
Replacing a file gives it a new inode: other hard links to the old file keep the old data.
"""

import contextlib
import errno
import fcntl
import os
import re
import secrets
import stat
from pathlib import Path

__all__ = ["NotRegularFileError", "atomic_writer", "write_atomic"]


class NotRegularFileError(OSError):
    """The path names a device, FIFO or socket: atomic writes replace regular files only."""


def write_atomic(path, data: str | bytes) -> Path:
    """Write `data` (str as UTF-8, or bytes) to `path` atomically; returns `Path(path)`."""
    with atomic_writer(path) as f:
        f.write(data.encode("utf-8") if isinstance(data, str) else data)
    return Path(path)


@contextlib.contextmanager
def atomic_writer(path):
    """A binary file whose content replaces `path` when the block ends without an exception."""
    target = os.path.realpath(path)
    existing = _regular_or_absent(target, path)
    folder, name = os.path.split(target)
    _remove_stale_temporaries(folder, name)
    fd, tmp = _create_locked_temporary(folder, name, path)
    try:
        with os.fdopen(fd, "wb") as f:
            if existing is not None:
                _copy_owner_and_mode(f.fileno(), existing)
            yield f
            f.flush()
            os.fsync(f.fileno())
            os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_folder(folder)


def _regular_or_absent(target, path):
    """The target's stat if it is a regular file we may write, None if it does not exist."""
    try:
        st = os.stat(target)
    except FileNotFoundError:
        return None
    shown = os.fspath(path)
    if os.path.abspath(path) != target:
        shown += f" (-> {target})"
    if stat.S_ISDIR(st.st_mode):
        raise IsADirectoryError(errno.EISDIR, "is a directory, not a file to write", shown)
    if not stat.S_ISREG(st.st_mode):
        raise NotRegularFileError(
            errno.EINVAL, f"is a {_kind(st.st_mode)}, not a regular file; refusing to replace it",
            shown,
        )  # fmt: skip
    if not os.access(target, os.W_OK):
        raise PermissionError(
            errno.EACCES,
            f"is read-only (mode {stat.filemode(st.st_mode)}); it is left as it is",
            shown,
        )
    return st


def _kind(mode):
    kinds = {stat.S_ISFIFO: "FIFO", stat.S_ISCHR: "character device", stat.S_ISBLK: "block device"}
    return next((kind for test, kind in kinds.items() if test(mode)), "socket")


def _create_locked_temporary(folder, name, path):
    """A new `.<name>.<hex>.tmp` in `folder`, opened and flock-ed (see the module docstring)."""
    while True:
        tmp = os.path.join(folder, f".{name}.{secrets.token_hex(8)}.tmp")
        try:
            fd = os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o666)  # the umask applies
        except OSError as e:
            raise type(e)(e.errno, f"cannot write a temporary file in {folder}", path) from e
        with contextlib.suppress(OSError):  # a file system without locks: nothing is cleaned
            fcntl.flock(fd, fcntl.LOCK_EX)
        with contextlib.suppress(FileNotFoundError):
            if os.path.samestat(os.fstat(fd), os.stat(tmp)):
                return fd, tmp
        os.close(fd)  # a cleaner took it for stale between open and flock: take another name


def _remove_stale_temporaries(folder, name):
    """Delete `.<name>.<hex>.tmp` files in `folder` that no live writer holds locked."""
    prefix, pattern = f".{name}.", re.compile(rf"\.{re.escape(name)}\.[0-9a-f]{{16}}\.tmp")
    try:
        candidates = [
            e for e in os.listdir(folder) if e.startswith(prefix) and pattern.fullmatch(e)
        ]
    except OSError:
        return
    for entry in candidates:
        tmp = os.path.join(folder, entry)
        try:
            fd = os.open(tmp, os.O_RDONLY | os.O_NOFOLLOW)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
        except OSError:
            pass  # locked: its writer is alive
        finally:
            os.close(fd)


def _copy_owner_and_mode(fd, existing):
    """The owner first (a chown may clear set-id bits), where allowed; then the mode bits."""
    with contextlib.suppress(OSError):
        os.fchown(fd, existing.st_uid, existing.st_gid)
    os.fchmod(fd, stat.S_IMODE(existing.st_mode))


def _fsync_folder(folder):
    """Make the rename durable (POSIX); a no-op where folders cannot be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
