"""Reading the TOML files users edit (the config, keymaps, themes) and pointing at their lines.

tomllib keeps no positions, so a problem found after parsing is located by scanning the
text for the key.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from pathlib import Path
from typing import Any, Iterable

from coda_tui.errors import CodaError

# Deeper than any file coda reads needs; tomllib recurses per level and would hit Python's
# recursion limit (a traceback) on a few thousand.
MAX_DEPTH = 16


class ConfigError(CodaError):
    """A configuration problem a user can fix; the CLI prints it and exits with status 2.

    It blames where the value came from: a file (path, line, key), an environment
    variable (`env`), or neither when the value is coda's own default.
    """

    def __init__(
        self,
        problem: str,
        *,
        path: Path | str | None = None,
        line: int | None = None,
        key: str | None = None,
        expected: str | None = None,
        hint: str | None = None,
        env: str | None = None,
    ) -> None:
        self.problem = problem
        self.path = Path(path) if path else None
        self.line = line
        self.key = key
        self.expected = expected
        # A suggestion such as "did you mean 'quit'?".
        self.hint = hint
        self.env = env
        super().__init__(self.render())

    exit_code = 2

    def notes(self) -> str:
        notes = [n for n in (self.hint, self.expected and f"expected {self.expected}") if n]
        return f" ({'; '.join(notes)})" if notes else ""

    def render(self) -> str:
        where = []
        if self.env:
            where.append(f"environment variable {self.env}")
        if self.path:
            where.append(str(self.path))
        if self.line:
            where.append(f"line {self.line}")
        if self.key:
            where.append(f"key '{self.key}'")
        text = "config error"
        if where:
            text += " in " + ", ".join(where)
        return text + f": {self.problem}" + self.notes()


class UserFileError(ConfigError):
    """A problem in a user-editable TOML file, naming the file, the line and the key.

    A ConfigError, so the CLI reports it like any other configuration mistake (status 2).
    """

    noun = "file"

    def __init__(self, problem: str, *, field: str = "key", **where: Any) -> None:
        # `field` says what `key` is ("action" in a keymap's [bindings], "key" elsewhere).
        self.field = field
        super().__init__(problem, **where)

    def render(self) -> str:
        where = [f"{self.noun} {self.path}" if self.path else self.noun]
        if self.line:
            where.append(f"line {self.line}")
        if self.key:
            where.append(f"{self.field} '{self.key}'")
        return ", ".join(where) + f": {self.problem}" + self.notes()


def read_toml(path: Path, error: type[ConfigError]) -> tuple[dict[str, Any], str]:
    """The parsed table and the raw text of `path`; every failure is an `error`."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise error("file not found", path=path, expected="an existing .toml file") from None
    except (OSError, UnicodeError) as exc:
        raise error(f"cannot read the file: {exc}", path=path) from None
    too_deep = f"nested more than {MAX_DEPTH} levels deep"
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"line (\d+)", str(exc))
        line = int(m.group(1)) if m else None
        raise error(f"invalid TOML: {exc}", path=path, line=line, expected="valid TOML") from None
    except RecursionError:
        raw = None
    if raw is None or depth(raw) > MAX_DEPTH:
        raise error(too_deep, path=path, line=_nesting_line(text, MAX_DEPTH)) from None
    return raw, text


def _nesting_line(text: str, limit: int) -> int | None:
    """The line where arrays and inline tables first nest deeper than `limit`, for the
    error (strings and comments are skipped roughly: it only points at a line). None for
    nesting by dotted keys."""
    level = 0
    for i, line in enumerate(text.splitlines(), 1):
        quote = None
        for ch in line:
            if quote:
                if ch == quote:
                    quote = None
            elif ch in "\"'":
                quote = ch
            elif ch == "#":
                break
            elif ch in "[{":
                level += 1
                if level > limit:
                    return i
            elif ch in "]}":
                level = max(0, level - 1)
    return None


def depth(value: Any) -> int:
    """How deeply lists and tables nest in `value`, without recursion (that is the point)."""
    deepest = 0
    stack = [(value, 0)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            item = list(item.values())
        elif not isinstance(item, list):
            continue
        level += 1
        deepest = max(deepest, level)
        if deepest > MAX_DEPTH:
            return deepest
        stack.extend((v, level) for v in item)
    return deepest


_HEADER = re.compile(r"^\s*\[\s*([^\[\]]+?)\s*\]\s*(#.*)?$")


class Locator:
    """Finds the line a key was written on (1-based), or None when it cannot tell."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()

    def key(self, table: str, key: str | None, *, or_header: bool = True) -> int | None:
        """`key` inside `[table]` ("" is the top level); else (or without `key`) the header."""
        current = ""
        header_line = None
        assign = self._assignment(key) if key is not None else None
        for i, line in enumerate(self.lines, 1):
            m = _HEADER.match(line)
            if m:
                current = ".".join(p.strip().strip("\"'") for p in m.group(1).split("."))
                if table and current == table and header_line is None:
                    header_line = i
                continue
            if assign and current == table and assign.match(line):
                return i
        if assign:
            # Dotted (`bindings.quit = ...`) or inline-table (`bindings = {quit = ...}`) forms.
            dotted = re.compile(rf"^\s*{re.escape(table)}\s*\.\s*[\"']?{re.escape(key)}[\"']?\s*=") if table else None
            inline = re.compile(rf"[{{,]\s*[\"']?{re.escape(key)}[\"']?\s*=")
            for i, line in enumerate(self.lines, 1):
                if (dotted and dotted.match(line)) or (table and inline.search(line)):
                    return i
        return header_line if or_header or key is None else None

    def value(self, start: int | None, literal: str) -> int | None:
        """The first line from `start` on that holds the string `literal` in quotes."""
        if start is None:
            return None
        quoted = (f'"{literal}"', f"'{literal}'")
        for i in range(start, min(len(self.lines), start + 50) + 1):
            if any(q in self.lines[i - 1] for q in quoted):
                return i
        return start

    @staticmethod
    def _assignment(key: str) -> re.Pattern[str]:
        return re.compile(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*=")


def got(value: Any) -> str:
    """"got an integer 3", "got a table": what a user wrote, in words, for an error."""
    kinds = {bool: "a boolean", int: "an integer", float: "a number", str: "a string",
             list: "a list", dict: "a table"}
    kind = kinds.get(type(value), type(value).__name__)
    if isinstance(value, (list, dict)):
        return f"got {kind}"
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"got {kind} {text}"


def choices(word: str, options: Iterable[str]) -> dict[str, str]:
    """`hint`/`expected` keyword arguments for an error about an unknown `word`."""
    options = list(options)
    close = difflib.get_close_matches(word, options, n=1)
    if close:
        return {"hint": f"did you mean '{close[0]}'?"}
    return {"expected": "one of: " + ", ".join(options)}


def did_you_mean(word: str, options: Iterable[str]) -> str | None:
    close = difflib.get_close_matches(word, list(options), n=1)
    return f"did you mean '{close[0]}'?" if close else None
