"""m005 on a database an older coda left (with sessions, messages, a trace and the full-text
index in use), and tool rows afterwards."""

from __future__ import annotations

import sqlite3

import pytest

from coda_tui.store import Store
from coda_tui.store.db import open_database, schema_version
from coda_tui.store.migrations import MIGRATIONS
from coda_tui.store.traces import StageRecord, TraceRecord, TraceStore


def test_m005_keeps_rows_ids_and_search_and_takes_tool_rows(tmp_path):
    path = tmp_path / "coda.db"
    before = [fn.__name__ for fn in MIGRATIONS].index("m005_tool_messages")
    db = open_database(path, migrate_to=before)
    # Rows as the schema before m005 holds them, written with its columns only.
    db.execute("INSERT INTO sessions (name, created_at, updated_at) VALUES ('kept', 't', 't')")
    sid = db.execute("SELECT id FROM sessions").fetchone()[0]
    insert = ("INSERT INTO messages (session_id, role, content, status, error, prompt_tokens, created_at, updated_at)"
              " VALUES (?, ?, ?, ?, ?, ?, 't', 't')")
    q = db.execute(insert, [sid, "user", "where is the zeppelin parser", "complete", None, None]).lastrowid
    a = db.execute(insert, [sid, "assistant", "in zeppelin.py", "partial", "cut", 12]).lastrowid
    with pytest.raises(sqlite3.IntegrityError):
        db.execute(insert, [sid, "tool", "not yet", "complete", None, None])
    db.conn.commit()
    trace = TraceRecord(status="complete", started_at="t", session_id=sid, user_message_id=q, message_id=a,
                        stages=[StageRecord("llm", 0.0, 5.0, "x")])
    TraceStore(db).save(trace)
    db.conn.close()

    new = Store(path)  # opening applies m005
    assert schema_version(new.db) == len(MIGRATIONS)
    msgs = new.sessions.messages(sid)
    assert [(m.id, m.role, m.content, m.status, m.error, m.prompt_tokens) for m in msgs] == [
        (q, "user", "where is the zeppelin parser", "complete", None, None),
        (a, "assistant", "in zeppelin.py", "partial", "cut", 12)]
    assert new.traces.get(trace.id).message_id == a
    # The full-text index still holds the old rows, and its triggers follow the new table.
    assert {h.message_id for h in new.sessions.search("zeppelin")} == {q, a}
    calls = [{"id": "c1", "name": "read_file", "arguments": '{"path": "zeppelin.py"}'}]
    r = new.sessions.add_message(sid, "assistant", "", tool_calls=calls)
    t = new.sessions.add_message(sid, "tool", "def parse_airship(args): ...", tool_call_id="c1", tool_name="read_file")
    assert new.sessions.message(r).calls == calls
    assert [h.message_id for h in new.sessions.search("parse_airship")] == [t]
    new.sessions.update_message(t, content="def parse_blimp(): ...", status="error", error="error: gone")
    assert new.sessions.search("parse_airship") == [] and [h.message_id for h in new.sessions.search("blimp")] == [t]
    new.sessions.delete(sid)
    assert new.sessions.search("zeppelin") == []
    # Foreign keys and the index the session's messages are read by are in place.
    assert new.db.execute("PRAGMA foreign_key_check").fetchall() == []
    assert "messages_session" in {r[1] for r in new.db.execute("PRAGMA index_list(messages)")}
    new.close()
