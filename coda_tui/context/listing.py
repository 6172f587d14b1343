"""A folder the question names, listed for the prompt. "What is in the common-licenses
folder?" is answered by the names in it, which no search hit holds: a new user asked that
in /usr/share, and the model, given nothing, made an answer up.

A folder counts as named when the question writes a path with a slash that is a folder
of the project ("what is in src/click?"), or says "folder"/"directory" beside the name of
one at the top of the project or a level down. Only what the project's walk would admit is
listed (ignored, derived and protected entries are not), folders first, capped.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from coda_tui.context.attachments import Attachment
from coda_tui.context.project import Project
from coda_tui.tokens import estimate_tokens

_FOLDER_WORD = re.compile(r"\b(?:folder|directory|dir|subfolder|subdirectory)s?\b", re.IGNORECASE)
_PATHISH = re.compile(r"/?[\w.@+-]+(?:/[\w.@+-]+)*/?")
_NOT_NAMES = {"folder", "folders", "directory", "directories", "dir", "dirs", "the", "this", "that", "in", "of",
              "what", "is", "are", "which", "files", "file", "subfolder", "subdirectory"}
MAX_ENTRIES = 60


def named_folder(question: str, project: Project) -> str | None:
    """The project-relative folder the question names, or None."""
    written = _PATHISH.findall(question)
    tokens = [t.strip("/") for t in written]
    for raw, t in zip(written, tokens):
        if "/" in t:
            rel = _relative(project, "/" + t if raw.startswith("/") else t)
            if rel and _is_folder(project, rel):
                return rel
    if not _FOLDER_WORD.search(question):
        return None
    names = [t for t in tokens if t and "/" not in t and t.lower() not in _NOT_NAMES]
    for name in names:
        if _is_folder(project, name):
            return name
    for top in _subfolders(project, project.root):
        for name in names:
            if _is_folder(project, f"{top}/{name}"):
                return f"{top}/{name}"
    return None


def listing(project: Project, rel: str, tokens: int) -> Attachment | None:
    """The folder's entries, one a line (folders end in "/"), within `tokens`."""
    folder = project.root / rel
    entries = [f"{name}/" for name in _subfolders(project, folder)]
    entries += sorted(e.path.name for e in project.walk_folders({rel}))
    if not entries:
        return None
    keep = min(len(entries), MAX_ENTRIES)
    while True:
        text = "\n".join(entries[:keep] + ([f"… and {len(entries) - keep} more"] if keep < len(entries) else [])) + "\n"
        if estimate_tokens(text) <= tokens:
            break
        if keep == 0:
            return None
        keep //= 2
    if keep == 0:
        return None  # "… and 40 more" alone says nothing
    return Attachment(path=folder, text=text, tokens=estimate_tokens(text), last_line=text.count("\n"),
                      source="listing", label_path=f"{rel}/")


def _relative(project: Project, written: str) -> str | None:
    path = Path(written)
    if path.is_absolute():
        try:
            return path.resolve().relative_to(project.root).as_posix()
        except (ValueError, OSError):
            return None
    return path.as_posix()


def _is_folder(project: Project, rel: str) -> bool:
    path = project.root / rel
    try:
        inside = path.resolve().is_relative_to(project.root)
    except (OSError, RuntimeError):
        return False
    return inside and not path.is_symlink() and path.is_dir() and project.admits(path)


def _subfolders(project: Project, folder: Path) -> list[str]:
    try:
        with os.scandir(folder) as it:
            names = sorted(e.name for e in it if e.is_dir(follow_symlinks=False))
    except OSError:
        return []
    return [n for n in names if project.admits(folder / n)]
