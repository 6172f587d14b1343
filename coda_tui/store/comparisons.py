"""Comparisons: one question put to several models (migration m007). The question and the
answers are messages of the comparison's session, each answer with the trace of its turn;
this table ties them together, in the order the targets were named."""

from __future__ import annotations

from dataclasses import dataclass, field

from coda_tui.store.db import Database, now


@dataclass
class ComparedAnswer:
    provider: str
    model: str | None
    status: str
    message_id: int | None = None
    trace_id: int | None = None
    error: str | None = None


@dataclass
class Comparison:
    id: int
    prompt: str
    created_at: str
    session_id: int | None
    user_message_id: int | None
    answers: list[ComparedAnswer] = field(default_factory=list)


class ComparisonStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def add(self, prompt: str, session_id: int | None, user_message_id: int | None,
            answers: list[ComparedAnswer]) -> int:
        with self.db.conn:
            cur = self.db.conn.execute(
                "INSERT INTO comparisons (session_id, user_message_id, prompt, created_at) VALUES (?, ?, ?, ?)",
                [session_id, user_message_id, prompt, now()],
            )
            self.db.conn.executemany(
                "INSERT INTO comparison_answers (comparison_id, seq, provider, model, status, message_id, trace_id,"
                " error) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [(cur.lastrowid, i, a.provider, a.model, a.status, a.message_id, a.trace_id, a.error)
                 for i, a in enumerate(answers)],
            )
        return cur.lastrowid

    def list(self, limit: int = 50) -> list[Comparison]:
        """The latest comparisons, newest first, with their answers."""
        return self._select("ORDER BY id DESC LIMIT ?", [limit])

    def get(self, comparison_id: int) -> Comparison | None:
        found = self._select("WHERE id = ?", [comparison_id])
        return found[0] if found else None

    def _select(self, where: str, params: list) -> list[Comparison]:
        rows = self.db.conn.execute(
            f"SELECT id, prompt, created_at, session_id, user_message_id FROM comparisons {where}", params
        ).fetchall()
        found = [Comparison(*row) for row in rows]
        by_id = {c.id: c for c in found}
        if by_id:
            marks = ", ".join("?" for _ in by_id)
            for cid, *rest in self.db.conn.execute(
                f"SELECT comparison_id, provider, model, status, message_id, trace_id, error FROM comparison_answers"
                f" WHERE comparison_id IN ({marks}) ORDER BY comparison_id, seq", list(by_id)
            ):
                by_id[cid].answers.append(ComparedAnswer(*rest))
        return found
