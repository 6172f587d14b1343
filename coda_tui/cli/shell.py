"""`coda shell`: a plain line-mode session, for ssh, screen readers, terminals where a
full-screen app is unwelcome, and scripts. The same core, sessions and traces as the app:
answers stream as plain text; nothing but the model's text (made inert) goes to stdout,
so a pipe gets no escape sequences."""

from __future__ import annotations

import asyncio
import shlex
import signal
import sys
import threading
import time
from pathlib import Path

import click

from coda_tui import paths
from coda_tui.cli.common import MAX_ID, common_options, opt, runtime, usable_ref
from coda_tui.errors import CodaError
from coda_tui.textsafe import inert

HISTORY_FILE = "shell_history"
HISTORY_LINES = 1000
PROMPT, MORE = "coda> ", "... "
HELP = """\
Type a question; a line ending in \\ continues on the next. Ctrl+C stops an answer (what
arrived is kept), Ctrl+D leaves.
/trace [ID]        the stages of the last turn (or of trace ID)
/memory            what the last turn's model got from memory
/context [show], /context add PATH…, /context drop N|PATH|all   files every next question carries
/model [NAME]      show the provider and model, or switch model
/session [REF|new] show the session, switch to another, or start a new one
/remember [--global] TEXT, /forget [ID]   facts every later turn includes
/analyze, /explain, /refactor, /generate, /test, /review [KEY:VALUE …] PATH   one operation on a file
/pipeline SPEC @PATH   a chain of them (see 'coda pipeline --help'); /apply writes the last refactoring
/undo              take back the files the last turn's tools changed (refused if edited since)
/help, /quit"""
SHELL_COMMANDS = ("trace", "memory", "context", "model", "session", "remember", "forget", "undo", "help", "quit",
                  "exit")


def _ctrl_c_interrupts() -> None:
    """Ctrl+C cancels an answer or clears the line, whatever coda inherited: a process
    started by a parent that ignores SIGINT (a background job of a script, some IDE and
    test runners) gets it ignored, and Python then leaves it so, which would make Ctrl+C
    do nothing at all in a shell meant for a person."""
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


class _PromptInterrupts:
    """Ctrl+C at the prompt, delivered every time.

    readline waits for a key in select(); a SIGINT interrupts that wait and Python raises
    KeyboardInterrupt. But a SIGINT that arrives just before the wait starts — while
    readline readies the terminal with SIGINT blocked, or in the instants between the
    prompt and select() — only sets Python's flag, and select() then sleeps until the
    next key: Ctrl+C right after a prompt appeared intermittently gave no fresh prompt.

    So while a line is read, SIGINT is blocked and a thread of its own takes it
    (sigwait), then kicks the main thread with SIGUSR1 every 50 ms until the prompt it
    interrupted is gone. A kick that lands before select() is lost like the SIGINT was;
    the next one lands in it. Between prompts (an answer streaming) SIGINT goes to the
    main thread as usual, where asyncio cancels the answer."""

    KICK = signal.SIGUSR1
    RETRY_S = 0.05

    def __init__(self) -> None:
        self.reading: int | None = None  # the prompt being read (a count), None between prompts
        self.count = 0
        self.main = threading.main_thread().ident
        signal.signal(self.KICK, self._kicked)
        # The thread starts with SIGINT blocked (it inherits this thread's mask), so the
        # signal is never handled there, only waited for.
        old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            threading.Thread(target=self._watch, name="coda-ctrl-c", daemon=True).start()
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, old)

    def read(self, read_line):
        self.count += 1
        self.reading = self.count
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            return read_line()
        finally:
            self.reading = None
            # A Ctrl+C still pending is delivered here, as a KeyboardInterrupt of this read.
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})

    def _watch(self) -> None:
        while True:
            signal.sigwait({signal.SIGINT})
            interrupted = self.reading
            while interrupted is not None and self.reading == interrupted:
                signal.pthread_kill(self.main, self.KICK)
                time.sleep(self.RETRY_S)

    def _kicked(self, signum, frame) -> None:
        if self.reading is not None:  # a kick arriving after its prompt was gone is dropped
            raise KeyboardInterrupt


