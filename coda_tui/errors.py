"""The root of every error a user is meant to read.

Each carries one line saying what went wrong (`message`), what to do about it (`hint`) and
the exit status the CLI ends with (`exit_code`: 2 for something the user typed or wrote
in a file, 1 otherwise). The CLI and the app catch this one class instead of a tuple of
unrelated ones, so a new kind of failure is reported the day it is added.
"""

from __future__ import annotations


class CodaError(Exception):
    exit_code = 1
    hint = ""

    def __init__(self, message: str = "", hint: str | None = None, exit_code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        # Left alone when not given: a subclass may have set its own before calling up.
        if hint is not None:
            self.hint = hint
        if exit_code is not None:
            self.exit_code = exit_code

    def render(self) -> str:
        return f"{self.message} — {self.hint}" if self.hint else self.message

    def __str__(self) -> str:
        return self.render()
