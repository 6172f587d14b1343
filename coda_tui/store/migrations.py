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


MESSAGES_FTS = (
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
)


@migration
def m003_messages_fts(db: Database) -> None:
    # External-content FTS5 table kept in sync by triggers; rebuilt from existing rows, so
    # upgrading a database indexes its old messages too. The statements are the ones
    # sqlite-utils' enable_fts(create_triggers=True) wrote when this migration used it, so
    # databases made before and after have the same schema; a trigger's body holds ";",
    # hence one execute() a statement rather than _run().
    for statement in MESSAGES_FTS:
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


@migration
def m005_tool_messages(db: Database) -> None:
    # Tool calls and their results become messages: role 'tool', the calls an assistant
    # round made (JSON list of {id, name, arguments}), and which call a tool row answers.
    # SQLite cannot alter a CHECK constraint, so the table is rebuilt (ids kept, so traces'
    # message ids and the FTS rowids stay valid); dropping the old table drops m003's
    # triggers with it, and the full-text index is made again over the new table.
    _run(db,
        """
        CREATE TABLE messages_new (
            id INTEGER PRIMARY KEY,
            session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
            role TEXT NOT NULL CHECK (role IN ('system', 'user', 'assistant', 'tool')),
            content TEXT NOT NULL DEFAULT '',
            status TEXT NOT NULL DEFAULT 'complete'
                CHECK (status IN ('complete', 'partial', 'error', 'cancelled')),
            prompt_tokens INTEGER,
            completion_tokens INTEGER,
            provider TEXT,
            model TEXT,
            error TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            tool_calls TEXT,
            tool_call_id TEXT,
            tool_name TEXT
        );
        INSERT INTO messages_new (id, session_id, role, content, status, prompt_tokens, completion_tokens,
                                  provider, model, error, created_at, updated_at)
            SELECT id, session_id, role, content, status, prompt_tokens, completion_tokens,
                   provider, model, error, created_at, updated_at FROM messages;
        DROP TABLE messages;
        ALTER TABLE messages_new RENAME TO messages;
        CREATE INDEX messages_session ON messages(session_id, id);
        """
    )
    db.conn.execute('DROP TABLE IF EXISTS "messages_fts"')
    for statement in MESSAGES_FTS:  # m003's index and triggers, over the new table, rebuilt
        db.conn.execute(statement)


@migration
def m006_message_ratings(db: Database) -> None:
    # The user's verdict on an answer: 1 up, -1 down, NULL not rated; with an optional
    # one-line reason, and when it was given (updated_at stays the answer's own).
    _run(db,
        """
        ALTER TABLE messages ADD COLUMN rating INTEGER CHECK (rating IN (-1, 1));
        ALTER TABLE messages ADD COLUMN rating_reason TEXT;
        ALTER TABLE messages ADD COLUMN rated_at TEXT
        """
    )


@migration
def m007_comparisons(db: Database) -> None:
    # One question put to several models (`coda compare`, the app's compare view): the
    # question, and per target the answer message and the trace of the turn that made it.
    # The session holds the question and the answers; deleting it leaves the comparison
    # listed with its answers gone.
    _run(db,
        """
        CREATE TABLE comparisons (
            id INTEGER PRIMARY KEY,
            session_id INTEGER REFERENCES sessions(id) ON DELETE SET NULL,
            user_message_id INTEGER,
            prompt TEXT NOT NULL,
            created_at TEXT NOT NULL
        );
        CREATE TABLE comparison_answers (
            comparison_id INTEGER NOT NULL REFERENCES comparisons(id) ON DELETE CASCADE,
            seq INTEGER NOT NULL,
            provider TEXT NOT NULL,
            model TEXT,
            status TEXT NOT NULL,
            message_id INTEGER,
            trace_id INTEGER,
            error TEXT,
            PRIMARY KEY (comparison_id, seq)
        )
        """
    )
