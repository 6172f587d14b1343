"""What the model remembers: recent turns of this session within the token budget, and
(when enabled) relevant turns recalled from other sessions through the full-text index.

Each choice is also described as a snapshot — ids and token counts, never the text — that
the memory stage stores with the trace, so `coda memory show` can say afterwards what a
turn's model saw and what was left out.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from coda_tui.providers.base import ChatMessage
from coda_tui.store.sessions import Message, SessionStore
from coda_tui.tokens import estimate_tokens

# Per-message overhead of chat templates (role markers, separators), in tokens.
MESSAGE_OVERHEAD = 4

# Why a message of the session is not in the window.
LEFT_BUDGET = "budget"
LEFT_UNPAIRED = "unpaired"  # an answer whose question did not fit
LEFT_EMPTY = "empty"
LEFT_ERROR = "error"  # a failed answer carries only the failure
# Tool rounds of earlier turns (the calls an answer made and their results) are not replayed:
# the answer after them already says what they found, a file read then may have changed
# since (the model can read it again), and one result can be most of a 4k window. Dropping
# the whole round also means no tool message is ever sent without the call it answers.
LEFT_TOOL_ROUND = "tool_round"
# Left-out messages listed one by one in a snapshot: the newest ones, those nearest the
# window (what left it lately). Older ones are only counted, so that a long session's
# snapshots stay a few kilobytes each instead of growing with every turn.
LEFT_LISTED = 64


def cost(text: str) -> int:
    return estimate_tokens(text) + MESSAGE_OVERHEAD


def unusable_reason(m: Message) -> str | None:
    if m.role == "tool" or getattr(m, "tool_calls", None):
        return LEFT_TOOL_ROUND
    if not m.content.strip():
        return LEFT_EMPTY
    if m.role == "assistant" and m.status == "error":
        return LEFT_ERROR
    return None


def usable(messages: list[Message]) -> list[Message]:
    """Messages worth replaying: not empty, and not an error that only carries a failure."""
    return [m for m in messages if unusable_reason(m) is None]


@dataclass
class Window:
    """The session's messages chosen for a turn, and the snapshot rows of what went in and what did not."""

    history: list[ChatMessage] = field(default_factory=list)
    tokens: int = 0
    kept: list[dict] = field(default_factory=list)
    left: list[dict] = field(default_factory=list)  # the newest LEFT_LISTED of them
    left_count: int = 0
    left_tokens: int = 0


def select_window(messages: list[Message], budget: int) -> Window:
    """The newest usable messages that fit `budget` tokens, oldest first. A reply is never
    kept without the question before it: a lone answer confuses small models."""
    chosen: list[Message] = []
    left: dict[int, str] = {}
    used = 0
    full = False
    for m in reversed(messages):
        reason = unusable_reason(m)
        if reason is None and not full and used + cost(m.content) > budget:
            full = True  # everything older is left out too: the window is contiguous
        if reason is None and full:
            reason = LEFT_BUDGET
        if reason:
            left[m.id] = reason
            continue
        chosen.append(m)
        used += cost(m.content)
    chosen.reverse()
    while chosen and chosen[0].role == "assistant":
        used -= cost(chosen[0].content)
        left[chosen.pop(0).id] = LEFT_UNPAIRED
    return Window(
        history=[ChatMessage(m.role, m.content) for m in chosen],
        tokens=used,
        kept=[{"id": m.id, "role": m.role, "tokens": cost(m.content)} for m in chosen],
        left=[{"id": m.id, "role": m.role, "tokens": cost(m.content), "reason": left[m.id]}
              for m in messages if m.id in left][-LEFT_LISTED:],
        left_count=len(left),
        left_tokens=sum(cost(m.content) for m in messages if m.id in left),
    )


@dataclass
class Recall:
    notes: str = ""
    tokens: int = 0
    items: list[dict] = field(default_factory=list)

    @property
    def ids(self) -> list[int]:
        return [item["id"] for item in self.items]


def recall(store: SessionStore, question: str, *, session_id: int, limit: int, budget: int) -> Recall:
    """Relevant earlier messages from other sessions, as one block of notes. Each item's
    score is the full-text match's (BM25, negated so that higher is more relevant)."""
    hits = store.search(question, limit=limit * 2, any_word=True, exclude_session=session_id)
    notes: list[str] = []
    items: list[dict] = []
    used = 0
    for hit in hits:
        msg = store.message(hit.message_id)
        # A tool's result from another session is a file or command output as it was then.
        if msg is None or not msg.content.strip() or msg.role == "tool":
            continue
        text = msg.content.strip()
        room = (budget - used) * 3  # characters left, conservatively
        if room < 80:
            break
        if len(text) > room:
            text = text[:room] + " …"
        notes.append(f"- ({hit.role}, session '{hit.session_name}') {text}")
        tokens = cost(text)
        items.append({"id": msg.id, "session_id": hit.session_id, "role": hit.role,
                      "score": float(f"{-hit.rank:.6g}"), "tokens": tokens})
        used += tokens
        if len(items) >= limit:
            break
    if not notes:
        return Recall()
    return Recall("Possibly relevant notes from earlier conversations:\n" + "\n".join(notes), used, items)


