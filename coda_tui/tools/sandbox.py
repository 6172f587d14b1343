"""Paths a model names, through the project's sandbox.

A model speaks of files relative to the project, whatever directory coda was started in,
so relative paths are taken from the project root (Project.check alone would take them
from the working directory). Refusals come back as ToolError: the model reads why.
The repository's own folder (.git) is off limits too: its config may hold credentials and
its hooks run code.
"""

from __future__ import annotations

import os
from pathlib import Path

from coda_tui.context.project import ALWAYS_SKIP_DIRS, SandboxError
from coda_tui.tools.base import ToolContext, ToolError

# Larger files are not read for a model at all: it could not take them in anyway.
READ_MAX_BYTES = 10 * 1024 * 1024


def _absolute(ctx: ToolContext, path: str) -> Path:
    if not isinstance(path, str) or not path.strip():
        raise ToolError("a path is needed")
    p = Path(path).expanduser()
    return Path(os.path.normpath(p if p.is_absolute() else ctx.project.root / p))


def _vcs_refusal(rel: str, path: str) -> None:
    if any(part in ALWAYS_SKIP_DIRS for part in rel.split("/")):
        raise ToolError(f"{path}: the version control folder is off limits")


def existing_file(ctx: ToolContext, path: str) -> Path:
    """The resolved path of a file of the project a tool may read or change."""
    try:
        resolved = ctx.project.check(_absolute(ctx, path))
    except SandboxError as exc:
        raise ToolError(exc.message) from None
    _vcs_refusal(ctx.project.rel(resolved), path)
    return resolved


def new_file(ctx: ToolContext, path: str) -> Path:
    """Where a new file may be created: inside the project (its nearest existing folder
    resolved, so a linked folder cannot lead out), not under a protected name, not there yet."""
    project = ctx.project
    target = _absolute(ctx, path)
    folder = target.parent
    missing: list[str] = [target.name]
    # lexists: a dangling link is not a missing folder to create, but a path to refuse.
    while not os.path.lexists(folder) and folder != folder.parent:
        missing.insert(0, folder.name)
        folder = folder.parent
    try:
        folder = folder.resolve(strict=True)
    except (OSError, RuntimeError) as exc:
        raise ToolError(f"{path}: cannot be resolved ({exc})") from None
    if not folder.is_dir():
        raise ToolError(f"{path}: {folder.name} is not a folder")
    if not folder.is_relative_to(project.root):
        raise ToolError(f"{path} is outside the project {project.root}: only files inside it can be written")
    rel = "/".join(([project.rel(folder)] if folder != project.root else []) + missing)
    _vcs_refusal(rel, path)
    parts = rel.split("/")
    for i in range(1, len(parts) + 1):
        sub = "/".join(parts[:i]) + ("/" if i < len(parts) else "")
        if project.is_denied(sub):
            raise ToolError(f"{rel} matches a protected pattern (secrets, keys, .env): coda does not write it")
    final = folder.joinpath(*missing)
    if os.path.lexists(final):
        raise ToolError(f"{rel} already exists: write_file only creates new files (use edit_file to change it)")
    return final


def read_text(path: Path, rel: str) -> str:
    """The file's text as it is on disk (its own line endings kept), or ToolError when it is
    too big, binary or not UTF-8."""
    size = path.stat().st_size
    if size > READ_MAX_BYTES:
        raise ToolError(f"{rel} is {size:,} bytes, over the {READ_MAX_BYTES:,}-byte limit for tools")
    data = path.read_bytes()
    if b"\0" in data[:8192]:
        raise ToolError(f"{rel} is a binary file")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ToolError(f"{rel} is not UTF-8 text") from None
