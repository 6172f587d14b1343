from __future__ import annotations

import sqlite3

import pytest

from coda_tui.store import Store, StoreError
from coda_tui.store.db import open_database, schema_version
from coda_tui.store.migrations import MIGRATIONS
from coda_tui.store.traces import StageRecord, TraceRecord


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "coda.db")
    yield s
    s.close()


def test_migrations_from_empty(tmp_path):
    db = open_database(tmp_path / "new.db")
    assert schema_version(db) == len(MIGRATIONS)
    names = [r[0] for r in db.execute("SELECT name FROM _migrations ORDER BY rowid")]
    assert names == [fn.__name__ for fn in MIGRATIONS]
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA busy_timeout").fetchone()[0] == 5000
    assert {"sessions", "messages", "traces", "trace_stages", "messages_fts"} <= set(db.table_names())


def test_migrations_from_previous_schema_index_old_messages(tmp_path):
    path = tmp_path / "old.db"
    # The schema from before full-text search (later migrations follow it).
    old = open_database(path, migrate_to=[fn.__name__ for fn in MIGRATIONS].index("m003_messages_fts"))
    assert "messages_fts" not in old.table_names()
    old.execute("INSERT INTO sessions (name, created_at, updated_at) VALUES ('old', 't', 't')")
    old.execute(
        "INSERT INTO messages (session_id, role, content, created_at, updated_at)"
        " VALUES (1, 'user', 'how do I memoize a recursive fibonacci', 't', 't')"
    )
    old.conn.commit()
    old.conn.close()

    s = Store(path)  # opening applies the rest
    assert schema_version(s.db) == len(MIGRATIONS)
    hits = s.sessions.search("fibonacci")
    assert [h.session_name for h in hits] == ["old"]
    s.close()


def test_reopening_applies_nothing_twice(tmp_path):
    from coda_tui.store.db import migrate

    db = open_database(tmp_path / "x.db")
    assert migrate(db) == []


def test_sessions_and_messages_round_trip(store):
    s = store.sessions.create("first", provider="local", model="m", system_prompt="be brief")
    uid = store.sessions.add_message(s.id, "user", "hello there")
    aid = store.sessions.add_message(s.id, "assistant", "", status="partial")
    store.sessions.update_message(aid, content="general kenobi", status="complete", completion_tokens=3)
    msgs = store.sessions.messages(s.id)
    assert [(m.id, m.role, m.content, m.status) for m in msgs] == [
        (uid, "user", "hello there", "complete"),
        (aid, "assistant", "general kenobi", "complete"),
    ]
    assert store.sessions.get(s.id).message_count == 2
    assert store.sessions.find("first").id == s.id
    assert store.sessions.find(str(s.id)).id == s.id
    assert store.sessions.find("nope") is None


def test_latest_messages_window(store):
    s = store.sessions.create("long")
    ids = [store.sessions.add_message(s.id, "user", f"m{i}") for i in range(10)]
    assert [m.id for m in store.sessions.messages(s.id, limit=3)] == ids[-3:]
    assert [m.id for m in store.sessions.messages(s.id, limit=3, before_id=ids[-3])] == ids[-6:-3]


def test_status_is_checked(store):
    s = store.sessions.create("x")
    mid = store.sessions.add_message(s.id, "user", "q")
    with pytest.raises(ValueError):
        store.sessions.update_message(mid, status="weird")
    with pytest.raises(sqlite3.IntegrityError):
        store.sessions.add_message(s.id, "user", "q", status="weird")


def test_fts_follows_inserts_updates_and_deletes(store):
    s = store.sessions.create("search me")
    mid = store.sessions.add_message(s.id, "assistant", "use functools.lru_cache", status="partial")
    assert [h.message_id for h in store.sessions.search("lru_cache")] == [mid]
    store.sessions.update_message(mid, content="use a dictionary as a cache")
    assert store.sessions.search("lru_cache") == []
    assert [h.message_id for h in store.sessions.search("dictionary")] == [mid]
    store.sessions.delete(s.id)
    assert store.sessions.search("dictionary") == []


