"""Traces of pipeline runs: one row a turn, one row a stage. The pipeline pane and
`coda trace` both read these."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

from coda_tui.store.db import Database


@dataclass
class StageRecord:
    name: str
    start_ms: float
    duration_ms: float | None = None
    summary: str = ""
    detail: dict = field(default_factory=dict)


@dataclass
class TraceRecord:
    status: str
    started_at: str
    session_id: int | None = None
    user_message_id: int | None = None
    message_id: int | None = None
    provider: str | None = None
    model: str | None = None
    total_ms: float | None = None
    ttft_ms: float | None = None
    tokens: int | None = None
    tokens_per_s: float | None = None
    error: str | None = None
    stages: list[StageRecord] = field(default_factory=list)
    id: int | None = None

    def to_dict(self) -> dict:
        return asdict(self)


class TraceStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def save(self, trace: TraceRecord) -> int:
        row = {k: v for k, v in asdict(trace).items() if k not in ("stages", "id")}
        with self.db.conn:
            cols = ", ".join(row)
            marks = ", ".join("?" for _ in row)
            cur = self.db.conn.execute(f"INSERT INTO traces ({cols}) VALUES ({marks})", list(row.values()))
            trace.id = cur.lastrowid
            self.db.conn.executemany(
                "INSERT INTO trace_stages (trace_id, seq, name, start_ms, duration_ms, summary, detail)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (trace.id, i, s.name, s.start_ms, s.duration_ms, s.summary, json.dumps(s.detail))
                    for i, s in enumerate(trace.stages)
                ],
            )
        return trace.id

    def finalize(self, trace_id: int, stage: str, duration_ms: float, total_ms: float, summary: str | None = None) -> None:
        """Record the length (and, known only once the trace was written, the summary) of
        the stage that wrote the trace, and the turn's total."""
        with self.db.conn:
            self.db.conn.execute(
                "UPDATE trace_stages SET duration_ms = ?, summary = coalesce(?, summary) WHERE trace_id = ? AND name = ?",
                [duration_ms, summary, trace_id, stage],
            )
            self.db.conn.execute("UPDATE traces SET total_ms = ? WHERE id = ?", [total_ms, trace_id])

    def llm_costs(self, session_id: int) -> list[dict]:
        """What each model call of a session cost, as its llm stage recorded it (older
        traces recorded none)."""
        rows = self.db.conn.execute(
            "SELECT s.detail FROM trace_stages s JOIN traces t ON t.id = s.trace_id"
            " WHERE t.session_id = ? AND s.name = 'llm' ORDER BY s.trace_id",
            [session_id],
        ).fetchall()
        costs = (json.loads(detail or "{}").get("cost") for (detail,) in rows)
        return [c for c in costs if isinstance(c, dict)]

    def get(self, trace_id: int) -> TraceRecord | None:
        found = self._traces("WHERE id = ?", [trace_id])
        return found[0] if found else None

    def recent(self, limit: int = 20, session_id: int | None = None) -> list[TraceRecord]:
        """The latest traces, newest first."""
        if session_id is not None:
            return self._traces("WHERE session_id = ? ORDER BY id DESC LIMIT ?", [session_id, limit])
        return self._traces("ORDER BY id DESC LIMIT ?", [limit])

    def ids_of_session(self, session_id: int) -> list[int]:
        """The ids of a session's traces, oldest first (the memory explorer steps through them)."""
        rows = self.db.conn.execute("SELECT id FROM traces WHERE session_id = ? ORDER BY id", [session_id]).fetchall()
        return [r[0] for r in rows]

    def timings_for(self, message_ids: list[int]) -> dict[int, tuple[float | None, float | None, int | None]]:
        """(time to first token, total ms, tokens) of the turns that produced these answers."""
        if not message_ids:
            return {}
        marks = ", ".join("?" for _ in message_ids)
        rows = self.db.conn.execute(
            f"SELECT message_id, ttft_ms, total_ms, tokens FROM traces WHERE message_id IN ({marks})", message_ids
        ).fetchall()
        return {mid: (ttft, total, tokens) for mid, ttft, total, tokens in rows}

    def tool_calls(self, since: str | None = None) -> list[tuple[str, str, float | None]]:
        """(tool, status, duration ms) of each tool call stage, in turns started at or after
        `since` (an ISO time as traces keep it; None: all). Stages whose detail does not name
        a tool (a damaged row) are left out."""
        rows = self.db.conn.execute(
            "SELECT json_extract(s.detail, '$.tool'), json_extract(s.detail, '$.status'), s.duration_ms"
            " FROM trace_stages s JOIN traces t ON t.id = s.trace_id"
            " WHERE s.name = 'tool' AND json_valid(s.detail) AND (? IS NULL OR t.started_at >= ?)"
            " ORDER BY s.trace_id, s.seq",
            [since, since],
        ).fetchall()
        return [(str(tool), str(status or "unknown"), dur) for tool, status, dur in rows if tool]

    def _traces(self, where: str, params: list) -> list[TraceRecord]:
        cur = self.db.conn.execute(f"SELECT * FROM traces {where}", params)
        cols = [d[0] for d in cur.description]
        traces = [TraceRecord(**dict(zip(cols, row))) for row in cur.fetchall()]
        if traces:
            by_id = {t.id: t for t in traces}
            marks = ", ".join("?" for _ in by_id)
            rows = self.db.conn.execute(
                f"SELECT trace_id, name, start_ms, duration_ms, summary, detail FROM trace_stages"
                f" WHERE trace_id IN ({marks}) ORDER BY trace_id, seq",
                list(by_id),
            ).fetchall()
            for trace_id, name, start, dur, summary, detail in rows:
                by_id[trace_id].stages.append(StageRecord(name, start, dur, summary or "", json.loads(detail or "{}")))
        return traces
