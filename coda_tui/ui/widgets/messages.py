"""Chat messages: one view a message, and the scrolling list that keeps only a window of
them mounted, loading older ones as the user scrolls up."""

from __future__ import annotations

import asyncio
import gc
import json
import re
import time
from typing import Callable

from textual import events
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.geometry import Size
from textual.message import Message as TMessage
from textual.widget import Widget
from textual.widgets import Static

from coda_tui.store.sessions import Message
from coda_tui.textsafe import inert
from coda_tui.ui.keys import bind
from coda_tui.ui.render_caches import release_removed_widgets
from coda_tui.ui.widgets.tool_calls import ToolCallView

# Messages mounted when a session opens, and fetched each time the top is reached.
WINDOW = 16
BATCH = 16
# Messages kept mounted as a conversation goes on: past this, the oldest are unmounted
# (back to WINDOW) and come back from the database when scrolled to. Every mounted message
# holds its widgets, styles and render caches (~0.7 MiB a turn), and quitting tears them
# all down. A few over WINDOW, so a turn's two messages usually cost one unmount.
KEEP_MOUNTED = WINDOW + 4
# Streaming text reaches the Markdown widget at most this often (seconds): tokens arriving
# in between are joined into one write, so a fast stream costs one update a frame. Each
# update lays the growing document out again, so the interval grows with the answer
# (a 16 KB answer: about 0.1 s), keeping the app free to echo keys as the answer grows.
FLUSH_INTERVAL = 1 / 30
FLUSH_PER_CHAR = 1 / 200_000
# Keys come first: each update of the streaming answer costs the app a re-layout and a
# repaint of the chat (tens of ms, py-spy), and a key typed meanwhile waits for it. While
# the user types (a key less than KEY_QUIET ago) the answer's text is held back, for at
# most HOLD_MAX, so a stream costs the typing one update every HOLD_MAX instead of one a
# frame (tui_stream echo p95: 0.5 s 96 ms, 1 s 66 ms; 2 s 122 ms, on a busier machine,
# each update then mounting more blocks). What the answer finally shows does not change.
KEY_QUIET = 0.15
HOLD_MAX = 1.0
_typed_at = float("-inf")


def typed() -> None:
    """A key was typed into the app (the chat input calls this): streaming answers hold
    their next update until typing pauses (see KEY_QUIET)."""
    global _typed_at
    _typed_at = time.monotonic()

# Full garbage collections (generation 2) walk every object made since start-up (gc.freeze
# in startup_gc), the Markdown parser's and the answer's widgets among them: 100-150 ms of
# CPU each (py-spy and gc.callbacks, tui_stream), a pause a typed key waits behind, and a
# fast stream makes enough objects for several. While an answer streams they are put off
# (the younger generations still run); once the last stream ends, one runs as soon as the
# user is not typing, and the collector's own threshold is back in charge.
GC_DEFERRED = 1_000_000  # generation-1 collections before a full one: "not while streaming"
GC_QUIET_MAX = 10.0  # seconds a deferred collection waits for a pause in the typing
_streams = 0
_gc_threshold: tuple[int, int, int] | None = None


def _defer_full_gc() -> None:
    global _streams, _gc_threshold
    if _streams == 0 and _gc_threshold is None:
        _gc_threshold = gc.get_threshold()
        gc.set_threshold(_gc_threshold[0], _gc_threshold[1], GC_DEFERRED)
    _streams += 1


def _end_deferral() -> None:
    global _streams
    _streams = max(0, _streams - 1)
    if _streams == 0:
        asyncio.get_running_loop().call_later(KEY_QUIET, _collect_when_quiet, time.monotonic())


def _stop_deferring() -> None:
    """The chat is closing (the app quits): the collector's own threshold again, now, since
    the loop that would run the deferred collection is ending."""
    global _streams, _gc_threshold
    _streams = 0
    if _gc_threshold is not None:
        gc.set_threshold(*_gc_threshold)
        _gc_threshold = None