class _Lines:
    """Input lines: with a prompt and readline history on a terminal, plain lines from a pipe."""

    def __init__(self) -> None:
        typing = sys.stdin is not None and sys.stdin.isatty()
        # readline draws on stdout; when that is a pipe (coda shell | tee log) it would
        # carry the prompt and escape sequences, so the prompt goes to stderr, unedited.
        self.tty = typing and sys.stdout.isatty()
        self.prompt_on_stderr = typing and not self.tty
        self.history = paths.data_dir() / HISTORY_FILE
        self.readline = None
        # (POSIX only: Windows has neither sigwait nor SIGUSR1, nor this readline.)
        self.interrupts = _PromptInterrupts() if typing and hasattr(signal, "sigwait") else None
        if self.tty:
            try:
                import readline
            except ImportError:  # a Python built without it: no history, still a shell
                return
            self.readline = readline
            try:
                readline.read_history_file(self.history)
            except OSError:
                pass  # no history yet
            readline.set_history_length(HISTORY_LINES)

    def read(self, prompt: str) -> str | None:
        """One line without its newline; None at end of input. Ctrl+C at the prompt raises."""
        if self.interrupts is not None:
            return self.interrupts.read(lambda: self._read(prompt))
        return self._read(prompt)

    def _read(self, prompt: str) -> str | None:
        if self.tty:
            try:
                return input(prompt)
            except EOFError:
                return None
        if self.prompt_on_stderr:
            click.echo(prompt, err=True, nl=False)
        line = sys.stdin.readline()
        return line.rstrip("\n") if line else None

    def question(self) -> str | None:
        parts: list[str] = []
        while True:
            line = self.read(MORE if parts else PROMPT)
            if line is None:
                return "\n".join(parts) if parts else None
            if line.endswith("\\"):
                parts.append(line[:-1])
                continue
            parts.append(line)
            return "\n".join(parts)

    def save(self) -> None:
        if self.readline is not None:
            try:
                self.history.parent.mkdir(parents=True, exist_ok=True)
                self.readline.write_history_file(self.history)
            except OSError as exc:
                click.echo(f"coda: history not saved: {exc.strerror or exc}", err=True)