# --- what stands in every turn: project instructions and remembered facts ----------------

# The share of the context window they may take: a 4k window (the embedded model's)
# leaves them 512 tokens, the rest for the conversation and the answer.
STANDING_SHARE = 8
# Less room than this for an instruction file and it is left out, not cut to a stub.
MIN_INSTRUCTION_TOKENS = 16
CUT_MARK = "\n[… cut to fit the budget]"


@dataclass
class Standing:
    text: str = ""
    tokens: int = 0
    instructions: list[dict] = field(default_factory=list)
    facts: list[dict] = field(default_factory=list)
    left: list[dict] = field(default_factory=list)


def standing(instructions: list, facts: list, budget: int) -> Standing:
    """The block appended to the system prompt. Facts come first (each one the user asked
    for, and short), then the instruction files, the last cut at a line to fit `budget`."""
    out = Standing()
    parts: list[str] = []
    lines: list[str] = []
    header = "Facts to remember:"
    used = estimate_tokens(header) if facts else 0
    for fact in facts:
        line = f"- {fact.text}"
        tokens = estimate_tokens(line)
        if used + tokens > budget:
            out.left.append({"part": "facts", "id": fact.id, "tokens": tokens, "reason": LEFT_BUDGET})
            continue
        lines.append(line)
        used += tokens
        out.facts.append({"id": fact.id, "scope": fact.scope, "tokens": tokens})
    if lines:
        parts.append(header + "\n" + "\n".join(lines))
    else:
        used = 0
    for ins in instructions:
        head = f"Project instructions ({ins.path}):\n"
        full = estimate_tokens(ins.text)
        room = budget - used - estimate_tokens(head)
        if room < MIN_INSTRUCTION_TOKENS:
            out.left.append({"part": "instructions", "path": ins.path, "tokens": full, "reason": LEFT_BUDGET})
            continue
        text = ins.text
        if full > room:
            text = text[: (room - estimate_tokens(CUT_MARK)) * 3]  # characters, conservatively
            text = text[: text.rfind("\n")] if "\n" in text else text
            text += CUT_MARK
        tokens = estimate_tokens(head + text)
        used += tokens
        parts.append(head + text)
        out.instructions.append({"path": ins.path, "tokens": tokens, "full_tokens": full,
                                 "truncated": text is not ins.text, "mtime_ns": ins.mtime_ns})
    out.text = "\n\n".join(parts)
    out.tokens = used
    return out


# --- reading snapshots back ----------------------------------------------------------------

# The parts of a snapshot that hold items, and what names an item within each.
PARTS = {"window": "id", "recalled": "id", "instructions": "path", "facts": "id"}


def snapshot_of(trace) -> dict | None:
    """The memory snapshot a trace's memory stage stored, or None (a turn from before
    snapshots were recorded, or one that never reached memory)."""
    for stage in trace.stages:
        if stage.name == "memory" and "snapshot" in stage.detail:
            snap = dict(stage.detail["snapshot"])
            for part in (*PARTS, "left", "left_standing"):
                snap.setdefault(part, [])
            snap.setdefault("left_count", len(snap["left"]))
            snap.setdefault("left_tokens", sum(i["tokens"] for i in snap["left"]))
            snap["budget"] = stage.detail.get("budget")
            snap["tokens"] = stage.detail.get("tokens")
            return snap
    return None


def compare(a: dict, b: dict) -> dict:
    """What entered memory from snapshot `a` to `b`, what left it, and what stayed but
    changed (an answer that grew, an edited instruction file, a recall score). An item that left the
    window carries the reason `b` gives for leaving it out. For changed items, `tokens_before`."""
    reasons = {item["id"]: item["reason"] for item in b["left"]}
    out: dict[str, list[dict]] = {"entered": [], "left": [], "changed": []}
    for part, key in PARTS.items():
        before = {item[key]: item for item in a[part]}
        after = {item[key]: item for item in b[part]}
        for k, item in after.items():
            if k not in before:
                out["entered"].append({"part": part, **item})
            elif item != before[k]:
                out["changed"].append({"part": part, **item, "tokens_before": before[k].get("tokens")})
        for k, item in before.items():
            if k not in after:
                gone = {"part": part, **item}
                if part == "window" and k in reasons:
                    gone["reason"] = reasons[k]
                out["left"].append(gone)
    return out


def facts_used(store, session_id: int) -> list:
    """The remembered facts that turns of this session included (and that still exist),
    oldest first: what a session's export carries of them."""
    ids: set[int] = set()
    for trace in store.traces.recent(1_000_000, session_id=session_id):
        snap = snapshot_of(trace)
        if snap:
            ids.update(f["id"] for f in snap["facts"])
    return [f for f in (store.facts.get(i) for i in sorted(ids)) if f is not None]
