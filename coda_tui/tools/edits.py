"""The tools that change files: edit_file (an exact replacement or a unified diff) and
write_file (new files only).

An edit is worked out against the file as it is on disk: once for the preview consent
shows, and again when it runs, so a file changed in between is edited as it is now or the
edit is refused — never written from a stale copy. The original is backed up before it is
replaced (context/writes.py) and the write recorded for undo (undo.py).
"""

from __future__ import annotations

import asyncio
import difflib
from pathlib import Path
from typing import Any

from coda_tui import patch
from coda_tui.context.writes import backup, write_atomic
from coda_tui.tools.base import Preview, ToolContext, ToolError, ToolOutput, ToolSpec
from coda_tui.tools.sandbox import existing_file, new_file, read_text


def _record(ctx: ToolContext, path: Path, saved: Path | None, written: str) -> None:
    if ctx.journal is not None:
        ctx.journal.record(ctx.turn, path, saved, written.encode("utf-8"))


def _counts(diff: str) -> str:
    added, removed = patch.changed_lines(diff)
    return f"+{added} -{removed} lines"


class EditFile:
    spec = ToolSpec(
        "edit_file",
        "Change a file: replace old text (must occur once) with new, or apply a unified diff.",
        {"type": "object", "properties": {"path": {"type": "string"}, "old": {"type": "string"},
                                          "new": {"type": "string"}, "diff": {"type": "string"}},
         "required": ["path"]},
        read_only=False,
    )

    @staticmethod
    def _plan(args: dict[str, Any], ctx: ToolContext) -> tuple[Path, str, str, str]:
        """(path, name in the project, text now, text after the edit), or ToolError."""
        path = existing_file(ctx, args["path"])
        rel = ctx.project.rel(path)
        text = read_text(path, rel)
        if args.get("diff"):
            try:
                updated = patch.apply(text, args["diff"])
            except patch.PatchError as exc:
                raise ToolError(f"the diff does not apply to {rel}: {exc.message}") from None
        elif args.get("old"):
            old, new = args["old"], args.get("new", "")
            if not isinstance(new, str):
                raise ToolError("'new' must be a string")
            count = text.count(old)
            if count == 0 and "\r\n" in text and "\r\n" not in old:
                # The model writes \n; the file has Windows line endings.
                old, new = old.replace("\n", "\r\n"), new.replace("\n", "\r\n")
                count = text.count(old)
            if count == 0:
                raise ToolError(f"the old text was not found in {rel} (read the file again: it may differ)")
            if count > 1:
                raise ToolError(f"the old text occurs {count} times in {rel}: include more lines so it occurs once")
            updated = text.replace(old, new, 1)
        else:
            raise ToolError("give 'old' and 'new' (an exact replacement) or 'diff' (a unified diff)")
        if updated == text:
            raise ToolError(f"the edit leaves {rel} unchanged")
        return path, rel, text, updated

    async def preview(self, args: dict[str, Any], ctx: ToolContext) -> Preview:
        _, rel, text, updated = await asyncio.to_thread(self._plan, args, ctx)
        return Preview("edit", f"edit {rel}", patch.make(text, updated, rel))

    async def call(self, args: dict[str, Any], ctx: ToolContext) -> ToolOutput:
        return await asyncio.to_thread(self._write, args, ctx)

    def _write(self, args: dict[str, Any], ctx: ToolContext) -> ToolOutput:
        path, rel, text, updated = self._plan(args, ctx)
        saved = backup(ctx.project, path)
        write_atomic(path, updated, mode_from=path)
        _record(ctx, path, saved, updated)
        return ToolOutput(f"edited {rel} ({_counts(patch.make(text, updated, rel))})", [(path, saved)])


def _creation_diff(content: str, rel: str) -> str:
    lines = [line + "\n" for line in content.replace("\r\n", "\n").split("\n")]
    if lines[-1] == "\n":
        lines.pop()
    return "".join(difflib.unified_diff([], lines, "/dev/null", f"b/{rel}"))


class WriteFile:
    spec = ToolSpec(
        "write_file",
        "Create a new file (to change one, use edit_file).",
        {"type": "object", "properties": {"path": {"type": "string"}, "content": {"type": "string"}},
         "required": ["path", "content"]},
        read_only=False,
    )

    async def preview(self, args: dict[str, Any], ctx: ToolContext) -> Preview:
        path = await asyncio.to_thread(new_file, ctx, args["path"])
        rel = _rel(ctx, path)
        return Preview("write", f"create {rel}", _creation_diff(args["content"], rel))

    async def call(self, args: dict[str, Any], ctx: ToolContext) -> ToolOutput:
        return await asyncio.to_thread(self._write, args, ctx)

    @staticmethod
    def _write(args: dict[str, Any], ctx: ToolContext) -> ToolOutput:
        path = new_file(ctx, args["path"])
        rel = _rel(ctx, path)
        path.parent.mkdir(parents=True, exist_ok=True)
        content = args["content"]
        try:
            # "x": should the file appear between the check and now, it is not overwritten.
            with open(path, "x", encoding="utf-8", newline="") as f:
                f.write(content)
        except FileExistsError:
            raise ToolError(f"{rel} already exists: write_file only creates new files") from None
        _record(ctx, path, None, content)
        return ToolOutput(f"created {rel} ({len(content.splitlines())} lines)", [(path, None)])


def _rel(ctx: ToolContext, path: Path) -> str:
    return path.relative_to(ctx.project.root).as_posix()
