"""Reading the small TOML files users edit (keymaps, themes) and pointing at their lines.

tomllib keeps no positions, so a problem found after parsing is located by scanning the
text for the key, the same way config.py does for the main config file.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from pathlib import Path
from typing import Any, Iterable

from coda_tui.config import ConfigError


class UserFileError(ConfigError):
    """A problem in a user-editable TOML file, naming the file, the line and the key.

    A ConfigError, so the CLI reports it like any other configuration mistake (status 2).
    """

    noun = "file"

    def __init__(
        self,
        problem: str,
        *,
        path: Path | str | None = None,
        line: int | None = None,
        key: str | None = None,
        expected: str | None = None,
        hint: str | None = None,
        field: str = "key",
    ) -> None:
        # `field` says what `key` is ("action" in a keymap's [bindings], "key" elsewhere);
        # `hint` is a suggestion such as "did you mean 'quit'?".
        self.field = field
        self.hint = hint
        super().__init__(problem, path=path, line=line, key=key, expected=expected)

    def render(self) -> str:
        where = [f"{self.noun} {self.path}" if self.path else self.noun]
        if self.line:
            where.append(f"line {self.line}")
        if self.key:
            where.append(f"{self.field} '{self.key}'")
        text = ", ".join(where) + f": {self.problem}"
        notes = [n for n in (self.hint, self.expected and f"expected {self.expected}") if n]
        if notes:
            text += f" ({' '.join(notes)})"
        return text


def read_toml(path: Path, error: type[UserFileError]) -> tuple[dict[str, Any], str]:
    """The parsed table and the raw text of `path`; every failure is an `error`."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise error("file not found", path=path, expected="an existing .toml file") from None
    except (OSError, UnicodeError) as exc:
        raise error(f"cannot read the file: {exc}", path=path) from None
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"line (\d+)", str(exc))
        line = int(m.group(1)) if m else None
        raise error(f"invalid TOML: {exc}", path=path, line=line, expected="valid TOML") from None


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
