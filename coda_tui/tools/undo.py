"""Taking back a turn's edits.

Every write a tool makes is backed up first (context/writes.py) and recorded here, one JSON
line per written file, in a journal kept with the project's backups: the turn it belongs
to, the file, its backup (none for a file the turn created) and the sha256 of what was
written. `undo_last` restores the files of the last turn recorded — each to what it was
before the turn's first edit of it — and deletes the files that turn created. It refuses,
naming the file, when any of them changed since the turn wrote it (its hash differs), and
then touches nothing: undo never throws away work done after the turn.

Pruning (tools/backups.py) drops the oldest turns from the journal together with their
backups, leaving a line that says when; undo then refuses to go further back in one line.
Every change to the journal is made under its lock, so a record appended while it is
rewritten is never lost.

Core-free: the app's /undo, the shell and `coda undo` all call `undo_last`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from coda_tui.context.project import Project
from coda_tui.context.writes import backup_root, write_atomic
from coda_tui.errors import CodaError

try:
    import fcntl
except ImportError:  # Windows: a prune and a write at the same moment are then up to chance
    fcntl = None

JOURNAL_NAME = "journal.jsonl"


class UndoError(CodaError):
    """Nothing to undo, or undoing would lose a change made since; says which file."""


class NothingToUndo(UndoError):
    """No tool has written a file here: information for the app, still an exit status 1."""


@dataclass(frozen=True)
class Entry:
    turn: str
    path: str  # relative to the project root, posix
    backup: str | None  # the original's copy; None when the turn created the file
    sha256: str  # of the bytes the tool wrote
    at: str = ""


@dataclass
class Undone:
    turn: str
    restored: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)

    def summary(self) -> str:
        parts = []
        if self.restored:
            parts.append("restored " + ", ".join(self.restored))
        if self.deleted:
            parts.append("deleted " + ", ".join(self.deleted))
        return "; ".join(parts)


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@contextmanager
def journal_lock(journal_path: Path) -> Iterator[None]:
    """The journal to oneself: an append and a rewrite (undo, pruning) from two threads or
    two coda processes take turns."""
    journal_path.parent.mkdir(parents=True, exist_ok=True)
    if fcntl is None:
        yield
        return
    handle = os.open(journal_path.with_suffix(".lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield
    finally:
        os.close(handle)  # releases the lock


def read_journal(journal_path: Path) -> tuple[list[Entry], str | None]:
    """The entries, oldest first, and when older ones were last pruned away (None: never)."""
    try:
        lines = journal_path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return [], None
    out = []
    pruned = None
    for line in lines:
        try:
            data = json.loads(line)
            if "pruned" in data:
                pruned = str(data["pruned"])
                continue
            out.append(Entry(str(data["turn"]), str(data["path"]), data.get("backup"), str(data["sha256"]),
                             str(data.get("at", ""))))
        except (ValueError, KeyError, TypeError):
            continue  # a line cut short by a crash: the others still count
    return out, pruned


def write_journal(journal_path: Path, entries: list[Entry], pruned: str | None) -> None:
    """Replace the journal (call under journal_lock); the pruned line goes first."""
    head = json.dumps({"pruned": pruned}) + "\n" if pruned else ""
    write_atomic(journal_path, head + "".join(json.dumps(e.__dict__, ensure_ascii=False) + "\n" for e in entries))


class Journal:
    """The record of a project's tool writes, oldest first."""

    def __init__(self, project: Project, after_record: Callable[[], object] | None = None) -> None:
        self.project = project
        self.path = backup_root(project) / JOURNAL_NAME
        # Called after each record, outside the lock (tools/setup.py: prune the backups, at
        # most once a day, as they are what the writes make grow).
        self.after_record = after_record

    def record(self, turn: str | None, path: Path, backup: Path | None, written: bytes) -> None:
        entry = Entry(
            # Without a turn each write is a step of its own.
            turn or f"write-{uuid.uuid4().hex[:12]}",
            self.project.rel(path),
            None if backup is None else str(backup),
            digest(written),
            dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        )
        # One write of one line, under the lock a rewrite (undo, pruning) holds.
        with journal_lock(self.path), open(self.path, "a", encoding="utf-8") as f:
            f.write(json.dumps(entry.__dict__, ensure_ascii=False) + "\n")
        if self.after_record is not None:
            self.after_record()

    def entries(self) -> list[Entry]:
        return read_journal(self.path)[0]

    def last_turn(self) -> list[Entry]:
        entries = self.entries()
        if not entries:
            return []
        turn = entries[-1].turn
        return [e for e in entries if e.turn == turn]

    def forget(self, turn: str) -> None:
        with journal_lock(self.path):
            entries, pruned = read_journal(self.path)
            write_journal(self.path, [e for e in entries if e.turn != turn], pruned)


def _file(project: Project, rel: str) -> Path:
    path = project.root / rel
    if path.is_symlink() or not path.resolve().is_relative_to(project.root):
        raise UndoError(f"{rel} is now a symlink or leads out of the project: nothing undone")
    return path


def undo_last(project: Project) -> Undone:
    """Restore the files of the last turn that wrote any; UndoError (one line naming the
    file) when there is none or a file changed since, with nothing changed."""
    journal = Journal(project)
    entries = journal.last_turn()
    if not entries:
        pruned = read_journal(journal.path)[1]
        if pruned:
            raise UndoError(f"cannot undo further back: the backups of older turns were pruned on {pruned[:10]}",
                            hint="[backups] keep_days and max_mb say how much is kept")
        raise NothingToUndo("nothing to undo: no tool has written a file in this project")
    turn = entries[0].turn
    first: dict[str, Entry] = {}
    last: dict[str, Entry] = {}
    for e in entries:
        first.setdefault(e.path, e)
        last[e.path] = e
    # Every file is checked before any is touched.
    plan: list[tuple[Path, str, bytes | None]] = []
    for rel, latest in last.items():
        path = _file(project, rel)
        try:
            now = path.read_bytes()
        except FileNotFoundError:
            now = None
        except OSError as exc:
            raise UndoError(f"{rel} cannot be read ({exc.strerror}): nothing undone") from None
        original = first[rel].backup
        if now is None:
            if original is None:
                continue  # created by the turn and deleted since: already undone
            raise UndoError(f"{rel} was deleted since the turn edited it: nothing undone")
        if digest(now) != latest.sha256:
            raise UndoError(f"{rel} changed since the turn wrote it: nothing undone (it would lose that change)")
        if original is None:
            plan.append((path, rel, None))
            continue
        try:
            plan.append((path, rel, Path(original).read_bytes()))
        except OSError:
            raise UndoError(f"the backup of {rel} is gone ({original}): nothing undone") from None
    undone = Undone(turn)
    for path, rel, data in plan:
        if data is None:
            path.unlink()
            undone.deleted.append(rel)
        else:
            write_atomic(path, data, mode_from=Path(first[rel].backup))
            undone.restored.append(rel)
    journal.forget(turn)
    return undone
