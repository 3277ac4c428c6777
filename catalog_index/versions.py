"""Index versions: every build or incremental change writes a new directory, and a symlink swap publishes it.

``<store>/index`` is a symbolic link to ``<store>/index.versions/v<time>``.  A writer fills a
``building-*`` directory beside the versions, renames it to its version name when complete,
and replaces the link with ``os.replace`` (one atomic rename), so a reader always resolves
``index`` to a complete version.  A reader resolves the link once and reads every file from
that directory, so a swap in the middle of a load cannot mix two versions.  The version
before the current one is kept on disk for processes still loading it; older ones are removed.
Writers take an exclusive lock, so two concurrent updates cannot both start from the same
version and lose one another's changes.  Only the lock holder writes a ``building-*`` directory,
so any found when the lock is taken was left by a writer that died: it is removed then.  An index directory written before versions existed
(a plain directory) is moved into the versions on the first publish.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

KEEP_VERSIONS = 2  # the current version and the one before it
BUILDING_PREFIX = "building-"
VERSION_PREFIX = "v"
LOCK_FILE = ".writer.lock"


def versions_dir(index_dir: Path) -> Path:
    """Where the versions of ``index_dir`` live (beside it)."""
    return index_dir.with_name(index_dir.name + ".versions")


@contextmanager
def writer_lock(index_dir: Path) -> Iterator[None]:
    """Hold the exclusive right to publish a new version of ``index_dir`` (blocks while another writer has it)."""
    directory = versions_dir(index_dir)
    directory.mkdir(parents=True, exist_ok=True)
    with (directory / LOCK_FILE).open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            _remove_crash_leftovers(index_dir, directory)
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _remove_crash_leftovers(index_dir: Path, directory: Path) -> None:
    """Delete what a writer that died under the lock left behind: its ``building-*`` directory and a link
    it made but never swapped in.  Called with the lock just taken, so no live writer owns any of them."""
    for building in directory.glob(BUILDING_PREFIX + "*"):
        if building.is_dir() and not building.is_symlink():
            shutil.rmtree(building, ignore_errors=True)
    for link in index_dir.parent.glob(f".{index_dir.name}.link-*"):
        if link.is_symlink():
            link.unlink(missing_ok=True)


def new_build_dir(index_dir: Path) -> Path:
    """An empty directory to write the next version into (not visible as a version until published)."""
    directory = versions_dir(index_dir)
    directory.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=BUILDING_PREFIX, dir=directory))


def _version_name() -> str:
    return f"{VERSION_PREFIX}{time.time_ns():020d}"


def publish(built: Path, index_dir: Path) -> Path:
    """Make the complete directory ``built`` the current version of ``index_dir``; returns its final path."""
    directory = versions_dir(index_dir)
    legacy = index_dir.exists() and not index_dir.is_symlink()  # a plain directory from before versions existed
    legacy_name = _version_name()  # named before ``final`` so that it sorts as the older version
    final = directory / _version_name()
    os.rename(built, final)
    if legacy:
        os.rename(index_dir, directory / legacy_name)
    link = index_dir.with_name(f".{index_dir.name}.link-{os.getpid()}-{time.time_ns()}")
    os.symlink(os.path.relpath(final, index_dir.parent), link)
    try:
        os.replace(link, index_dir)
    except BaseException:
        link.unlink(missing_ok=True)
        raise
    _retire_old(directory, final)
    return final


def _retire_old(directory: Path, current: Path) -> None:
    """Remove versions older than the ``KEEP_VERSIONS`` newest (the current one is the newest)."""
    versions = sorted(path for path in directory.iterdir() if path.is_dir() and path.name.startswith(VERSION_PREFIX))
    for old in versions[: max(0, len(versions) - KEEP_VERSIONS)]:
        if old != current:
            shutil.rmtree(old, ignore_errors=True)


def current_version(index_dir: Path) -> Path:
    """The directory ``index_dir`` resolves to now (itself when it is a plain directory)."""
    return Path(index_dir).resolve()
