"""The app's side of operations and pipelines: slash commands from the chat, palette
entries, the steps in the pipeline pane, and applying a refactoring after a Confirm.

The work itself is core.chain's; this module only dispatches and draws. A run uses the
app's "turn" worker group, so Esc cancels it and a question cannot start mid-run. The
runner, the operations and the spec parser are imported on first use, not at startup.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from textual.app import App, SystemCommand

from coda_tui.core import events as ev
from coda_tui.core.chain_events import (
    ChainFinished,
    ChainStarted,
    StepEvent,
    StepFinished,
    StepStarted,
)
from coda_tui.core.chain_stream import ChainStream
from coda_tui.errors import CodaError
from coda_tui.ui.screens.dialogs import Confirm
from coda_tui.ui.screens.help import HelpScreen
from coda_tui.ui.widgets.chat import ChatInput
from coda_tui.ui.widgets.code import CodePane, CodeView
from coda_tui.ui.widgets.messages import MessageList, MessageView
from coda_tui.ui.widgets.pipeline import PipelinePane
from coda_tui.ui.widgets.status import StatusBar
from coda_tui.ui.widgets.steps import StepsView

if TYPE_CHECKING:
    from coda_tui.core.choice import Choice
    from coda_tui.core.runtime import Runtime

log = logging.getLogger(__name__)


class SlashCommands:
    """The chat's slash commands: operations and pipelines run from the chat or the palette.

    `host` is used through Textual's own App API only (workers, dialogs, notices, the
    widgets it draws in); what coda knows is given here: the runtime, the project folder,
    who answers next (`choice`), whether a turn is running (`busy`) and the keys that open
    a file (named in a hint)."""

    def __init__(self, host: App, rt: Runtime, *, project: Path, choice: Callable[[], Choice],
                 busy: Callable[[], bool], open_file_keys: str) -> None:
        self.host = host
        self.rt = rt
        self.project = project
        self.choice = choice
        self.busy = busy
        self.open_file_keys = open_file_keys
        self.last_refactor = None  # the OperationResult of the last refactoring shown
        self._view: MessageView | None = None
        # Every step streams into the chat, under its header; parallel ones in blocks of their own.
        self._stream = ChainStream(self._append)
        self._many = False
        self._timer = None
        self._unsubscribe = rt.bus.subscribe(self._on_event)

    def close(self) -> None:
        self._unsubscribe()

    @property
    def steps(self) -> StepsView:
        return self.host.query_one(StepsView)

    # --- from the chat -----------------------------------------------------------------

    async def handle(self, text: str) -> bool:
        """Run `text` if it is a slash command; False if it is a question for the model.

        Text starting with "/" is a command, and an unknown one is refused with the list,
        never sent to the model; only an absolute path (a second "/" in the first word,
        whose first part names no command) makes it a question: "/usr/share/x what is it"."""
        if not text.lstrip().startswith("/"):
            return False
        from coda_tui.core.slash import COMMANDS, SlashError, is_command, parse_command, unknown_command
        from coda_tui.core.spec import SpecError, workflows

        first = text.split(maxsplit=1)[0]
        if "/" in first[1:] and first[1:].split("/", 1)[0] not in COMMANDS:
            return False
        messages = self.host.query_one(MessageList)
        await messages.add(MessageView("user", text))
        try:
            if not is_command(text):
                raise unknown_command(first)
            command = parse_command(text, workflows(self.rt.config))
        except SpecError as exc:
            await self._say_error(f"{exc.message}\n{exc.caret()}", text)
            return True
        except SlashError as exc:
            await self._say_error(str(exc), text)
            return True
        if command.name == "help":
            self.show_help()
            return True
        if command.name == "apply":
            self.apply_last()
            return True
        if command.name == "undo":
            await self.undo()
            return True
        if command.name in ("remember", "forget"):
            from coda_tui.core.slash import run_fact_command

            try:
                reply = run_fact_command(command, self.rt.store.facts, str(self.rt.project.root), self.rt.redact)
            except SlashError as exc:
                await self._say_error(str(exc), text)
                return True
            await messages.add(MessageView("assistant", reply))
            return True
        await self.start(command)
        return True

    def show_help(self) -> None:
        """The commands and what each does, from core.slash's table (the shell runs the same
        ones), in the dialog F1 uses for the keys."""
        from coda_tui.core.slash import COMMANDS

        self.host.push_screen(HelpScreen("Slash commands, typed in the chat (Esc closes)", ("command", "what it does"),
                                         [(f"/{name}", what) for name, what in COMMANDS.items()]))

    async def _say_error(self, message: str, text: str) -> None:
        view = await self.host.query_one(MessageList).add(MessageView("assistant", "", status="error"))
        await view.finish("error", "", message)
        if text:  # (a command from the palette leaves the input's draft alone)
            self.host.query_one(ChatInput).load_text(text)

    async def start(self, command) -> None:
        path = command.path
        if path is not None and not Path(path).is_absolute():
            path = str(self.project / path)
        if path is None:
            shown = self.host.query_one(CodeView).path
            needs = command.spec.needs_file()
            if shown is not None and (needs or command.name in ("generate", "pipeline")):
                path = str(shown)
            elif needs:
                await self._say_error(f"/{command.name} works on a file: open one in the code pane "
                                      f"({self.open_file_keys}) or name it after the command", "")
                return
        self._view = await self.host.query_one(MessageList).add(
            MessageView("assistant", "", model=command.spec.canonical(), status="partial"))
        self.host.run_worker(self._run(command, path), group="turn", exclusive=True, exit_on_error=False)

    async def _run(self, command, path: str | None) -> None:
        from coda_tui.core.chain import ChainRunner

        choice = self.choice()
        try:
            chain = await ChainRunner(self.rt.turns).run(
                command.spec, input_path=path, provider=choice.provider, model=choice.model)
        except CodaError as exc:
            await self._end_view("error", str(exc))
            return
        except asyncio.CancelledError:
            await self._end_view("cancelled", None)
            raise
        except Exception as exc:
            log.exception("pipeline run failed")
            await self._end_view("error", f"the pipeline failed: {type(exc).__name__}: {exc}")
            return
        await self._show(chain)

    async def _end_view(self, status: str, error: str | None) -> None:
        view, self._view = self._view, None
        if view is not None:
            await view.finish(status, "", error)

    async def _show(self, chain) -> None:
        view, self._view = self._view, None
        if view is not None:
            await view.remove()
        single = len(chain.steps) == 1
        body = chain.steps[0].result.to_markdown() if single and chain.steps[0].result else chain.to_markdown()
        failed = [s for s in chain.steps if s.status in ("error", "partial")]
        error = "; ".join(f"step {s.index + 1}: {s.note}" for s in failed) or None
        meta = " · ".join(s.summary() for s in chain.steps) if single else f"{len(chain.steps)} steps · {chain.status}"
        await self.host.query_one(MessageList).add(
            MessageView("assistant", body, status=chain.status, model=chain.spec.canonical(), meta=meta,
                        error=error, stored=True))
        refactors = [s.result for s in chain.steps if s.result is not None and s.result.diff]
        if refactors:
            self.last_refactor = refactors[-1]
            self.host.notify(f"A refactoring of {self.last_refactor.target} is ready: /apply writes it after you confirm.")

    # --- applying a refactoring --------------------------------------------------------

    def apply_last(self) -> None:
        from coda_tui.core.apply import apply_diff
        from coda_tui.patch import changed_lines

        result = self.last_refactor
        if result is None or not result.diff or not result.target:
            self.host.notify("No refactoring to apply: run /refactor first.", severity="warning")
            return
        added, removed = changed_lines(result.diff)

        def answered(yes: bool | None) -> None:
            if not yes:
                self.host.notify(f"Not applied; {result.target} is unchanged.")
                return
            try:
                applied = apply_diff(self.rt.project, self.rt.project.root / result.target, result.diff,
                                     self.rt.config.backups)
            except (CodaError, OSError) as exc:
                self.host.notify(f"Not applied: {exc}", severity="error", timeout=10)
                return
            self.last_refactor = None
            self.host.notify(f"Applied to {result.target}; the original is kept at {applied.backup}", timeout=10)

        self.host.push_screen(
            Confirm(f"Apply the refactoring to {result.target} (+{added} -{removed})?\n"
                    "The original is kept in coda's data dir (backups/)."), answered)

    # --- undoing a turn's edits --------------------------------------------------------

    async def undo(self) -> None:
        """Restore the files the last turn's tools wrote (tools.undo); the answer is one
        line in the chat, and the code pane shows the file as it is now."""
        from coda_tui.tools.undo import NothingToUndo, UndoError, undo_last

        try:
            done = await asyncio.to_thread(undo_last, self.rt.project)
        except NothingToUndo as exc:
            self.host.notify(exc.message.capitalize() + ".", severity="information")
            return
        except UndoError as exc:
            await self._say_error(exc.message, "")
            return
        except OSError as exc:
            await self._say_error(f"undo failed: {exc.strerror or exc}", "")
            return
        await self.host.query_one(MessageList).add(MessageView("assistant", f"undone: {done.summary()}", stored=True))
        self.host.query_one(CodePane).reload()

    # --- the palette -------------------------------------------------------------------

    def commands(self):
        from coda_tui.core.operations import OPERATIONS
        from coda_tui.core.spec import workflows

        for name, op in OPERATIONS.items():
            yield SystemCommand(f"Operation: {name}", f"{op.help} (on the code pane's file; /{name} in the chat)",
                                lambda n=name: self._from_palette(f"/{n}"))
        for name, spec in sorted(workflows(self.rt.config).items()):
            yield SystemCommand(f"Pipeline: {name}", spec, lambda n=name: self._from_palette(f"/pipeline {n}"))
        yield SystemCommand("Apply the last refactoring", "write its diff to the file after you confirm", self.apply_last)
        yield SystemCommand("Undo the last turn's edits", "restore the files its tools changed (/undo in the chat)",
                            lambda: self._from_palette("/undo"))

    def _from_palette(self, text: str) -> None:
        if self.busy():
            self.host.notify("A turn is running: Esc cancels it.", severity="warning")
            return
        self.host.call_later(self.handle, text)

    # --- events from the core ----------------------------------------------------------

    def _append(self, text: str) -> None:
        if self._view is not None:
            self._view.append(text)

    def _on_event(self, event) -> None:
        """On the app's loop, synchronously: only bookkeeping and marking for refresh."""
        self._stream.feed(event)
        if isinstance(event, StepEvent):
            inner = event.event
            if isinstance(inner, ev.StageStarted):
                self.steps.stage_started(event.index, inner.name)
            elif isinstance(inner, ev.StageFinished):
                self.steps.stage_finished(event.index, inner.name, inner.duration_ms)
            elif isinstance(inner, ev.TurnFinished):
                pane = self.host.query_one(PipelinePane)
                pane.add_trace(inner.trace)
                if not self._many:
                    pane.waterfall.finish(inner.trace)
        elif isinstance(event, StepStarted):
            self.steps.step_started(event.index, event.label)
        elif isinstance(event, StepFinished):
            s = event.step
            self.steps.step_finished(s.index, s.status, s.duration_ms,
                                     "; ".join(filter(None, [s.result.summary() if s.result else "", s.note])))
        elif isinstance(event, ChainStarted):
            self.steps.start(event.spec, event.steps)
            self._many = len(event.steps) > 1
            self.host.query_one(StatusBar).activity = "pipeline running… (Esc cancels)"
            self._timer = self.host.set_interval(1 / 5, self.steps.refresh)
        elif isinstance(event, ChainFinished):
            if self._timer is not None:
                self._timer.stop()
                self._timer = None
            self.steps.finish(event.result.status)
            self.host.query_one(StatusBar).activity = "" if event.result.status == "complete" else f"pipeline {event.result.status}"
            if event.result.trace is not None:
                # The steps on the run's shared clock: parallel ones overlap.
                pane = self.host.query_one(PipelinePane)
                pane.add_trace(event.result.trace)
                pane.waterfall.finish(event.result.trace)

