"""A memory snapshot (core/memory.py) laid out as titled sections of rows — label, tokens,
note — which `coda memory show|diff` prints as text and the app's memory explorer draws
with bars: one reading of a snapshot for both, so they never disagree.

Labels hold paths and roles from the database: whoever draws them makes them inert.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from coda_tui.core.memory import snapshot_of


@dataclass
class Row:
    label: str
    tokens: int
    note: str = ""
    bar: bool = True  # rows outside the prompt's budget (standing items left out) get none
    part: str = ""
    id: int | None = None  # a message's or a fact's id, for a preview of its text


@dataclass
class Section:
    title: str
    rows: list[Row] = field(default_factory=list)


def label(part: str, item: dict) -> str:
    if part == "instructions":
        return item["path"]
    if part == "facts":
        return f"fact #{item['id']}" + (f" ({item['scope']})" if "scope" in item else "")
    if part == "recalled":
        return f"#{item['id']} {item['role']} · session {item['session_id']} · score {item['score']}"
    return f"#{item['id']} {item['role']}"


def _row(part: str, item: dict, note: str = "", bar: bool = True) -> Row:
    return Row(label(part, item), item["tokens"], note, bar, part, item.get("id") if part != "instructions" else None)


def headline(trace, snap: dict) -> str:
    return (f"trace {trace.id} · session {trace.session_id} · question #{trace.user_message_id} · "
            f"history budget {snap['budget']} tokens, system prompt {snap.get('system_tokens', 0)} tokens")


def snapshot_sections(snap: dict) -> list[Section]:
    """What went in (window, recalled, instructions, facts), what stayed out of the system
    prompt, and what was left out of the window, each section titled with its count."""
    out: list[Section] = []
    for part, title in (("window", "in the window"), ("recalled", "recalled from other sessions"),
                        ("instructions", "project instructions"), ("facts", "facts")):
        items = snap[part]
        total = sum(i["tokens"] for i in items)
        out.append(Section(f"{title}: {len(items)}, {total} tokens" if items else f"{title}: none",
                           [_row(part, i, " (truncated)" if i.get("truncated") else "") for i in items]))
    if snap["left_standing"]:
        out.append(Section(f"not in the system prompt: {len(snap['left_standing'])}",
                           [_row(i["part"], i, f"({i['reason']})", bar=False) for i in snap["left_standing"]]))
    left = snap["left"]
    if left:
        listed = f" (the newest {len(left)} listed)" if snap["left_count"] > len(left) else ""
        out.append(Section(f"left out: {snap['left_count']}, {snap['left_tokens']} tokens{listed}",
                           [_row("window", i, f"  ({i['reason']})") for i in left]))
    else:
        out.append(Section("left out: none"))
    return out


def diff_sections(delta: dict) -> list[Section]:
    """core.memory.compare's result: what entered, what left (and why), what changed size."""
    out: list[Section] = []
    for kind in ("entered", "left", "changed"):
        items = delta[kind]
        rows = []
        for i in items:
            why = f"  ({i['reason']})" if i.get("reason") else ""
            was = f"  (was {i['tokens_before']})" if kind == "changed" else ""
            rows.append(_row(i["part"], i, why + was))
        out.append(Section(f"{kind}: {len(items)}" if items else f"{kind}: none", rows))
    return out


def most_tokens(sections: list[Section]) -> int:
    """The largest row: the bars' full length."""
    return max((r.tokens for s in sections for r in s.rows if r.bar), default=0)


# --- a session's turns, one after another (the app's memory explorer) -----------------------

PREVIEW_CHARS = 60


class MemoryTurns:
    """The traces of the session a trace belongs to, oldest first, to step through: each
    with its snapshot (None for a turn from before snapshots, or one that never reached
    memory). A trace without a session is a list of one."""

    def __init__(self, store, trace_id: int) -> None:
        self.store = store
        trace = store.traces.get(trace_id)
        if trace is None:
            raise LookupError(f"no trace {trace_id}")
        self.ids = store.traces.ids_of_session(trace.session_id) if trace.session_id is not None else [trace.id]
        self.position = self.ids.index(trace.id)
        self._loaded: dict[int, tuple] = {trace.id: (trace, snapshot_of(trace))}

    def turn(self, position: int | None = None) -> tuple:
        """(trace, snapshot or None) of the turn at `position` (the current one by default)."""
        trace_id = self.ids[self.position if position is None else position]
        if trace_id not in self._loaded:
            trace = self.store.traces.get(trace_id)
            self._loaded[trace_id] = (trace, snapshot_of(trace) if trace else None)
        return self._loaded[trace_id]

    def step(self, delta: int) -> bool:
        """To the previous (-1) or next (+1) turn; False at either end."""
        target = self.position + delta
        if not 0 <= target < len(self.ids):
            return False
        self.position = target
        return True

    def preview(self, row: Row) -> str:
        """The start of a message's or a fact's text, on one line (the caller makes it inert)."""
        if row.id is None or row.part == "instructions":
            return ""
        found = self.store.facts.get(row.id) if row.part == "facts" else self.store.sessions.message(row.id)
        if found is None:
            return "(deleted)"
        text = " ".join((found.text if row.part == "facts" else found.content).split())
        return text if len(text) <= PREVIEW_CHARS else text[: PREVIEW_CHARS - 1] + "…"