def _collect_when_quiet(since: float) -> None:
    global _gc_threshold
    if _streams or _gc_threshold is None:
        return  # another stream began: its end collects
    now = time.monotonic()
    if now - _typed_at < KEY_QUIET and now - since < GC_QUIET_MAX:
        asyncio.get_running_loop().call_later(KEY_QUIET, _collect_when_quiet, since)
        return
    gc.set_threshold(*_gc_threshold)
    _gc_threshold = None
    gc.collect()


# A streaming answer moves on to a new Markdown widget at the first paragraph break
# outside a code block after this many characters (see MessageView._new_segment).
SEGMENT_CHARS = 1500

# A message longer than this shows its beginning and says how much more there is: laying
# out a megabyte of Markdown (or of highlighted code) takes seconds, on the app's only
# thread, and again at every resize. The whole text is kept, copied and exported.
SHOW_CHARS = 16_000


def preview_cut(text: str, limit: int = SHOW_CHARS) -> int:
    """How much of `text` a message shows: all of it, or up to a line end within `limit`."""
    if len(text) <= limit:
        return len(text)
    cut = text.rfind("\n", 0, limit)
    return cut if cut > 0 else limit


def preview(text: str, limit: int = SHOW_CHARS) -> str:
    """The start of `text` (see preview_cut); a code fence it leaves open is closed."""
    cut = preview_cut(text, limit)
    if cut == len(text):
        return text
    head = text[:cut]
    opener = None
    for line in head.splitlines():
        mark = line.lstrip()[:3]
        if mark in ("```", "~~~"):
            opener = None if opener == mark else (opener or mark)
    return head + (f"\n{opener}\n" if opener else "")


_FENCE = re.compile(r"^(```+|~~~+)[^\n]*\n(.*?)^\1[ \t]*$", re.S | re.M)


def code_blocks(markdown: str) -> list[str]:
    return [m.group(2) for m in _FENCE.finditer(markdown)]


def _paragraph_break(before: str, fragment: str) -> int | None:
    """Where in `fragment` a new Markdown document may start: just after its last blank
    line that lies outside any code fence (counting the fences in `before` too)."""
    pos = fragment.rfind("\n\n")
    while pos >= 0:
        head = before + fragment[: pos + 2]
        fences = sum(1 for line in head.splitlines() if line.lstrip().startswith(("```", "~~~")))
        if fences % 2 == 0:
            return pos + 2
        pos = fragment.rfind("\n\n", 0, pos)
    return None


def _markdown_widget():
    """The Markdown widget answers are drawn with (see answer_document), imported when the
    first answer is drawn."""
    from coda_tui.ui.widgets.answer_document import AnswerDocument

    return AnswerDocument


class _Fold(Widget):
    """Stands in, at the same height, for a finished Markdown document scrolled far above the
    chat's view, which is hidden (display: none) meanwhile. Every update of a streaming
    answer lays the whole screen out again, and Textual's layout visits every displayed
    widget, however far off screen (Compositor.reflow: the arrangement and the content
    heights are cached, the walk is not): a long answer is hundreds of block widgets. Folded,
    an update costs what the visible part of the chat holds, not the whole conversation."""

    def __init__(self, document: Widget) -> None:
        super().__init__()
        self.document = document
        self.styles.height = document.outer_size.height
        self.display = False  # until it takes the document's place (MessageList.fold_far_above)


def meta_line(model: str | None, tokens: int | None, ttft_ms: float | None, total_ms: float | None) -> str:
    parts = [model or ""]
    if tokens:
        parts.append(f"{tokens} tokens")
    if ttft_ms is not None:
        parts.append(f"first token {ttft_ms:,.0f} ms")
    if total_ms is not None:
        parts.append(f"{total_ms / 1000:.1f} s")
    return " · ".join(p for p in parts if p)


