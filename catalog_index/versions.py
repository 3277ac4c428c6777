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

A new version is loaded by the live searchers *before* the link is swapped, so the first search
after a change does not wait for a load (seconds at 100k products).  Every live searcher keeps a
file in ``<versions>/readers/`` (a :class:`ReaderFile`) whose modification time is its heartbeat
and whose text names the newest version it has ready.  A writer names the complete version it is
about to publish in ``<versions>/pending``, waits until every live reader names it too (at most
:data:`PRELOAD_WAIT_SECONDS`; a reader whose heartbeat is older than :data:`READER_STALE_SECONDS`,
or whose process on this host is gone, is not waited for), and only then swaps the link.
"""

from __future__ import annotations

import fcntl
import itertools
import logging
import os
import shutil
import socket
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

KEEP_VERSIONS = 2  # the current version and the one before it
BUILDING_PREFIX = "building-"
VERSION_PREFIX = "v"
LOCK_FILE = ".writer.lock"
PENDING_FILE = "pending"
READERS_DIR = "readers"
PRELOAD_WAIT_SECONDS = 60.0  # a writer swaps anyway after this long (a reader stuck loading must not stop updates)
READER_STALE_SECONDS = 30.0  # longer than a reader's longest load at 100k products, during which it cannot beat
WAIT_POLL_SECONDS = 0.02

log = logging.getLogger(__name__)
_reader_serial = itertools.count()


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
    (directory / PENDING_FILE).unlink(missing_ok=True)


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
    _let_readers_preload(directory, final.name)
    link = index_dir.with_name(f".{index_dir.name}.link-{os.getpid()}-{time.time_ns()}")
    os.symlink(os.path.relpath(final, index_dir.parent), link)
    try:
        os.replace(link, index_dir)
    except BaseException:
        link.unlink(missing_ok=True)
        raise
    finally:
        (directory / PENDING_FILE).unlink(missing_ok=True)
    log.info("published index version %s", final.name)
    _retire_old(directory, final)
    return final


def _let_readers_preload(directory: Path, name: str) -> None:
    """Name ``name`` as pending and wait until every live reader has it ready (or :data:`PRELOAD_WAIT_SECONDS` pass)."""
    pending = directory / PENDING_FILE
    draft = directory / f".{PENDING_FILE}-{os.getpid()}"
    draft.write_text(name)
    os.replace(draft, pending)
    deadline = time.monotonic() + PRELOAD_WAIT_SECONDS
    while True:
        waiting = [reader for reader in _live_readers(directory) if _reader_version(reader) != name]
        if not waiting:
            return
        if time.monotonic() >= deadline:
            log.warning("publishing index version %s although %d searcher(s) have not loaded it yet: %s",
                        name, len(waiting), ", ".join(reader.name for reader in waiting))
            return
        time.sleep(WAIT_POLL_SECONDS)


def _reader_version(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except OSError:
        return None


def _live_readers(directory: Path) -> list[Path]:
    """The reader files of searchers that are alive: a recent heartbeat, and their process still there if on this host."""
    readers = directory / READERS_DIR
    if not readers.is_dir():
        return []
    live = []
    now = time.time()
    for path in readers.iterdir():
        if path.name.startswith(".") or path.name.count("-") < 2:
            continue  # a reader's draft, or not a reader file
        try:
            beat = path.stat().st_mtime
        except FileNotFoundError:
            continue
        host, pid, _ = path.name.rsplit("-", 2)
        if now - beat > READER_STALE_SECONDS or (host == socket.gethostname() and pid.isdigit() and not _alive(int(pid))):
            if now - beat > 3600:
                path.unlink(missing_ok=True)  # long gone: tidy up
            continue
        live.append(path)
    return live


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def pending_version(index_dir: Path) -> Path | None:
    """The complete version a writer is about to publish at ``index_dir``, if one is pending."""
    try:
        name = (versions_dir(index_dir) / PENDING_FILE).read_text().strip()
    except OSError:
        return None
    path = versions_dir(index_dir) / name
    return path if name.startswith(VERSION_PREFIX) and path.is_dir() else None


class ReaderFile:
    """A live searcher's entry in ``<versions>/readers/``: heartbeat by modification time, ready version by text.

    Named ``<host>-<pid>-<serial>``, so a writer on the same host can tell that its process is gone.
    A store whose versions directory cannot be written (a read-only mount) simply has no readers to wait for.
    """

    def __init__(self, index_dir: Path) -> None:
        self.path = versions_dir(index_dir) / READERS_DIR / f"{socket.gethostname()}-{os.getpid()}-{next(_reader_serial)}"

    def report(self, version_name: str) -> None:
        """Say that ``version_name`` is loaded or ready (also a heartbeat)."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            draft = self.path.with_name(f".{self.path.name}")
            draft.write_text(version_name)
            os.replace(draft, self.path)
        except OSError as error:
            log.debug("cannot write reader file %s: %s", self.path, error)

    def beat(self, version_name: str) -> None:
        """Heartbeat; rewrites the file if someone removed it."""
        try:
            os.utime(self.path)
        except FileNotFoundError:
            self.report(version_name)
        except OSError as error:
            log.debug("cannot touch reader file %s: %s", self.path, error)

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)


def _retire_old(directory: Path, current: Path) -> None:
    """Remove versions older than the ``KEEP_VERSIONS`` newest (the current one is the newest)."""
    versions = sorted(path for path in directory.iterdir() if path.is_dir() and path.name.startswith(VERSION_PREFIX))
    for old in versions[: max(0, len(versions) - KEEP_VERSIONS)]:
        if old != current:
            shutil.rmtree(old, ignore_errors=True)


def current_version(index_dir: Path) -> Path:
    """The directory ``index_dir`` resolves to now (itself when it is a plain directory)."""
    return Path(index_dir).resolve()
