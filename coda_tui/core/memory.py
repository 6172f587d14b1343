"""What the model remembers: recent turns of this session within the token budget, and
(when enabled) relevant turns recalled from other sessions through the full-text index."""

from __future__ import annotations

from coda_tui.providers.base import ChatMessage
from coda_tui.store.sessions import Message, SessionStore
from coda_tui.tokens import estimate_tokens

# Per-message overhead of chat templates (role markers, separators), in tokens.
MESSAGE_OVERHEAD = 4


def usable(messages: list[Message]) -> list[Message]:
    """Messages worth replaying: not empty, and not an error that only carries a failure."""
    return [m for m in messages if m.content.strip() and not (m.role == "assistant" and m.status == "error")]


def select_history(messages: list[Message], budget: int) -> tuple[list[ChatMessage], int]:
    """The newest messages that fit `budget` tokens, oldest first. A reply is never kept
    without the question before it: a lone answer confuses small models."""
    chosen: list[Message] = []
    used = 0
    for m in reversed(messages):
        cost = estimate_tokens(m.content) + MESSAGE_OVERHEAD
        if used + cost > budget:
            break
        chosen.append(m)
        used += cost
    chosen.reverse()
    while chosen and chosen[0].role == "assistant":
        used -= estimate_tokens(chosen[0].content) + MESSAGE_OVERHEAD
        chosen.pop(0)
    return [ChatMessage(m.role, m.content) for m in chosen], used


def recall(store: SessionStore, question: str, *, session_id: int, limit: int, budget: int) -> tuple[list[int], str, int]:
    """Relevant earlier messages from other sessions, as one block of notes."""
    hits = store.search(question, limit=limit * 2, any_word=True, exclude_session=session_id)
    notes: list[str] = []
    ids: list[int] = []
    used = 0
    for hit in hits:
        msg = store.message(hit.message_id)
        if msg is None or not msg.content.strip():
            continue
        text = msg.content.strip()
        room = (budget - used) * 3  # characters left, conservatively
        if room < 80:
            break
        if len(text) > room:
            text = text[:room] + " …"
        notes.append(f"- ({hit.role}, session '{hit.session_name}') {text}")
        ids.append(msg.id)
        used += estimate_tokens(text) + MESSAGE_OVERHEAD
        if len(ids) >= limit:
            break
    if not notes:
        return [], "", 0
    return ids, "Possibly relevant notes from earlier conversations:\n" + "\n".join(notes), used
