"""The response cache: an identical request (provider, endpoint, model, messages, options)
is answered from SQLite instead of the model.

Its own file (cache/responses.db under the data dir), like the code index: derived data that
may be deleted at any time, whose writes must never make a conversation wait for the main
database's lock, and which needs no migrations of the main schema.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from coda_tui import paths
from coda_tui.providers.base import ChatMessage
from coda_tui.store.db import BUSY_TIMEOUT_MS

SCHEMA = [
    """CREATE TABLE IF NOT EXISTS responses (
        key TEXT PRIMARY KEY,
        provider TEXT NOT NULL,
        model TEXT NOT NULL,
        text TEXT NOT NULL,
        prompt_tokens INTEGER,
        completion_tokens INTEGER,
        duration_ms REAL NOT NULL,
        created REAL NOT NULL,
        used REAL NOT NULL,
        hits INTEGER NOT NULL DEFAULT 0
    )""",
    "CREATE INDEX IF NOT EXISTS responses_used ON responses(used)",
    # One row: counters kept across runs, for the pipeline pane and `coda cache stats`.
    """CREATE TABLE IF NOT EXISTS counters (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        hits INTEGER NOT NULL DEFAULT 0,
        misses INTEGER NOT NULL DEFAULT 0,
        saved_ms REAL NOT NULL DEFAULT 0
    )""",
    "INSERT OR IGNORE INTO counters (id) VALUES (1)",
]


def request_key(provider: str, endpoint: str, model: str, messages: list[ChatMessage], options: dict) -> str:
    """A digest of everything that shapes the answer; the endpoint is in it so a provider
    pointed at another server does not get the old server's answers."""
    doc = {
        "provider": provider,
        "endpoint": endpoint,
        "model": model,
        "messages": [[m.role, m.content] for m in messages],
        "options": options,
    }
    return hashlib.sha256(json.dumps(doc, sort_keys=True, ensure_ascii=False).encode()).hexdigest()

log = logging.getLogger(__name__)


@dataclass
class CachedAnswer:
    text: str
    prompt_tokens: int | None
    completion_tokens: int | None
    # How long the original answer took (request to last token): the time a hit saves.
    duration_ms: float
    created: float


@dataclass
class CacheStats:
    entries: int
    hits: int
    misses: int
    saved_ms: float
    path: str


class ResponseCache:
    def __init__(self, path: Path, *, ttl_s: float = 0.0, max_entries: int = 1000) -> None:
        self.path = Path(path)
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        paths.private_file(self.path)
        self._lock = threading.Lock()
        try:
            self.conn = self._open()
        except sqlite3.DatabaseError as exc:
            # Derived data: a damaged cache is set aside and started afresh, not a failure.
            log.warning("response cache %s is unreadable (%s): moved aside, starting a new one", self.path, exc)
            self.path.replace(self.path.with_name(self.path.name + ".damaged"))
            for suffix in ("-wal", "-shm"):
                self.path.with_name(self.path.name + suffix).unlink(missing_ok=True)
            self.conn = self._open()

    def _open(self) -> sqlite3.Connection:
        conn = sqlite3.connect(str(self.path), timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False)
        try:
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            with conn:
                for statement in SCHEMA:
                    conn.execute(statement)
        except sqlite3.DatabaseError:
            conn.close()
            raise
        return conn

    def get(self, key: str, *, count: bool = True) -> CachedAnswer | None:
        """The stored answer, counting a hit or a miss unless told not to (a caller that looks
        up several keys for one request counts once); an expired entry is a miss and goes."""
        now = time.time()
        with self._lock, self.conn:
            row = self.conn.execute(
                "SELECT text, prompt_tokens, completion_tokens, duration_ms, created FROM responses WHERE key = ?", [key]
            ).fetchone()
            if row is not None and self.ttl_s and now - row[4] > self.ttl_s:
                self.conn.execute("DELETE FROM responses WHERE key = ?", [key])
                row = None
            if row is None:
                if count:
                    self.conn.execute("UPDATE counters SET misses = misses + 1")
                return None
            self.conn.execute("UPDATE responses SET used = ?, hits = hits + 1 WHERE key = ?", [now, key])
            if count:
                self.conn.execute("UPDATE counters SET hits = hits + 1, saved_ms = saved_ms + ?", [row[3]])
        return CachedAnswer(*row)

    def count(self, hit: CachedAnswer | None) -> None:
        """Count one request's outcome: a hit (with the time it saved) or a miss."""
        with self._lock, self.conn:
            if hit is None:
                self.conn.execute("UPDATE counters SET misses = misses + 1")
            else:
                self.conn.execute("UPDATE counters SET hits = hits + 1, saved_ms = saved_ms + ?", [hit.duration_ms])

    def put(self, key: str, provider: str, model: str, text: str, prompt_tokens: int | None,
            completion_tokens: int | None, duration_ms: float) -> None:
        now = time.time()
        with self._lock, self.conn:
            self.conn.execute(
                "INSERT OR REPLACE INTO responses (key, provider, model, text, prompt_tokens, completion_tokens,"
                " duration_ms, created, used) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [key, provider, model, text, prompt_tokens, completion_tokens, duration_ms, now, now],
            )
            # Least recently used entries beyond the limit make room.
            self.conn.execute(
                "DELETE FROM responses WHERE key IN (SELECT key FROM responses ORDER BY used DESC LIMIT -1 OFFSET ?)",
                [max(1, self.max_entries)],
            )

    def stats(self) -> CacheStats:
        with self._lock:
            entries = self.conn.execute("SELECT count(*) FROM responses").fetchone()[0]
            hits, misses, saved = self.conn.execute("SELECT hits, misses, saved_ms FROM counters").fetchone()
        return CacheStats(entries, hits, misses, saved, str(self.path))

    def clear(self) -> int:
        """Forget every answer and the counters; returns how many answers there were."""
        with self._lock, self.conn:
            gone = self.conn.execute("DELETE FROM responses").rowcount
            self.conn.execute("UPDATE counters SET hits = 0, misses = 0, saved_ms = 0")
        return gone

    def close(self) -> None:
        self.conn.close()
