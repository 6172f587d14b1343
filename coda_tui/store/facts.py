"""Remembered facts: short texts every later turn includes, for one project or for all."""

from __future__ import annotations

from dataclasses import dataclass

from coda_tui.store.db import Database, now


@dataclass
class Fact:
    id: int
    project: str | None  # the project's root directory; None for a global fact
    text: str
    created_at: str

    @property
    def scope(self) -> str:
        return "project" if self.project else "global"


class FactStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def add(self, text: str, project: str | None) -> Fact:
        created = now()
        with self.db.conn:
            cur = self.db.conn.execute(
                "INSERT INTO facts (project, text, created_at) VALUES (?, ?, ?)", [project, text, created]
            )
        return Fact(cur.lastrowid, project, text, created)

    def for_project(self, project: str | None) -> list[Fact]:
        """The global facts and this project's, oldest first."""
        rows = self.db.conn.execute(
            "SELECT id, project, text, created_at FROM facts WHERE project IS NULL OR project = ? ORDER BY id",
            [project],
        ).fetchall()
        return [Fact(*row) for row in rows]

    def get(self, fact_id: int) -> Fact | None:
        row = self.db.conn.execute("SELECT id, project, text, created_at FROM facts WHERE id = ?", [fact_id]).fetchone()
        return Fact(*row) if row else None

    def remove(self, fact_id: int) -> bool:
        with self.db.conn:
            return self.db.conn.execute("DELETE FROM facts WHERE id = ?", [fact_id]).rowcount > 0
