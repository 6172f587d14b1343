"""Keeping the backups bounded: the oldest go once past `[backups] keep_days` or once all
of them take more than `max_mb`, and the undo journal forgets the turns whose backups went.

A backup is one folder, `backups/<project>-<hash>/<time>/` (context/writes.py), named for
the local time it was made. Never removed: the folders of each project's last journaled
turn (so `/undo` of it always works), each project's newest folder (an apply's original,
or a write whose turn is not journaled yet) and anything made in the last hour (a turn
may still be writing in another coda). A project's journal keeps a contiguous run of its
latest turns: a turn whose backups went takes every older turn with it, and the journal
notes when, so undo can say it cannot go back that far.

Runs after a tool's write, at most once a day, on a thread of its own (`prune_soon`), or
when asked (`coda backups prune`). A folder is renamed out of the way before it is deleted,
with the journal already rewritten: a prune killed half-way leaves no journal entry
pointing at a half-deleted backup, only `.pruning-*` folders the next prune removes.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from coda_tui.config import BackupsConfig
from coda_tui.context.writes import STAMP_FORMAT, backups_dir
from coda_tui.tools.undo import (
    JOURNAL_NAME,
    Entry,
    journal_lock,
    read_journal,
    write_journal,
)

try:
    import fcntl
except ImportError:
    fcntl = None

log = logging.getLogger(__name__)

# Backups this young may belong to a turn still running: never removed.
GRACE = dt.timedelta(hours=1)
# Automatic pruning runs at most this often (the marker file's age says when it last did).
EVERY_S = 24 * 3600.0
_MARKER = ".pruned"
_LOCK = ".prune.lock"
_TRASH = ".pruning-"
MB = 1024 * 1024


@dataclass
class Folder:
    """One backup: a `<time>` folder of a project's backups."""

    project: str  # the project's folder under backups/ ("app-1a2b3c4d5e6f")
    path: Path
    made: dt.datetime  # aware
    bytes: int
    files: int


@dataclass
class ProjectBackups:
    """A project's backups and journal."""

    name: str
    folders: list[Folder] = field(default_factory=list)  # oldest first
    turns: int = 0  # turns undo can still take back
    pruned: str | None = None  # when older turns were last pruned away
    last_turn: set[str] = field(default_factory=set)  # the folders the last turn's backups are in

    @property
    def bytes(self) -> int:
        return sum(f.bytes for f in self.folders)


@dataclass
class Pruned:
    removed: list[Folder] = field(default_factory=list)
    kept: list[Folder] = field(default_factory=list)
    turns_dropped: int = 0

    @property
    def freed_bytes(self) -> int:
        return sum(f.bytes for f in self.removed)

    @property
    def kept_bytes(self) -> int:
        return sum(f.bytes for f in self.kept)


def _made(name: str) -> dt.datetime | None:
    try:
        return dt.datetime.strptime(name, STAMP_FORMAT).astimezone(dt.UTC)
    except ValueError:
        return None  # not a backup coda made: never touched


def _size(folder: Path) -> tuple[int, int]:
    """Bytes and files under a folder, not following links."""
    total = files = 0
    stack = [folder]
    while stack:
        try:
            with os.scandir(stack.pop()) as it:
                for entry in it:
                    if entry.is_dir(follow_symlinks=False):
                        stack.append(Path(entry.path))
                    else:
                        try:
                            total += entry.stat(follow_symlinks=False).st_size
                            files += 1
                        except OSError:
                            pass  # gone meanwhile
        except OSError:
            pass
    return total, files


def _dirs(path: Path) -> list[Path]:
    try:
        return sorted(p for p in path.iterdir() if p.is_dir() and not p.is_symlink())
    except OSError:
        return []


def survey(root: Path | None = None) -> list[ProjectBackups]:
    """Every project's backups, each project's oldest first."""
    root = root or backups_dir()
    projects = []
    for project_dir in _dirs(root):
        folders = []
        for folder in _dirs(project_dir):
            made = _made(folder.name)
            if made is not None:
                folders.append(Folder(project_dir.name, folder, made, *_size(folder)))
        folders.sort(key=lambda f: f.made)
        entries, pruned = read_journal(project_dir / JOURNAL_NAME)
        if folders or entries or pruned:
            last = {_stamp_of(project_dir, e.backup) for e in entries if e.turn == entries[-1].turn}
            projects.append(ProjectBackups(project_dir.name, folders, len({e.turn for e in entries}), pruned,
                                           last - {None}))
    return projects


def _stamp_of(project_dir: Path, backup: str | None) -> str | None:
    """The `<time>` folder a journal entry's backup is in (None: outside, or no backup)."""
    if backup is None:
        return None
    try:
        return Path(backup).relative_to(project_dir).parts[0]
    except (ValueError, IndexError):
        return None


def _protected(p: ProjectBackups, now: dt.datetime) -> set[Path]:
    keep = {f.path for f in p.folders if now - f.made < GRACE or f.path.name in p.last_turn}
    if p.folders:
        keep.add(p.folders[-1].path)
    return keep


def plan(projects: list[ProjectBackups], limits: BackupsConfig, now: dt.datetime) -> list[Folder]:
    """The folders to remove, oldest first: past keep_days, then the oldest others until
    what is left fits max_mb; the protected ones (see the module) never."""
    protected = {path for p in projects for path in _protected(p, now)}
    candidates = sorted((f for p in projects for f in p.folders), key=lambda f: f.made)
    total = sum(f.bytes for f in candidates)
    budget = limits.max_mb * MB if limits.max_mb else None
    cutoff = now - dt.timedelta(days=limits.keep_days) if limits.keep_days else None
    doomed = []
    for f in candidates:
        if f.path in protected:
            continue
        if (cutoff is not None and f.made < cutoff) or (budget is not None and total > budget):
            doomed.append(f)
            total -= f.bytes
    return doomed


