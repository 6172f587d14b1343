"""The coda terminal app: the runtime, the theme, the keymap, what is remembered between
runs, the session, turns and attachments; the panes are the main screen's (ui/main_screen.py).

The app only presents and dispatches. A turn runs in core.Pipeline inside a Textual
worker on this event loop (the model itself generates in a thread, or over async HTTP);
the core publishes events, which ui.dispatch hands to the panes that draw them.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from pathlib import Path

from textual.app import App, ComposeResult, SystemCommand

from coda_tui import stack_dump, startup_gc
from coda_tui.actions import APP, BY_NAME, describe
from coda_tui.context.attachments import Attachment, AttachmentError
from coda_tui.context.documents import is_document
from coda_tui.context.project import AUTO_INDEX_MAX_FILES
from coda_tui.context.watch import keep_index_current
from coda_tui.context.window import window_room
from coda_tui.core import events as ev
from coda_tui.core.choice import Choice, next_turn
from coda_tui.core.runtime import Runtime
from coda_tui.errors import CodaError
from coda_tui.keymaps import Keymap
from coda_tui.store.sessions import Message, Session
from coda_tui.textsafe import inert
from coda_tui.tokens import estimate_tokens
from coda_tui.ui import theming
from coda_tui.ui.dispatch import Dispatcher
from coda_tui.ui.keys import ACTION_BINDINGS, keymap_for_textual, load_active_keymap
from coda_tui.ui.main_screen import SCREEN_ACTIONS, MainScreen
from coda_tui.ui.panes import PANES
from coda_tui.ui.screens.consent import ConsentDialogs
from coda_tui.ui.screens.help import HelpScreen
from coda_tui.ui.screens.memory import MemoryExplorer
from coda_tui.ui.screens.models import ModelPicker
from coda_tui.ui.screens.sessions import SessionsScreen
from coda_tui.ui.slash_commands import SlashCommands
from coda_tui.ui.state import UIState
from coda_tui.ui.voice import PushToTalk, VoiceEvent
from coda_tui.ui.widgets.chat import ChatInput, ChatPane
from coda_tui.ui.widgets.code import CodePane
from coda_tui.ui.widgets.context import ContextPane, IndexFolder
from coda_tui.ui.widgets.messages import WINDOW, MessageList, MessageView, meta_line
from coda_tui.ui.widgets.pipeline import PipelinePane, Waterfall
from coda_tui.ui.widgets.status import StatusBar
from coda_tui.ui_names import check_name, named

log = logging.getLogger(__name__)


class CodaApp(App):
    CSS_PATH = "app.tcss"
    TITLE = "coda"
    BINDINGS = [b for b in ACTION_BINDINGS if b.id not in SCREEN_ACTIONS]

    def __init__(
        self,
        runtime: Runtime,
        *,
        session_ref: str | None = None,
        provider: str | None = None,
        model: str | None = None,
        project: Path | None = None,
        keymap: Keymap | None = None,
    ) -> None:
        super().__init__()
        self.rt = runtime
        # The tree shows the same root the sandbox and the index use, unless told otherwise.
        self.project = (project or runtime.project.root).resolve()
        self.state = UIState.load()
        self.keymap = keymap or load_active_keymap(runtime.config)
        self.set_keymap(keymap_for_textual(self.keymap))
        self.theme_specs = theming.register_all(self)
        if runtime.config.ui.theme not in self.theme_specs and runtime.config.ui.theme not in theming.broken_names():
            check_name(runtime.config, "theme", sorted(self.theme_specs))
        # The configured theme when the config names one, else the last one picked here. Set
        # before the stylesheet is first read: set once the app runs, every style would be
        # parsed and applied a second time before the first frame.
        wanted = runtime.config.ui.theme if named(runtime.config, "theme") else self.state.theme or runtime.config.ui.theme
        self.theme = wanted if wanted in self.theme_specs else "dark"
        self.session: Session | None = None
        self._session_ref = session_ref
        runtime.config.provider(provider)  # an unknown --provider stops here
        # What the user named for the next turns (core.choice decides from it).
        self._named = (provider, model) if provider is not None or model is not None else None
        self._why_named = "--provider" if provider is not None else "--model"
        self.attachments: list[Attachment] = []
        self._last_question: tuple[str, int | None] | None = None
        self._files_cache: list[str] | None = None
        self.index_ready = False
        self.voice = PushToTalk(self, runtime.config.voice, self.keymap.key_string("talk"))
        self.events = Dispatcher()
        # What a turn asks before a tool edits a file or runs a command.
        self.consent = ConsentDialogs(self, self._code_style)
        self._unsubscribe = runtime.bus.subscribe(self.events)
        # Slash commands, operations and pipelines (their events come wrapped, see core.chain).
        self.ops = SlashCommands(self, runtime, project=self.project, choice=lambda: self.choice,
                                 busy=lambda: self.turn_running, open_file_keys=self.keymap.key_string("open_file"))

    def notify(self, message: str, *, title: str = "", severity="information", timeout=None, markup: bool = False) -> None:
        # Notifications quote file names, session names and provider errors: outside text,
        # so neither markup nor control characters.
        super().notify(inert(self.rt.redact(message) or ""), title=inert(title), severity=severity, timeout=timeout, markup=markup)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # While a dialog is open, app-wide keys other than quit belong to the dialog; Tab and
        # Shift+Tab (the screens' app.focus_next) move between its widgets.
        if len(self.screen_stack) > 1 and action not in ("quit", "command_palette", "focus_next", "focus_previous"):
            return False
        return True

    # --- the main screen ---------------------------------------------------------------

    def get_default_screen(self) -> MainScreen:
        return MainScreen(self.project, self.state)

    @property
    def main(self) -> MainScreen:
        return self.screen_stack[0]

    def compose(self) -> ComposeResult:
        yield from self.main.panes()

    async def on_mount(self) -> None:
        stack_dump.install(asyncio.get_running_loop())  # kill -USR1: where a hung app waits, in the log
        self._apply_code_style()
        self.main.arrangement.apply()
        self.events.on(ev.TurnStarted, self._turn_started)
        self.events.on(ev.TurnFinished, self._turn_finished)
        self.main.follow_turns(self.events, self.keymap.key_string("retry"))
        self.query_one(ChatPane).load_message = self._message_text
        chat_input = self.query_one(ChatInput)
        chat_input.keys = {action: self.keymap.bindings[action] for action in chat_input.keys}
        chat_input.focus()
        session = None
        if self._session_ref:
            choice = self.choice
            session = self.rt.turns.resolve_session(self._session_ref, "", choice.provider, choice.model)
        await self.open_session(session)
        for warning in self.rt.config.warnings:  # e.g. a config file with a key that others can read
            self.notify(warning, severity="warning", timeout=15)
        self.query_one(PipelinePane).load_history(self.rt.store.traces.recent(30))
        self.main.check_health(self.choice.provider)
        if self.rt.cache is not None:
            stats = self.rt.cache.stats()
            self.query_one(PipelinePane).providers_line.set_cache(ev.CacheLookup(False, stats.hits, stats.misses, stats.saved_ms))
        theming.watch_user_themes(self)
        context = self.query_one(ContextPane)
        context.list_files = self.project_files
        tree = self.query_one("#project-tree")
        tree.admits = self.rt.project.admits
        tree.reload()
        context.search = lambda q: self.rt.index.search(q, limit=40)
        self._refresh_attachments()
        # After the first frame: nothing the user sees first waits for the index.
        self.call_after_refresh(lambda: self.run_worker(self._keep_index_current(), group="index", exit_on_error=False))
        if self.rt.config.voice.preload:
            self.call_after_refresh(self.voice.preload)
        self.call_after_refresh(lambda: self.run_worker(self.rt.watchdog.run(), group="watchdog", exit_on_error=False))
        self.call_after_refresh(startup_gc.resume)

    # --- sessions ----------------------------------------------------------------------

    async def open_session(self, session: Session | None) -> None:
        self.session = session
        messages = self.query_one(MessageList)
        status = self.query_one(StatusBar)
        # Time to first token and total of each answer on screen, from its stored trace.
        timings: dict[int, tuple] = {}

        def meta_for(m: Message) -> str:
            ttft, total, tokens = timings.get(m.id, (None, None, None))
            return meta_line(m.model, m.completion_tokens or tokens, ttft, total)

        def older(before_id: int, count: int) -> list[Message]:
            # The session shown now: a new one is made by its first turn, after this opened.
            if self.session is None:
                return []
            earlier = self.rt.store.sessions.messages(self.session.id, limit=count, before_id=before_id)
            timings.update(self.rt.store.traces.timings_for([m.id for m in earlier if m.role == "assistant"]))
            return earlier

        status.session_cost(session.id if session else None, self.rt.store.traces.llm_costs(session.id) if session else [])
        if session is None:
            await messages.show([], older, meta_for)
            status.session = ""
        else:
            if self._named is not None and session.provider in self.rt.config.providers:
                # A session opened after a choice keeps its own provider and model.
                self._named, self._why_named = (session.provider, session.model), "the session's"
            window = self.rt.store.sessions.messages(session.id, limit=WINDOW)
            timings.update(self.rt.store.traces.timings_for([m.id for m in window if m.role == "assistant"]))
            await messages.show(window, older, meta_for)
            status.session = session.name
            self.state.last_session = session.id
            self.state.save()
        self._last_question = None
        if not self.turn_running:
            status.activity = ""  # "cancelled…" or "failed…" was about the session left
        self._show_model()

    @property
    def choice(self) -> Choice:
        """Who answers the next turn, and why."""
        return next_turn(self.rt.config, self.rt.providers, self.session, self._named, self._why_named,
                         roles=self.rt.config.roles.routing)  # the config's: no turn runner for the first frame

    def _show_model(self) -> None:
        choice = self.choice
        status = self.query_one(StatusBar)
        status.provider, status.model = choice.provider, choice.model
        known = self.rt.watchdog.latest.get(choice.provider)
        status.circuit = known.breaker if known else "closed"

    # --- a turn ------------------------------------------------------------------------

    @property
    def _turn_view(self) -> MessageView | None:
        return self.query_one(ChatPane).turn_view

    @property
    def turn_running(self) -> bool:
        return any(w.group == "turn" and not w.is_finished for w in self.workers)

    async def submit(self, text: str) -> None:
        """What was sent from the chat input: a slash command, or a question."""
        if self.turn_running:
            self.notify("A turn is running: Esc cancels it.", severity="warning")
            self.query_one(ChatInput).load_text(text)
            return
        # The transcript's stages belong to this message, whatever it turns out to be.
        spoken = self.voice.take_spoken()
        if await self.ops.handle(text):
            return
        await self.start_turn(text, spoken=spoken)

    async def start_turn(self, prompt: str, answer_to: int | None = None, spoken=None) -> None:
        messages = self.query_one(MessageList)
        if answer_to is None:
            # Shown as it is stored: a pasted key is masked (the pipeline masks it too).
            await messages.add(MessageView("user", self.rt.redact.exact(prompt)))
        status = self.query_one(StatusBar)
        self.query_one(ChatPane).turn_view = await messages.add(MessageView("assistant", "", model=status.model, status="partial"))
        self._last_question = (prompt, answer_to)
        self.run_worker(self._run_turn(prompt, answer_to, spoken), group="turn", exclusive=True, exit_on_error=False)

    async def _run_turn(self, prompt: str, answer_to: int | None, spoken=None) -> None:
        provider, model = self.choice.for_turn()
        try:
            result = await self.rt.turns.run(
                prompt,
                session=self.session,
                attachments=list(self.attachments),
                provider=provider,
                model=model,
                answer_to=answer_to,
                spoken=spoken,
                consent=self.consent,
            )
        except CodaError as exc:
            # Nothing was answered: say why, and give the question back to edit.
            view = self._turn_view
            if view is not None:
                await view.finish("error", "", str(exc))
            self.query_one(ChatInput).load_text(prompt)
            return
        except Exception as exc:
            # A slip in coda (a tool, a provider): one line here, the traceback in the log,
            # and the app ready for the next question rather than stuck on this one.
            log.exception("turn failed")
            view, self.query_one(ChatPane).turn_view = self._turn_view, None
            if view is not None:
                await view.finish("error", "", f"the turn failed: {type(exc).__name__}: {exc}")
            self.query_one(ChatInput).load_text(prompt)
            return
        if self._last_question and self._last_question[1] is None:
            self._last_question = (prompt, result.user_message_id)

    def _turn_started(self, event: ev.TurnStarted) -> None:
        if self.session is None or self.session.id != event.session_id:
            self.session = self.rt.store.sessions.get(event.session_id)
            self.query_one(StatusBar).session = self.session.name if self.session else ""
            self.query_one(StatusBar).session_cost(event.session_id, self.rt.store.traces.llm_costs(event.session_id))
            self.state.last_session = event.session_id

    def _turn_finished(self, event: ev.TurnFinished) -> None:
        self.attachments.clear()
        self._refresh_attachments()

    # --- actions -----------------------------------------------------------------------

    def on_voice_event(self, message: VoiceEvent) -> None:
        self.voice.handle(message.event)

    def action_talk(self) -> None:
        self.voice.toggle()

    def action_cancel(self) -> None:
        if self.voice.cancel():
            return
        if self.turn_running:
            self.workers.cancel_group(self, "turn")
        elif self.screen.maximized is not None:
            self.screen.minimize()

    async def action_new_session(self) -> None:
        await self.open_session(None)
        self.notify("New session: it is saved with your first question.")

    async def action_clear_session(self) -> None:
        await self.open_session(None)

    def show_file(self, path: Path, line: int = 1) -> None:
        if not path.is_absolute():
            path = self.project / path
        try:
            resolved = self.rt.project.check(path)
        except AttachmentError as exc:
            self.notify(str(exc), severity="error", timeout=8)
            return
        layout = self.main.arrangement
        if not layout.visible(self.query_one("#code")):
            layout.toggle("code")
        code = self.query_one(CodePane)
        error = code.open_file(resolved, self.rt.project.rel(resolved))
        if error:
            self.notify(error, severity="error")
        elif line > 1:
            self.call_after_refresh(code.view.go_to_line, line)

    def action_go_to_line(self) -> None:
        # An app key, ahead of the chat input: as the code pane's own, alt+g typed a "g" there.
        code = self.query_one(CodePane)
        if code.view.path is None:
            self.notify(f"No file is open in the code pane: {self.ops.open_file_keys or 'the palette'} opens one.",
                        severity="warning")
            return
        layout = self.main.arrangement
        if not layout.visible(self.query_one("#code")):
            layout.toggle("code")
        code.view.focus()
        code.view.action_go_to_line()

    def action_help(self) -> None:
        # The main screen's keys, then the dialogs' (those may repeat a main-screen key).
        rows = sorted(self.keymap.bindings.items()) + sorted(self.keymap.dialog_bindings.items())
        self.push_screen(HelpScreen(f"Keys — keymap '{self.keymap.name}' (Esc closes)", ("keys", "action", "what it does"),
                                    [(", ".join(keys), action, describe(action)) for action, keys in rows]))

    def action_sessions(self) -> None:
        def chosen(session_id: int | None) -> None:
            if session_id is not None:
                self.call_later(self.open_session, self.rt.store.sessions.get(session_id))
            elif self.session is not None and self.rt.store.sessions.get(self.session.id) is None:
                # The open session was deleted there: the next question starts a new one.
                self.call_later(self.open_session, None)

        self.push_screen(SessionsScreen(self.rt.sessions, self.session.id if self.session else None), chosen)

    def open_memory(self, trace_id: int | None = None) -> None:
        """The memory explorer on a turn: the one asked for, else the one the pipeline pane
        shows, else the session's latest."""
        from coda_tui.core.memory_report import MemoryTurns

        trace_id = trace_id or self.query_one(Waterfall).trace_id
        if trace_id is None:
            recent = self.rt.store.traces.recent(1, session_id=self.session.id if self.session else None)
            trace_id = recent[0].id if recent else None
        if trace_id is None:
            self.notify("No turn yet: ask something first.", severity="warning")
            return
        keys = {a: self.keymap.key_string(a).split(",")[0] for a in ("memory_previous", "memory_next", "memory_mark", "memory_compare")}
        try:
            turns = MemoryTurns(self.rt.store, trace_id)
        except LookupError:  # its session was deleted meanwhile
            self.notify(f"Turn {trace_id} is gone (its session was deleted).", severity="warning")
            return
        self.push_screen(MemoryExplorer(turns, keys))

    def open_stats(self) -> None:
        from coda_tui.ui.screens.stats import StatsScreen

        self.push_screen(StatsScreen(self.rt.store))

    def on_waterfall_open_memory(self, event: Waterfall.OpenMemory) -> None:
        self.open_memory(event.trace_id)

    def action_pick_model(self) -> None:
        status = self.query_one(StatusBar)

        def chosen(choice: tuple[str, str] | None) -> None:
            if choice is None:
                return
            # The session records it when a turn runs with it (only core writes a session's model).
            self._named, self._why_named = choice, "picked in the app"
            self._show_model()
            self.main.check_health(self.choice.provider)

        self.push_screen(ModelPicker(self.rt.providers, (status.provider, status.model)), chosen)

    def action_compare(self) -> None:
        from coda_tui.ui.screens.compare import CompareScreen

        status = self.query_one(StatusBar)
        screen = CompareScreen.for_session(self.rt, self.session, f"{status.provider}:{status.model}")
        if screen is None:
            self.notify("No question to compare yet: ask one first.", severity="warning")
            return
        self.push_screen(screen)

    async def action_regenerate(self) -> None:
        if self.turn_running:
            return
        question = self._last_question
        if (question is None or question[1] is None) and self.session is not None:
            # A turn cancelled (or failed) after storing its question never got to note the
            # question's id: the stored one is it, when its text matches.
            last_user = [m for m in self.rt.store.sessions.messages(self.session.id, limit=4) if m.role == "user"]
            if last_user and (question is None or last_user[-1].content in (question[0], self.rt.redact.exact(question[0]))):
                question = (last_user[-1].content, last_user[-1].id)
        if question is None or question[1] is None:
            self.notify("No question to answer again.", severity="warning")
            return
        views = self.query_one(MessageList).views
        if views and views[-1].role == "assistant":
            # The answer goes, and the tool calls it was made from: the new one makes its own.
            while views and views[-1].role in ("assistant", "tool"):
                await views.pop().remove()
        await self.start_turn(question[0], answer_to=question[1])

    async def action_retry(self) -> None:
        await self.action_regenerate()

    def set_theme(self, name: str) -> None:
        self.theme = name
        self.state.theme = name
        self.state.save()
        self._apply_code_style()
        self.notify(f"Theme: {name}")

    def _code_style(self) -> str:
        spec = self.theme_specs.get(self.theme)
        return spec.pygments_style if spec is not None else "monokai"

    def _message_text(self, message_id: int) -> str | None:
        message = self.rt.store.sessions.message(message_id)
        return message.content if message is not None else None

    def _apply_code_style(self) -> None:
        self.query_one(MessageList).code_styles = {name: s.pygments_style for name, s in self.theme_specs.items()}
        spec = self.theme_specs.get(self.theme)
        if spec is not None:
            self.query_one(CodePane).view.set_style(spec.pygments_style)

    def attach(self, path: Path, lines: tuple[int, int] | None = None) -> bool:
        """Attach through the project's sandbox; a refusal is shown, not raised."""
        if lines is None and is_document(path):
            # A PDF or an Office file takes a second or more to convert: not on the event loop.
            self.notify(f"Converting {Path(path).name} to Markdown…")
            self.run_worker(lambda: self._attach_document(path), thread=True, group="attach", exit_on_error=False)
            return True
        try:
            item = self.rt.turns.attach(path, lines)
        except AttachmentError as exc:
            self.notify(str(exc), severity="error", timeout=8)
            return False
        self._attached(item)
        return True

    def _attach_document(self, path: Path) -> None:
        try:
            item = self.rt.turns.attach(path)
        except AttachmentError as exc:
            self.call_from_thread(self.notify, str(exc), severity="error", timeout=8)
            return
        self.call_from_thread(self._attached, item)

    def _attached(self, item: Attachment) -> None:
        if all(a.label != item.label for a in self.attachments):
            self.attachments.append(item)
        self._refresh_attachments()
        self.notify(f"Attached {item.label} (~{item.tokens:,} tokens)")

    def _refresh_attachments(self) -> None:
        _, _, window = self.rt.providers.describe(self.choice.provider)
        # What the turn will let attached files have: the window less the answer's reserve,
        # the system prompt and the estimate's margin (files over it are trimmed to fit).
        entry = self.rt.config.providers.get(self.choice.provider or self.rt.config.general.provider)
        reserve = entry.max_tokens if entry else 1024
        system = estimate_tokens(self.rt.config.general.system_prompt)
        budget = self.rt.config.context.budget_tokens or max(0, window_room(window, reserve, system))
        self.query_one(ContextPane).show_attachments(self.attachments, budget, window)

    def detach(self, index: int) -> None:
        if 0 <= index < len(self.attachments):
            del self.attachments[index]
            self._refresh_attachments()

    # --- the project's files -----------------------------------------------------------

    def project_files(self) -> list[str]:
        if self._files_cache is None:
            # Unindexed (a home folder, say) the walk is cut short: this runs on the event loop.
            walked = itertools.islice(self.rt.project.walk(), AUTO_INDEX_MAX_FILES)
            self._files_cache = self.rt.index.paths() or [e.rel for e in walked]
        return self._files_cache

    async def _keep_index_current(self, asked: bool = False) -> None:
        """The index follows the disk (context.watch); the code pane reloads a file that
        changed while it shows it. A home folder, / or a huge tree outside git is indexed
        only when asked (i in the tree)."""
        filter_input = self.query_one("#context-filter")

        def indexed_before() -> bool:  # without creating an index for a folder refused below
            return self.rt.index_path.exists() and self.rt.index.file_count() > 0

        # Opening the index imports it (and the chunker) and reads or creates its file: done in
        # threads, since this starts right after the first frame, as the first keys come in.
        if not asked and not await asyncio.to_thread(indexed_before):
            refusal = await asyncio.to_thread(self.rt.project.auto_index_refusal)
            if refusal:
                # The pane is narrow: the placeholder says what to do, a notice says why.
                filter_input.placeholder = "not indexed · press i in the tree"
                self.notify(f"Not indexed: {refusal}. Press i in the project tree to index it.", timeout=15)
                return
        loop = asyncio.get_running_loop()

        def progress(p) -> None:  # from the indexing thread
            text = f"indexing {p.done:,}/{p.total:,} files…"
            loop.call_soon_threadsafe(lambda: setattr(filter_input, "placeholder", text))

        async def indexed(stats) -> None:
            self._files_cache = None
            skipped = f" · {len(stats.unreadable)} unreadable folder(s) skipped" if stats.unreadable else ""
            # The files Ctrl+O offers (binary ones are indexed but not offered).
            filter_input.placeholder = f"filter {len(self.project_files()):,} files · /search{skipped}"
            self.index_ready = True
            await self._embed_new_chunks()

        async def changed(paths: list[Path]) -> None:
            code = self.query_one(CodePane)
            if code.view.path is not None and code.view.path in paths:
                code.reload()
            self._files_cache = None
            await self._embed_new_chunks()

        index = await asyncio.to_thread(lambda: self.rt.index)
        await keep_index_current(index, self.rt.project.root, indexed=indexed, changed=changed, progress=progress)

    async def _embed_new_chunks(self) -> None:
        """With semantic ranking configured, vectors for chunks that have none yet."""
        if self.rt.semantic is None:
            return
        try:
            await self.rt.semantic.refresh()
        except Exception as exc:
            self.query_one(StatusBar).activity = f"semantic search off: {str(exc)[:60]}"

    async def branch(self, message_id: int) -> None:
        """A new session holding this one up to `message_id`, opened."""
        if self.session is None:
            return
        try:
            branch = self.rt.sessions.branch(self.session.id, message_id)
        except CodaError as exc:
            self.notify(str(exc), severity="warning")
            return
        await self.open_session(branch)
        self.notify(f"Branched into '{branch.name}'")

    # --- command palette ---------------------------------------------------------------

    def get_system_commands(self, screen):
        yield from super().get_system_commands(screen)
        for action, keys in sorted(self.keymap.bindings.items()):
            owner = self.main if action in SCREEN_ACTIONS else self
            if BY_NAME[action].palette and BY_NAME[action].scope == APP:
                yield SystemCommand(describe(action), f"{action} ({', '.join(keys)})", getattr(owner, f"action_{action}"))
        yield from self.ops.commands()
        yield SystemCommand("Memory explorer", "what a turn's model got from memory, turn by turn", self.open_memory)
        yield SystemCommand("Model statistics", "answers, speed, cost and ratings per provider/model", self.open_stats)
        for name in sorted(self.theme_specs):
            yield SystemCommand(f"Theme: {name}", "switch the colour theme (remembered)", lambda n=name: self.set_theme(n))

    def on_index_folder(self, event: IndexFolder) -> None:
        event.stop()
        self.workers.cancel_group(self, "index")
        self.run_worker(self._keep_index_current(asked=True), group="index", exit_on_error=False)

    async def on_unmount(self) -> None:
        # Indexing stops after the file it is reading, not at the end of the tree.
        if "index" in self.rt.__dict__:
            self.rt.index.cancel()
        self._unsubscribe()
        # A recording still running would hold the exit until its end of speech.
        self.voice.close()
        # Before the providers close: a poll must not make a new one after they have.
        self.workers.cancel_group(self, "watchdog")
        self.ops.close()
        await self.rt.aclose()


def _toggle_action(pane_id: str):
    def action(self: CodaApp) -> None:
        self.main.arrangement.toggle(pane_id)

    return action


# Each pane's show/hide action, from its declaration in coda_tui/panes.py (its focus action is the
# main screen's). On the app: they are in the footer, whose order is the app's bindings'.
for _pane in PANES:
    if _pane.toggle_action:
        setattr(CodaApp, f"action_{_pane.toggle_action}", _toggle_action(_pane.id))


def run_app(runtime: Runtime, **kwargs) -> None:
    from coda_tui.ui.alt_keys import read_escaped_top_row_as_alt
    from coda_tui.ui.terminal import screen_apart_from_stderr

    read_escaped_top_row_as_alt()
    app = CodaApp(runtime, **kwargs)  # a config naming no theme stops here, before the screen changes
    with screen_apart_from_stderr():
        app.run()
