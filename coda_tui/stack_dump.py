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
        out.write(f"task {task.get_name()} ({task.get_coro()!r}):\n")
        task.print_stack(file=out)
        out.write("\n")
    return out.getvalue()


def install(loop: asyncio.AbstractEventLoop) -> None:
    """Log a dump on SIGUSR1, from the event loop (its tasks are only seen from there)."""
    if not hasattr(signal, "SIGUSR1"):
        return
    try:
        loop.add_signal_handler(signal.SIGUSR1, lambda: log.warning("stack dump (SIGUSR1):\n%s", dump()))
    except (NotImplementedError, RuntimeError, ValueError):  # not the main thread, or no signals here
        pass
