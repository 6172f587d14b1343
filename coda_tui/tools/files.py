"""The read-only tools over the project's files: read a file, list files, grep, search.

They see what the index sees: files the walk admits (ignore files honoured, protected and
derived files left out, links out of the project not followed), with secrets masked in any
text they return. Reading and walking run in a thread: a large tree must not stall the
app's event loop.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pathspec

from coda_tui.tools.base import (
    Preview,
    ToolContext,
    ToolError,
    ToolSpec,
    arguments_preview,
)
from coda_tui.tools.sandbox import existing_file, read_text

# Bounds on one answer, whatever the output cap: a model drowns long before it.
LIST_MAX = 200
GREP_MAX = 100
GREP_LINE_CHARS = 200
SEARCH_HITS = 5
SEARCH_LINES = 30


class ReadOnlyTool:
    """A tool that needs no consent unless a rule in [tools] ask says otherwise; then
    consent is shown its arguments."""

    spec: ToolSpec

    async def preview(self, args: dict[str, Any], ctx: ToolContext) -> Preview:
        return arguments_preview(self.spec, args)


# The scan that stands in for an index reads at most this much of a project.
SCAN_FILES = 5000
SCAN_BYTES = 64 * 1024 * 1024
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]{2,}")
_CODE_NAME = re.compile(r"_|[a-z][A-Z]|^[A-Z][a-z]+[A-Z]")  # snake_case, camelCase, CamelCase


def _scan(query: str, ctx: ToolContext) -> str:
    """The files whose lines hold most of the query's words, best line first, with the
    lines around it: a search without an index, bounded so a huge folder cannot stall it."""
    # The index's own stop words, loaded with the scan.
    from coda_tui.context.index import query_words

    # A question's common words ("where", "is") are in every file: they are left out, and a
    # name written as code (make_context, parseArgs, Context) counts three times a word.
    weights = {w.lower(): 3 if _CODE_NAME.search(w) else 1 for w in query_words(" ".join(_WORD.findall(query)))}
    words = set(weights)
    if not words:
        return f"nothing found for {query!r} (no words to look for)"
    found: list[tuple[int, int, str, int, list[str]]] = []
    files = read = 0
    for entry in ctx.project.walk():
        if files >= SCAN_FILES or read >= SCAN_BYTES:
            break
        try:
            data = entry.path.read_bytes()
        except OSError:
            continue
        files += 1
        read += len(data)
        if b"\0" in data[:8192]:
            continue
        lines = data.decode("utf-8", "replace").splitlines()
        best, best_n, total = 0, 0, 0
        for n, line in enumerate(lines):
            low = line.lower()
            score = sum(weights[w] for w in words if w in low)
            total += score
            if score > best:
                best, best_n = score, n
        if best:
            found.append((best, total, entry.rel, best_n, lines))
    if not found:
        return f"nothing found for {query!r} (the project is not indexed: searched {files} files for its words)"
    found.sort(key=lambda f: (-f[0], -f[1], f[2]))
    out = [f"(not indexed: {files} files scanned for the query's words)"]
    for _, _, rel, n, lines in found[:SEARCH_HITS]:
        start, end = max(0, n - 3), min(len(lines), n - 3 + SEARCH_LINES)
        body = ctx.project.scrub("\n".join(lines[start:end]), rel)
        out.append(f"{rel}:{start + 1}-{end}\n{body}")
    return "\n\n".join(out)


def _int(args: dict, key: str, default: int | None) -> int | None:
    value = args.get(key, default)
    if value is not None and value < 1:
        raise ToolError(f"'{key}' must be 1 or more")
    return value


class ReadFile(ReadOnlyTool):
    spec = ToolSpec(
        "read_file",
        "Read a project file, optionally lines start..end.",
        {"type": "object", "properties": {"path": {"type": "string"}, "start": {"type": "integer"},
                                          "end": {"type": "integer"}}, "required": ["path"]},
        read_only=True,
    )

    async def call(self, args: dict[str, Any], ctx: ToolContext) -> str:
        start = _int(args, "start", 1)
        end = _int(args, "end", None)
        if end is not None and end < start:
            raise ToolError(f"'end' ({end}) is before 'start' ({start})")
        return await asyncio.to_thread(self._read, args["path"], start, end, ctx)

    @staticmethod
    def _read(path: str, start: int, end: int | None, ctx: ToolContext) -> str:
        resolved = existing_file(ctx, path)
        rel = ctx.project.rel(resolved)
        lines = ctx.project.scrub(read_text(resolved, rel), rel).splitlines(keepends=True)
        total = len(lines)
        if total == 0:
            return f"{rel} is empty"
        if start > total:
            raise ToolError(f"{rel} has {total} lines; start={start} is past its end")
        last = min(end or total, total)
        # Stop short of the output cap, at a whole line, and say where to go on from.
        budget = max(ctx.output_chars - 200, 200)
        taken, used = [], 0
        for n in range(start, last + 1):
            line = lines[n - 1]
            if taken and used + len(line) > budget:
                last = n - 1
                break
            taken.append(line)
            used += len(line)
        head = f"{rel} lines {start}-{last} of {total}:\n"
        more = f"\n… more from line {last + 1} (read_file with start={last + 1})" if last < min(end or total, total) else ""
        return head + "".join(taken) + more


def _matcher(pattern: str | None):
    """A glob as in .gitignore: `*.py` at any depth, `src/**/*.ts` from the root."""
    if not pattern or pattern.strip() in ("*", "**", "."):
        return lambda rel: True
    try:
        spec = pathspec.GitIgnoreSpec.from_lines([pattern.strip()])
    except (ValueError, TypeError) as exc:
        raise ToolError(f"bad glob {pattern!r}: {exc}") from None
    return spec.match_file


class ListFiles(ReadOnlyTool):
    spec = ToolSpec(
        "list_files",
        "List project files matching a glob such as **/*.py.",
        {"type": "object", "properties": {"pattern": {"type": "string"}}},
        read_only=True,
    )

    async def call(self, args: dict[str, Any], ctx: ToolContext) -> str:
        match = _matcher(args.get("pattern"))
        found = await asyncio.to_thread(lambda: [e.rel for e in ctx.project.walk() if match(e.rel)])
        if not found:
            return f"no files match {args.get('pattern')!r}"
        shown = found[:LIST_MAX]
        more = f"\n… and {len(found) - LIST_MAX} more (narrow the pattern)" if len(found) > LIST_MAX else ""
        return "\n".join(shown) + more


class Grep(ReadOnlyTool):
    spec = ToolSpec(
        "grep",
        "Search files for a regex; gives path:line: text.",
        {"type": "object", "properties": {"pattern": {"type": "string"}, "glob": {"type": "string"}},
         "required": ["pattern"]},
        read_only=True,
    )

    async def call(self, args: dict[str, Any], ctx: ToolContext) -> str:
        try:
            regex = re.compile(args["pattern"])
        except re.error as exc:
            raise ToolError(f"bad regular expression {args['pattern']!r}: {exc}") from None
        match = _matcher(args.get("glob"))
        hits, more = await asyncio.to_thread(self._grep, regex, match, ctx)
        if not hits:
            return f"no match for {args['pattern']!r}"
        return "\n".join(hits) + (f"\n… stopped after {GREP_MAX} matches (narrow the search)" if more else "")

    @staticmethod
    def _grep(regex: re.Pattern, match, ctx: ToolContext) -> tuple[list[str], bool]:
        hits: list[str] = []
        for entry in ctx.project.walk():
            if not match(entry.rel):
                continue
            try:
                data = entry.path.read_bytes()
                if b"\0" in data[:8192]:
                    continue
                text = data.decode("utf-8")
            except (OSError, UnicodeDecodeError):
                continue
            for n, line in enumerate(text.splitlines(), 1):
                if regex.search(line):
                    if len(hits) == GREP_MAX:
                        return hits, True
                    shown = ctx.project.scrub(line, entry.rel).strip()[:GREP_LINE_CHARS]
                    hits.append(f"{entry.rel}:{n}: {shown}")
        return hits, False


class SearchCode(ReadOnlyTool):
    spec = ToolSpec(
        "search_code",
        "Find code relevant to a query (ranked search).",
        {"type": "object", "properties": {"query": {"type": "string"}}, "required": ["query"]},
        read_only=True,
    )

    async def call(self, args: dict[str, Any], ctx: ToolContext) -> str:
        query = args["query"].strip()
        if not query:
            raise ToolError("the query is empty")
        hits = await ctx.search(query, SEARCH_HITS * 2) if ctx.search else None
        if hits is None:
            # Not indexed (`coda ask` in a project never indexed): a plain scan for the
            # query's words still finds something, where a refusal would leave the model
            # with nothing to read.
            return await asyncio.to_thread(_scan, query, ctx)
        # The rules may have changed since the index was made (a file newly protected).
        hits = [h for h in hits if ctx.project.still_admitted(h.path)][:SEARCH_HITS]
        if not hits:
            return f"nothing found for {query!r}"
        out = []
        for h in hits:
            lines = h.text.splitlines()
            body = "\n".join(lines[:SEARCH_LINES])
            cut = f"\n… (to line {h.end_line})" if len(lines) > SEARCH_LINES else ""
            out.append(f"{h.path}:{h.start_line}-{h.end_line} {h.name}\n{body}{cut}")
        return "\n\n".join(out)