class Shell:
    def __init__(self, ctx: click.Context) -> None:
        self.ctx = ctx
        self.rt = runtime(ctx)
        self.provider = opt(ctx, "provider")
        self.rt.config.provider(self.provider)  # config problems exit 2 before the first prompt
        self.model = opt(ctx, "model")
        self.session = self.rt.store.sessions.find(opt(ctx, "session")) if opt(ctx, "session") else None
        self.session_ref = opt(ctx, "session")
        self.last_trace = None
        self.last_refactor = None  # the OperationResult /apply writes
        self.out = sys.stdout
        # /context add: files every next question carries, read again for each (an edit counts).
        self.context: dict[str, Path] = {}  # as shown -> the checked path

    # --- answering ---------------------------------------------------------------------

    def ask(self, runner: asyncio.Runner, text: str) -> None:
        from coda_tui.cli.answer import answer_for
        from coda_tui.cli.tool_calls import CallLines, ask_at_terminal, can_ask
        from coda_tui.core.events import Retrying, TokenChunk, ToolCallFinished, ToolCallStarted, ToolsUnavailable

        answer = answer_for(self.out)
        # Tool calls as in `coda ask`: one line each, consent asked at the terminal.
        tool_lines = CallLines(self.out, sys.stderr)

        def on_event(event) -> None:
            if isinstance(event, TokenChunk):
                answer.write(event.text)
                tool_lines.wrote(event.text)
            elif isinstance(event, Retrying):
                click.echo(f"coda: retrying in {event.delay_s:.1f} s ({inert(event.reason)})", err=True)
            else:
                # A tool line (and a consent prompt) goes below the answer so far: its open
                # block is drawn first, so the Markdown redraw never reaches past the line.
                if isinstance(event, (ToolCallStarted, ToolCallFinished, ToolsUnavailable)):
                    answer.finish()
                    tool_lines.wrote("\n")
                tool_lines(event)

        unsubscribe = self.rt.bus.subscribe(on_event)
        try:
            result = runner.run(self.rt.turns.run(text, session=self.session, session_ref=self.session_ref,
                                                  attachments=list(self.context.values()),
                                                  provider=self.provider, model=self.model,
                                                  consent=ask_at_terminal if can_ask() else None))
        except KeyboardInterrupt:
            # The runner cancelled the turn; the turn stored what had arrived as 'cancelled'.
            answer.finish()
            click.echo("coda: stopped; the partial answer is kept", err=True)
            self._after_cancel()
            return
        finally:
            unsubscribe()
        self.session, self.last_trace = result.session, result.trace
        answer.finish()
        if result.error is not None:
            click.echo(f"coda: {inert(result.trace.error or '')}", err=True)

    def _after_cancel(self) -> None:
        # The turn ended by cancellation, so its result never came back: find its trace.
        recent = self.rt.store.traces.recent(1)
        if recent:
            self.last_trace = recent[0]
            if self.session is None and recent[0].session_id is not None:
                self.session = self.rt.store.sessions.get(recent[0].session_id)

    # --- commands ----------------------------------------------------------------------

    def command(self, name: str, rest: str, text: str) -> bool:
        """Run a shell command; False when it asks to leave."""
        if name in ("quit", "exit"):
            return False
        if name == "help":
            click.echo(HELP)
        elif name == "trace":
            self._trace(rest)
        elif name == "memory":
            from coda_tui.cli.memory import render_snapshot
            from coda_tui.core.memory import snapshot_of

            snap = snapshot_of(self.last_trace) if self.last_trace else None
            click.echo(render_snapshot(self.last_trace, snap) if snap else "no turn yet in this shell")
        elif name == "context":
            self._context(rest)
        elif name == "model":
            if rest:
                self.model = rest
            prov = self.rt.providers.get(self.provider)
            click.echo(inert(f"{prov.name}/{self.model or (self.session.model if self.session else None) or prov.default_model}"))
        elif name == "session":
            self._session(rest)
        elif name == "undo":
            from coda_tui.tools.undo import undo_last

            # UndoError is a CodaError: the loop prints its one line.
            click.echo(f"undone: {inert(undo_last(self.rt.project).summary())}")
        else:
            from coda_tui.core.slash import parse_command, run_fact_command

            reply = run_fact_command(parse_command(text), self.rt.store.facts, str(self.rt.project.root),
                                     self.rt.redact)
            click.echo(inert(reply))
        return True

    def _trace(self, rest: str) -> None:
        from coda_tui.cli.tables import stage_table

        t = self.last_trace
        if rest:
            t = self.rt.store.traces.get(int(rest)) if rest.isascii() and rest.isdigit() and int(rest) <= MAX_ID else None
            if t is None:
                raise CodaError(f"no trace {rest}")
        click.echo(stage_table(t) if t else "no turn yet in this shell")

    def _context(self, rest: str) -> None:
        verb, _, args = rest.partition(" ")
        if verb in ("", "show"):
            if not self.context:
                click.echo("no files: /context add PATH attaches one to every next question")
            for n, (label, path) in enumerate(self.context.items(), 1):
                try:  # as the next question will read it
                    size = f"~{self.rt.turns.attach(path).tokens:,} tokens"
                except CodaError as exc:
                    size = f"unreadable now: {exc.message}"
                click.echo(f"{n}. {inert(label)} ({inert(size)})")
        elif verb == "add" and args.strip():
            try:
                names = shlex.split(args)
            except ValueError as exc:  # an unclosed quote
                raise CodaError(f"/context add: {exc}") from None
            for name in names:
                # Relative to the project, as /analyze PATH is.
                path = self.rt.project.root / Path(name).expanduser()
                item = self.rt.turns.attach(path)  # refused here, with its reason, not at the next question
                label = item.label_path or str(item.path)
                self.context[label] = item.path
                kind = "as Markdown, " if item.document else ""
                click.echo(f"added {inert(label)} ({kind}~{item.tokens:,} tokens)")
        elif verb == "drop" and args.strip():
            which = args.strip()
            labels = list(self.context)
            if which == "all":
                gone = labels
            elif which.isascii() and which.isdigit() and 1 <= int(which) <= len(labels):
                gone = [labels[int(which) - 1]]
            elif which in self.context:
                gone = [which]
            else:
                raise CodaError(f"no file {which} in the context (see /context show)")
            for label in gone:
                del self.context[label]
            click.echo(f"dropped {len(gone)} file{'s' * (len(gone) != 1)}; {len(self.context)} left")
        else:
            raise CodaError("usage: /context [show] | /context add PATH… | /context drop N|PATH|all")

    def _session(self, rest: str) -> None:
        if rest == "new":
            self.session, self.session_ref = None, None
            click.echo("the next question starts a new session")
            return
        if rest:
            found = self.rt.store.sessions.find(rest) if usable_ref(rest) else None
            if found is None:
                raise CodaError(f"no session '{rest}' (see 'coda sessions list')")
            self.session, self.session_ref = found, None
        if self.session is None:
            click.echo("no session yet: the next question starts one")
        else:
            click.echo(f"session {self.session.id} '{inert(self.session.name)}'")

    def operation(self, runner: asyncio.Runner, text: str) -> None:
        """/analyze … PATH, /pipeline SPEC @PATH, /apply: the app's operations, over the same core."""
        from coda_tui.cli.ops import _apply, _progress
        from coda_tui.core.chain import ChainRunner
        from coda_tui.core.slash import parse_command
        from coda_tui.core.spec import SpecError, workflows

        try:
            command = parse_command(text, workflows(self.rt.config))
        except SpecError as exc:
            raise CodaError(f"{exc.message}\n{exc.caret()}") from None
        if command.name == "apply":
            if self.last_refactor is None:
                raise CodaError("no refactoring to apply: run /refactor PATH first")
            _apply(self.ctx, self.last_refactor, yes=False)
            self.last_refactor = None
            return
        if command.path is None and command.spec.needs_file():
            raise CodaError(f"/{command.name} works on a file: name it after the command")
        path = str(self.rt.project.root / command.path) if command.path else None
        unsubscribe = _progress(self.rt)
        try:
            chain = runner.run(ChainRunner(self.rt.turns).run(command.spec, input_path=path, provider=self.provider,
                                                              model=self.model))
        except KeyboardInterrupt:
            click.echo("coda: stopped", err=True)
            self._after_cancel()
            return
        finally:
            unsubscribe()
        click.echo(inert(chain.to_markdown()).rstrip("\n"))
        # One operation is its own turn's trace; a chain of them gets one of its own.
        ran = [s.trace_id for s in chain.steps if s.trace_id]
        self.last_trace = chain.trace or (self.rt.store.traces.get(ran[-1]) if ran else self.last_trace)
        refactors = [s.result for s in chain.steps if s.result is not None and s.result.diff]
        if refactors:
            self.last_refactor = refactors[-1]
            click.echo(f"coda: /apply writes the refactoring of {inert(self.last_refactor.target)} after you confirm",
                       err=True)

    # --- the loop ----------------------------------------------------------------------

    def run(self) -> None:
        from coda_tui.core.slash import COMMANDS, is_command

        if sys.stdin.isatty():
            _ctrl_c_interrupts()  # before readline loads: it keeps a SIGINT it finds ignored
        lines = _Lines()
        if lines.tty:
            click.echo("coda shell: /help for commands, Ctrl+D to leave", err=True)
        try:
            with asyncio.Runner() as runner:
                try:
                    self._loop(runner, lines, COMMANDS, is_command)
                finally:
                    runner.run(self.rt.aclose())
        finally:
            lines.save()

    def _loop(self, runner, lines: _Lines, app_commands, is_command) -> None:
        while True:
            try:
                text = lines.question()
            except KeyboardInterrupt:
                click.echo("", err=True)  # as a shell does: a fresh prompt
                continue
            if text is None:
                if lines.tty:
                    click.echo("", err=True)
                return
            if not text.strip():
                continue
            try:
                if is_command(text):
                    name, _, rest = text.strip()[1:].partition(" ")
                    if name in SHELL_COMMANDS:
                        if not self.command(name, rest.strip(), text):
                            return
                        continue
                    if name in app_commands:
                        self.operation(runner, text)
                        continue
                    raise CodaError(f"unknown command /{name}: /help lists the commands")
                self.ask(runner, text)
            except CodaError as exc:
                click.echo(f"coda: {inert(self.rt.redact(exc.render()))}", err=True)


@click.command()
@common_options
@click.pass_context
def shell(ctx: click.Context) -> None:
    """A plain line-mode session: questions in, answers streamed as text; /help inside."""
    Shell(ctx).run()
