"""Numbered schema migrations. Applied ones are recorded in `_migrations` and never edited:
a schema change is a new function at the end of this list."""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from coda_tui.store.db import Database

MIGRATIONS: list[Callable[[Database], None]] = []


def migration(fn: Callable[[Database], None]):
    MIGRATIONS.append(fn)
    return fn


def _run(db: Database, script: str) -> None:
    # Statement by statement rather than executescript(), which commits first and so
    # would let a failing migration leave half a schema behind.
    for statement in script.split(";"):
        if statement.strip():
            db.conn.execute(statement)


@migration
def m001_sessions_and_messages(db: Database) -> None:
    _run(db,
        """
        CREATE TABLE sessions (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            provider TEXT,
            model TEXT,
            system_prompt TEXT,
            parent_id INTEGER REFERENCES sessions(id) ON DELETE SET NULL,
            parent_message_id INTEGER
        );
        CREATE INDEX sessions_updated ON sessions(updated_at);
        CREATE INDEX sessions_name ON sessions(name);
        CREATE TABLE messages (
            id INTEGER PRIMARY KEY,
            session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
            role TEXT NOT NULL CHECK (role IN ('system', 'user', 'assistant')),
            content TEXT NOT NULL DEFAULT '',
            status TEXT NOT NULL DEFAULT 'complete'
                CHECK (status IN ('complete', 'partial', 'error', 'cancelled')),
            prompt_tokens INTEGER,
            completion_tokens INTEGER,
            provider TEXT,
            model TEXT,
            error TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE INDEX messages_session ON messages(session_id, id);
        """
    )


@migration
def m002_traces(db: Database) -> None:
    _run(db,
        """
        CREATE TABLE traces (
            id INTEGER PRIMARY KEY,
            session_id INTEGER REFERENCES sessions(id) ON DELETE CASCADE,
            user_message_id INTEGER,
            message_id INTEGER,
            provider TEXT,
            model TEXT,
            status TEXT NOT NULL,
            started_at TEXT NOT NULL,
            total_ms REAL,
            ttft_ms REAL,
            tokens INTEGER,
            tokens_per_s REAL,
            error TEXT
        );
        CREATE INDEX traces_session ON traces(session_id, id);
        CREATE TABLE trace_stages (
            id INTEGER PRIMARY KEY,
            trace_id INTEGER NOT NULL REFERENCES traces(id) ON DELETE CASCADE,
            seq INTEGER NOT NULL,
            name TEXT NOT NULL,
            start_ms REAL NOT NULL,
            duration_ms REAL,
            summary TEXT,
            detail TEXT
        );
        CREATE INDEX trace_stages_trace ON trace_stages(trace_id, seq);
        """
    )


@migration
def m003_messages_fts(db: Database) -> None:
    # External-content FTS5 table kept in sync by triggers; rebuilt from existing rows, so
    # upgrading a database indexes its old messages too. The statements are the ones
    # sqlite-utils' enable_fts(create_triggers=True) wrote when this migration used it, so
    # databases made before and after have the same schema; a trigger's body holds ";",
    # hence one execute() a statement rather than _run().
    for statement in (
        'CREATE VIRTUAL TABLE "messages_fts" USING FTS5 (\n    "content",\n    tokenize=\'porter unicode61\',\n'
        '    content="messages"\n)',
        'CREATE TRIGGER "messages_ai" AFTER INSERT ON "messages" BEGIN\n'
        '  INSERT INTO "messages_fts" (rowid, "content") VALUES (new.rowid, new."content");\nEND',
        'CREATE TRIGGER "messages_ad" AFTER DELETE ON "messages" BEGIN\n'
        '  INSERT INTO "messages_fts" ("messages_fts", rowid, "content") VALUES(\'delete\', old.rowid, old."content");\nEND',
        'CREATE TRIGGER "messages_au" AFTER UPDATE ON "messages" BEGIN\n'
        '  INSERT INTO "messages_fts" ("messages_fts", rowid, "content") VALUES(\'delete\', old.rowid, old."content");\n'
        '  INSERT INTO "messages_fts" (rowid, "content") VALUES (new.rowid, new."content");\nEND',
        'INSERT INTO "messages_fts"("messages_fts") VALUES(\'rebuild\')',
    ):
        db.conn.execute(statement)


@migration
def m004_facts(db: Database) -> None:
    # Facts the user asked coda to remember: for one project (its root directory) or, with
    # project NULL, everywhere.
    _run(db,
        """
        CREATE TABLE facts (
            id INTEGER PRIMARY KEY,
            project TEXT,
            text TEXT NOT NULL,
            created_at TEXT NOT NULL
        );
        CREATE INDEX facts_project ON facts(project, id);
        """
    )
