"""SQLite storage: sessions, messages, traces. See db.open_database and migrations."""

from __future__ import annotations

import functools
from pathlib import Path

from coda_tui.store.db import StoreError, open_database
from coda_tui.store.facts import FactStore
from coda_tui.store.sessions import SessionStore
from coda_tui.store.traces import TraceStore


class Store:
    """The database and its two record kinds, opened once per process."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.db = open_database(self.path)
        self.sessions = SessionStore(self.db)
        self.traces = TraceStore(self.db)
        self.facts = FactStore(self.db)

    @functools.cached_property
    def comparisons(self):
        # Only `coda compare` and the app's compare read them: not on a turn's import path.
        from coda_tui.store.comparisons import ComparisonStore

        return ComparisonStore(self.db)

    def close(self) -> None:
        self.db.conn.close()


__all__ = ["Store", "StoreError"]
