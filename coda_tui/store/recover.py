"""`coda db recover`: what can still be read from a damaged coda.db, copied into a new one.

Rows are copied table by table in rowid ranges, halving a range that fails down to single
rows, so one bad page costs the rows on it and no more. Then, when the sqlite3 command is
there, SQLite's own `.recover` (which reads the file page by page and finds rows even where
the b-tree above them is broken) fills in rows the first pass could not reach; the 3.40
here gives up on databases with FTS5 tables, hence both. The rows go into a new database
made by coda's own migrations (a correct schema, full-text index and triggers), and the
damaged file is kept beside it.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import sqlite3
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from coda_tui.store.db import StoreError, open_database

# Parents before children, so foreign keys can be checked at the end.
TABLES = ("sessions", "messages", "traces", "trace_stages")
RECOVER_TIMEOUT_S = 600


@dataclass
class Recovery:
    path: Path
    kept: Path
    method: str
    rows: dict[str, int] = field(default_factory=dict)


def recover(path: Path) -> Recovery:
    """Replace the database at `path` by what can be read from it; the old file (with its
    WAL) is renamed to coda.db.damaged-<time> and kept."""
    path = Path(path)
    if not path.is_file():
        raise StoreError(f"no database at {path}: nothing to recover")
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    kept = path.with_name(f"{path.name}.damaged-{stamp}")
    fresh = path.with_name(f"{path.name}.recovering")
    with tempfile.TemporaryDirectory(dir=path.parent) as scratch_dir:
        scratch = Path(scratch_dir) / "salvage.db"
        recovered = shutil.which("sqlite3") is not None and _salvage_with_cli(path, scratch)
        sources = [path, scratch] if recovered else [path]
        method = "row-by-row copy" + (" and sqlite3 .recover" if recovered else "")
        fresh.unlink(missing_ok=True)
        rows = _copy_into_new(sources, fresh)
    for suffix in ("", "-wal", "-shm"):
        old = Path(str(path) + suffix)
        if old.exists():
            os.replace(old, Path(str(kept) + suffix))
    os.replace(fresh, path)
    return Recovery(path, kept, method, rows)


def _salvage_with_cli(path: Path, scratch: Path) -> bool:
    """SQLite's .recover into `scratch`; False when the command cannot do it."""
    try:
        dump = subprocess.run(["sqlite3", str(path), ".recover"], capture_output=True, timeout=RECOVER_TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    if dump.returncode != 0 or not dump.stdout:
        return False
    # Errors on single statements are expected (what loaded is what was readable): the
    # exit status says nothing, the scratch file does.
    subprocess.run(["sqlite3", str(scratch)], input=dump.stdout, capture_output=True, timeout=RECOVER_TIMEOUT_S, check=False)
    return scratch.exists()


# Rows whose parent was lost would never be shown: only rows with a parent are copied.
_PARENTED = {
    "messages": "session_id IN (SELECT id FROM main.sessions)",
    "traces": "(session_id IS NULL OR session_id IN (SELECT id FROM main.sessions))",
    "trace_stages": "trace_id IN (SELECT id FROM main.traces)",
}


def _copy_into_new(sources: list[Path], fresh: Path) -> dict[str, int]:
    db = open_database(fresh)
    conn = db.conn
    # Text that is no longer UTF-8 (damaged bytes) is copied with the bad bytes as U+FFFD:
    # as it was, every read of that row would fail again.
    conn.create_function("coda_text", 1, lambda b: b.decode("utf-8", errors="replace") if isinstance(b, bytes) else b,
                         deterministic=True)
    # Each statement its own transaction: after a statement fails on a bad page of the
    # attached file, SQLite refuses to commit the transaction it was part of.
    conn.isolation_level = None
    try:
        # The full-text index is built once at the end, not row by row through its triggers:
        # an insert that fails half-way on a bad page would leave FTS5 inconsistent.
        triggers = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'").fetchall()
        for name, _ in triggers:
            conn.execute(f"DROP TRIGGER {name}")
        for source in sources:  # a row the first could read is not replaced by a later one
            conn.execute("ATTACH DATABASE ? AS old", [str(source)])
            for table in TABLES:
                _copy_table(conn, table)
            conn.execute("DETACH DATABASE old")
        for (fts,) in conn.execute("SELECT name FROM main.sqlite_master WHERE type = 'table' "
                                   "AND sql LIKE 'CREATE VIRTUAL TABLE%USING FTS5%'").fetchall():
            conn.execute(f"INSERT INTO main.{fts} ({fts}) VALUES ('rebuild')")
        for _, sql in triggers:
            conn.execute(sql)
        rows = {table: conn.execute(f"SELECT count(*) FROM main.{table}").fetchone()[0] for table in TABLES}
    finally:
        conn.close()
    return rows


def _copy_table(conn: sqlite3.Connection, table: str) -> None:
    """Rows of `table` from the attached `old` database that can be read, in rowid ranges;
    a range that fails is halved until the bad rows are found and left out."""
    try:
        have = [r[1] for r in conn.execute(f"PRAGMA old.table_info({table})").fetchall()]
        bounds = conn.execute(f"SELECT min(rowid), max(rowid) FROM old.{table}").fetchone()
    except (sqlite3.DatabaseError, StoreError):
        return
    cols = [r[1] for r in conn.execute(f"PRAGMA main.table_info({table})").fetchall() if r[1] in have]
    if not cols or bounds[0] is None:
        return
    names = ", ".join(cols)
    values = ", ".join(f"CASE WHEN typeof({c}) = 'text' THEN coda_text(CAST({c} AS BLOB)) ELSE {c} END" for c in cols)
    where = f" AND {_PARENTED[table]}" if table in _PARENTED else ""
    pending = [(bounds[0], bounds[1])]
    while pending:
        low, high = pending.pop()
        try:
            conn.execute(f"INSERT OR IGNORE INTO main.{table} ({names}) SELECT {values} FROM old.{table} "
                         f"WHERE rowid BETWEEN ? AND ?{where}", [low, high])
        except (sqlite3.DatabaseError, StoreError):
            if low < high:
                mid = (low + high) // 2
                pending += [(mid + 1, high), (low, mid)]