def test_search_is_safe_with_fts_syntax(store):
    s = store.sessions.create("x")
    store.sessions.add_message(s.id, "user", 'what does "NEAR" AND OR * mean')
    assert len(store.sessions.search('"NEAR" AND OR *')) == 1
    assert store.sessions.search('"') == []


def test_search_ranks_by_bm25(store):
    s = store.sessions.create("x")
    store.sessions.add_message(s.id, "user", "python python python decorators")
    weak = store.sessions.add_message(s.id, "user", "a long text that mentions python once among many other words here")
    hits = store.sessions.search("python")
    assert len(hits) == 2 and hits[-1].message_id == weak


def test_delete_cascades_to_messages_and_traces(store):
    s = store.sessions.create("gone")
    mid = store.sessions.add_message(s.id, "user", "q")
    store.traces.save(TraceRecord(status="complete", started_at="t", session_id=s.id, message_id=mid,
                                  stages=[StageRecord("llm", 0.0, 5.0, "x")]))
    assert store.sessions.delete(s.id)
    assert store.db.execute("SELECT count(*) FROM messages").fetchone()[0] == 0
    assert store.db.execute("SELECT count(*) FROM traces").fetchone()[0] == 0
    assert store.db.execute("SELECT count(*) FROM trace_stages").fetchone()[0] == 0


def test_traces_round_trip(store):
    t = TraceRecord(status="complete", started_at="2026", provider="p", model="m", ttft_ms=12.5,
                    stages=[StageRecord("context", 0.0, 1.0, "none", {"files": []}), StageRecord("llm", 1.0, 50.0, "x")])
    tid = store.traces.save(t)
    store.traces.finalize(tid, "llm", 60.0, 61.0)
    got = store.traces.get(tid)
    assert [s.name for s in got.stages] == ["context", "llm"]
    assert got.stages[0].detail == {"files": []}
    assert got.stages[1].duration_ms == 60.0 and got.total_ms == 61.0
    assert [x.id for x in store.traces.recent(5)] == [tid]


def test_damaged_database_gets_a_clear_message(tmp_path):
    path = tmp_path / "coda.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError) as info:
        Store(path)
    assert str(path) in str(info.value) and "Move it aside" in str(info.value)


def test_two_connections_write_concurrently(tmp_path):
    a, b = Store(tmp_path / "c.db"), Store(tmp_path / "c.db")
    sa, sb = a.sessions.create("a"), b.sessions.create("b")
    for i in range(50):
        a.sessions.add_message(sa.id, "user", f"a{i}")
        b.sessions.add_message(sb.id, "user", f"b{i}")
    assert a.db.execute("SELECT count(*) FROM messages").fetchone()[0] == 100
    a.close()
    b.close()


def test_branch_copies_messages_up_to_the_chosen_one(store):
    s = store.sessions.create("trunk", provider="local", model="m")
    ids = [store.sessions.add_message(s.id, role, f"{role} {i}") for i, role in enumerate(["user", "assistant", "user", "assistant"])]
    b = store.sessions.branch(s.id, ids[1])
    assert b.parent_id == s.id and b.parent_message_id == ids[1] and b.name == "trunk (branch)"
    assert [m.content for m in store.sessions.messages(b.id)] == ["user 0", "assistant 1"]
    assert len(store.sessions.messages(s.id)) == 4


def test_sessions_matching_by_name_and_content(store):
    a = store.sessions.create("parser work")
    b = store.sessions.create("other")
    store.sessions.add_message(b.id, "user", "the tokenizer of the parser breaks")
    c = store.sessions.create("unrelated")
    store.sessions.add_message(c.id, "user", "nothing here")
    assert [s.id for s in store.sessions.sessions_matching("parser")] == [a.id, b.id]
    assert store.sessions.sessions_matching("zzz") == []
