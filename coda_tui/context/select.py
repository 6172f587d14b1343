"""The context stage's choice: what the user attached, then the best search hits for the
question, within a token budget."""

from __future__ import annotations

from dataclasses import dataclass, field

from pathlib import Path

from coda_tui.context.attachments import Attachment
from coda_tui.context.index import Hit


@dataclass
class Selection:
    items: list[Attachment] = field(default_factory=list)
    budget: int = 0
    dropped: int = 0  # hits that did not fit
    note: str = ""

    @property
    def tokens(self) -> int:
        return sum(a.tokens for a in self.items)

    def summary(self) -> str:
        attached = [a for a in self.items if a.source == "attached"]
        hits = [a for a in self.items if a.source == "search"]
        parts = []
        if attached:
            parts.append(f"{len(attached)} attached")
        if hits:
            parts.append(f"{len(hits)} search hit(s)")
        text = (", ".join(parts) or "nothing") + f", {self.tokens} tokens (budget {self.budget})"
        if self.dropped:
            text += f"; {self.dropped} hit(s) over budget"
        if self.note:
            text += f"; {self.note}"
        return text

    def detail(self) -> dict:
        return {
            "files": [
                {"path": a.label_path or str(a.path), "lines": a.lines, "tokens": a.tokens, "source": a.source}
                for a in self.items
            ],
            "budget": self.budget,
        }


def select(attached: list[Attachment], found: list[Hit] | None, root: Path, *, budget: int, hits: int) -> Selection:
    """`found`: search hits for the question, best first (None: no index to search)."""
    chosen = Selection(items=list(attached), budget=budget)
    if hits <= 0:
        return chosen
    if found is None:
        chosen.note = "no code index (coda index builds it)"
        return chosen
    room = budget - chosen.tokens
    taken = {(a.label_path or str(a.path), a.lines) for a in attached}
    for hit in found:
        if len([a for a in chosen.items if a.source == "search"]) >= hits:
            break
        if (hit.path, f"{hit.start_line}-{hit.end_line}") in taken:
            continue
        if hit.tokens > room:
            chosen.dropped += 1
            continue
        item = Attachment(
            path=root / hit.path, text=hit.text + "\n", tokens=hit.tokens,
            first_line=hit.start_line, last_line=hit.end_line, source="search", label_path=hit.path,
        )
        chosen.items.append(item)
        room -= hit.tokens
    return chosen
