"""Opening the database: one SQLite file, WAL, a busy timeout, migrations applied."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path
from typing import Any

from coda_tui import paths
from coda_tui.errors import CodaError
from coda_tui.store.migrations import MIGRATIONS

BUSY_TIMEOUT_MS = 5000


class StoreError(CodaError):
    """The database cannot be used; the message names the path and what to do."""


def now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds")


class _Cursor(sqlite3.Cursor):
    """Damage inside the file shows when its rows are read, after execute() returned: a
    text column that is no longer UTF-8, a page that is no longer a page."""

    def _read(self, fetch, *args):
        try:
            return fetch(*args)
        except sqlite3.DatabaseError as exc:
            raise _translate(self.connection.db_path, exc) from None

    def fetchone(self):
        return self._read(super().fetchone)

    def fetchmany(self, *args):
        return self._read(super().fetchmany, *args)

    def fetchall(self):
        return self._read(super().fetchall)

    def __next__(self):
        return self._read(super().__next__)


class _Connection(sqlite3.Connection):
    """A connection whose failures a user must act on (a damaged file, a read-only directory,
    a full disk) become a StoreError naming the file and what to do, wherever they happen:
    a disk fills up in the middle of an answer, not only when the database is opened."""

    db_path: Path = Path()

    def execute(self, *args, **kwargs):
        try:
            return self.cursor(_Cursor).execute(*args, **kwargs)
        except sqlite3.DatabaseError as exc:
            raise _translate(self.db_path, exc) from None

    def executemany(self, *args, **kwargs):
        try:
            return self.cursor(_Cursor).executemany(*args, **kwargs)
        except sqlite3.DatabaseError as exc:
            raise _translate(self.db_path, exc) from None

    def commit(self) -> None:
        try:
            super().commit()
        except sqlite3.DatabaseError as exc:
            raise _translate(self.db_path, exc) from None

    def __exit__(self, *exc_info):
        # `with conn:` commits in C, past the commit() above.
        try:
            return super().__exit__(*exc_info)
        except sqlite3.DatabaseError as exc:
            raise _translate(self.db_path, exc) from None


_TRANSACTION_CONTROL = {"BEGIN", "SAVEPOINT", "COMMIT", "END", "ROLLBACK", "RELEASE"}


class Database:
    """The connection, with the small part of sqlite-utils' Database API coda uses.

    sqlite-utils itself imports numpy and pandas when they are installed, a quarter of a
    second before the first frame; it is loaded only when some code asks for more of its
    API (a table object, a transform), and then wraps this same connection.
    """

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self._full: Any = None
        # As sqlite-utils does on opening: a REPLACE that deletes a row fires its DELETE
        # trigger, so the full-text index never keeps a replaced row.
        self.conn.execute("PRAGMA recursive_triggers = on")

    def execute(self, sql: str, parameters: Any = None) -> sqlite3.Cursor:
        """A statement; one that writes outside a transaction is committed at once (as
        sqlite-utils' execute() does), one inside a transaction joins it."""
        was_in_transaction = self.conn.in_transaction
        try:
            cursor = self.conn.execute(sql) if parameters is None else self.conn.execute(sql, parameters)
        except Exception:
            if not was_in_transaction and self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            raise
        opens = sql.lstrip().split(None, 1)[0].upper() in _TRANSACTION_CONTROL if sql.strip() else False
        if not was_in_transaction and self.conn.in_transaction and cursor.description is None and not opens:
            self.conn.execute("COMMIT")
        return cursor

    def table_names(self) -> list[str]:
        return [r[0] for r in self.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()]

    def _sqlite_utils(self) -> Any:
        if self._full is None:
            from coda_tui.store.lean import import_sqlite_utils

            import_sqlite_utils()  # without pandas and numpy: see store/lean.py
            import sqlite_utils

            self._full = sqlite_utils.Database(self.conn)
        return self._full

    def __getitem__(self, table: str) -> Any:
        return self._sqlite_utils()[table]

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._sqlite_utils(), name)


def _translate(path: Path, exc: sqlite3.DatabaseError) -> Exception:
    """A StoreError for conditions outside coda's control; anything else is a bug, kept as is."""
    return StoreError(explain(path, exc)) if _kind(exc) else exc


def is_damaged(exc: sqlite3.DatabaseError) -> bool:
    return _kind(exc) == "damaged"


