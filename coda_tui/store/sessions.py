"""Sessions and their messages, and full-text search over what was said."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from coda_tui.store.db import Database, now

STATUSES = ("complete", "partial", "error", "cancelled")


@dataclass
class Session:
    id: int
    name: str
    created_at: str
    updated_at: str
    provider: str | None = None
    model: str | None = None
    system_prompt: str | None = None
    parent_id: int | None = None
    parent_message_id: int | None = None
    message_count: int = 0


@dataclass
class Message:
    id: int
    session_id: int
    role: str
    content: str
    status: str
    created_at: str
    updated_at: str
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    provider: str | None = None
    model: str | None = None
    error: str | None = None
    # An assistant round that called tools: its calls as JSON ([{id, name, arguments}]);
    # a tool row: the call it answers and the tool's name.
    tool_calls: str | None = None
    tool_call_id: str | None = None
    tool_name: str | None = None
    # The user's verdict on an answer (migration m006): 1 up, -1 down, None not rated.
    rating: int | None = None
    rating_reason: str | None = None
    rated_at: str | None = None

    @property
    def calls(self) -> list[dict]:
        return json.loads(self.tool_calls) if self.tool_calls else []


@dataclass
class SearchHit:
    message_id: int
    session_id: int
    session_name: str
    role: str
    snippet: str
    created_at: str
    rank: float


def fts_query(text: str) -> str:
    """A safe FTS5 query from free text: each word quoted (so operators and stray quotes in
    the user's text cannot break the query), joined with AND."""
    words = re.findall(r"\w+", text)
    return " ".join(f'"{w}"' for w in words)


def fts_any(text: str, min_len: int = 3) -> str:
    """Like fts_query, but any word may match: used for recall, which ranks by relevance."""
    words = sorted({w.lower() for w in re.findall(r"\w+", text) if len(w) >= min_len})
    return " OR ".join(f'"{w}"' for w in words)


class SessionStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    # --- sessions -----------------------------------------------------------------------

    def create(
        self,
        name: str,
        *,
        provider: str | None = None,
        model: str | None = None,
        system_prompt: str | None = None,
        parent_id: int | None = None,
        parent_message_id: int | None = None,
    ) -> Session:
        ts = now()
        with self.db.conn:
            cur = self.db.conn.execute(
                "INSERT INTO sessions (name, created_at, updated_at, provider, model, system_prompt, parent_id, parent_message_id)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [name, ts, ts, provider, model, system_prompt, parent_id, parent_message_id],
            )
        return self.get(cur.lastrowid)

    _SELECT = (
        "SELECT s.*, (SELECT count(*) FROM messages m WHERE m.session_id = s.id) AS message_count"
        " FROM sessions s"
    )

    def _sessions(self, where: str, params: list) -> list[Session]:
        cur = self.db.conn.execute(f"{self._SELECT} {where}", params)
        cols = [d[0] for d in cur.description]
        return [Session(**dict(zip(cols, row))) for row in cur.fetchall()]

    def get(self, session_id: int) -> Session | None:
        found = self._sessions("WHERE s.id = ?", [session_id])
        return found[0] if found else None

    def find(self, ref: str) -> Session | None:
        """A session by id, else by name (the most recent of that name)."""
        if ref.isdigit():
            found = self.get(int(ref))
            if found:
                return found
        row = self.db.execute("SELECT id FROM sessions WHERE name = ? ORDER BY id DESC LIMIT 1", [ref]).fetchone()
        return self.get(row[0]) if row else None

    def list(self, limit: int = 50, offset: int = 0) -> list[Session]:
        return self._sessions("ORDER BY s.updated_at DESC, s.id DESC LIMIT ? OFFSET ?", [limit, offset])

    def branch(self, session_id: int, message_id: int, name: str | None = None) -> Session:
        """A new session holding a copy of this one's messages up to and including
        `message_id`, linked to its parent; the original is left as it was."""
        parent = self.get(session_id)
        if parent is None:
            raise ValueError(f"no session {session_id}")
        new = self.create(
            name or f"{parent.name} (branch)",
            provider=parent.provider,
            model=parent.model,
            system_prompt=parent.system_prompt,
            parent_id=parent.id,
            parent_message_id=message_id,
        )
        with self.db.conn:
            self.db.conn.execute(
                "INSERT INTO messages (session_id, role, content, status, prompt_tokens, completion_tokens,"
                " provider, model, error, created_at, updated_at, tool_calls, tool_call_id, tool_name)"
                " SELECT ?, role, content, status, prompt_tokens, completion_tokens, provider, model, error,"
                " created_at, updated_at, tool_calls, tool_call_id, tool_name"
                " FROM messages WHERE session_id = ? AND id <= ? ORDER BY id",
                [new.id, session_id, message_id],
            )
        return self.get(new.id)

    def sessions_matching(self, text: str, limit: int = 50) -> list[Session]:
        """Sessions whose name or messages match `text` (full-text), best first."""
        query = fts_query(text)
        if not query:
            return self.list(limit)
        # Ranked message hits, reduced to their sessions in order of each one's best hit.
        hits = self.db.conn.execute(
            "SELECT m.session_id FROM messages_fts JOIN messages m ON m.id = messages_fts.rowid"
            " WHERE messages_fts MATCH ? ORDER BY bm25(messages_fts) LIMIT ?",
            [query, limit * 20],
        ).fetchall()
        ids = [row[0] for row in hits]
        like = f"%{text.strip()}%"
        named = [r[0] for r in self.db.conn.execute("SELECT id FROM sessions WHERE name LIKE ? LIMIT ?", [like, limit])]
        order = list(dict.fromkeys(named + ids))[:limit]
        found = {s.id: s for s in self._sessions(f"WHERE s.id IN ({', '.join('?' for _ in order)})", order)} if order else {}
        return [found[i] for i in order if i in found]

    def message_count(self, session_id: int) -> int:
        return self.db.conn.execute("SELECT count(*) FROM messages WHERE session_id = ?", [session_id]).fetchone()[0]

    def rename(self, session_id: int, name: str) -> None:
        with self.db.conn:
            self.db.conn.execute("UPDATE sessions SET name = ?, updated_at = ? WHERE id = ?", [name, now(), session_id])

    def set_model(self, session_id: int, provider: str, model: str) -> None:
        with self.db.conn:
            self.db.conn.execute(
                "UPDATE sessions SET provider = ?, model = ?, updated_at = ? WHERE id = ?",
                [provider, model, now(), session_id],
            )

    def delete(self, session_id: int) -> bool:
        with self.db.conn:
            cur = self.db.conn.execute("DELETE FROM sessions WHERE id = ?", [session_id])
        return cur.rowcount > 0

    # --- messages -----------------------------------------------------------------------

    def add_message(
        self,
        session_id: int,
        role: str,
        content: str,
        *,
        status: str = "complete",
        provider: str | None = None,
        model: str | None = None,
        prompt_tokens: int | None = None,
        completion_tokens: int | None = None,
        tool_calls: list[dict] | None = None,
        tool_call_id: str | None = None,
        tool_name: str | None = None,
        error: str | None = None,
    ) -> int:
        ts = now()
        calls = json.dumps(tool_calls, ensure_ascii=False) if tool_calls else None
        with self.db.conn:
            cur = self.db.conn.execute(
                "INSERT INTO messages (session_id, role, content, status, provider, model, prompt_tokens,"
                " completion_tokens, created_at, updated_at, tool_calls, tool_call_id, tool_name, error)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [session_id, role, content, status, provider, model, prompt_tokens, completion_tokens, ts, ts,
                 calls, tool_call_id, tool_name, error],
            )
            self.db.conn.execute("UPDATE sessions SET updated_at = ? WHERE id = ?", [ts, session_id])
        return cur.lastrowid

    def update_message(self, message_id: int, **fields) -> None:
        allowed = {"content", "status", "prompt_tokens", "completion_tokens", "error", "provider", "model", "tool_calls"}
        unknown = set(fields) - allowed
        if unknown:
            raise ValueError(f"cannot update {sorted(unknown)}")
        if isinstance(fields.get("tool_calls"), list):
            fields["tool_calls"] = json.dumps(fields["tool_calls"], ensure_ascii=False) if fields["tool_calls"] else None
        if "status" in fields and fields["status"] not in STATUSES:
            raise ValueError(f"bad status {fields['status']!r}")
        fields["updated_at"] = now()
        assignments = ", ".join(f"{k} = ?" for k in fields)
        with self.db.conn:
            self.db.conn.execute(f"UPDATE messages SET {assignments} WHERE id = ?", [*fields.values(), message_id])

    def rate(self, message_id: int, rating: int | None, reason: str | None = None) -> None:
        """Record (or, with None, clear) the user's rating of a message."""
        if rating not in (1, -1, None):
            raise ValueError(f"bad rating {rating!r}")
        with self.db.conn:
            self.db.conn.execute(
                "UPDATE messages SET rating = ?, rating_reason = ?, rated_at = ? WHERE id = ?",
                [rating, reason if rating is not None else None, now() if rating is not None else None, message_id],
            )

    def messages(self, session_id: int, *, limit: int | None = None, before_id: int | None = None) -> list[Message]:
        """Messages in order; with `limit`, the latest ones (before `before_id` if given)."""
        sql = "SELECT * FROM messages WHERE session_id = ?"
        params: list = [session_id]
        if before_id is not None:
            sql += " AND id < ?"
            params.append(before_id)
        if limit is not None:
            sql = f"SELECT * FROM ({sql} ORDER BY id DESC LIMIT ?) ORDER BY id"
            params.append(limit)
        else:
            sql += " ORDER BY id"
        cur = self.db.conn.execute(sql, params)
        cols = [d[0] for d in cur.description]
        return [Message(**dict(zip(cols, row))) for row in cur.fetchall()]

    def message(self, message_id: int) -> Message | None:
        cur = self.db.conn.execute("SELECT * FROM messages WHERE id = ?", [message_id])
        row = cur.fetchone()
        return Message(**dict(zip([d[0] for d in cur.description], row))) if row else None

    # --- search -------------------------------------------------------------------------

    def search(
        self, text: str, *, limit: int = 20, any_word: bool = False, exclude_session: int | None = None
    ) -> list[SearchHit]:
        query = fts_any(text) if any_word else fts_query(text)
        if not query:
            return []
        sql = (
            "SELECT m.id, m.session_id, s.name, m.role,"
            " snippet(messages_fts, 0, '[', ']', '…', 12), m.created_at, bm25(messages_fts)"
            " FROM messages_fts JOIN messages m ON m.id = messages_fts.rowid"
            " JOIN sessions s ON s.id = m.session_id"
            " WHERE messages_fts MATCH ?"
        )
        params: list = [query]
        if exclude_session is not None:
            sql += " AND m.session_id != ?"
            params.append(exclude_session)
        sql += " ORDER BY bm25(messages_fts) LIMIT ?"
        params.append(limit)
        rows = self.db.conn.execute(sql, params).fetchall()
        return [SearchHit(*row) for row in rows]
