"""Slash commands typed in the chat: `/analyze type:security`, `/explain level:advanced
src/app.py`, `/pipeline analyze | test @src/app.py`, `/apply`.

An operation acts on the file named in the command (a word with no ':'), else on the
file the code pane shows. Text that merely starts with a slash, such as a path
("/usr/bin is missing"), is a question, not a command.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from coda_tui.core.operations import OPERATIONS
from coda_tui.core.spec import Branch, Spec, SpecError, parse, step_from_args, tokenize
from coda_tui.errors import CodaError

COMMANDS = {**{name: op.help for name, op in OPERATIONS.items()},
            "pipeline": "run a pipeline spec or a workflow on the file (@PATH names another)",
            "apply": "write the last refactoring's diff to its file, after you confirm"}
_COMMAND = re.compile(r"^/([A-Za-z_]+)(?=\s|$)")


class SlashError(CodaError):
    """A command that cannot run as typed; the message says what to type instead."""


@dataclass
class SlashCommand:
    name: str
    spec: Spec | None = None
    path: str | None = None


def is_command(text: str) -> bool:
    return bool(_COMMAND.match(text.strip()))


def parse_command(text: str, workflows: dict[str, str] | None = None) -> SlashCommand:
    """Raises SlashError for an unknown command, SpecError (positions within the command's
    arguments) for bad parameters or a bad spec."""
    text = text.strip()
    m = _COMMAND.match(text)
    if not m:
        raise SlashError("not a command: commands start with '/' and a name, e.g. /analyze")
    name, rest = m.group(1), text[m.end():].strip()
    if name not in COMMANDS:
        close = difflib.get_close_matches(name, list(COMMANDS), n=1)
        hint = f"did you mean /{close[0]}? " if close else ""
        raise SlashError(f"unknown command /{name}: {hint}commands: " + ", ".join(f"/{c}" for c in COMMANDS))
    if name == "apply":
        if rest:
            raise SlashError("/apply takes nothing: it applies the last refactoring shown")
        return SlashCommand(name)
    if name == "pipeline":
        words = rest.split()
        path = None
        if words and words[-1].startswith("@"):
            path = words[-1][1:]
            rest = rest[: rest.rfind(words[-1])].rstrip()
        if not rest:
            raise SlashError("/pipeline needs a spec or a workflow name, e.g. /pipeline analyze | test")
        return SlashCommand(name, parse(rest, workflows), path or None)
    params, paths = [], []
    for tok in tokenize(rest):
        if tok.kind != "word":
            raise SpecError(f"/{name} runs one operation; chain them with /pipeline", rest, tok.pos)
        word = tok.text.removeprefix("@")
        (params if ":" in tok.text and not tok.text.startswith("@") else paths).append(word)
    if len(paths) > 1:
        raise SlashError(f"/{name} works on one file; got {', '.join(paths)}")
    step = step_from_args(name, params)
    return SlashCommand(name, Spec(step.label, [[Branch(step)]]), paths[0] if paths else None)
