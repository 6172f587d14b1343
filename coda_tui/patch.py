"""Unified diffs: read one, apply it to a file's text, or make one.

Applying is strict about content and lenient about place: each hunk's context and
removed lines must match the file exactly, but the hunk may sit a few lines away from
where its header says (as `patch` allows an offset). A hunk that matches nowhere is
refused with where it was expected, never half-applied.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

from coda_tui.errors import CodaError

_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
# How far from its stated line a hunk may be found.
MAX_OFFSET = 200


class PatchError(CodaError, ValueError):
    """The diff is malformed or does not match the file; the message says where."""


@dataclass
class Hunk:
    old_start: int
    lines: list[str] = field(default_factory=list)  # each begins with ' ', '-' or '+'

    @property
    def before(self) -> list[str]:
        return [line[1:] for line in self.lines if line[0] in " -"]

    @property
    def after(self) -> list[str]:
        return [line[1:] for line in self.lines if line[0] in " +"]


def parse(diff: str) -> list[Hunk]:
    """The hunks of a single-file unified diff (headers and prose around it ignored)."""
    hunks: list[Hunk] = []
    current: Hunk | None = None
    rows = [row.removesuffix("\r") for row in diff.split("\n")]
    for i, raw in enumerate(rows):
        m = _HUNK.match(raw)
        if m:
            current = Hunk(int(m.group(1)))
            hunks.append(current)
            continue
        # A file header is the pair '--- a/…' then '+++ b/…'; a lone '--- x' inside a hunk
        # is the removal of a line '-- x' (an SQL or Lua comment, YAML's '---').
        header = raw.startswith("--- ") and i + 1 < len(rows) and rows[i + 1].startswith("+++ ")
        if current is None or header or (raw.startswith("+++ ") and i and rows[i - 1].startswith("--- ")):
            continue
        if raw.startswith("\\"):  # "\ No newline at end of file"
            continue
        if raw == "":
            # Many generators (and models) drop the space of an empty context line.
            current.lines.append(" ")
        elif raw[0] in " -+":
            current.lines.append(raw)
        else:
            current = None  # prose after the hunk
    hunks = [h for h in hunks if any(line[0] in "-+" for line in h.lines)]
    if not hunks:
        raise PatchError("no hunks (no '@@ -a,b +c,d @@' sections with changes)")
    for h in hunks:
        # A trailing blank context line is more likely the gap after the diff than a line.
        while h.lines and h.lines[-1] == " " and len(h.before) > 1:
            h.lines.pop()
    return hunks


def apply(text: str, diff: str) -> str:
    """`text` with the diff applied, or PatchError naming the hunk that does not fit."""
    hunks = parse(diff)
    # Split on the file's own line ending only: splitlines() would also break at form feeds
    # and other separators, and the file is written back with the ending it had.
    eol = "\r\n" if "\r\n" in text else "\n"
    lines = text.split(eol)
    if lines and lines[-1] == "":
        lines.pop()
    out: list[str] = []
    pos = 0  # next line of `lines` not yet copied
    for n, hunk in enumerate(hunks, 1):
        before = hunk.before
        at = _find(lines, before, max(hunk.old_start - 1, 0), pos)
        if at is None:
            where = f"the lines starting {before[0][:60]!r}" if before else "its position"
            raise PatchError(
                f"hunk {n} (at line {hunk.old_start}) does not match the file: {where} not found; "
                "the file may have changed since, or the diff is wrong"
            )
        out.extend(lines[pos:at])
        out.extend(hunk.after)
        pos = at + len(before)
    out.extend(lines[pos:])
    return eol.join(out) + (eol if text.endswith("\n") or not text else "")


def _find(lines: list[str], block: list[str], hint: int, lowest: int) -> int | None:
    """Where `block` occurs at or after `lowest`, nearest to `hint` first."""
    if not block:
        return max(min(hint, len(lines)), lowest)
    for offset in range(MAX_OFFSET + 1):
        for at in (hint - offset, hint + offset) if offset else (hint,):
            if lowest <= at <= len(lines) - len(block) and lines[at : at + len(block)] == block:
                return at
    return None


def make(old: str, new: str, path: str) -> str:
    """A unified diff from `old` to `new`, with a/ b/ headers for `path`."""
    return "".join(
        # Both ends get a final newline: without it the last line would run into the next
        # line of the diff. apply() keeps the file's own ending either way.
        difflib.unified_diff(_lines(_with_newline(old)), _lines(_with_newline(new)), f"a/{path}", f"b/{path}")
    )


def _lines(text: str) -> list[str]:
    """Lines with their '\\n' (CRLF read as LF), split at '\\n' only, as apply() does."""
    return [line + "\n" for line in text.replace("\r\n", "\n").split("\n")[:-1]]


def _with_newline(text: str) -> str:
    return text if text.endswith("\n") else text + "\n"


def changed_lines(diff: str) -> tuple[int, int]:
    """(added, removed) line counts."""
    added = removed = 0
    for h in parse(diff):
        added += sum(1 for line in h.lines if line[0] == "+")
        removed += sum(1 for line in h.lines if line[0] == "-")
    return added, removed
