"""Writing a refactoring's diff to its file: only through the sandbox, only if the diff
applies cleanly to what is on disk now, and never without a backup of the original.

Backups go under the data dir (`backups/<project>-<hash>/<time>/<path in project>`),
not next to the file, so they never show up in the project, its index or its git status.
The new text is written to a temporary file beside the original (a rename within one
directory is atomic); its name carries the writer's pid, so one left by a killed run is
recognised and removed by the next apply there.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from coda_tui import paths
from coda_tui.context.project import Project
from coda_tui.core import patch

# .app.py.<pid>.<mkstemp's 8 characters>.coda; before the pid was in the name, without it.
_TEMP = re.compile(r"^\.(?P<name>.+?)\.(?:(?P<pid>\d+)\.)?[a-z0-9_]{8}\.coda$")


@dataclass
class Applied:
    path: Path
    backup: Path
    added: int
    removed: int


def backup_root(project: Project) -> Path:
    digest = hashlib.sha1(str(project.root).encode()).hexdigest()[:12]
    return paths.data_dir() / "backups" / f"{project.root.name}-{digest}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # someone else's process: not ours to judge
    return True


def remove_leftovers(directory: Path) -> list[Path]:
    """Temporary files of applies that were killed before their rename: those of a process
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


def apply_diff(project: Project, path: str | os.PathLike[str], diff: str) -> Applied:
    """Patch the file; raises SandboxError (denied, outside) or PatchError (does not apply)
    before anything is written."""
    resolved = project.check(path)
    try:
        # newline="": the file's own line endings reach the patch, and are kept.
        with open(resolved, encoding="utf-8", newline="") as f:
            original = f.read()
    except UnicodeDecodeError:
        raise patch.PatchError(f"{project.rel(resolved)} is not UTF-8 text: coda does not rewrite it") from None
    updated = patch.apply(original, diff)
    added, removed = patch.changed_lines(diff)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    backup = backup_root(project) / stamp / project.rel(resolved)
    backup.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(resolved, backup)
    remove_leftovers(resolved.parent)
    # Written beside the file and renamed over it: a crash leaves the old file or the new, never half.
    fd, tmp = tempfile.mkstemp(dir=resolved.parent, prefix=f".{resolved.name}.{os.getpid()}.", suffix=".coda")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(updated)
        shutil.copymode(resolved, tmp)
        os.replace(tmp, resolved)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Applied(resolved, backup, added, removed)
