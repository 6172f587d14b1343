"""The contract every tool keeps, whatever its source (built-in, MCP server, plugin).

A tool is a name, a one-line description and a JSON schema the model sees, a read-only
flag that decides whether it may run without asking, and an async `call`. A call that
cannot be done raises ToolError: its message goes back to the model as the tool's result
(marked as an error), so a bad path or a malformed argument never ends the turn.

Nothing here imports Textual or a provider library: the loop (core), the app and the CLI
share it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Awaitable, Callable, Literal, Protocol

from coda_tui.errors import CodaError
from coda_tui.providers.base import ToolCall

if TYPE_CHECKING:
    from coda_tui.context.index import Hit
    from coda_tui.context.project import Project
    from coda_tui.tools.undo import Journal

# What a finished call came to: ok, failed (the tool's error went back to the model),
# denied (consent said no, or a deny rule), cancelled (the user stopped the turn).
ToolStatus = Literal["ok", "error", "denied", "cancelled"]
# What consent is asked about: a change to a file (a diff is shown), a command to run, or an
# MCP/plugin tool that says it is not read-only (its arguments are shown).
ConsentKind = Literal["edit", "write", "command", "other"]
# The answer to a consent request: once yes, no, or yes for the rest of this session.
ConsentAnswer = Literal["yes", "no", "always"]


class ToolError(CodaError):
    """A call that could not be done; `message` is what the model reads back."""


@dataclass(frozen=True)
class ToolSpec:
    name: str  # as the model calls it: "read_file", or "SERVER.tool" for an MCP tool
    description: str  # one line
    parameters: dict  # a JSON schema of type "object"
    read_only: bool
    source: str = "builtin"  # builtin | mcp:SERVER | plugin:DISTRIBUTION

    @property
    def wire_name(self) -> str:
        """The name the model sees and calls: APIs allow only [A-Za-z0-9_-] in a function
        name, so an MCP tool "git.status" is offered as "git__status"."""
        return wire_name(self.name)

    def schema(self) -> dict:
        """The OpenAI-shaped function description providers translate from."""
        return {"type": "function",
                "function": {"name": self.wire_name, "description": self.description, "parameters": self.parameters}}


def wire_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "_", name.replace(".", "__"))[:64]


@dataclass
class ToolContext:
    """What a call may use. Every path goes through `project.check` (protected files,
    .gitignore'd secrets, symlinks out of the project are refused)."""

    project: Project
    # (query, how many) -> hits, best first; None when nothing is indexed yet.
    search: Callable[[str, int], Awaitable[list[Hit] | None]] | None = None
    output_chars: int = 8000
    command_timeout_s: float = 60.0
    # Environment for commands: the user's, minus every configured API key.
    env: dict[str, str] | None = None
    # The turn these calls belong to: `undo` takes back one turn's edits together. Without
    # one, each write is its own step to undo.
    turn: str | None = None
    # Where writes are recorded for undo; None records nothing (the backups are still made).
    journal: Journal | None = None


@dataclass
class Preview:
    """What consent shows before a change: a unified diff for edits and new files, the
    command line for a command, the arguments otherwise."""

    kind: ConsentKind
    title: str  # "edit coda_tui/app.py", "run: pytest -x"
    body: str  # the diff, command or arguments (text, made inert by whoever shows it)


@dataclass
class ToolOutput:
    """A call's result when it changed files: the text for the model, and each changed file
    with the backup of its original (None for a file the call created), for undo."""

    text: str
    changed: list[tuple[Path, Path | None]] = field(default_factory=list)


def arguments_preview(spec: ToolSpec, args: dict[str, Any]) -> Preview:
    """What consent shows for a call that changes no file and runs no command: its
    arguments (a read-only tool that a rule in [tools] ask makes ask)."""
    return Preview("other", f"{spec.name} {summarize_arguments(args)}".strip(),
                   json.dumps(args, indent=2, ensure_ascii=False))


class Tool(Protocol):
    spec: ToolSpec

    async def call(self, args: dict[str, Any], ctx: ToolContext) -> str | ToolOutput:
        """Do it; the returned text goes back to the model. Raise ToolError on failure."""
        ...

    async def preview(self, args: dict[str, Any], ctx: ToolContext) -> Preview:
        """What consent shows before the call runs (only asked of tools that are not
        read-only). Raise ToolError when the call cannot be done at all (the edit does not
        apply, the path is refused): the model is told at once, nobody is asked."""
        ...


@dataclass(frozen=True)
class ConsentRequest:
    call: ToolCall
    spec: ToolSpec
    preview: Preview


# The app shows a dialog, the CLI a prompt; without a terminal the answer is no.
Consent = Callable[[ConsentRequest], Awaitable[ConsentAnswer]]


@dataclass
class ToolResult:
    call: ToolCall
    status: ToolStatus
    content: str  # what the model reads back (the output, or the error's message)
    duration_ms: float = 0.0
    # Files this call changed, with where their originals were backed up (for undo).
    changed: list[tuple[Path, Path | None]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def parse_arguments(call: ToolCall, spec: ToolSpec) -> dict[str, Any]:
    """The call's arguments as a dict, checked against the schema's required keys and
    simple types; ToolError (which the model reads) when they are not usable."""
    text = call.arguments.strip() or "{}"
    try:
        args = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ToolError(f"arguments for {call.name} are not valid JSON ({exc.msg} at character {exc.pos})") from None
    if not isinstance(args, dict):
        raise ToolError(f"arguments for {call.name} must be a JSON object, got {type(args).__name__}")
    props = spec.parameters.get("properties", {})
    missing = [k for k in spec.parameters.get("required", []) if k not in args]
    if missing:
        raise ToolError(f"{call.name} needs {', '.join(missing)}")
    types = {"string": str, "integer": int, "number": (int, float), "boolean": bool, "array": list, "object": dict}
    for key, value in args.items():
        want = props.get(key, {}).get("type")
        if want in types and not (isinstance(value, types[want]) and not (want != "boolean" and isinstance(value, bool))):
            raise ToolError(f"{call.name}: '{key}' must be {want}, got {type(value).__name__}")
    return args


def summarize_arguments(args: dict[str, Any], limit: int = 60) -> str:
    """One short line for the trace and the chat: `path=app.py, start=10`."""
    parts = []
    for key, value in args.items():
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        text = " ".join(str(text).split())
        parts.append(f"{key}={text[:40]}{'…' if len(text) > 40 else ''}")
    line = ", ".join(parts)
    return line if len(line) <= limit else line[: limit - 1] + "…"