def _trim_journal(project_dir: Path, removed: set[str], cutoff: dt.datetime | None, when: str, dry_run: bool) -> int:
    """Drop the turns whose backups are gone (or, with no backup to go by, that are past
    keep_days) and every turn before them; the last turn stays. Returns turns dropped.
    Called under the journal's lock."""
    path = project_dir / JOURNAL_NAME
    entries = read_journal(path)[0]
    if not entries:
        return 0
    last = entries[-1].turn

    def gone(e: Entry) -> bool:
        stamp = _stamp_of(project_dir, e.backup)
        if stamp in removed or (e.backup is not None and not os.path.exists(e.backup)):
            return True
        try:
            return cutoff is not None and dt.datetime.fromisoformat(e.at) < cutoff
        except ValueError:
            return False

    cut = max((i for i, e in enumerate(entries) if e.turn != last and gone(e)), default=-1)
    if cut < 0:
        return 0
    dropped = {e.turn for e in entries[: cut + 1]} - {last}
    if not dry_run:
        write_journal(path, [e for e in entries if e.turn not in dropped], when)
    return len(dropped)


def _remove_trash(project_dir: Path) -> None:
    """`.pruning-*` folders: decided on by a prune that was stopped before deleting them."""
    for leftover in project_dir.glob(_TRASH + "*"):
        shutil.rmtree(leftover, ignore_errors=True)


class _Busy(Exception):
    """Another coda is pruning right now."""


@contextmanager
def _one_pruner(root: Path, wait: bool) -> Iterator[None]:
    """One prune at a time, across coda processes: `coda backups prune` waits for the
    daily one to finish; the daily one skips a day when another is running."""
    root.mkdir(parents=True, exist_ok=True)
    handle = os.open(root / _LOCK, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        if fcntl is not None:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
            except BlockingIOError:
                raise _Busy from None
        yield
    finally:
        os.close(handle)  # releases the lock


def prune(limits: BackupsConfig, now: dt.datetime | None = None, dry_run: bool = False,
          root: Path | None = None) -> Pruned:
    """Remove the backups past the limits and the journal entries that needed them."""
    root = root or backups_dir()
    now = now or dt.datetime.now(dt.UTC)
    if dry_run or not root.is_dir():
        return _prune(limits, now, dry_run, root)  # changes nothing: no need to wait for a prune
    with _one_pruner(root, wait=True):
        return _prune(limits, now, False, root)


def _prune(limits: BackupsConfig, now: dt.datetime, dry_run: bool, root: Path) -> Pruned:
    projects = survey(root)
    doomed = plan(projects, limits, now)
    result = Pruned(doomed)
    gone = {id(f) for f in doomed}
    result.kept = [f for p in projects for f in p.folders if id(f) not in gone]
    cutoff = now - dt.timedelta(days=limits.keep_days) if limits.keep_days else None
    when = now.isoformat(timespec="seconds")
    for p in projects:
        project_dir = root / p.name
        removed = [f for f in doomed if f.project == p.name]
        if not dry_run:
            _remove_trash(project_dir)
        with journal_lock(project_dir / JOURNAL_NAME):
            # The journal first: were this stopped half-way, no entry would point at a
            # backup that is half deleted.
            result.turns_dropped += _trim_journal(project_dir, {f.path.name for f in removed}, cutoff, when, dry_run)
            if dry_run:
                continue
            for f in removed:
                try:
                    f.path.rename(project_dir / (_TRASH + f.path.name))
                except OSError as exc:
                    log.warning("cannot prune the backup %s: %s", f.path, exc.strerror)
        if not dry_run:
            _remove_trash(project_dir)
    return result


def prune_soon(limits: BackupsConfig) -> threading.Thread | None:
    """Prune on a thread of its own if the last automatic prune was a day ago or more;
    costs one stat otherwise. Returns the thread started, if any."""
    if not limits.keep_days and not limits.max_mb:
        return None
    marker = backups_dir() / _MARKER
    try:
        if time.time() - marker.stat().st_mtime < EVERY_S:
            return None
    except OSError:
        pass  # never pruned yet
    # A daemon: quitting never waits for it. A prune cut short is safe (the journal is
    # rewritten before any folder goes, and `.pruning-*` leftovers go with the next prune).
    thread = threading.Thread(target=_prune_once, args=(limits,), name="coda-prune-backups", daemon=True)
    try:
        thread.start()
    except RuntimeError as exc:  # no thread to be had: the write is done, pruning waits
        log.warning("cannot start pruning the backups: %s", exc)
        return None
    return thread


def _prune_once(limits: BackupsConfig) -> None:
    root = backups_dir()
    try:
        with _one_pruner(root, wait=False):
            marker = root / _MARKER
            if marker.exists() and time.time() - marker.stat().st_mtime < EVERY_S:
                return  # another coda just did
            # Marked before, not after: a prune that fails is not retried on every write.
            marker.touch()
            done = _prune(limits, dt.datetime.now(dt.UTC), False, root)
        if done.removed or done.turns_dropped:
            log.info("pruned %d backup(s) (%.1f MB) and %d undo turn(s)", len(done.removed),
                     done.freed_bytes / MB, done.turns_dropped)
    except _Busy:
        return
    except Exception:
        # Housekeeping on a thread of its own: whatever goes wrong, the user's write is done.
        log.exception("pruning the backups failed")
