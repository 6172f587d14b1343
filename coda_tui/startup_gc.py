"""Garbage collection held off while coda starts.

Starting makes some 100,000 objects (modules, classes, styles, widgets) that live as long as
the process; the collector would walk them again and again while they are made (~80 ms of
the TUI's start on a 2-core machine) and find nothing to free. `hold()` stops it before the
imports; `resume()` moves everything made so far out of its reach for good (gc.freeze) and
starts it again: the TUI calls it once its first frame is drawn, the other commands before
they run.
"""

from __future__ import annotations

import gc

_held = False


def hold() -> None:
    global _held
    if gc.isenabled():
        gc.disable()
        _held = True


def resume() -> None:
    """Idempotent; does nothing unless hold() stopped the collector."""
    global _held
    if _held:
        _held = False
        gc.freeze()
        gc.enable()