class MessageView(Vertical):
    """A question or an answer. Answers stream into a Markdown widget."""

    DEFAULT_CSS = """
    MessageView { height: auto; padding: 0 1; margin: 0 0 1 0; }
    MessageView .msg-head { color: $text-muted; text-style: bold; }
    MessageView.-user .msg-head { color: $accent; }
    MessageView.-assistant .msg-head { color: $primary; }
    MessageView .msg-meta { color: $text-muted; height: auto; }
    MessageView .msg-error { color: $error; height: auto; }
    MessageView Markdown { margin: 0; padding: 0; }
    MessageView.-selected { background: $boost; }
    """

    def __init__(self, role: str, text: str = "", *, message_id: int | None = None, status: str = "complete",
                 model: str | None = None, error: str | None = None, meta: str = "", stored: bool = False,
                 rating: int | None = None, rating_reason: str | None = None) -> None:
        super().__init__(classes=f"-{role}")
        self.role = role
        self.message_id = message_id
        self.status = status
        self.text = text
        self.model = model
        self.error = error
        self._meta = meta
        self.rating, self.rating_reason = rating, rating_reason
        # A stored answer is drawn by one widget (Rich's Markdown); only an answer that is
        # streaming needs Textual's Markdown, a widget a block, which can grow.
        self.stored = stored
        # An answer being written is "partial" in the database, but it is not cut short:
        # its meta line says nothing of its status until it finishes.
        self._streaming = not stored and message_id is None and status == "partial"
        self._pending: list[str] = []
        self._stream = None
        self._segment = ""  # the text in the Markdown widget being written
        self._flush_timer = None
        # The flush timer runs in this view's queue, finish() in its caller's (the chat
        # pane's, the turn's worker): one at a time, or finish() stops a Markdown stream
        # whose task the flush has just made and not yet started. Awaiting that task raises
        # CancelledError, which ends the chat pane's message queue: the chat goes blank
        # and takes no more keys (the long-session stall).
        self._writing = asyncio.Lock()
        self._held_since: float | None = None  # when the pending text was first held for typing
        self._defers_gc = False  # this view holds full collections off (see _defer_full_gc)
        self._shown = preview_cut(text)  # characters of `text` on screen

    def compose(self):
        head = "You" if self.role == "user" else "Assistant"
        if self.role == "assistant" and self.model:
            head += f" · {inert(self.model)}"
        yield Static(head, classes="msg-head", markup=False)
        shown = preview(self.text)
        if self.role == "user":
            yield Static(inert(shown), classes="msg-body", markup=False)
        elif self.stored:
            from rich.markdown import Markdown as RichMarkdown  # see _markdown_widget

            yield Static(RichMarkdown(inert(shown), code_theme=self._code_theme()), classes="msg-body")
        else:
            document = _markdown_widget()(inert(shown), open_links=False)
            document.written = not self._streaming
            yield document
        yield Static(self._meta_text(), classes="msg-meta", markup=False)
        yield Static(inert(self.error or ""), classes="msg-error", markup=False)

    def _code_theme(self) -> str:
        styles = self.parent.code_styles if isinstance(self.parent, MessageList) else {}
        return styles.get(self.app.theme, "monokai")

    def _meta_text(self) -> str:
        note = "" if self.status == "complete" or self._streaming else f"{self.status} · "
        if self.role == "assistant" and self.status == "complete" and not self.text:
            note = "empty answer · "
        if len(self.text) > self._shown:
            note += f"showing {self._shown:,} of {len(self.text):,} characters (c copies all, ctrl+s exports) · "
        meta = self._meta
        if self.rating is not None:
            verdict = "rated up" if self.rating > 0 else "rated down"
            meta += (" · " if meta else "") + verdict + (f": {self.rating_reason}" if self.rating_reason else "")
        # The meta line names the model, which a server or a stored session chose.
        # No bare "·" at the end when nothing follows the note (an error without meta).
        text = note + meta if meta else note.removesuffix(" · ")
        return inert(text) if text else ""

    def set_rating(self, rating: int | None, reason: str | None) -> None:
        self.rating, self.rating_reason = rating, reason
        self.query_one(".msg-meta", Static).update(self._meta_text())

    # --- streaming ---------------------------------------------------------------------

    @property
    def text(self) -> str:
        # A streamed answer is kept as its chunks and joined when read: `text += chunk`
        # would copy the whole answer at every chunk (a 1 MB answer: gigabytes).
        if len(self._parts) > 1:
            self._parts[:] = ["".join(self._parts)]
        return self._parts[0] if self._parts else ""

    @text.setter
    def text(self, value: str) -> None:
        self._parts = [value]
        self._length = len(value)

    def append(self, chunk: str) -> None:
        self._parts.append(chunk)
        self._length += len(chunk)
        room = SHOW_CHARS - self._shown
        if room <= 0:
            return  # kept in self.text (and the database); the meta line says how much
        chunk = chunk[:room]
        self._shown += len(chunk)
        self._pending.append(inert(chunk))
        if self._streaming and not self._defers_gc:
            self._defers_gc = True
            _defer_full_gc()
        if self._flush_timer is None:
            self._flush_timer = self.set_timer(FLUSH_INTERVAL + self._length * FLUSH_PER_CHAR, self._flush)

    async def _flush(self, hold: bool = True) -> None:
        self._flush_timer = None
        async with self._writing:
            await self._write_pending(hold)

    async def _write_pending(self, hold: bool) -> None:
        if not self._pending:
            return
        now = time.monotonic()
        quiet_in = _typed_at + KEY_QUIET - now
        if quiet_in > 0 and hold:
            held = self._held_since = self._held_since or now
            wait = min(quiet_in, held + HOLD_MAX - now)
            if wait > 0:
                self._flush_timer = self.set_timer(wait, self._flush)
                return
        self._held_since = None
        fragment = "".join(self._pending)
        self._pending.clear()
        if len(self._segment) > SEGMENT_CHARS:
            cut = _paragraph_break(self._segment, fragment)
            if cut is not None:
                await self._write(fragment[:cut])
                await self._new_segment()
                fragment = fragment[cut:]
        await self._write(fragment)

    async def _write(self, text: str) -> None:
        if not text:
            return
        if self._stream is None:
            markdown = _markdown_widget()
            self._stream = markdown.get_stream(self.query(markdown).last())
        self._segment += text
        await self._stream.write(text)

    async def _new_segment(self) -> None:
        """Close the Markdown widget being written and continue in a new one below it: a
        long answer becomes several documents, and only the last one grows and is laid
        out again on each update."""
        if self._stream is not None:
            await self._stream.stop()
            self._stream = None
        markdown = _markdown_widget()
        self.query(markdown).last().written = True
        await self.mount(markdown("", open_links=False), after=self.query(markdown).last())
        self._segment = ""
        if isinstance(self.parent, MessageList):
            await self.parent.fold_far_above()

    def _stop_deferring_gc(self) -> None:
        if self._defers_gc:
            self._defers_gc = False
            _end_deferral()

    def on_unmount(self) -> None:
        # Removed while streaming (a session switched away mid-answer): no finish() comes.
        self._stop_deferring_gc()

    async def finish(self, status: str, meta: str, error: str | None = None, message_id: int | None = None) -> None:
        if self._flush_timer is not None:
            self._flush_timer.stop()
            self._flush_timer = None
        async with self._writing:
            await self._write_pending(hold=False)
            if self._stream is not None:
                await self._stream.stop()
                self._stream = None
            for document in self.query(_markdown_widget()):
                document.written = True
        self.status, self._meta, self.error = status, meta, error
        self._streaming = False
        self._stop_deferring_gc()
        if message_id is not None:
            self.message_id = message_id
        self.query_one(".msg-meta", Static).update(self._meta_text())
        self.query_one(".msg-error", Static).update(inert(error or ""))


