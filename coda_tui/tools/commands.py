"""The tools that run programs in the project: run_command, git_diff, git_status.

Each runs in the project root, in its own process group (a timeout or a cancelled turn
kills the command and whatever it started), with no terminal input (a command waiting for
input would otherwise sit until the timeout), and in an environment without API keys or
tokens: a command the model wrote must not be able to read them. Output is kept within a
bound while it streams (head and tail: a build's error is usually at its end).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Iterable, Mapping
from typing import Any

from coda_tui.tools.base import Preview, ToolContext, ToolError, ToolSpec
from coda_tui.tools.files import ReadOnlyTool

# Variables whose names say they hold a credential.
_SECRET_SUFFIXES = ("_API_KEY", "_APIKEY", "_TOKEN", "_SECRET", "_SECRET_KEY", "_ACCESS_KEY", "_PASSWORD")
_SECRET_NAMES = {"API_KEY", "TOKEN", "SECRET", "PASSWORD"}
# Nothing a tool runs may wait on a pager or a password prompt.
_NO_PROMPTS = {"PAGER": "cat", "GIT_PAGER": "cat", "GIT_TERMINAL_PROMPT": "0"}


def clean_env(environ: Mapping[str, str], secrets: Iterable[str] = ()) -> dict[str, str]:
    """`environ` without credentials: variables named like keys or tokens, and any whose
    value holds a configured key (a base URL with a password in it, say)."""
    known = [s for s in secrets if s]
    out = {}
    for name, value in environ.items():
        upper = name.upper()
        if upper in _SECRET_NAMES or upper.endswith(_SECRET_SUFFIXES):
            continue
        if any(s in value for s in known):
            continue
        out[name] = value
    return {**out, **_NO_PROMPTS}


class _Capped:
    """A stream's bytes, at most `limit` of them kept: the first half and the last half."""

    def __init__(self, limit: int) -> None:
        self.half = max(limit // 2, 256)
        self.head = bytearray()
        self.tail = bytearray()
        self.total = 0

    def add(self, data: bytes) -> None:
        self.total += len(data)
        room = self.half - len(self.head)
        if room > 0:
            self.head += data[:room]
            data = data[room:]
        if data:
            self.tail += data
            del self.tail[: max(len(self.tail) - self.half, 0)]

    def text(self) -> str:
        head = self.head.decode("utf-8", "replace")
        if not self.tail:
            return head
        dropped = self.total - len(self.head) - len(self.tail)
        gap = f"\n… [{dropped:,} bytes of output not shown]\n" if dropped else ""
        return head + gap + self.tail.decode("utf-8", "replace")


async def run(argv: list[str] | str, ctx: ToolContext) -> tuple[int, str]:
    """(exit status, output) of a command in the project root; a shell line when `argv` is
    a string. ToolError on timeout (with the output so far)."""
    env = ctx.env if ctx.env is not None else clean_env(os.environ)
    common = {"cwd": ctx.project.root, "env": env, "stdin": asyncio.subprocess.DEVNULL,
              "stdout": asyncio.subprocess.PIPE, "stderr": asyncio.subprocess.STDOUT, "start_new_session": True}
    try:
        if isinstance(argv, str):
            proc = await asyncio.create_subprocess_shell(argv, **common)
        else:
            proc = await asyncio.create_subprocess_exec(*argv, **common)
    except OSError as exc:
        raise ToolError(f"cannot run {argv if isinstance(argv, str) else argv[0]}: {exc.strerror}") from None
    out = _Capped(ctx.output_chars)

    async def drain() -> int:
        while chunk := await proc.stdout.read(65536):
            out.add(chunk)
        return await proc.wait()

    try:
        code = await asyncio.wait_for(drain(), ctx.command_timeout_s)
    except TimeoutError:
        _kill(proc)
        await proc.wait()
        raise ToolError(f"timed out after {ctx.command_timeout_s:g} s and was stopped; output so far:\n{out.text()}") from None
    except BaseException:
        _kill(proc)  # a cancelled turn stops the command too
        with contextlib.suppress(asyncio.CancelledError):
            # Reaped before the loop goes: a process left to the garbage collector
            # would be closed on a loop that no longer runs.
            await asyncio.shield(proc.wait())
        raise
    finally:
        # The command is done, but what it started in the background must not live on.
        _kill(proc)
    return code, ctx.project.scrub(out.text())


def _kill(proc: asyncio.subprocess.Process) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


class RunCommand:
    spec = ToolSpec(
        "run_command",
        "Run a shell command in the project root.",
        {"type": "object", "properties": {"command": {"type": "string"}}, "required": ["command"]},
        read_only=False,
    )

    @staticmethod
    def _command(args: dict[str, Any]) -> str:
        command = args["command"].strip()
        if not command:
            raise ToolError("the command is empty")
        return command

    async def preview(self, args: dict[str, Any], ctx: ToolContext) -> Preview:
        command = self._command(args)
        return Preview("command", f"run: {command}", command)

    async def call(self, args: dict[str, Any], ctx: ToolContext) -> str:
        code, output = await run(self._command(args), ctx)
        return f"exit status {code}\n{output}" if output else f"exit status {code} (no output)"


async def _git(args: list[str], ctx: ToolContext) -> str:
    code, output = await run(["git", "--no-pager", *args], ctx)
    if code != 0:
        line = output.strip().splitlines()[-1] if output.strip() else f"exit status {code}"
        raise ToolError(f"git {args[0]} failed: {line}")
    return output


class GitStatus(ReadOnlyTool):
    spec = ToolSpec(
        "git_status",
        "Show git status: branch, changed and untracked files.",
        {"type": "object", "properties": {}},
        read_only=True,
    )

    async def call(self, args: dict[str, Any], ctx: ToolContext) -> str:
        return await _git(["status", "--short", "--branch"], ctx)


class GitDiff(ReadOnlyTool):
    spec = ToolSpec(
        "git_diff",
        "Show uncommitted changes (git diff).",
        {"type": "object", "properties": {"path": {"type": "string"}, "staged": {"type": "boolean"}}},
        read_only=True,
    )

    async def call(self, args: dict[str, Any], ctx: ToolContext) -> str:
        project = ctx.project
        staged = ["--cached"] if args.get("staged") else []
        prefix = ""
        if args.get("path"):
            # The file may be deleted, so it is judged by name, not resolved.
            p = os.path.normpath(project.root / os.path.expanduser(args["path"]))
            if not (p == str(project.root) or p.startswith(str(project.root) + os.sep)):
                raise ToolError(f"{args['path']} is outside the project {project.root}")
            prefix = os.path.relpath(p, project.root).replace(os.sep, "/")
            prefix = "" if prefix == "." else prefix
            if prefix and project.is_denied(prefix):
                raise ToolError(f"{prefix} matches a protected pattern (secrets, keys, .env) and is never shown")
        names = (await _git(["diff", "--relative", "--name-only", "-z", *staged], ctx)).split("\0")
        names = [n for n in names if n and (not prefix or n == prefix or n.startswith(prefix.rstrip("/") + "/"))]
        # A protected file's changes would show its contents: left out, and said so.
        shown = [n for n in names if not project.is_denied(n)]
        hidden = len(names) - len(shown)
        note = f"({hidden} protected file(s) not shown)" if hidden else ""
        if not shown:
            return note or "no changes"
        diff = await _git(["diff", "--relative", "--no-color", *staged, "--", *shown], ctx)
        return diff + (f"\n{note}" if note else "")
