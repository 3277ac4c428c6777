"""Files only this user may read: the secrets file, the SQLite customer store, service logs.

The usual ``write_text`` then ``chmod`` leaves a window in which the file is readable by
everyone (umask 022); these helpers create files with mode 600 from the first instant
(``os.open`` with the mode, or ``mkstemp``) and replace them atomically, so a reader sees
either the old or the new file, never a half-written or world-readable one.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700


def private_dir(path: Path) -> Path:
    """Create ``path`` (and parents) if missing; a new directory gets mode 700."""
    path.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    return path


def private_file(path: Path) -> Path:
    """Make sure ``path`` exists with mode 600 (created so, or tightened if it was looser)."""
    private_dir(path.parent)
    descriptor = os.open(path, os.O_CREAT | os.O_APPEND | os.O_WRONLY, PRIVATE_FILE)
    try:
        os.fchmod(descriptor, PRIVATE_FILE)
    finally:
        os.close(descriptor)
    return path


def write_private(path: Path, text: str) -> None:
    """Replace ``path`` atomically with ``text``, the file being mode 600 at every moment."""
    private_dir(path.parent)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "w") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """An exclusive lock between processes on ``path`` + ``.lock`` (read-modify-write of a shared file)."""
    lock = private_file(path.with_name(path.name + ".lock"))
    with lock.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