class MessageList(VerticalScroll, can_focus=True):
    """The conversation. Only a window of messages is mounted: a session of thousands
    opens as fast as one of ten, and older messages arrive when scrolled to."""

    ALLOW_MAXIMIZE = False
    BINDINGS = [
        Binding("up", "select(-1)", "Previous message", show=False),
        Binding("down", "select(1)", "Next message", show=False),
        Binding("enter,space", "toggle_selected", "Open or close a tool call", show=False),
        bind("branch"),
        bind("copy_message"),
        bind("rate_up"),
        bind("rate_down"),
    ]
    # Each theme's Pygments style by theme name, given by whoever owns the themes (the app):
    # an answer's code is coloured by the theme shown when it is drawn.
    code_styles: dict[str, str] = {}

    class Branch(TMessage):
        def __init__(self, message_id: int) -> None:
            super().__init__()
            self.message_id = message_id

    class Copy(TMessage):
        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    class Rate(TMessage):
        """Rate this stored answer: `verdict` is "up" or "down"."""

        def __init__(self, view: MessageView, verdict: str) -> None:
            super().__init__()
            self.view = view
            self.verdict = verdict

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._fetch_older: Callable[[int, int], list[Message]] | None = None
        self._more_older = False
        self._loading = False
        self.selected: int | None = None
        self._folded_at: Size | None = None  # the view's size when the folds were made
        self._unfolds = 0

    # --- folding what is far above the view (see _Fold) ----------------------------------

    async def fold_far_above(self) -> None:
        """Fold the finished Markdown documents that end more than a screenful above the
        view: scrolling up by up to a page unfolds everything (watch_scroll_y) before a
        fold can come into sight."""
        markdown = _markdown_widget()
        top = self.content_region.y - self.content_region.height
        far = []
        for view in self.views:
            if not isinstance(view, MessageView) or view.stored:
                continue
            documents = list(view.query_children(markdown))
            if view._streaming:
                documents = documents[:-1]  # the one being written grows
            far += [(view, d) for d in documents if d.display and d.region and d.region.bottom < top]
        if not far:
            return
        unfolds = self._unfolds
        folds = [_Fold(document) for _, document in far]
        for (view, document), fold in zip(far, folds):
            await view.mount(fold, before=document)
        if unfolds != self._unfolds:  # the reader scrolled up meanwhile
            for fold in folds:
                await fold.remove()
            return
        # Swapped in one step, laid out in one pass: the chat's height never changes.
        for (_, document), fold in zip(far, folds):
            fold.display = True
            document.display = False
        self._folded_at = self.content_region.size

    def unfold(self) -> None:
        self._unfolds += 1
        for fold in self.query(_Fold):
            if fold.display:
                fold.document.display = True
                fold.display = False
            fold.remove()
        self._folded_at = None

    def on_unmount(self) -> None:
        _stop_deferring()

    def on_resize(self, event: events.Resize) -> None:
        # A new width gives the documents new heights, the folds' are stale; a taller view
        # may reach a fold.
        size = self.content_region.size
        if self._folded_at is not None and (size.width != self._folded_at.width or size.height > self._folded_at.height):
            self.unfold()

    async def show(self, messages: list[Message], fetch_older: Callable[[int, int], list[Message]] | None,
                   meta: Callable[[Message], str]) -> None:
        """Replace the content with `messages` (the newest window of a session)."""
        self._fetch_older = fetch_older
        self._meta = meta
        self._more_older = fetch_older is not None and len(messages) >= WINDOW
        self.selected = None
        await self.remove_children()
        release_removed_widgets()
        await self.mount_all(self._views(messages))
        self.scroll_end(animate=False)
        self.anchor()

    def _views(self, messages: list[Message]) -> list[MessageView | ToolCallView]:
        # A tool message names its call; the arguments are on the assistant message that asked,
        # the nearest one before it (models reuse ids such as call_0 in every round).
        arguments: dict[str | None, str] = {}
        views = []
        for m in messages:
            if _calls(m):
                arguments = {call.get("id"): call.get("arguments", "") for call in _calls(m)}
            if m.role == "tool":
                views.append(ToolCallView.stored(m, arguments.get(m.tool_call_id, "")))
            elif not (m.role == "assistant" and _calls(m) and not m.content and not m.error):
                # (A round that only asked for tools has nothing to read but its calls.)
                views.append(self._view(m))
        return views

    def _view(self, m: Message) -> MessageView:
        return MessageView(m.role, m.content, message_id=m.id, status=m.status, model=m.model,
                           error=m.error, meta=self._meta(m) if m.role == "assistant" else "", stored=True,
                           rating=m.rating, rating_reason=m.rating_reason)

    @property
    def views(self) -> list[MessageView | ToolCallView]:
        return [c for c in self.children if isinstance(c, (MessageView, ToolCallView))]

    async def add(self, view: MessageView) -> MessageView:
        await self.mount(view)
        self.scroll_end(animate=False)
        self.anchor()
        await self._unmount_oldest()
        # The answers above, laid out again with every update of the next one.
        self.call_after_refresh(self.fold_far_above)
        return view

    async def _unmount_oldest(self) -> None:
        """Past KEEP_MOUNTED, unmount the oldest messages down to WINDOW, when they can be
        fetched again: the first one kept must be stored (have an id), since older ones
        are fetched from the database by the id of the first one on screen."""
        views = self.views
        if len(views) <= KEEP_MOUNTED or self._fetch_older is None:
            return
        cut = len(views) - WINDOW
        while cut < len(views) and views[cut].message_id is None:
            cut += 1
        if cut >= len(views) - 1 or views[cut].message_id is None:
            return  # nothing stored to fetch from: keep them
        await self.remove_children(views[:cut])
        release_removed_widgets()
        self._more_older = True
        if self.selected is not None:
            self.selected = self.selected - cut if self.selected >= cut else None

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        if new < old and self._folded_at is not None:
            self.unfold()  # the reader goes back up: show everything as it is
        # Only a list taller than its pane: one that fits (its oldest messages just
        # unmounted, say) was not scrolled up by anyone.
        if new <= 0 and self._more_older and not self._loading and self.max_scroll_y > 0:
            self._loading = True
            self.call_after_refresh(self._load_older)

    async def _load_older(self) -> None:
        try:
            views = self.views
            oldest = next((v.message_id for v in views if v.message_id is not None), None)
            if oldest is None or self._fetch_older is None:
                self._more_older = False
                return
            older = self._fetch_older(oldest, BATCH)
            self._more_older = len(older) >= BATCH
            if not older:
                return
            before_height = self.virtual_size.height
            await self.mount_all(self._views(older), before=views[0] if views else None)

            def keep_place() -> None:
                # Hold the message the user was reading where it was on the screen.
                self.scroll_to(y=self.virtual_size.height - before_height, animate=False)

            self.call_after_refresh(keep_place)
        finally:
            self._loading = False

    # --- selection (keyboard) ----------------------------------------------------------

    def action_select(self, delta: int) -> None:
        views = self.views
        if not views:
            return
        index = len(views) - 1 if self.selected is None else max(0, min(len(views) - 1, self.selected + delta))
        if self.selected is not None and self.selected < len(views):
            views[self.selected].remove_class("-selected")
        self.selected = index
        views[index].add_class("-selected")
        self.scroll_to_widget(views[index], animate=False)

    def action_toggle_selected(self) -> None:
        # With nothing selected, the latest tool call: the one just drawn.
        view = self.selected_view()
        if view is None:
            view = next((v for v in reversed(self.views) if isinstance(v, ToolCallView)), None)
        if isinstance(view, ToolCallView):
            view.toggle()
            self.scroll_to_widget(view, animate=False)

    def selected_view(self) -> MessageView | ToolCallView | None:
        views = self.views
        if self.selected is None or self.selected >= len(views):
            return None
        return views[self.selected]

    def action_branch(self) -> None:
        view = self.selected_view()
        if view and view.message_id:
            self.post_message(self.Branch(view.message_id))

    def action_rate_up(self) -> None:
        self._rate("up")

    def action_rate_down(self) -> None:
        self._rate("down")

    def _rate(self, verdict: str) -> None:
        view = self.selected_view()
        # Only a stored answer: not a question, nor an answer still streaming (no id yet).
        if not isinstance(view, MessageView) or view.role != "assistant" or view.message_id is None:
            self.app.notify("Select an answer first (up and down arrows)", severity="warning")
            return
        self.post_message(self.Rate(view, verdict))

    def action_copy_message(self) -> None:
        view = self.selected_view()
        if view:
            self.post_message(self.Copy(view.text))


def _calls(m: Message) -> list[dict]:
    """The tool calls an assistant message asked for ({id, name, arguments} each)."""
    raw = m.tool_calls
    if not raw:
        return []
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            return []
    return [c for c in raw if isinstance(c, dict)] if isinstance(raw, list) else []
