"""One user turn, start to end: context → memory → prompt → llm → store, each stage timed.

The question is stored before the model is called, and the answer is written while it
streams (and finally with its status), so a crash, a cancel or a cut connection loses
nothing that had arrived.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from coda_tui.config import Config
from coda_tui.context import documents
from coda_tui.context import listing as context_listing
from coda_tui.context import select as context_select
from coda_tui.context.attachments import (
    Attachment,
    AttachmentError,
    load_attachment,
    render_attachments,
)
from coda_tui.context.index import Hit
from coda_tui.context.project import Project
from coda_tui.core import instructions, memory, tool_gate
from coda_tui.core.cache import ResponseCache
from coda_tui.core.choice import model_for
from coda_tui.core.events import (
    EventBus,
    ToolsUnavailable,
    TurnFinished,
    TurnStarted,
    UsageReported,
)
from coda_tui.core.export import fenced
from coda_tui.core.model_round import ModelRounds
from coda_tui.core.model_stats import stats_of
from coda_tui.core.roles import Roles
from coda_tui.core.tool_loop import (
    CallRecord,
    Toolbox,
    ToolLoop,
    load_sources,
    tools_tokens,
)
from coda_tui.core.tracer import Tracer
from coda_tui.providers.base import ChatMessage, Usage
from coda_tui.providers.errors import ProviderError
from coda_tui.providers.registry import Providers
from coda_tui.redact import Redactor
from coda_tui.store import Store
from coda_tui.store.db import now
from coda_tui.store.sessions import Session
from coda_tui.store.traces import StageRecord, TraceRecord
from coda_tui.tokens import estimate_tokens

if TYPE_CHECKING:
    from coda_tui.core.listen import Utterance
    from coda_tui.tools.base import Consent

# (question, how many, paths to leave out) -> hits, best first; None when nothing is indexed.
Search = Callable[[str, int, set[str]], Awaitable[list[Hit] | None]]
SESSION_NAME_CHARS = 60


@dataclass
class TurnResult:
    session: Session
    user_message_id: int | None
    message_id: int | None
    text: str
    status: str
    trace: TraceRecord
    usage: Usage = field(default_factory=Usage)
    error: ProviderError | None = None
    # Every tool call of the turn and how it ended (core.tool_loop.CallRecord), in order.
    tool_calls: list[CallRecord] = field(default_factory=list)


def with_piped(question: str, piped: str) -> str:
    """The question, then the text piped to it (`git diff | coda ask "Review this"`) as a
    fenced block; the fence is longer than any run of backticks inside, so it holds."""
    return f"{question}\n\n{fenced(piped)}"


def session_name_for(prompt: str) -> str:
    first = " ".join(prompt.strip().split())
    return first[:SESSION_NAME_CHARS] + ("…" if len(first) > SESSION_NAME_CHARS else "") or "untitled"


class TurnRunner:
    def __init__(
        self,
        config: Config,
        store: Store,
        providers: Providers,
        bus: EventBus | None = None,
        project: Project | None = None,
        search: Search | None = None,
        cache: ResponseCache | None = None,
        toolbox: Callable[[], Toolbox] | None = None,
    ) -> None:
        self.config = config
        self.store = store
        self.providers = providers
        self.bus = bus or EventBus()
        self.redact = Redactor(config.secrets())
        self.project = project or Project.discover(None, config.context, self.redact.secrets)
        self.search = search
        self.cache = cache
        self.roles = Roles(config.roles, providers, measured=lambda: stats_of(self.store))
        # Made on the first turn that uses tools (the runtime builds the registry lazily).
        self.toolbox = toolbox
        # (provider, model) pairs that said they take no tools: told once, then not offered.
        self.tools_unsupported: set[tuple[str, str]] = set()

    def attach(self, path: str | Path, lines: tuple[int, int] | None = None) -> Attachment:
        """Read a file for a question, through the project's sandbox."""
        try:
            resolved = self.project.check(path)
            return load_attachment(resolved, lines, label_path=self.project.rel(resolved), scrub=self.project.scrub)
        except AttachmentError as exc:
            # The sandbox's reason is about any read; here the user asked to attach.
            exc.message = f"cannot attach: {exc.message}"
            exc.args = (exc.message,)
            raise

    def resolve_session(self, ref: str | None, prompt: str, provider: str, model: str) -> Session:
        """`ref` names an existing session (id or name) or a new one to create by that name."""
        if ref:
            found = self.store.sessions.find(ref)
            if found:
                return found
        return self.store.sessions.create(
            ref or session_name_for(prompt),
            provider=provider,
            model=model,
            system_prompt=self.config.general.system_prompt,
        )

    def pick_model(self, provider: str, default: str, explicit: str | None, session: Session | None) -> str:
        """--model, else what the session last used with this provider, else the config's,
        else the provider's own default (core.choice decides, for the status bar too)."""
        return model_for(self.config, provider, default, explicit, session)

    def _tracer(self, spoken: Utterance | None):
        """A turn's clock starts at its first stage. For a spoken question that is the
        recording; the time the transcript then sat in the input for review is left out of
        the waterfall and kept as the stt stage's `review_ms`."""
        if spoken is None or not spoken.stages:
            return Tracer(self.bus.publish, self.redact), []
        started = time.perf_counter()
        review_ms = (started - spoken.text_at) * 1000
        stages = [StageRecord(s.name, s.start_ms, s.duration_ms, s.summary, dict(s.detail)) for s in spoken.stages]
        stages[-1].detail["review_ms"] = review_ms
        return Tracer(self.bus.publish, self.redact, t0=started - (spoken.text_at - spoken.started_at)), stages

    async def _list_named_folder(self, question: str, chosen: context_select.Selection, room: int | None) -> None:
        """A folder the question names goes in as its list of entries (context.listing),
        in what the budget has left."""
        space = chosen.budget - chosen.tokens
        if room is not None:
            space = min(space, room - chosen.tokens)
        if space < context_select.MIN_HIT_TOKENS:
            return
        folder = await asyncio.to_thread(context_listing.named_folder, question, self.project)
        item = await asyncio.to_thread(context_listing.listing, self.project, folder, space) if folder else None
        if item is not None:
            chosen.items.append(item)
            chosen.reasons[id(item)] = f"the question names {folder}/"

    async def run(
        self,
        prompt: str,
        *,
        session: Session | None = None,
        session_ref: str | None = None,
        attachments: list[str | Path] = (),
        provider: str | None = None,
        model: str | None = None,
        answer_to: int | None = None,
        spoken: Utterance | None = None,
        system: str | None = None,
        standalone: bool = False,
        piped: str | None = None,
        tools: bool | None = None,
        consent: Consent | None = None,
    ) -> TurnResult:
        """One turn. `answer_to` names a stored question to answer again (retry, regenerate):
        it is not stored twice, and the memory holds only what came before it. `spoken` is
        the recording and transcription the question came from: its capture and stt stages
        open the turn's trace. `system` replaces the system prompt; `standalone` makes a
        self-contained task (an operation step): no earlier turns, no recall, no search
        hits — only what it attaches. `piped` is text sent on stdin with the question: it
        follows the question as a fenced block, and the context stage records its size.
        `tools` (default: [tools] enabled, and not for a standalone task) lets the model call
        tools; `consent` answers for calls that must ask (None: they are not run)."""
        if piped:
            prompt = with_piped(prompt, piped)
        # A configured key pasted into a question is scrubbed before it goes anywhere:
        # into the database, the session name, or to the model.
        prompt = self.redact.exact(prompt)
        publish = self.bus.publish
        tracer, early_stages = self._tracer(spoken)
        route = None
        if self.roles.enabled and provider is None and model is None:
            # Roles decide who answers unless the caller named a provider or model; the turn
            # is announced once that is known, and the route stage replayed with it.
            route_ms = tracer.now_ms()
            route = await self.roles.route(prompt)
            early_stages.append(StageRecord("route", route_ms, tracer.now_ms() - route_ms, route.summary(), route.detail()))
            provider = route.fallback_chain[0][0]
        # Documents (PDF, Office, HTML) become Markdown first, in a stage of their own: a
        # conversion can take seconds, and that must not read as the context stage's time.
        convert_from = tracer.now_ms()
        converted = []
        if documents.any_document(attachments):  # hashing, or converting, is not for the event loop
            attachments, converted = await asyncio.to_thread(documents.for_turn, list(attachments), self.attach)
        if converted:
            early_stages.append(StageRecord("convert", convert_from, tracer.now_ms() - convert_from,
                                            documents.summary(converted), {"documents": converted}))
        # From here to the model call belongs to the context stage (reading attachments,
        # checking the window, finding the session): no millisecond of a turn is in no stage.
        context_from = tracer.now_ms()
        # The provider's client (openai: ~450 ms to import) is made inside the llm stage,
        # where its cost is shown; until then its name, model and window are enough.
        prov_name, default_model, context_window = self.providers.describe(provider)
        reserve = self.config.provider(prov_name).max_tokens
        if session is None and session_ref:
            session = self.store.sessions.find(session_ref)
        if route is not None:
            model = route.fallback_chain[0][1] or default_model
        else:
            model = self.pick_model(prov_name, default_model, model, session)
        # Attachments are read before anything is stored: a bad path stops the turn
        # with nothing half-written.
        loaded = [a if isinstance(a, Attachment) else self.attach(a) for a in attachments]
        # A turn that cannot fit the model's window is refused here, before anything is
        # stored or sent; one that fits only with its files trimmed is trimmed below.
        own_system = system or (session.system_prompt if session else None) or self.config.general.system_prompt
        room = context_select.window_room(context_window, reserve,
                                          estimate_tokens(own_system) + estimate_tokens(prompt) + 2 * memory.MESSAGE_OVERHEAD)
        context_select.check_fits(loaded, room=room, window=context_window, reserve=reserve)
        if session is None:
            session = self.resolve_session(session_ref, prompt, prov_name, model)
        elif (session.provider, session.model) != (prov_name, model):
            # The session remembers the provider and model it last used.
            self.store.sessions.set_model(session.id, prov_name, model)
            session.provider, session.model = prov_name, model
        started_at = now()
        publish(TurnStarted(session.id, prov_name, model, prompt, tracer.now_ms()))
        tracer.replay(early_stages)

        use_tools = (self.config.tools.enabled and not standalone) if tools is None else tools
        with tracer.stage("context", start_ms=context_from) as st:
            ctx = self.config.context
            found = None
            if self.search is not None and ctx.search_hits > 0 and not standalone:
                whole_files = {a.label_path for a in loaded if a.first_line == 1 and a.label_path}
                found = await self.search(prompt, ctx.search_hits * 3, whole_files)
            chosen = context_select.select(
                loaded,
                found,
                self.project.root,
                budget=ctx.budget_tokens or context_select.context_budget(context_window),
                hits=ctx.search_hits,
                question=prompt,
                room=room,
            )
            if not standalone:
                await self._list_named_folder(prompt, chosen, room)
            context_text = render_attachments(chosen.items)
            st.summary = chosen.summary()
            st.detail = chosen.detail()
            if piped:
                st.detail["piped_chars"] = len(piped)
                st.detail["piped_tokens"] = estimate_tokens(piped)
                st.summary += f"; stdin {len(piped):,} chars"
            if use_tools and self.toolbox is not None and tool_gate.applies(self.config, prov_name):
                # The embedded model cannot choose its tools: the question decides (core.tool_gate).
                verdict = await asyncio.to_thread(tool_gate.judge, prompt, self.project, chosen, found)
                use_tools = verdict.offer
                st.summary += f"; tools {'offered' if verdict.offer else 'not offered'}: {verdict.why}"
                st.detail["tools"] = {"offered": verdict.offer, "why": verdict.why}

        # The tools offered go into the prompt too (a template writes their schemas into it):
        # the window's room for the conversation is what they leave.
        toolbox = self.toolbox() if use_tools and self.toolbox is not None else None
        if toolbox is not None:
            await load_sources(toolbox, tracer)
        tool_tokens = tools_tokens(toolbox, prov_name, model, self.tools_unsupported)
        if tool_tokens > (context_window - reserve) // 2:
            # A window the tools' descriptions would take half of has no room left to use them.
            publish(ToolsUnavailable(prov_name, model, f"its {context_window:,}-token window is too small for the "
                                                       f"tools' descriptions (~{tool_tokens:,} tokens)"))
            self.tools_unsupported.add((prov_name, model))
            toolbox, tool_tokens = None, 0

        with tracer.stage("memory") as st:
            system = system or session.system_prompt or self.config.general.system_prompt
            standing = memory.Standing()
            if not standalone:
                standing = memory.standing(
                    instructions.read(self.project.root),
                    self.store.facts.for_project(str(self.project.root)),
                    context_window // memory.STANDING_SHARE,
                )
                if standing.text:
                    system = f"{system}\n\n{self.redact.exact(standing.text)}"
            user_content = f"{context_text}\n\n{prompt}" if context_text else prompt
            fixed = (estimate_tokens(system) + estimate_tokens(user_content) + 2 * memory.MESSAGE_OVERHEAD
                     + tool_tokens)
            budget = max(0, context_window - reserve - fixed)
            recalled = memory.Recall()
            if self.config.memory.recall and not standalone:
                recalled = memory.recall(
                    self.store.sessions,
                    prompt,
                    session_id=session.id,
                    limit=self.config.memory.recall_limit,
                    budget=min(self.config.memory.recall_tokens, budget),
                )
            notes, notes_tokens = recalled.notes, recalled.tokens
            past = [] if standalone else self.store.sessions.messages(session.id, before_id=answer_to)
            window = memory.select_window(past, budget - notes_tokens)
            history, history_tokens = window.history, window.tokens
            available = len(memory.usable(past))
            st.summary = f"{len(history)}/{available} messages, {history_tokens} tokens (budget {budget})"
            if self.config.memory.recall:
                st.summary += f"; recalled {len(recalled.items)} ({notes_tokens} tokens)"
            if standing.text:
                st.summary += (f"; instructions {len(standing.instructions)}, facts {len(standing.facts)}"
                               f" ({standing.tokens} tokens)")
            st.detail = {"history": len(history), "available": available, "tokens": history_tokens,
                         "budget": budget, "recalled": recalled.ids,
                         # What went in and what did not, by id and size: `coda memory show` reads it.
                         "snapshot": {"window": window.kept, "left": window.left, "left_count": window.left_count,
                                      "left_tokens": window.left_tokens, "recalled": recalled.items,
                                      "instructions": standing.instructions, "facts": standing.facts,
                                      "left_standing": standing.left, "system_tokens": estimate_tokens(system)}}

        with tracer.stage("prompt") as st:
            messages = [ChatMessage("system", system + (f"\n\n{notes}" if notes else ""))]
            messages += history
            messages.append(ChatMessage("user", user_content))
            prompt_tokens = sum(estimate_tokens(m.content) + memory.MESSAGE_OVERHEAD for m in messages)
            if answer_to is not None:
                user_message_id = answer_to
                st.summary = f"{len(messages)} messages, ~{prompt_tokens} tokens; answering #{answer_to} again"
            else:
                # The question is kept before the model is called: whatever happens next, it is not lost.
                user_message_id = self.store.sessions.add_message(
                    session.id, "user", prompt, provider=prov_name, model=model
                )
                st.summary = f"{len(messages)} messages, ~{prompt_tokens} tokens; question stored (#{user_message_id})"
            st.detail = {"messages": len(messages), "tokens_est": prompt_tokens}

        # The llm stage is rounds: each model round its own "llm" stage, each tool call a
        # "tool" stage, until the model answers without calling (core.tool_loop).
        tool_loop = ToolLoop(
            toolbox, tracer=tracer, publish=publish, sessions=self.store.sessions, session_id=session.id,
            consent=consent, room=context_window - reserve - tool_tokens, unsupported=self.tools_unsupported,
            provider=prov_name, model=model,
        )
        rounds = ModelRounds(
            providers=self.providers, sessions=self.store.sessions, session_id=session.id,
            provider=prov_name, model=model, chain=route.fallback_chain if route else None,
            tracer=tracer, publish=publish, redact=self.redact, cache=self.cache,
            use_cached=answer_to is None,  # answering again means a new answer is wanted
        )
        outcome = await tool_loop.run(messages, rounds.ask, turn=f"{session.id}:{user_message_id}:{started_at}")
        last = outcome.last
        cancelled = outcome.cancelled
        status = "cancelled" if cancelled else last.status
        error = last.error
        # The answer still to be stored; None when the turn was cancelled while tools ran
        # (the round that called them is stored already).
        writer = None if cancelled and last.status == "complete" else last.writer
        usage = Usage(sum(r.usage.prompt_tokens or 0 for r in outcome.rounds if r.unsupported is None),
                      sum(r.tokens for r in outcome.rounds if r.unsupported is None),
                      any(r.usage.estimated for r in outcome.rounds))
        completion = usage.completion_tokens
        ttft_ms = next((r.ttft_ms for r in outcome.rounds if r.ttft_ms is not None), None)
        tps = last.tokens_per_s
        prov_name, model = last.provider, last.model
        llm_end_ms = max(s.start_ms + (s.duration_ms or 0) for s in tracer.stages)
        if writer is not None:
            publish(UsageReported(last.usage.prompt_tokens, last.usage.completion_tokens, last.usage.estimated))

        error_text = self.redact(error.render()) if error else None
        trace = TraceRecord(
            status=status,
            started_at=started_at,
            session_id=session.id,
            user_message_id=user_message_id,
            provider=prov_name,
            model=model,
            ttft_ms=ttft_ms,
            tokens=completion,
            tokens_per_s=tps,
            error=error_text,
            stages=tracer.stages,
        )
        # The store stage takes over where the llm stage ended: what the subscribers did
        # with the usage in between is part of it, not of no stage.
        with tracer.stage("store", start_ms=llm_end_ms) as st:
            if writer is not None:
                writer.flush(
                    status,
                    prompt_tokens=last.usage.prompt_tokens,
                    completion_tokens=last.tokens,
                    error=error_text,
                )
            answer = writer or last.writer
            trace.message_id = answer.message_id
            trace.total_ms = tracer.now_ms()
            self.store.traces.save(trace)
            if writer is not None:
                st.summary = f"answer #{answer.message_id} ({status}, {len(answer.text)} chars), trace #{trace.id}"
            else:
                st.summary = f"no answer ({status} while tools ran; last round #{answer.message_id}), trace #{trace.id}"
            if outcome.calls:
                st.summary += f"; {len(outcome.calls)} tool result{'s' if len(outcome.calls) > 1 else ''}"
        # The trace row was written from inside the store stage; record that stage's length.
        trace.total_ms = tracer.now_ms()
        self.store.traces.finalize(trace.id, "store", tracer.stages[-1].duration_ms, trace.total_ms, tracer.stages[-1].summary)
        text = writer.text if writer is not None else ""
        publish(TurnFinished(status, session.id, answer.message_id, trace, error_text, error.kind if error else None))
        result = TurnResult(session, user_message_id, answer.message_id, text, status, trace, usage, error,
                            tool_calls=outcome.calls)
        if cancelled:
            raise asyncio.CancelledError
        return result
