"""Writing a project's file safely: a backup of the original first, then the new text
written beside it and renamed over it. The refactor operations and the edit tools both
write through here.

Backups go under the data dir (`backups/<project>-<hash>/<time>/<path in project>`),
not next to the file, so they never show up in the project, its index or its git status.
The temporary file's name carries the writer's pid, so one left by a killed run is
recognised and removed by the next write there.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import shutil
import tempfile
from pathlib import Path

from coda_tui import paths
from coda_tui.context.project import Project

# .app.py.<pid>.<mkstemp's 8 characters>.coda; before the pid was in the name, without it.
_TEMP = re.compile(r"^\.(?P<name>.+?)\.(?:(?P<pid>\d+)\.)?[a-z0-9_]{8}\.coda$")
# A backup folder's name, the local time it was made: pruning reads its age from it.
STAMP_FORMAT = "%Y%m%d-%H%M%S-%f"


def backups_dir() -> Path:
    """Every project's backups, each in a folder of its own (backup_root)."""
    return paths.data_dir() / "backups"


def backup_root(project: Project) -> Path:
    digest = hashlib.sha1(str(project.root).encode()).hexdigest()[:12]
    return backups_dir() / f"{project.root.name}-{digest}"


def backup(project: Project, path: Path) -> Path:
    """Copy the file (inside the project) to a fresh folder of the backup root."""
    stamp = dt.datetime.now().strftime(STAMP_FORMAT)
    target = backup_root(project) / stamp / project.rel(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(path, target)
    return target


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # someone else's process: not ours to judge
    return True


def remove_leftovers(directory: Path) -> list[Path]:
    """Temporary files of writes that were killed before their rename: those of a process
    that is gone, or from before temporary names carried a pid."""
    gone = []
    try:
        entries = list(directory.iterdir())
    except OSError:
        return gone
    for entry in entries:
        m = _TEMP.match(entry.name)
        if m is None or not (directory / m["name"]).exists():
            continue
        if m["pid"] is not None and (int(m["pid"]) == os.getpid() or _alive(int(m["pid"]))):
            continue
        try:
            entry.unlink()
            gone.append(entry)
        except OSError:
            pass
    return gone


def write_atomic(path: Path, text: str | bytes, mode_from: Path | None = None, private: bool = False) -> None:
    """Replace (or create) `path` with `text`: a crash leaves the old file or the new,
    never half. `text` is written as given (newline=""), so line endings are kept; the
    permissions are those of `mode_from` (the original) when given, owner-only with
    `private` (coda's own files in its data dir: a looser one makes the next run warn)."""
    remove_leftovers(path.parent)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.{os.getpid()}.", suffix=".coda")
    try:
        if isinstance(text, bytes):
            with os.fdopen(fd, "wb") as f:
                f.write(text)
        else:
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
                f.write(text)
        if mode_from is not None:
            shutil.copymode(mode_from, tmp)
        elif private:
            os.chmod(tmp, paths.PRIVATE_FILE_MODE)  # what mkstemp made; said, not assumed
        else:
            # mkstemp makes 0600; a new file gets what the umask would give it.
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
