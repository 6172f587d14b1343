"""What a user may do to a stored session: list, rename, delete, branch, rate an answer.

The sessions screen, the app and `coda sessions` all come through here, so a check made
for one (a blank name, a session deleted meanwhile, a branch from nothing) holds for all.
Creating a session is not here: `TurnRunner.resolve_session` is the one find-or-create,
and only a turn records the provider and model a session uses.
"""

from __future__ import annotations

from collections.abc import Callable

from coda_tui.errors import CodaError
from coda_tui.store.sessions import Message, Session, SessionStore

# How a rating is said (`coda sessions rate MSG up`, the chat's keys) and what is stored.
RATINGS = {"up": 1, "down": -1, "clear": None}
# A reason is one line, kept short: it is a note to oneself, not a review.
REASON_CHARS = 200


class SessionError(CodaError):
    """A session action that cannot be done as asked: said in one line, nothing changed."""

    exit_code = 2


class NoSuchSession(SessionError):
    def __init__(self, session_id: int) -> None:
        # Gone between being listed and being acted on: another window or `coda sessions delete`.
        super().__init__(f"no session {session_id}", hint="it may have been deleted; see 'coda sessions list'")


class BlankName(SessionError):
    def __init__(self) -> None:
        super().__init__("a session's name cannot be blank")


class CannotBranch(SessionError):
    pass


class CannotRate(SessionError):
    pass


class Sessions:
    """Session actions over the store, with the checks a user-facing action needs."""

    def __init__(self, store: SessionStore, redact: Callable[[str], str] | None = None) -> None:
        self.store = store
        # Scrubs configured keys from text the user types (a rating's reason) before it is stored.
        self.redact = redact or (lambda text: text)

    def rate(self, message_id: int, verdict: str, reason: str = "") -> Message:
        """Rate an answer up or down (or clear its rating), with an optional one-line reason."""
        if verdict not in RATINGS:
            raise CannotRate(f"a rating is one of {', '.join(RATINGS)}, not '{verdict}'")
        message = self.store.message(message_id)
        if message is None:
            raise CannotRate(f"no message {message_id}", hint="'coda sessions show SESSION --json' lists their ids")
        if message.role != "assistant":
            raise CannotRate(f"message {message_id} is not an answer: only answers are rated")
        line = " ".join(reason.split())
        if len(line) > REASON_CHARS:
            line = line[: REASON_CHARS - 1] + "…"
        self.store.rate(message_id, RATINGS[verdict], self.redact(line) or None)
        return self.store.message(message_id)

    def list(self, query: str = "", limit: int = 50) -> list[Session]:
        """Most recently active first; with a query, those whose name or messages match it."""
        return self.store.sessions_matching(query, limit) if query.strip() else self.store.list(limit)

    def get(self, session_id: int) -> Session:
        found = self.store.get(session_id)
        if found is None:
            raise NoSuchSession(session_id)
        return found

    def rename(self, session_id: int, name: str) -> Session:
        # Surrounding spaces and newlines are a slip of the keyboard, not part of the name.
        name = name.strip()
        if not name:
            raise BlankName()
        self.get(session_id)
        self.store.rename(session_id, name)
        return self.get(session_id)

    def delete(self, session_id: int) -> None:
        """The session with its messages and traces (the schema cascades)."""
        if not self.store.delete(session_id):
            raise NoSuchSession(session_id)

    def branch(self, session_id: int, message_id: int | None = None) -> Session:
        """A new session holding this one up to and including `message_id` (its last
        message when None); the original is left as it was."""
        parent = self.get(session_id)
        if message_id is None:
            last = self.store.messages(session_id, limit=1)
            if not last:
                raise CannotBranch(f"'{parent.name}' has no messages to branch from")
            message_id = last[-1].id
        else:
            message = self.store.message(message_id)
            if message is None or message.session_id != session_id:
                # A message not yet stored (an answer still streaming) or of another session.
                raise CannotBranch(f"message {message_id} is not stored in '{parent.name}'",
                                   hint="branch from a stored message", exit_code=1)
        return self.store.branch(session_id, message_id)
