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
from coda_tui.redact import Redactor
from coda_tui.store.facts import FactStore

MAX_ROW_ID = 2**63 - 1  # SQLite's largest integer: a larger id names no row

COMMANDS = {**{name: op.help for name, op in OPERATIONS.items()},
            "pipeline": "run a pipeline spec or a workflow on the file (@PATH names another)",
            "apply": "write the last refactoring's diff to its file, after you confirm",
            "remember": "keep a fact for every later turn of this project (--global: of every project)",
            "forget": "remove a remembered fact by its id; with no id, list them",
            "undo": "restore the files the last turn's tools changed (refused if one changed since)",
            "help": "list these commands, one line each"}
_COMMAND = re.compile(r"^/([A-Za-z_]+)(?=\s|$)")


class SlashError(CodaError):
    """A command that cannot run as typed; the message says what to type instead."""


@dataclass
class SlashCommand:
    name: str
    spec: Spec | None = None
    path: str | None = None
    text: str = ""  # /remember's fact, /forget's id
    everywhere: bool = False  # /remember --global


def unknown_command(word: str) -> SlashError:
    """The one-line refusal of `word` (what was typed up to the first space), naming the
    closest command and listing them all."""
    name = re.match(r"/*([A-Za-z_]*)", word).group(1)
    close = difflib.get_close_matches(name, list(COMMANDS), n=1) if name else []
    hint = f"did you mean /{close[0]}? " if close else ""
    return SlashError(f"unknown command {word}: {hint}commands: " + ", ".join(f"/{c}" for c in COMMANDS))


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
        raise unknown_command(f"/{name}")
    if name == "help":
        return SlashCommand(name)
    if name == "apply":
        if rest:
            raise SlashError("/apply takes nothing: it applies the last refactoring shown")
        return SlashCommand(name)
    if name == "undo":
        if rest:
            raise SlashError("/undo takes nothing: it restores the last turn's edits")
        return SlashCommand(name)
    if name == "remember":
        first, _, after = rest.partition(" ")
        everywhere = first == "--global"
        text = after.strip() if everywhere else rest
        if not text:
            raise SlashError("/remember needs the fact, e.g. /remember tests run with pytest -q")
        return SlashCommand(name, text=text, everywhere=everywhere)
    if name == "forget":
        if rest and not (rest.isascii() and rest.isdigit()):
            raise SlashError("/forget takes a fact's id (/forget alone lists them)")
        return SlashCommand(name, text=rest)
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


def run_fact_command(command: SlashCommand, facts: FactStore, project: str, redact: Redactor) -> str:
    """/remember and /forget, against the facts of `project` (its root directory); the
    reply is one short text for the chat. A configured key typed into a fact is masked
    before it is stored, as it is in a question."""
    if command.name == "remember":
        fact = facts.add(redact.exact(command.text), None if command.everywhere else project)
        return f"remembered fact #{fact.id} ({fact.scope}): every later turn includes it"
    if command.text:
        fact = facts.get(int(command.text)) if int(command.text) <= MAX_ROW_ID else None
        if fact is None or fact.project not in (None, project):
            raise SlashError(f"no fact #{command.text} here (/forget alone lists them)")
        facts.remove(fact.id)
        return f"forgot fact #{fact.id}: {fact.text}"
    listed = facts.for_project(project)
    if not listed:
        return "no facts yet: /remember TEXT keeps one"
    return "\n".join(f"#{f.id} ({f.scope}) {f.text}" for f in listed) + "\n/forget ID removes one"
