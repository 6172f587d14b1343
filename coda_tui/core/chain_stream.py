"""A pipeline's answers as one stream of text while it runs: a header per step, each
step's answer as its tokens arrive, a line saying how it ended.

Parallel steps get blocks of their own. One step at a time is live and written through
as its tokens come; a sibling running at the same time is held back, and written out
(then followed live, if it is still running) once the live one ends. Its lines never
land between another step's, and no token waits longer than the steps before it take.
`coda pipeline --stream` writes the stream to stdout, the app into the chat.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from coda_tui.core.chain_events import (
    ChainFinished,
    ChainStarted,
    StepEvent,
    StepFinished,
    StepStarted,
)
from coda_tui.core.events import TokenChunk


@dataclass
class _Block:
    parts: list[str] = field(default_factory=list)  # held back while another step is live
    tokens: bool = False  # did the step's answer come as tokens?
    open_line: bool = False  # does what it has said so far end mid-line?
    done: bool = False


class ChainStream:
    def __init__(self, write: Callable[[str], None]) -> None:
        self._write = write
        self._run_id: int | None = None
        self._headers = True
        self._blocks: dict[int, _Block] = {}
        self._live: int | None = None
        self._shown: set[int] = set()  # blocks written out to their end
        self._ends_with_newline = True
        self._empty = True

    def feed(self, event) -> None:
        """Take one event from the core's bus; events of other runs are ignored."""
        if isinstance(event, ChainStarted):
            self._run_id, self._headers = event.run_id, len(event.steps) > 1
            self._blocks, self._live, self._shown = {}, None, set()
            return
        if getattr(event, "run_id", None) != self._run_id or self._run_id is None:
            return
        if isinstance(event, StepStarted):
            self._begin(event.index, event.label)
            self._advance()
        elif isinstance(event, StepEvent) and isinstance(event.event, TokenChunk):
            block = self._blocks.get(event.index)
            if block is not None:
                block.tokens = True
                self._put(event.index, event.event.text)
        elif isinstance(event, StepFinished):
            self._finish(event.step)
        elif isinstance(event, ChainFinished):
            # A cancelled run leaves steps unfinished: what they said so far is still shown.
            for block in self._blocks.values():
                block.done = True
            if self._live is not None:
                self._shown.add(self._live)
                self._live = None
            self._advance()
            self._run_id = None
            if not self._ends_with_newline:
                self._out("\n")

    def _begin(self, index: int, label: str) -> None:
        self._blocks.setdefault(index, _Block())
        if self._headers:
            self._put(index, f"## {index + 1} · {label}\n\n")

    def _finish(self, step) -> None:
        if step.index not in self._blocks:  # a skipped branch: it never started
            self._begin(step.index, step.label)
        block = self._blocks[step.index]
        tail = "\n" if block.open_line else ""
        if not block.tokens and step.result is not None and step.result.text.strip():
            tail += step.result.text.rstrip() + "\n"  # a transformer's output comes whole
        said = block.tokens or tail
        self._put(step.index, tail + ("\n" if said else "") + f"_{step.summary()}_\n")
        block.done = True
        if step.index == self._live:
            self._shown.add(step.index)
            self._live = None
        self._advance()

    def _put(self, index: int, text: str) -> None:
        block = self._blocks[index]
        if text:
            block.open_line = not text.endswith("\n")
        if index == self._live:
            self._out(text)
        else:
            block.parts.append(text)

    def _advance(self) -> None:
        """No step live: write out the next one in order, whole if it has ended."""
        while self._live is None:
            waiting = [i for i in sorted(self._blocks) if i not in self._shown]
            if not waiting:
                return
            index = waiting[0]
            block = self._blocks[index]
            if not self._empty:
                self._out("\n" if self._ends_with_newline else "\n\n")
            self._live = index
            self._out("".join(block.parts))
            block.parts.clear()
            if block.done:
                self._shown.add(index)
                self._live = None
            else:
                return

    def _out(self, text: str) -> None:
        if text:
            self._write(text)
            self._ends_with_newline, self._empty = text.endswith("\n"), False
