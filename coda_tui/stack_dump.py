"""`kill -USR1 <pid>` writes what a running coda is doing to its log: every thread's stack
and every asyncio task's, where it is suspended. A hang with an idle event loop (a turn
awaiting something that never comes) shows nothing in a thread dump (py-spy, faulthandler):
the tasks' stacks are what say where it waits."""

from __future__ import annotations

import asyncio
import io
import logging
import signal
import sys
import threading
import traceback

log = logging.getLogger(__name__)


def dump() -> str:
    out = io.StringIO()
    names = {t.ident: t.name for t in threading.enumerate()}
    for ident, frame in sys._current_frames().items():
        out.write(f"thread {names.get(ident, ident)}:\n{''.join(traceback.format_stack(frame))}\n")
    try:
        tasks = asyncio.all_tasks()
    except RuntimeError:  # no running loop in this thread
        tasks = set()
    for task in tasks:
        out.write(f"task {task.get_name()}:\n{''.join(_awaiting(task.get_coro()))}\n")
    return out.getvalue()


def _awaiting(coro) -> list[str]:
    """Where a suspended coroutine is, and what it awaits, down the chain (Task.print_stack
    shows only the outermost frame)."""
    lines = []
    while coro is not None:
        frame = getattr(coro, "cr_frame", None) or getattr(coro, "gi_frame", None)
        if frame is not None:
            lines.append(f"  {frame.f_code.co_filename}:{frame.f_lineno} in {frame.f_code.co_name}\n")
        coro = getattr(coro, "cr_await", None) or getattr(coro, "gi_yieldfrom", None)
    return lines


def install(loop: asyncio.AbstractEventLoop) -> None:
    """Log a dump on SIGUSR1, from the event loop (its tasks are only seen from there)."""
    if not hasattr(signal, "SIGUSR1"):
        return
    try:
        loop.add_signal_handler(signal.SIGUSR1, lambda: log.warning("stack dump (SIGUSR1):\n%s", dump()))
    except (NotImplementedError, RuntimeError, ValueError):  # not the main thread, or no signals here
        pass
