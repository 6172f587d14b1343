"""Does a question earn tools? Decided before the first round, without the model, for a
model that cannot decide it itself.

The embedded SmolLM2-135M cannot choose under tool_choice "auto": it calls a tool every
round, the same call again after its result (measured), and each token of a grammar-
constrained choice costs ~300 ms on two cores. So LlamaCppProvider plans its rounds (search
first, then answer). That plan is right for "which function parses the arguments?" and
wrong for "Say hi": offered on every question, it turned a greeting into a forced search, a
3,000-character result read back at one batch thread, a 12.8 s first token (25× bare
llama.cpp) and an answer about test_themes.py (issue 15).

A question earns the plan when it asks about the project in words ("which function", "in
this repo", "where is … defined", "read it") or names a file or identifier the project has.
It does not when the context stage already put in the prompt search hits for every file and
identifier it names: the search the plan forces is the same search (search_code asks the same
index), so it would only fetch them again. Everything here is deterministic: regular expressions, the context stage's
selection, and a bounded look at the project's files.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from coda_tui.config import Config
from coda_tui.context.index import Hit
from coda_tui.context.project import Project, SandboxError

# The shapes the context stage uses to spot code in a question (context.select): snake_case,
# camelCase, dotted names, calls; `backticked`; file names with a suffix.
from coda_tui.context.select import _BACKTICKED, _CODE_SHAPED, _FILE_NAMED, Selection
from coda_tui.providers.types import TYPES

_ASKS_ABOUT_PROJECT = re.compile(
    r"""\b(?:this|our|my)\s+(?:project|repo|repository|codebase|code\s*base|code|source|package|app|module)\b
      | \bthe\s+(?:project|repo|repository|codebase|code\s*base|source\s+code)\b
      | \bin\s+the\s+(?:code|source|sources)\b
      | \bwhich\s+(?:function|method|class|file|module|test|variable|constant|option|command|endpoint|setting)s?\b
      | \bwhere\s+(?:is|are|do|does|did)\b[^?.!]*?\b(?:defined|declared|implemented|used|called|raised|handled
                                                  |configured|created|registered|imported|parsed)\b
      | \b(?:read|open)\s+(?:it|them|the\s+(?:file|code|function|class|source))\b
      | \bgit\s+(?:status|diff|log)\b | \buncommitted\b""",
    re.IGNORECASE | re.VERBOSE,
)
# The look for named files and identifiers stops here, so a question in a huge folder that
# was never indexed costs at most ~0.3 s (0.14 ms a file to walk, measured on this repository).
SCAN_FILES = 2_000
SCAN_BYTES = 8 << 20


@dataclass(frozen=True)
class Verdict:
    offer: bool  # offer the tools (the search-first plan)
    why: str  # one line for the trace


def applies(config: Config, provider: str) -> bool:
    """Is the provider's tool use planned rather than chosen by its model? Only then does
    the question decide; a model with a `tool_choice` setting (a bigger one) chooses."""
    pc = config.provider(provider)
    return TYPES[pc.type].plans_tools and not pc.tool_choice


def judge(question: str, project: Project, selection: Selection | None = None,
          found: list[Hit] | None = None) -> Verdict:
    """`selection`: what the context stage put in the prompt; `found`: its search hits
    (None when the project has no index)."""
    files, identifiers = named(question)
    in_prompt = [a for a in (selection.items if selection else ()) if a.source == "search"]
    if (files or identifiers) and _shown(files, identifiers, in_prompt):
        n = len(in_prompt)
        return Verdict(False, f"the context holds {n} search hit{'' if n == 1 else 's'} for what it names")
    asked = _ASKS_ABOUT_PROJECT.search(question)
    if asked:
        return Verdict(True, f'asks "{" ".join(asked.group(0).split())}"')
    if not files and not identifiers:
        listed = next((a.label_path for a in (selection.items if selection else ()) if a.source == "listing"), None)
        return Verdict(False, f"the context lists {listed}, which it names" if listed else "names nothing in the project")
    if found is not None:
        # The index answered for the question's words: what it has of them is in its hits.
        known = next((i for i in sorted(identifiers) if any(i in h.text for h in found)), None)
        if known:
            return Verdict(True, f"names {known}, in the project")
    hit = _present(project, files, identifiers, found is None)
    if hit:
        return Verdict(True, f"names {hit}, in the project")
    return Verdict(False, "what it names is not in the project")


def named(question: str) -> tuple[set[str], set[str]]:
    """(file names, identifiers) the question writes as code."""
    files = {f.strip("./") for f in _FILE_NAMED.findall(question) if f.strip("./")}
    shaped = set(_CODE_SHAPED.findall(question)) | set(_BACKTICKED.findall(question))
    identifiers = {s.removesuffix("()") for s in shaped if not _FILE_NAMED.fullmatch(s)}
    return files, {i for i in identifiers if re.fullmatch(r"[A-Za-z_][\w.]*", i)}


def _shown(files: set[str], identifiers: set[str], hits: list) -> bool:
    """Is every named file and identifier in the hits the context put in the prompt? Only
    names written as code count: a hit taken for a plain word of the question (click's
    `command`, for "which function parses the command line?") leaves the search to do."""
    shown_files = {Path(a.label_path or "").name for a in hits}
    return (all(Path(f).name in shown_files for f in files)
            and all(any(re.search(rf"\b{re.escape(i)}\b", a.text) for a in hits) for i in identifiers))


def _present(project: Project, files: set[str], identifiers: set[str], scan_text: bool) -> str | None:
    """The first named file or identifier the project has; identifiers are looked for in
    the files' text only when `scan_text` (no index answered for them)."""
    for name in sorted(files):
        if "/" in name and _is_file(project, name):
            return name
    bases = {Path(f).name: f for f in files}
    wanted = [i.encode() for i in sorted(identifiers)] if scan_text else []
    if not bases and not wanted:
        return None
    read = 0
    for n, entry in enumerate(_walk(project)):
        if n >= SCAN_FILES or read >= SCAN_BYTES:
            break
        if entry.path.name in bases:
            return bases[entry.path.name]
        if wanted:
            try:
                data = entry.path.read_bytes()
            except OSError:
                continue
            read += len(data)
            for word in wanted:
                if word in data:
                    return word.decode()
    return None


def _is_file(project: Project, rel: str) -> bool:
    try:
        project.check(project.root / rel)
    except SandboxError:  # no such file, outside the project, or protected: not one it may read
        return False
    return True


def _walk(project: Project) -> Iterable:
    try:
        yield from project.walk()
    except OSError:
        return
