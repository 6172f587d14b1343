"""Keeping C libraries' chatter off the terminal.

PortAudio, ALSA and JACK print diagnostics straight to file descriptor 2 from C, where Python's sys.stderr cannot catch them; on a TUI's screen they garble everything,
and in `coda listen 2>errors.txt` they bury the one line that matters. Around the calls that
print, fd 2 is pointed at a log file instead. The TUI points fd 2 there for its whole run
and draws on a duplicate of the terminal (see ui/terminal.py).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_lock = threading.Lock()


def chatter_log() -> Path:
    from coda_tui.paths import data_dir

    path = data_dir() / "logs" / "native-stderr.log"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


MAX_LOG_BYTES = 1_000_000


def _open_sink() -> int:
    try:
        path = chatter_log()
        # Every PortAudio start prints the same lines again: keep only the recent ones.
        fresh = os.O_TRUNC if path.exists() and path.stat().st_size > MAX_LOG_BYTES else 0
        return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | fresh, 0o600)
    except OSError:
        return os.open(os.devnull, os.O_WRONLY)


@contextmanager
def native_stderr_quiet() -> Iterator[None]:
    with _lock:
        saved = os.dup(2)
        sink = _open_sink()
        try:
            os.dup2(sink, 2)
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            os.close(sink)


def redirect_native_stderr() -> int:
    """Point fd 2 at the chatter log for good and return a new descriptor for the terminal
    that fd 2 was. The TUI hands that one to Textual to draw on."""
    terminal = os.dup(2)
    sink = _open_sink()
    os.dup2(sink, 2)
    os.close(sink)
    return terminal


def restore_native_stderr(terminal: int) -> None:
    os.dup2(terminal, 2)
    os.close(terminal)
