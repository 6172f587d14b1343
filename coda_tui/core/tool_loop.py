"""The llm stage as rounds: the model answers or asks for tools; the tools run; their
results go back to the model; again, until it answers without a call, the step limit is
reached (one more round without tools then, so an answer comes), or the user cancels.

Every round is an "llm" stage and every call a "tool" stage of the turn's trace, published
as they happen. Every round that called tools and every tool result is a message row
written the moment it completes (a tool row is written as 'partial' when its call starts),
so a kill -9 in the middle of a loop loses no call or result that had completed.

No Textual here: the app and the CLI drive the same loop (they differ in `consent`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from coda_tui.config import ToolsConfig
from coda_tui.core.events import (
    Event,
    ToolCallFinished,
    ToolCallStarted,
    ToolsUnavailable,
)
from coda_tui.core.model_round import Round
from coda_tui.core.tracer import Tracer
from coda_tui.providers.base import ChatMessage, ToolCall
from coda_tui.store.sessions import SessionStore
from coda_tui.tokens import estimate_tokens
from coda_tui.tools.base import Consent, ToolContext, ToolResult, summarize_arguments
from coda_tui.tools.executor import run_call
from coda_tui.tools.policy import Policy
from coda_tui.tools.registry import ToolRegistry

# A tool result dropped from this turn's prompt to keep it inside the model's window.
CUT_RESULT = "[result left out to fit the context window: {chars:,} characters; call the tool again if needed]"
# What the stored row of a call says about its outcome: ToolResult status -> message status.
ROW_STATUS = {"ok": "complete", "error": "error", "denied": "error", "cancelled": "cancelled"}
EXCERPT_CHARS = 120


@dataclass
class Toolbox:
    """What a turn's tools need: the registry, the session's consent policy (its "always"
    answers last as long as this object), and the context calls run in."""

    registry: ToolRegistry
    policy: Policy
    context: ToolContext
    config: ToolsConfig
    loaded: bool = False  # the registry's sources (MCP servers, plugins) were asked for their tools


# (messages, tool schemas or None, step) -> the round (core.model_round streams, stores and traces it).
AskModel = Callable[[list[ChatMessage], list[dict] | None, int], Awaitable[Round]]


@dataclass
class CallRecord:
    """One call of the loop and how it ended, as `coda ask --json` reports it."""

    step: int
    call: ToolCall
    result: ToolResult
    message_id: int | None

    def to_dict(self) -> dict:
        return {"step": self.step, "id": self.call.id, "name": self.call.name, "arguments": self.call.arguments,
                "status": self.result.status, "result": self.result.content,
                "duration_ms": round(self.result.duration_ms, 3), "message_id": self.message_id}


@dataclass
class LoopOutcome:
    rounds: list[Round] = field(default_factory=list)
    calls: list[CallRecord] = field(default_factory=list)
    cancelled: bool = False

    @property
    def last(self) -> Round:
        return self.rounds[-1]


def call_summary(call: ToolCall) -> str:
    """The arguments in one short line; the raw text when it is not a JSON object."""
    try:
        args = json.loads(call.arguments or "{}")
    except json.JSONDecodeError:
        args = None
    if isinstance(args, dict):
        return summarize_arguments(args)
    raw = " ".join(call.arguments.split())
    return raw[:59] + "…" if len(raw) > 60 else raw


def outcome_summary(result: ToolResult) -> str:
    """`ok, 120 lines, 3 ms`, or the error's first line."""
    ms = f"{result.duration_ms:.0f} ms"
    if result.status == "ok":
        lines = result.content.count("\n") + (1 if result.content and not result.content.endswith("\n") else 0)
        return f"ok, {lines} line{'' if lines == 1 else 's'}, {ms}"
    first = result.content.strip().splitlines()[0] if result.content.strip() else ""
    return f"{result.status}: {first[:80]}, {ms}" if first else f"{result.status}, {ms}"


async def load_sources(box: Toolbox, tracer: Tracer) -> None:
    """Ask the registry's sources (MCP servers, plugins) for their tools once, as a stage of
    its own ("tools"): a server's start-up is time the user should see where it went."""
    if box.loaded:
        return
    box.loaded = True
    if not box.registry.sources:
        return
    with tracer.stage("tools") as st:
        await box.registry.ready()
        n, sources = len(box.registry.specs()), len(box.registry.sources)
        st.summary = f"{n} tool{'' if n == 1 else 's'} from {sources} source{'' if sources == 1 else 's'}"
        if box.registry.problems:
            st.summary += f"; {len(box.registry.problems)} failed: " + "; ".join(box.registry.problems)
        st.detail = {"tools": n, "problems": list(box.registry.problems)}