def _kind(exc: sqlite3.DatabaseError) -> str | None:
    text = str(exc).lower()
    if "not a database" in text or "malformed" in text or "could not decode" in text:
        return "damaged"
    if "readonly" in text or "read-only" in text or "unable to open" in text:
        return "readonly"
    if "disk is full" in text or "disk i/o error" in text:
        return "full"
    if "database is locked" in text:
        return "locked"
    return None


def open_database(path: Path | str, *, migrate_to: int | None = None) -> Database:
    """Open (creating if needed) and migrate. `migrate_to` stops early; tests use it to build
    a database as an older version of coda left it."""
    path = Path(path)
    try:
        paths.private_file(path)
    except OSError as exc:
        raise StoreError(
            f"cannot create the database {path}: {exc.strerror}; {path.parent} is not writable. "
            f"Make it writable (chmod u+w {path.parent}), or set CODA_DATA_DIR to a writable directory."
        ) from None
    try:
        # check_same_thread=False: writes may be handed to a worker thread; callers
        # serialise them, and SQLite itself is built thread-safe.
        conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False, factory=_Connection)
        conn.db_path = path
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA journal_mode = WAL")
        # NORMAL is durable against application crashes in WAL mode; only a power cut may
        # lose the last transaction, and it costs a fsync per write less.
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        db = Database(conn)
        migrate(db, upto=migrate_to)
    except sqlite3.DatabaseError as exc:
        raise StoreError(explain(path, exc)) from None
    return db


def damaged(path: Path, detail: str) -> str:
    return (
        f"the database {path} is damaged or not a coda database ({detail}). "
        "Move it aside with 'coda db recover', which copies what can still be read into a new one "
        f"and keeps the damaged file beside it (or mv {path} {path}.bad to start afresh)."
    )


def explain(path: Path, exc: sqlite3.DatabaseError) -> str:
    text = str(exc)
    kind = _kind(exc)
    if kind == "damaged":
        return damaged(path, text)
    if kind == "readonly":
        return (
            f"cannot write the database {path} ({text}): {path.parent} is not writable. "
            f"Make it writable (chmod u+w {path.parent}), or set CODA_DATA_DIR to a writable directory."
        )
    if kind == "full":
        return (
            f"cannot write the database {path} ({text}): the disk holding it is full or failing. "
            "Free some space (or set CODA_DATA_DIR to another disk) and try again; "
            "what was written before is kept."
        )
    if kind == "locked":
        return (
            f"the database {path} stayed locked for {BUSY_TIMEOUT_MS / 1000:g} s ({text}): "
            "another program holds it. Try again when it is done."
        )
    return f"database error at {path}: {text}"


def migrate(db: Database, upto: int | None = None) -> list[str]:
    """Apply the migrations not yet recorded; returns the names applied."""
    db.execute("CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
    done = {row[0] for row in db.execute("SELECT name FROM _migrations").fetchall()}
    refuse_newer(db, done)
    applied = []
    for fn in MIGRATIONS[:upto]:
        if fn.__name__ in done:
            continue
        db.conn.execute("BEGIN")
        try:
            fn(db)
            db.conn.execute("INSERT INTO _migrations (name, applied_at) VALUES (?, ?)", [fn.__name__, now()])
        except BaseException:
            db.conn.rollback()
            raise
        db.conn.commit()
        applied.append(fn.__name__)
    if applied:
        # The schema's number, for a later coda to see and an earlier one to refuse.
        db.conn.execute(f"PRAGMA user_version = {len(done) + len(applied)}")
    return applied


def refuse_newer(db: Database, done: set[str]) -> None:
    """A database a newer coda has migrated is not used: its rows would not fit this code."""
    from coda_tui import __version__

    unknown = done - {fn.__name__ for fn in MIGRATIONS}
    stamped = db.execute("PRAGMA user_version").fetchone()[0]
    if unknown or stamped > len(MIGRATIONS):
        path = getattr(db.conn, "db_path", "the database")
        raise StoreError(
            f"the database {path} is from a newer coda (schema {max(stamped, len(done))}; coda {__version__} "
            f"knows schema {len(MIGRATIONS)}): upgrade coda, or set CODA_DATA_DIR to keep a separate database"
        )


def schema_version(db: Database) -> int:
    return db.execute("SELECT count(*) FROM _migrations").fetchone()[0]
