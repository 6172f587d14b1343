"""The context stage's choice: what the user attached (trimmed to its most relevant parts
when it would not fit the model's window), then the search hits that earn their place, within
a budget sized to the model.

A hit earns its place by what it has to do with the question: it defines an identifier the
question names, it is a file the question names, or it uses an identifier the question names
and ranks near the best hit. A question that names nothing in the project's code ("write a
function that reverses a string") gets no hits at all: for a small model, off-topic code in the
prompt costs seconds and derails the answer (issue 12: 914 prompt tokens, a 247 s loop).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from coda_tui.context.attachments import Attachment, ContextTooLarge
from coda_tui.context.chunker import (
    CODE_LANGUAGES,
    chunk,
    definition_depth,
    language_for,
)
from coda_tui.context.index import Hit, query_words
from coda_tui.context.report import files_lines, trim_note  # noqa: F401 - the stage's own names too
from coda_tui.context.window import ESTIMATE_MARGIN, window_room  # noqa: F401
from coda_tui.tokens import estimate_tokens

# Less room than this for the attached files, and a trimmed file is no longer worth asking about.
MIN_ATTACHED_TOKENS = 128
# A search hit cut shorter than this says too little to be worth its tokens.
MIN_HIT_TOKENS = 64
# Hits taken for every this many tokens of budget (a 4k-window model: 2; a 128k one: all).
TOKENS_PER_HIT = 256
# A hit that only *uses* the question's identifiers must score this share of the best hit.
RELEVANCE_FLOOR = 0.5
MAX_DROPPED_SHOWN = 8

_BACKTICKED = re.compile(r"`([^`\n]+)`")
_CODE_SHAPED = re.compile(r"[A-Za-z_]\w*(?:_\w*|[a-z][A-Z]\w*)|[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+|\w+\(\)")
_FILE_NAMED = re.compile(r"[\w./-]+\.[A-Za-z]{1,5}\b")
_ABOUT_PROJECT = re.compile(
    r"\b(?:this|the|our|my)\s+(?:project|repo|repository|codebase|code\s*base|package|library|app)\b", re.IGNORECASE
)


def context_budget(window: int) -> int:
    """Tokens of search hits for a model with this context window. Small models are short
    of window, slow to read a prompt on a CPU and easily distracted: a 4k one gets a
    sixteenth (one hit), a 128k one a quarter."""
    return window // (16 if window <= 8192 else 8 if window <= 32_768 else 4)


def check_fits(attached: list[Attachment], *, room: int, window: int, reserve: int) -> None:
    """Refuse, before anything is stored or sent, a turn that cannot fit the window."""
    if room < 0:
        raise ContextTooLarge(
            f"the question is too long for the model's {window:,}-token window "
            f"({min(reserve, window // 4):,} kept for the answer): "
            "shorten it, or use a model with a larger context_window")
    if attached and room < MIN_ATTACHED_TOKENS:
        names = ", ".join(a.label_path or str(a.path) for a in attached)
        raise ContextTooLarge(
            f"{names}: no room in the model's {window:,}-token window beside the question "
            f"({room:,} tokens left, {MIN_ATTACHED_TOKENS} needed): shorten the question or attach a line range")


@dataclass
class Selection:
    items: list[Attachment] = field(default_factory=list)
    budget: int = 0
    dropped: int = 0  # hits that did not fit the budget
    note: str = ""
    reasons: dict[int, str] = field(default_factory=dict)  # id(item) -> why a hit was added
    rejected: list[dict] = field(default_factory=list)  # hits left out and why
    trimmed: list[dict] = field(default_factory=list)  # attached files cut to fit

    @property
    def tokens(self) -> int:
        return sum(a.tokens for a in self.items)

    def summary(self) -> str:
        attached = [a for a in self.items if a.source == "attached"]
        hits = [a for a in self.items if a.source == "search"]
        parts = []
        if attached:
            parts.append(f"{len(attached)} attached")
        parts += [f"{a.label_path} listed" for a in self.items if a.source == "listing"]
        if hits:
            parts.append(f"{len(hits)} search hit(s) (" + "; ".join(self.reasons[id(a)] for a in hits) + ")")
        text = (", ".join(parts) or "nothing") + f", {self.tokens} tokens (budget {self.budget})"
        if self.trimmed:
            text += "; " + "; ".join(trim_note(t) for t in self.trimmed)
        if self.dropped:
            text += f"; {self.dropped} hit(s) over budget"
        irrelevant = len(self.rejected) - self.dropped
        if irrelevant > 0 and not self.note:
            text += f"; {irrelevant} hit(s) not relevant enough"
        if self.note:
            text += f"; {self.note}"
        return text

    def detail(self) -> dict:
        out = {
            "files": [
                {"path": a.label_path or str(a.path), "lines": a.lines, "tokens": a.tokens, "source": a.source,
                 **({"why": self.reasons[id(a)]} if id(a) in self.reasons else {})}
                for a in self.items
            ],
            "budget": self.budget,
            "left_out": self.rejected[:MAX_DROPPED_SHOWN],
        }
        if self.trimmed:
            out["trimmed"] = self.trimmed
        if self.note:
            out["note"] = self.note
        return out


def select(
    attached: list[Attachment], found: list[Hit] | None, root: Path, *,
    budget: int, hits: int, question: str = "", room: int | None = None,
) -> Selection:
    """`found`: search hits for the question, best first (None: no index to search).
    `room`: tokens the attached files may take (None: no limit)."""
    chosen = Selection(budget=budget)
    chosen.items = _fit_attached(attached, question, room, chosen.trimmed)
    if hits <= 0:
        return chosen
    if found is None:
        chosen.note = "no code index (coda index builds it)"
        return chosen
    hits = min(hits, max(1, budget // TOKENS_PER_HIT))
    space = budget - chosen.tokens
    if room is not None:
        space = min(space, room - chosen.tokens)
    taken = {(a.label_path or str(a.path), a.lines) for a in chosen.items}
    relevant = _relevant(question, found)
    if found and not any(why for _, why in relevant):
        chosen.note = "no search hit is relevant enough to the question"
    for hit, why in relevant:
        label = {"path": hit.path, "lines": f"{hit.start_line}-{hit.end_line}", "score": round(hit.score, 2)}
        if not why:
            chosen.rejected.append({**label, "why": "not relevant enough"})
            continue
        if len([a for a in chosen.items if a.source == "search"]) >= hits:
            break
        if (hit.path, f"{hit.start_line}-{hit.end_line}") in taken:
            continue
        text, end = hit.text, hit.end_line
        if hit.tokens > space:
            # The start of a definition (its signature and docstring) is worth more than
            # nothing; a sliver of it is not.
            text, end = _head(hit.text, hit.start_line, space)
            if estimate_tokens(text) < MIN_HIT_TOKENS:
                chosen.dropped += 1
                chosen.rejected.append({**label, "why": "over budget"})
                continue
            why += f", first {end - hit.start_line + 1} lines"
        item = Attachment(
            path=root / hit.path, text=text + "\n", tokens=estimate_tokens(text + "\n"),
            first_line=hit.start_line, last_line=end, source="search", label_path=hit.path,
        )
        chosen.items.append(item)
        chosen.reasons[id(item)] = why
        space -= item.tokens
    return chosen


def _relevant(question: str, found: list[Hit]) -> list[tuple[Hit, str]]:
    """Each hit with why it earns a place ("" when it does not)."""
    if not found:
        return []
    shaped = set(_CODE_SHAPED.findall(question)) | set(_BACKTICKED.findall(question))
    # Identifiers inside dotted names, calls and backticks count on their own too
    # ("Context.invoke" names `invoke`), but not a file name's suffix.
    shaped |= {part for s in list(shaped) if not _FILE_NAMED.fullmatch(s) for part in re.findall(r"[A-Za-z_]\w*", s)}
    words = set(query_words(question))
    files = {Path(f).name for f in _FILE_NAMED.findall(question)}
    about_project = bool(_ABOUT_PROJECT.search(question))
    # Definitions come from a query of their own, whose scores are on another scale.
    best = max((h.score for h in found if not h.defines), default=0.0)
    out = []
    for hit in found:
        why = ""
        if hit.defines and _names_definition(hit, shaped, words):
            why = f"defines {hit.defines}"
        elif Path(hit.path).name in files:
            why = "file named in the question"
        elif hit.score >= RELEVANCE_FLOOR * best:
            used = sorted(w for w in shaped if re.search(rf"\b{re.escape(w)}\b", hit.text))
            if used:
                why = "uses " + ", ".join(used[:3])
            elif about_project:
                why = "question about the project, score near the best"
        out.append((hit, why))
    return out


def _names_definition(hit: Hit, shaped: set[str], words: set[str]) -> bool:
    """Does the question name this definition as code? An identifier-shaped word (snake_case,
    camelCase, dotted, backticked) or a capitalised one, spelled exactly, does; a plain word
    ("write", "string") only when the project defines it at the top level of its own code
    (click's `echo`), not as some method or a test's helper."""
    name = hit.defines
    if name in shaped or (name in words and name[:1].isupper()):
        return True
    if name not in words:
        return False
    language = language_for(Path(hit.path).name)
    if language not in CODE_LANGUAGES or _is_test(hit.path):
        return False
    return definition_depth(hit.text, language, name) == 0


def _is_test(path: str) -> bool:
    parts = path.split("/")
    return any(p in ("test", "tests", "spec", "__tests__") for p in parts[:-1]) or parts[-1].startswith("test_")


def _head(text: str, first_line: int, tokens: int) -> tuple[str, int]:
    """The first lines of `text` that fit `tokens`, and the last line number kept."""
    kept, used = [], 0
    for line in text.splitlines():
        cost = estimate_tokens(line + "\n")
        if used + cost > tokens:
            break
        kept.append(line)
        used += cost
    return "\n".join(kept), first_line + max(0, len(kept) - 1)


def _fit_attached(attached: list[Attachment], question: str, room: int | None, trimmed: list[dict]) -> list[Attachment]:
    """The attached files as they are when they fit `room`; otherwise each gets a share of it
    (by size) holding its parts most relevant to the question, in file order."""
    total = sum(a.tokens for a in attached)
    if room is None or total <= room:
        return list(attached)
    out = []
    for a in attached:
        share = max(MIN_ATTACHED_TOKENS // 2, room * a.tokens // total)
        if a.tokens <= share:
            out.append(a)
            continue
        parts = _best_parts(a, question, share)
        out += parts
        trimmed.append({"path": a.label_path or str(a.path), "from_tokens": a.tokens,
                        "to_tokens": sum(p.tokens for p in parts), "kept": [p.lines for p in parts]})
    return out


def _best_parts(a: Attachment, question: str, tokens: int) -> list[Attachment]:
    """The chunks of an attached file that mention the question's words most, within `tokens`,
    as line ranges in file order (neighbouring chunks joined)."""
    words = [w.lower() for w in query_words(question)]
    pieces = chunk(a.text, language_for(a.path.name))

    def score(c) -> float:
        low, name = c.text.lower(), c.name.lower()
        return sum(low.count(w) + 5 * (w in name.split()) for w in words)

    ranked = sorted(range(len(pieces)), key=lambda i: (-score(pieces[i]), i))
    chosen, used = [], 0
    for i in ranked:
        cost = estimate_tokens(pieces[i].text + "\n")
        if used + cost <= tokens:
            chosen.append((pieces[i].start, pieces[i].end, pieces[i].text))
            used += cost
        elif not chosen:
            # Even the best chunk is too big: its opening lines.
            text, end = _head(pieces[i].text, pieces[i].start, tokens)
            if text:
                chosen.append((pieces[i].start, end, text))
                used += estimate_tokens(text + "\n")
    chosen.sort()
    ranges: list[list] = []
    for start, end, text in chosen:
        if ranges and start == ranges[-1][1] + 1:
            ranges[-1][1], ranges[-1][2] = end, ranges[-1][2] + "\n" + text
        else:
            ranges.append([start, end, text])
    offset = a.first_line - 1
    return [
        Attachment(path=a.path, text=text + "\n", tokens=estimate_tokens(text + "\n"), first_line=start + offset,
                   last_line=end + offset, source=a.source, label_path=a.label_path, document=a.document)
        for start, end, text in ranges
    ]
