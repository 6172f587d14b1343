"""The coda terminal app: four panes over the same core as the CLI.

The app only presents and dispatches. A turn runs in core.Pipeline inside a Textual
worker on this event loop (the model itself generates in a thread, or over async HTTP);
the core publishes events, and the subscriber here only appends to buffers and marks
widgets for refresh, so a fast stream costs one redraw a frame, not one per token.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from textual.app import App, ComposeResult, SystemCommand
from textual.containers import Horizontal, Vertical
from textual.widgets import DirectoryTree, Footer

from coda_tui.actions import APP, BY_NAME, describe
from coda_tui.config import ConfigError
from coda_tui.context.attachments import Attachment, AttachmentError
from coda_tui.context.watch import keep_index_current
from coda_tui.core import events as ev
from coda_tui.core.choice import Choice, next_turn
from coda_tui.core.export import to_markdown
from coda_tui.core.runtime import Runtime
from coda_tui.keymaps import Keymap
from coda_tui.store import StoreError
from coda_tui.store.sessions import Message, Session
from coda_tui.textsafe import inert
from coda_tui.ui import theming
from coda_tui.ui.clipboard import copy
from coda_tui.ui.keys import ACTION_BINDINGS, keymap_for_textual, load_active_keymap
from coda_tui.ui.operations import OperationsUI
from coda_tui.ui.screens.dialogs import Ask
from coda_tui.ui.screens.finder import FileFinder
from coda_tui.ui.screens.help import HelpScreen
from coda_tui.ui.screens.models import ModelPicker
from coda_tui.ui.screens.sessions import SessionsScreen
from coda_tui.ui.state import UIState
from coda_tui.ui.voice import PushToTalk, VoiceEvent
from coda_tui.ui.widgets.chat import ChatInput, ChatPane
from coda_tui.ui.widgets.code import CodePane, CodeView
from coda_tui.ui.widgets.context import (
    AttachmentList,
    AttachPath,
    ContextPane,
    OpenPath,
)
from coda_tui.ui.widgets.messages import (
    WINDOW,
    MessageList,
    MessageView,
    code_blocks,
    meta_line,
)
from coda_tui.ui.widgets.pipeline import PipelinePane
from coda_tui.ui.widgets.status import StatusBar
from coda_tui.ui_names import check_name, named

NARROW = 100
# Tab stops, in order: the chat input, the conversation, then the other panes.
FOCUS_ORDER = ("#chat-input", "#messages", "#code-view", "#context-filter", "#project-tree", "#context-results",
               "#attachments", "#pipeline-history")
PANE_OF = {"#chat-input": "#chat", "#messages": "#chat", "#code-view": "#code", "#context-filter": "#context",
           "#project-tree": "#context", "#context-results": "#context", "#attachments": "#context",
           "#pipeline-history": "#pipeline"}


class CodaApp(App):
    CSS_PATH = "app.tcss"
    TITLE = "coda"
    BINDINGS = ACTION_BINDINGS

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
        check_name(runtime.config, "theme", sorted(self.theme_specs))
        self.session: Session | None = None
        self._session_ref = session_ref
        runtime.config.provider(provider)  # an unknown --provider stops here
        # What the user named for the next turns (core.choice decides from it).
        self._named = (provider, model) if provider is not None or model is not None else None
        self._why_named = "--provider" if provider is not None else "--model"
        self.attachments: list[Attachment] = []
        self._turn_view: MessageView | None = None
        self._last_question: tuple[str, int | None] | None = None
        self._last_failed = False
        self._live_timer = None
        self._files_cache: list[str] | None = None
        self.index_ready = False
        self.voice = PushToTalk(self)
        self._unsubscribe = runtime.bus.subscribe(self._on_core_event)
        # Slash commands, operations and pipelines (their events come wrapped, see core.chain).
        self.ops = OperationsUI(self)

    def notify(self, message: str, *, title: str = "", severity="information", timeout=None, markup: bool = False) -> None:
        # Notifications quote file names, session names and provider errors: outside text,
        # so neither markup nor control characters.
        super().notify(inert(self.rt.redact(message) or ""), title=inert(title), severity=severity, timeout=timeout, markup=markup)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # While a dialog is open, app-wide keys other than quit belong to the dialog.
        if len(self.screen_stack) > 1 and action not in ("quit", "command_palette"):
            return False
        return True

    # --- layout ------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Horizontal(id="main"):
            yield ContextPane(self.project, id="context")
            yield ChatPane(id="chat")
            with Vertical(id="right"):
                yield CodePane(id="code")
                yield PipelinePane(id="pipeline")
        yield StatusBar(id="status")
        yield Footer()

    async def on_mount(self) -> None:
        # The configured theme when the config names one, else the last one picked here.
        wanted = self.rt.config.ui.theme if named(self.rt.config, "theme") else self.state.theme or self.rt.config.ui.theme
        self.theme = wanted if wanted in self.theme_specs else "dark"
        self._apply_code_style()
        self._apply_layout()
        chat_input = self.query_one(ChatInput)
        chat_input.keys = {action: self.keymap.bindings[action] for action in chat_input.keys}
        chat_input.focus()
        session = None
        if self._session_ref:
            choice = self.choice
            session = self.rt.pipeline.resolve_session(self._session_ref, "", choice.provider, choice.model)
        await self.open_session(session)
        for warning in self.rt.config.warnings:  # e.g. a config file with a key that others can read
            self.notify(warning, severity="warning", timeout=15)
        self.query_one(PipelinePane).load_history(self.rt.store.traces.recent(30))
        self.check_health()
        if self.rt.cache is not None:
            stats = self.rt.cache.stats()
            self.query_one(PipelinePane).providers_line.set_cache(ev.CacheLookup(False, stats.hits, stats.misses, stats.saved_ms))
        theming.watch_user_themes(self)
        context = self.query_one(ContextPane)
        context.list_files = self._project_files
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

    def on_resize(self) -> None:
        self.screen.set_class(self.size.width < NARROW, "-narrow")
        self._apply_layout()

    def _apply_layout(self) -> None:
        narrow = self.size.width < NARROW
        self.query_one("#context").display = self.state.show_context and not (narrow and not self._shown_on_narrow("context"))
        self.query_one("#code").display = self.state.show_code and not (narrow and not self._shown_on_narrow("code"))
        self.query_one("#pipeline").display = self.state.show_pipeline
        self.query_one("#right").display = self.query_one("#code").display or self.query_one("#pipeline").display

    def _shown_on_narrow(self, pane: str) -> bool:
        return pane in getattr(self, "_narrow_shown", set())

    def _toggle(self, pane: str) -> None:
        if self.size.width < NARROW and pane in ("context", "code"):
            # On a narrow screen a toggle shows the pane for this run only; the saved
            # layout is for wide screens.
            shown = getattr(self, "_narrow_shown", set())
            shown.symmetric_difference_update({pane})
            self._narrow_shown = shown
            if pane in shown and not getattr(self.state, f"show_{pane}"):
                setattr(self.state, f"show_{pane}", True)
        else:
            setattr(self.state, f"show_{pane}", not getattr(self.state, f"show_{pane}"))
            self.state.save()
        self._apply_layout()
        focused = self.focused
        if focused is not None and not focused.display or (focused and not self._visible(focused)):
            self.query_one(ChatInput).focus()

    def _visible(self, widget) -> bool:
        node = widget
        while node is not None and node is not self.screen:
            if not node.display:
                return False
            node = node.parent
        return True

    # --- sessions ----------------------------------------------------------------------

    async def open_session(self, session: Session | None) -> None:
        self.session = session
        messages = self.query_one(MessageList)
        status = self.query_one(StatusBar)
        if session is None:
            await messages.show([], None, self._meta_for)
            status.session = ""
        else:
            if self._named is not None and session.provider in self.rt.config.providers:
                # A session opened after a choice keeps its own provider and model.
                self._named, self._why_named = (session.provider, session.model), "the session's"
            window = self.rt.store.sessions.messages(session.id, limit=WINDOW)
            self._timings = self.rt.store.traces.timings_for([m.id for m in window if m.role == "assistant"])
            await messages.show(window, self._older, self._meta_for)
            status.session = session.name
            self.state.last_session = session.id
            self.state.save()
        self._last_question = None
        self._show_model()

    def _older(self, before_id: int, count: int) -> list[Message]:
        older = self.rt.store.sessions.messages(self.session.id, limit=count, before_id=before_id)
        self._timings.update(self.rt.store.traces.timings_for([m.id for m in older if m.role == "assistant"]))
        return older

    def _meta_for(self, m: Message) -> str:
        ttft, total, tokens = getattr(self, "_timings", {}).get(m.id, (None, None, None))
        return meta_line(m.model, m.completion_tokens or tokens, ttft, total)

    @property
    def choice(self) -> Choice:
        """Who answers the next turn, and why."""
        return next_turn(self.rt.config, self.rt.providers, self.session, self._named, self._why_named,
                         roles=self.rt.pipeline.roles.enabled)

    @property
    def provider_name(self) -> str:
        return self.choice.provider

    def _show_model(self) -> None:
        choice = self.choice
        status = self.query_one(StatusBar)
        status.provider, status.model = choice.provider, choice.model
        known = self.rt.watchdog.latest.get(choice.provider)
        status.circuit = known.breaker if known else "closed"

    def check_health(self) -> None:
        self.run_worker(self._health(), group="health", exclusive=True, exit_on_error=False)

    async def _health(self) -> None:
        status = self.query_one(StatusBar)
        status.health = "checking"
        try:
            # Made in a thread: creating it imports its client library (openai: ~350 ms).
            prov = await asyncio.to_thread(self.rt.providers.get, self.provider_name)
            health = await prov.health()
        except Exception as exc:
            status.health, status.health_detail = "down", self.rt.redact(str(exc)) or ""
            return
        status.health, status.health_detail = ("ok" if health.ok else "down"), health.detail

    # --- a turn ------------------------------------------------------------------------

    @property
    def turn_running(self) -> bool:
        return any(w.group == "turn" and not w.is_finished for w in self.workers)

    async def on_chat_input_submitted(self, event: ChatInput.Submitted) -> None:
        if self.turn_running:
            self.notify("A turn is running: Esc cancels it.", severity="warning")
            self.query_one(ChatInput).load_text(event.text)
            return
        # The transcript's stages belong to this message, whatever it turns out to be.
        spoken = self.voice.take_spoken()
        if await self.ops.handle(event.text):
            return
        await self.start_turn(event.text, spoken=spoken)

    async def start_turn(self, prompt: str, answer_to: int | None = None, spoken=None) -> None:
        messages = self.query_one(MessageList)
        if answer_to is None:
            # Shown as it is stored: a pasted key is masked (the pipeline masks it too).
            await messages.add(MessageView("user", self.rt.redact.exact(prompt)))
        status = self.query_one(StatusBar)
        self._turn_view = await messages.add(MessageView("assistant", "", model=status.model, status="partial"))
        self._last_question = (prompt, answer_to)
        self.run_worker(self._run_turn(prompt, answer_to, spoken), group="turn", exclusive=True, exit_on_error=False)

    async def _run_turn(self, prompt: str, answer_to: int | None, spoken=None) -> None:
        provider, model = self.choice.for_turn()
        try:
            result = await self.rt.pipeline.run(
                prompt,
                session=self.session,
                attachments=list(self.attachments),
                provider=provider,
                model=model,
                answer_to=answer_to,
                spoken=spoken,
            )
        except (ConfigError, AttachmentError, StoreError) as exc:
            # Nothing was answered: say why, and give the question back to edit.
            view = self._turn_view
            if view is not None:
                await view.finish("error", "", str(exc))
            self.query_one(ChatInput).load_text(prompt)
            self._last_failed = True
            return
        if self._last_question and self._last_question[1] is None:
            self._last_question = (prompt, result.user_message_id)

    def _on_core_event(self, event: ev.Event) -> None:
        """Called synchronously by the core, on this loop: only cheap bookkeeping here."""
        pane = self.query_one(PipelinePane)
        waterfall = pane.waterfall
        if isinstance(event, ev.TokenChunk):
            if self._turn_view is not None:
                self._turn_view.append(event.text)
            waterfall.token(event.count, event.ttft_ms)
        elif isinstance(event, ev.StageStarted):
            waterfall.stage_started(event.name, event.start_ms)
        elif isinstance(event, ev.StageFinished):
            waterfall.stage_finished(event.name, event.start_ms, event.duration_ms, event.summary)
        elif isinstance(event, ev.TurnStarted):
            if self.session is None or self.session.id != event.session_id:
                self.session = self.rt.store.sessions.get(event.session_id)
                self.query_one(StatusBar).session = self.session.name if self.session else ""
                self.state.last_session = event.session_id
            waterfall.start(f"turn · {event.provider}/{event.model}", event.elapsed_ms)
            self.query_one(StatusBar).activity = "answering… (Esc cancels)"
            self._live_timer = self.set_interval(1 / 10, waterfall.refresh)
        elif isinstance(event, ev.Retrying):
            self.query_one(StatusBar).activity = f"retrying in {event.delay_s:.1f} s: {event.reason[:60]}"
        elif isinstance(event, ev.FallingBack):
            target = event.next_provider + (f"/{event.next_model}" if event.next_model else "")
            self.query_one(StatusBar).activity = f"{event.provider} failed, asking {target}: {event.reason[:50]}"
        elif isinstance(event, ev.ProviderStatus):
            pane.providers_line.set_status(event)
            status = self.query_one(StatusBar)
            if event.provider == status.provider:
                status.circuit = event.breaker
                if event.health != "unknown":
                    status.health, status.health_detail = event.health, event.detail
        elif isinstance(event, ev.CacheLookup):
            pane.providers_line.set_cache(event)
        elif isinstance(event, ev.TurnFinished):
            if self._live_timer is not None:
                self._live_timer.stop()
                self._live_timer = None
            waterfall.finish(event.trace)
            pane.add_trace(event.trace)
            self._last_failed = event.status in ("error", "partial")
            status = self.query_one(StatusBar)
            status.activity = {"complete": "", "cancelled": "cancelled: the partial answer is kept"}.get(
                event.status, ("failed" if event.status == "error" else "cut short") + f": {self.keymap.key_string('retry')} retries"
            )
            view, self._turn_view = self._turn_view, None
            if view is not None:
                t = event.trace
                meta = meta_line(t.model, t.tokens, t.ttft_ms, t.total_ms)
                error = event.error
                if error and event.status in ("error", "partial"):
                    error += f"  —  {self.keymap.key_string('retry')} retries"
                self.call_later(view.finish, event.status, meta, error, event.message_id)
                self._show_answer_code(view.text)
            self.attachments.clear()
            self._refresh_attachments()

    def _show_answer_code(self, answer: str) -> None:
        """With no file open, the code pane shows the last code block of the answer."""
        code = self.query_one(CodePane)
        blocks = code_blocks(answer)
        if blocks and code.view.path is None:
            code.show_snippet(blocks[-1], "code from the last answer (ctrl+o opens a file)")

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

    def _focus_index(self) -> int:
        focused = self.focused
        for i, sel in enumerate(FOCUS_ORDER):
            if focused is not None and focused.id == sel[1:]:
                return i
        return -1

    def _cycle(self, step: int) -> None:
        start = self._focus_index()
        for k in range(1, len(FOCUS_ORDER) + 1):
            sel = FOCUS_ORDER[(start + step * k) % len(FOCUS_ORDER)]
            widget = self.query_one(sel)
            # An empty list is no place to stop.
            if self._visible(widget) and getattr(widget, "option_count", 1):
                widget.focus()
                return

    def action_focus_next(self) -> None:
        self._cycle(1)

    def action_focus_previous(self) -> None:
        self._cycle(-1)

    def _focus_pane(self, pane: str, target: str) -> None:
        if not self._visible(self.query_one(target)):
            self._toggle(pane)
        self.query_one(target).focus()

    def action_focus_chat(self) -> None:
        self._focus_pane("chat", "#chat-input")

    def action_focus_code(self) -> None:
        self._focus_pane("code", "#code-view")

    def action_focus_context(self) -> None:
        self._focus_pane("context", "#context-filter")

    def action_focus_pipeline(self) -> None:
        self._focus_pane("pipeline", "#pipeline-history")

    def action_toggle_context(self) -> None:
        self._toggle("context")

    def action_toggle_code(self) -> None:
        self._toggle("code")

    def action_toggle_pipeline(self) -> None:
        self._toggle("pipeline")

    def action_zoom(self) -> None:
        if self.screen.maximized is not None:
            self.screen.minimize()
            return
        focused = self.focused
        pane_id = PANE_OF.get(f"#{focused.id}") if focused is not None else None
        if pane_id:
            self.screen.maximize(self.query_one(pane_id), container=False)

    async def action_new_session(self) -> None:
        await self.open_session(None)
        self.notify("New session: it is saved with your first question.")

    async def action_clear_session(self) -> None:
        await self.open_session(None)

    def action_export_session(self) -> None:
        if self.session is None:
            self.notify("Nothing to export yet.", severity="warning")
            return
        session = self.session
        default = str(self.project / f"coda-session-{session.id}.md")

        def write(path: str | None) -> None:
            if not path:
                return
            target = Path(path).expanduser()
            text = to_markdown(session, self.rt.store.sessions.messages(session.id), self.rt.redact)
            try:
                target.write_text(text, encoding="utf-8")
            except OSError as exc:
                self.notify(f"Cannot write {target}: {exc.strerror}", severity="error")
                return
            self.notify(f"Exported to {target}")

        self.push_screen(Ask("Export this session as Markdown to:", default), write)

    def action_open_file(self) -> None:
        def opened(choice: str | None) -> None:
            if not choice:
                return
            path, _, line = choice.partition(":")
            self.show_file(self.project / path, int(line) if line.isdigit() else 1)

        self.push_screen(FileFinder(self._project_files()), opened)

    def show_file(self, path: Path, line: int = 1) -> None:
        if not path.is_absolute():
            path = self.project / path
        try:
            resolved = self.rt.project.check(path)
        except AttachmentError as exc:
            self.notify(str(exc), severity="error", timeout=8)
            return
        if not self._visible(self.query_one("#code")):
            self._toggle("code")
        code = self.query_one(CodePane)
        error = code.open_file(resolved, self.rt.project.rel(resolved))
        if error:
            self.notify(error, severity="error")
        elif line > 1:
            self.call_after_refresh(code.view.go_to_line, line)

    def action_help(self) -> None:
        self.push_screen(HelpScreen(self.keymap.name, [(", ".join(keys), action, desc) for action, keys, desc in self._key_rows()]))

    def _key_rows(self) -> list[tuple[str, list[str], str]]:
        # The main screen's keys, then the dialogs' (those may repeat a main-screen key).
        rows = sorted(self.keymap.bindings.items()) + sorted(self.keymap.dialog_bindings.items())
        return [(action, keys, describe(action)) for action, keys in rows]

    def action_sessions(self) -> None:
        def chosen(session_id: int | None) -> None:
            if session_id is not None:
                self.call_later(self.open_session, self.rt.store.sessions.get(session_id))

        self.push_screen(SessionsScreen(self.rt.store.sessions, self.session.id if self.session else None), chosen)

    def action_pick_model(self) -> None:
        status = self.query_one(StatusBar)

        def chosen(choice: tuple[str, str] | None) -> None:
            if choice is None:
                return
            # The session records it when a turn runs with it (only core writes a session's model).
            self._named, self._why_named = choice, "picked in the app"
            self._show_model()
            self.check_health()

        self.push_screen(ModelPicker(self.rt.providers, (status.provider, status.model)), chosen)

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
            await views[-1].remove()
        await self.start_turn(question[0], answer_to=question[1])

    async def action_retry(self) -> None:
        await self.action_regenerate()

    def action_edit_last(self) -> None:
        views = [v for v in self.query_one(MessageList).views if v.role == "user"]
        if views:
            chat_input = self.query_one(ChatInput)
            chat_input.load_text(views[-1].text)
            chat_input.focus()

    def _last_answer(self) -> str:
        views = [v for v in self.query_one(MessageList).views if v.role == "assistant" and v.text]
        return views[-1].text if views else ""

    def action_copy_answer(self) -> None:
        text = self._last_answer()
        self.notify(copy(self, text) if text else "No answer to copy yet.")

    def action_copy_code(self) -> None:
        blocks = code_blocks(self._last_answer())
        self.notify(copy(self, blocks[-1]) if blocks else "The last answer has no code block.")

    def action_theme_next(self) -> None:
        names = sorted(self.theme_specs)
        current = names.index(self.theme) if self.theme in names else -1
        self.set_theme(names[(current + 1) % len(names)])

    def set_theme(self, name: str) -> None:
        self.theme = name
        self.state.theme = name
        self.state.save()
        self._apply_code_style()
        self.notify(f"Theme: {name}")

    def _apply_code_style(self) -> None:
        spec = self.theme_specs.get(self.theme)
        if spec is not None:
            self.query_one(CodePane).view.set_style(spec.pygments_style)

    # --- messages from widgets ---------------------------------------------------------

    def on_directory_tree_file_selected(self, event: DirectoryTree.FileSelected) -> None:
        self.show_file(Path(event.path))

    def on_open_path(self, event: OpenPath) -> None:
        self.show_file(event.path, event.line)

    def on_attach_path(self, event: AttachPath) -> None:
        self.attach(event.path, event.lines)

    def on_code_view_attach_lines(self, event: CodeView.AttachLines) -> None:
        if self.attach(event.path, (event.first, event.last)):
            self.query_one(ChatInput).focus()

    def on_code_view_go_to_line(self, event: CodeView.GoToLine) -> None:
        view = self.query_one(CodeView)

        def go(answer: str | None) -> None:
            if answer and answer.strip().isdigit():
                view.go_to_line(int(answer))
                view.focus()

        self.push_screen(Ask(f"Go to line (1-{len(view.lines)}):"), go)

    def attach(self, path: Path, lines: tuple[int, int] | None = None) -> bool:
        """Attach through the project's sandbox; a refusal is shown, not raised."""
        try:
            item = self.rt.pipeline.attach(path, lines)
        except AttachmentError as exc:
            self.notify(str(exc), severity="error", timeout=8)
            return False
        if all(a.label != item.label for a in self.attachments):
            self.attachments.append(item)
        self._refresh_attachments()
        self.notify(f"Attached {item.label} (~{item.tokens:,} tokens)")
        return True

    def _refresh_attachments(self) -> None:
        _, _, window = self.rt.providers.describe(self.provider_name)
        budget = self.rt.config.context.budget_tokens or window // 4
        self.query_one(ContextPane).show_attachments(self.attachments, budget, window)

    def on_attachment_list_detach(self, event: AttachmentList.Detach) -> None:
        if 0 <= event.index < len(self.attachments):
            del self.attachments[event.index]
            self._refresh_attachments()

    # --- the project's files -----------------------------------------------------------

    def _project_files(self) -> list[str]:
        if self._files_cache is None:
            self._files_cache = self.rt.index.paths() or [e.rel for e in self.rt.project.walk()]
        return self._files_cache

    async def _keep_index_current(self) -> None:
        """The index follows the disk (context.watch); the code pane reloads a file that
        changed while it shows it."""

        async def indexed(stats) -> None:
            self._files_cache = None
            self.query_one("#context-filter").placeholder = f"filter {stats.files_seen:,} files · /search"
            self.index_ready = True
            await self._embed_new_chunks()

        async def changed(paths: list[Path]) -> None:
            code = self.query_one(CodePane)
            if code.view.path is not None and code.view.path in paths:
                code.reload()
            self._files_cache = None
            await self._embed_new_chunks()

        await keep_index_current(self.rt.index, self.rt.project.root, indexed=indexed, changed=changed)

    async def _embed_new_chunks(self) -> None:
        """With semantic ranking configured, vectors for chunks that have none yet."""
        if self.rt.semantic is None:
            return
        try:
            await self.rt.semantic.refresh()
        except Exception as exc:
            self.query_one(StatusBar).activity = f"semantic search off: {str(exc)[:60]}"

    async def on_message_list_branch(self, event: MessageList.Branch) -> None:
        if self.session is None:
            return
        branch = self.rt.store.sessions.branch(self.session.id, event.message_id)
        await self.open_session(branch)
        self.notify(f"Branched into '{branch.name}'")

    def on_message_list_copy(self, event: MessageList.Copy) -> None:
        self.notify(copy(self, event.text))

    # --- command palette ---------------------------------------------------------------

    def get_system_commands(self, screen):
        yield from super().get_system_commands(screen)
        for action, keys in sorted(self.keymap.bindings.items()):
            if BY_NAME[action].palette and BY_NAME[action].scope == APP:
                yield SystemCommand(describe(action), f"{action} ({', '.join(keys)})", getattr(self, f"action_{action}"))
        yield from self.ops.commands()
        for name in sorted(self.theme_specs):
            yield SystemCommand(f"Theme: {name}", "switch the colour theme (remembered)", lambda n=name: self.set_theme(n))

    async def on_unmount(self) -> None:
        self._unsubscribe()
        # A recording still running would hold the exit until its end of speech.
        self.voice.close()
        # Before the providers close: a poll must not make a new one after they have.
        self.workers.cancel_group(self, "watchdog")
        self.ops.close()
        await self.rt.aclose()


def run_app(runtime: Runtime, **kwargs) -> None:
    from coda_tui.ui.alt_keys import read_escaped_top_row_as_alt
    from coda_tui.ui.terminal import screen_apart_from_stderr

    read_escaped_top_row_as_alt()
    app = CodaApp(runtime, **kwargs)  # a config naming no theme stops here, before the screen changes
    with screen_apart_from_stderr():
        app.run()