def tools_tokens(toolbox: Toolbox | None, provider: str, model: str, unsupported: set[tuple[str, str]]) -> int:
    """What offering the tools costs in the prompt (their schemas), 0 when none are offered."""
    if toolbox is None or (provider, model) in unsupported:
        return 0
    return estimate_tokens(json.dumps(toolbox.registry.schemas()))


def result_cap(output_chars: int, room: int) -> int:
    """Characters one tool result may take: about an eighth of the `room` (tokens) left in the
    window, as room/2 characters ≈ room/8 tokens. The next round reads every token of it
    before its first token (the prefix before it is reused from llama.cpp's cache), so the
    result is that round's cost. SmolLM2 (4k window) at one batch thread on this 2-core
    machine, under load: a 3,000-character result (~830 tokens, the old quarter) 19-27 s to
    the first token, 1,450 characters (~410) 9-10 s (issue 15; benchmarks/embedded_tool_call).
    A large window keeps [tools] output_chars."""
    return min(output_chars, max(1000, room // 2))


def fit(messages: list[ChatMessage], room: int) -> int:
    """Keep this turn's prompt within `room` tokens by leaving out the oldest tool results
    first (the model can call again; the assistant message that asked stays, so no tool
    message is ever without its call); the newest result, if it alone is too much, is cut
    to what fits rather than left out. Returns how many results were touched."""
    total = sum(estimate_tokens(m.content) + 4 for m in messages)
    tools = [i for i, m in enumerate(messages) if m.role == "tool" and not m.content.startswith("[result left out")]
    touched = 0
    for n, i in enumerate(tools):
        if total <= room:
            break
        m = messages[i]
        if n < len(tools) - 1:
            text = CUT_RESULT.format(chars=len(m.content))
        else:
            keep = max(0, (room - (total - estimate_tokens(m.content))) * 3)  # characters, conservatively
            text = m.content[:keep] + f"\n… [{len(m.content) - keep:,} more characters left out to fit the context window]"
        total -= estimate_tokens(m.content) - estimate_tokens(text)
        messages[i] = ChatMessage("tool", text, tool_call_id=m.tool_call_id, name=m.name)
        touched += 1
    return touched


class ToolLoop:
    def __init__(
        self,
        toolbox: Toolbox | None,
        *,
        tracer: Tracer,
        publish: Callable[[Event], None],
        sessions: SessionStore,
        session_id: int,
        consent: Consent | None,
        room: int,
        unsupported: set[tuple[str, str]],
        provider: str,
        model: str,
    ) -> None:
        self.toolbox = toolbox
        self.tracer = tracer
        self.publish = publish
        self.sessions = sessions
        self.session_id = session_id
        self.consent = consent
        self.room = room
        # (provider, model) pairs found this session to take no tools: said once, then not offered.
        self.unsupported = unsupported
        self.provider, self.model = provider, model
        self.context = toolbox.context if toolbox is not None else None

    def _schemas(self) -> list[dict] | None:
        if self.toolbox is None or (self.provider, self.model) in self.unsupported:
            return None
        return self.toolbox.registry.schemas() or None

    async def run(self, messages: list[ChatMessage], ask: AskModel, turn: str | None = None) -> LoopOutcome:
        """`turn` names this turn's writes together, so undo takes them back as one."""
        out = LoopOutcome()
        if self.toolbox is not None:
            cap = result_cap(self.toolbox.context.output_chars, self.room)
            self.context = dataclasses.replace(self.toolbox.context, turn=turn, output_chars=cap)
        max_steps = self.toolbox.config.max_steps if self.toolbox else 0
        step = 0
        while True:
            step += 1
            # Past the limit the model is asked once more without tools, so that it answers.
            schemas = self._schemas() if step <= max_steps else None
            fit(messages, self.room)
            rnd = await ask(messages, schemas, step)
            out.rounds.append(rnd)
            if rnd.unsupported is not None:
                self.unsupported.add((self.provider, self.model))
                self.publish(ToolsUnavailable(self.provider, self.model, rnd.unsupported.message))
                rnd = await ask(messages, None, step)
                out.rounds.append(rnd)
            self.provider, self.model = rnd.provider or self.provider, rnd.model or self.model
            if rnd.status != "complete" or not rnd.calls or schemas is None:
                # An answer, a failure or a cancel ends the loop; calls the model made when it
                # was offered no tools (a test double, a confused server) are not run.
                out.cancelled = rnd.status == "cancelled"
                return out
            messages.append(ChatMessage("assistant", rnd.text, tool_calls=tuple(rnd.calls)))
            try:
                records = await self._run_calls(rnd.calls, step, out)
            except asyncio.CancelledError:
                out.cancelled = True
                return out
            messages += [ChatMessage("tool", r.result.content, tool_call_id=r.call.id, name=r.call.name) for r in records]

    def _read_only(self, call: ToolCall) -> bool:
        tool = self.toolbox.registry.get(call.name)
        return tool is not None and tool.spec.read_only and self.toolbox.policy.decide(tool.spec) == "allow"

    async def _run_calls(self, calls: list[ToolCall], step: int, out: LoopOutcome) -> list[CallRecord]:
        """The calls of one reply: all at once when every one is read-only and allowed (none
        can see another's effect), else one after another in the model's order. On cancel,
        what finished is kept and stored; the calls still running are stored as cancelled."""
        # Rows are made in the model's order before anything runs, so the stored session
        # replays results in the order of the calls whatever order they finish in.
        slots = [self._begin(call, step) for call in calls]
        if all(self._read_only(c) for c in calls):
            tasks = [asyncio.ensure_future(self._run_one(slot)) for slot in slots]
            try:
                await asyncio.gather(*tasks)
            except asyncio.CancelledError:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
                self._cancel_rest(slots, out)
                raise
        else:
            for slot in slots:
                try:
                    await self._run_one(slot)
                except asyncio.CancelledError:
                    self._cancel_rest(slots, out)
                    raise
        records = [slot.record for slot in slots]
        out.calls += records
        return records

    def _begin(self, call: ToolCall, step: int) -> _Slot:
        message_id = self.sessions.add_message(self.session_id, "tool", "", status="partial",
                                               tool_call_id=call.id, tool_name=call.name)
        return _Slot(call, step, message_id)

    async def _run_one(self, slot: _Slot) -> None:
        box, call = self.toolbox, slot.call
        args = call_summary(call)
        slot.stage = self.tracer.begin("tool")
        slot.stage.detail = {"tool": call.name, "call_id": call.id, "args": args, "step": slot.step,
                             "message_id": slot.message_id}
        self.publish(ToolCallStarted(call.id, call.name, args, slot.step, slot.stage.start_ms))
        result = await run_call(call, box.registry, box.policy, self.context, self.consent)
        self._finish(slot, result)

    def _finish(self, slot: _Slot, result: ToolResult) -> None:
        """Store the result at once, close its stage, tell the subscribers."""
        call = slot.call
        self.sessions.update_message(
            slot.message_id, content=result.content, status=ROW_STATUS[result.status],
            error=None if result.ok else f"{result.status}: {result.content.strip()[:500]}",
        )
        slot.record = CallRecord(slot.step, call, result, slot.message_id)
        if slot.stage is not None:
            slot.stage.summary = f"{call.name} {call_summary(call)} → {outcome_summary(result)}"
            slot.stage.detail.update(status=result.status, result_chars=len(result.content),
                                     duration_ms=result.duration_ms)
            self.tracer.end(slot.stage)
        excerpt = " ".join(result.content.split())[:EXCERPT_CHARS]
        self.publish(ToolCallFinished(call.id, call.name, result.status, result.duration_ms, len(result.content),
                                      excerpt, slot.message_id))

    def _cancel_rest(self, slots: list[_Slot], out: LoopOutcome) -> None:
        for slot in slots:
            if slot.record is None:
                started = slot.stage is not None
                ran_ms = self.tracer.now_ms() - slot.stage.start_ms if started else 0.0
                why = "cancelled by the user while it ran" if started else "not run: the user cancelled the turn"
                self._finish(slot, ToolResult(slot.call, "cancelled", why, ran_ms))
        out.calls += [slot.record for slot in slots]


@dataclass
class _Slot:
    call: ToolCall
    step: int
    message_id: int
    stage: object = None  # its StageRecord once it started
    record: CallRecord | None = None
