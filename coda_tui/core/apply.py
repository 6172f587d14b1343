"""Writing a refactoring's diff to its file: only through the sandbox, only if the diff
applies cleanly to what is on disk now, and never without a backup of the original
(context/writes.py keeps the backups and the atomic write, shared with the edit tools).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from coda_tui import patch
from coda_tui.config import BackupsConfig
from coda_tui.context.project import Project
from coda_tui.context.writes import backup, backup_root, remove_leftovers, write_atomic
from coda_tui.tools.backups import prune_soon

__all__ = ["Applied", "apply_diff", "backup_root", "remove_leftovers"]


@dataclass
class Applied:
    path: Path
    backup: Path
    added: int
    removed: int


def apply_diff(project: Project, path: str | os.PathLike[str], diff: str,
               limits: BackupsConfig | None = None) -> Applied:
    """Patch the file; raises SandboxError (denied, outside) or PatchError (does not apply)
    before anything is written. With `limits`, a write is also what may start the daily
    prune of the backups, as a tool's write does (tools/backups.py)."""
    resolved = project.check(path)
    try:
        # newline="": the file's own line endings reach the patch, and are kept.
        with open(resolved, encoding="utf-8", newline="") as f:
            original = f.read()
    except UnicodeDecodeError:
        raise patch.PatchError(f"{project.rel(resolved)} is not UTF-8 text: coda does not rewrite it") from None
    updated = patch.apply(original, diff)
    added, removed = patch.changed_lines(diff)
    saved = backup(project, resolved)
    write_atomic(resolved, updated, mode_from=resolved)
    if limits is not None:
        prune_soon(limits)
    return Applied(resolved, saved, added, removed)
