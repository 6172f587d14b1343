"""`coda ask` and tools: each call one line on stderr while it runs, and consent asked at
the terminal (y / n / a). Everything a model or a tool wrote is made inert before it is
shown: a call's arguments and a diff are the model's text, and hostile to a terminal."""

from __future__ import annotations

import asyncio
import os
import sys
from typing import TextIO

import click

from coda_tui.core.choice import label
from coda_tui.core.events import ToolCallFinished, ToolCallStarted, ToolsUnavailable
from coda_tui.textsafe import inert
from coda_tui.tools.base import ConsentAnswer, ConsentRequest

ANSWERS: dict[str, ConsentAnswer] = {"y": "yes", "yes": "yes", "a": "always", "always": "always"}


def can_ask() -> bool:
    """Consent can be asked when a person is at the terminal: stdin to read the answer
    from, stderr to show the question on. Otherwise calls that must ask are not run."""
    return bool(sys.stdin and sys.stderr and sys.stdin.isatty() and sys.stderr.isatty())


class CallLines:
    """Shows each tool call on stderr: `coda: read_file path=x …` while it runs, the same
    line completed with its outcome when it ends (rewritten in place on a terminal, when
    nothing was written after it)."""

    def __init__(self, out: TextIO, err: TextIO) -> None:
        self.out = out
        self.err = err
        self.live = err.isatty()
        self.calls: dict[str, str] = {}
        self.open_line: str | None = None  # the call whose line is last on the terminal, unfinished
        self.out_at_line_start = True

    def wrote(self, text: str) -> None:
        """The answer's text went to stdout (a tool line must start on a line of its own)."""
        if text:
            self.out_at_line_start = text.endswith("\n")
            self.open_line = None

    def __call__(self, event) -> None:
        if isinstance(event, ToolCallStarted):
            self._started(event)
        elif isinstance(event, ToolCallFinished):
            self._finished(event)
        elif isinstance(event, ToolsUnavailable):
            self._line(f"coda: {inert(label(event.provider, event.model))} cannot call tools "
                       f"({inert(event.reason)}); answering without them")

    def _line(self, text: str) -> None:
        self._end_open()
        self.err.write(text + "\n")
        self.err.flush()

    def _end_open(self) -> None:
        if not self.out_at_line_start and self.out.isatty():
            self.out.write("\n")
            self.out.flush()
            self.out_at_line_start = True
        if self.open_line is not None:
            self.err.write("\n")
            self.open_line = None

    def _started(self, event: ToolCallStarted) -> None:
        head = f"coda: {inert(event.name)} {inert(event.arguments)}".rstrip()
        self.calls[event.call_id] = head
        if self.live:
            self._end_open()
            self.err.write(f"{head} …")
            self.err.flush()
            self.open_line = event.call_id

    def _finished(self, event: ToolCallFinished) -> None:
        head = self.calls.pop(event.call_id, f"coda: {inert(event.name)}")
        if event.status == "ok":
            outcome = f"ok, {event.result_chars:,} chars"
        else:
            outcome = f"{event.status}: {inert(event.excerpt[:100])}" if event.excerpt else event.status
        line = f"{head} → {outcome}, {event.duration_ms:.0f} ms"
        if self.live and self.open_line == event.call_id:
            self.err.write("\r\x1b[K" + line + "\n")
            self.err.flush()
            self.open_line = None
        else:
            self._line(line)


async def ask_at_terminal(request: ConsentRequest) -> ConsentAnswer:
    """Show what the call would do and read y / n / a from the terminal; anything else, or
    end of input, is no."""
    preview = request.preview
    click.echo(f"\ncoda: {inert(request.spec.name)} asks to {inert(preview.title)}", err=True)
    if preview.body.strip():
        for line in preview.body.rstrip("\n").splitlines():
            style = {"+": "green", "-": "red", "@": "cyan"}.get(line[:1]) if preview.kind in ("edit", "write") else None
            click.echo(click.style(inert(line), fg=style) if style else inert(line), err=True)
    sys.stderr.write("coda: allow? [y]es / [n]o / [a]lways this session: ")
    sys.stderr.flush()
    answer = (await read_line()).strip().lower()
    return ANSWERS.get(answer, "no")


async def read_line() -> str:
    """One line from stdin without a thread (a thread blocked in read() would keep the
    process alive after Ctrl+C): the event loop wakes us when the terminal has a line."""
    loop = asyncio.get_running_loop()
    fd = sys.stdin.fileno()
    done: asyncio.Future[str] = loop.create_future()
    got = bytearray()

    def readable() -> None:
        chunk = os.read(fd, 1024)
        got.extend(chunk)
        if (not chunk or b"\n" in chunk) and not done.done():
            done.set_result(got.decode("utf-8", "replace"))

    loop.add_reader(fd, readable)
    try:
        return await done
    finally:
        loop.remove_reader(fd)
