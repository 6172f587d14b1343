"""The terminal the TUI draws on, kept apart from file descriptor 2.

Textual draws on sys.__stderr__ (fd 2). C libraries — PortAudio, ALSA, JACK, and any
other native code — also write to fd 2, from threads, at any moment, and one such line garbles the screen. For
the app's run, fd 2 is pointed at a log file and Textual is handed a duplicate of the
terminal instead; afterwards both are put back, so a crash after exit still prints.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from coda_tui.voice.quiet import redirect_native_stderr, restore_native_stderr


@contextmanager
def screen_apart_from_stderr() -> Iterator[None]:
    original = sys.__stderr__
    if original is None or not original.isatty():
        yield
        return
    terminal_fd = redirect_native_stderr()
    try:
        terminal = os.fdopen(terminal_fd, "w", buffering=1, encoding=original.encoding,
                             errors=original.errors, closefd=False)
    except BaseException:
        restore_native_stderr(terminal_fd)
        raise
    sys.__stderr__ = terminal
    sys.stderr = terminal
    try:
        yield
    finally:
        terminal.flush()
        sys.__stderr__ = sys.stderr = original
        restore_native_stderr(terminal_fd)
