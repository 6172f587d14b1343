"""Writing a refactoring's diff to its file: only through the sandbox, only if the diff
applies cleanly to what is on disk now, and never without a backup of the original.

Backups go under the data dir (`backups/<project>-<hash>/<time>/<path in project>`),
not next to the file, so they never show up in the project, its index or its git status.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from coda_tui import paths
from coda_tui.context.project import Project
from coda_tui.core import patch


@dataclass
class Applied:
    path: Path
    backup: Path
    added: int
    removed: int


def backup_root(project: Project) -> Path:
    digest = hashlib.sha1(str(project.root).encode()).hexdigest()[:12]
    return paths.data_dir() / "backups" / f"{project.root.name}-{digest}"


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
    # Written beside the file and renamed over it: a crash leaves the old file or the new, never half.
    fd, tmp = tempfile.mkstemp(dir=resolved.parent, prefix=f".{resolved.name}.", suffix=".coda")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(updated)
        shutil.copymode(resolved, tmp)
        os.replace(tmp, resolved)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Applied(resolved, backup, added, removed)
