"""Damaged databases: the index (derived data) is moved aside and rebuilt, said once; a
damaged coda.db is one line saying what to do, `coda doctor` finds it and `coda db recover`
saves what can be read; a database from a newer coda is refused, naming both versions."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from coda_tui.store.migrations import MIGRATIONS
from tests.conftest import run_coda
from tests.servers import Action, OpenAIServer
from tests.test_faults import database_with_turns, no_traceback, srv_config


def project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    root.mkdir()
    for n in range(30):
        (root / f"mod{n}.py").write_text(f"def handler_{n}(request):\n    return 'zebracorn {n}'\n" * 20)
    return root


def index_file(tmp_path: Path) -> Path:
    [db] = [p for p in (tmp_path / "data" / "index").glob("*.db")]
    return db


def test_garbage_index_is_moved_aside_and_rebuilt_said_once(tmp_path):
    root = project(tmp_path)
    assert run_coda("--project", str(root), "index").returncode == 0
    db = index_file(tmp_path)
    db.write_bytes(b"this is not sqlite " * 1000)
    proc = run_coda("--project", str(root), "index")
    no_traceback(proc)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.count("was damaged") == 1 and "moved to" in proc.stderr
    assert "30 files (30 read" in proc.stdout
    assert (db.parent / (db.name + ".damaged")).read_bytes().startswith(b"this is not sqlite")
    again = run_coda("--project", str(root), "search", "zebracorn")
    assert again.returncode == 0 and "was damaged" not in again.stderr and "mod" in again.stdout


def test_truncated_index_gives_no_traceback_in_search_or_ask(tmp_path):
    root = project(tmp_path)
    assert run_coda("--project", str(root), "index").returncode == 0
    db = index_file(tmp_path)
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    data = db.read_bytes()
    db.write_bytes(data[: len(data) // 3])
    search = run_coda("--project", str(root), "search", "zebracorn")
    no_traceback(search)
    # Said, then rebuilt by the search itself: a small project is indexed first.
    assert "was damaged" in search.stderr and " first: 30 files" in search.stderr
    assert search.returncode == 0 and "mod" in search.stdout
    db.write_bytes(data[: len(data) // 3])
    with OpenAIServer([Action(chunks=["fine"])]) as srv:
        ask = run_coda("--config", srv_config(tmp_path, srv.url), "--project", str(root), "ask", "where is zebracorn?")
    no_traceback(ask)
    assert ask.returncode == 0 and ask.stdout.strip() == "fine"


def sql(path: Path, *statements: str) -> None:
    conn = sqlite3.connect(path)
    for statement in statements:
        conn.execute(statement)
    conn.commit()
    conn.close()


def test_text_damaged_inside_coda_db_is_one_line_and_recover_saves_the_rest(tmp_path):
    with OpenAIServer([Action(chunks=["answer " * 50])]) as srv:
        path = database_with_turns(tmp_path, srv, 3, "words " * 300)
        sql(path, "UPDATE sessions SET created_at = CAST(x'c328ff' AS TEXT) WHERE id = 2")
        listed = run_coda("sessions", "list")
        no_traceback(listed)
        assert listed.returncode == 1 and str(path) in listed.stderr and "coda db recover" in listed.stderr
        assert len(listed.stderr.strip().splitlines()) == 1
        doctor = run_coda("--config", srv_config(tmp_path, srv.url), "doctor", "--json")
        check = next(c for c in json.loads(doctor.stdout)["checks"] if c["name"] == "database")
        assert check["ok"] is False and "coda db recover" in check["detail"]
        recovered = run_coda("db", "recover")
        no_traceback(recovered)
        assert recovered.returncode == 0, recovered.stderr
        assert "recovered 3 sessions, 6 messages" in recovered.stdout and "kept as" in recovered.stdout
        kept = list(path.parent.glob("coda.db.damaged-*"))
        assert len(kept) == 1 and kept[0].stat().st_size > 0
        after = run_coda("sessions", "list", "--json")
        assert after.returncode == 0, after.stderr
        assert sorted(s["id"] for s in json.loads(after.stdout)) == [1, 2, 3]
        shown = run_coda("sessions", "show", "2", "--json")
        assert json.loads(shown.stdout)["messages"][1]["content"].startswith("answer")
        # The full-text index was rebuilt with the rows.
        assert len(json.loads(run_coda("sessions", "search", "question", "--json").stdout)) == 3


def test_pages_damaged_inside_coda_db_recover_keeps_what_can_be_read(tmp_path):
    with OpenAIServer([Action(chunks=["answer " * 2000])]) as srv:
        path = database_with_turns(tmp_path, srv, 4, "words " * 300)
        conn = sqlite3.connect(path)
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        pages = [r[0] for r in conn.execute("SELECT pageno FROM dbstat WHERE name = 'messages' AND pagetype = 'overflow'")]
        conn.close()
        raw = bytearray(path.read_bytes())
        for page in pages[len(pages) // 2:]:
            raw[(page - 1) * page_size: page * page_size] = b"\xa5" * page_size
        path.write_bytes(bytes(raw))
        doctor = run_coda("--config", srv_config(tmp_path, srv.url), "doctor", "--json")
        check = next(c for c in json.loads(doctor.stdout)["checks"] if c["name"] == "database")
        assert check["ok"] is False and "coda db recover" in check["detail"]
        recovered = run_coda("db", "recover")
        no_traceback(recovered)
        assert recovered.returncode == 0, recovered.stderr
        after = run_coda("sessions", "list", "--json")
        assert after.returncode == 0, after.stderr
        assert len(json.loads(after.stdout)) == 4
        ok = run_coda("--config", srv_config(tmp_path, srv.url), "doctor", "--json")
        check = next(c for c in json.loads(ok.stdout)["checks"] if c["name"] == "database")
        assert check["ok"] is True, check


def test_database_from_a_newer_coda_is_refused_naming_both_versions(tmp_path):
    assert run_coda("sessions", "list").returncode == 0
    path = tmp_path / "data" / "coda.db"
    known = len(MIGRATIONS)
    sql(path, "INSERT INTO _migrations VALUES ('m999_workspaces', '2030-01-01')")
    proc = run_coda("sessions", "list")
    no_traceback(proc)
    assert proc.returncode == 1
    assert f"newer coda (schema {known + 1}; coda 0.1.0 knows schema {known})" in proc.stderr and str(path) in proc.stderr
    sql(path, "DELETE FROM _migrations WHERE name = 'm999_workspaces'", f"PRAGMA user_version = {known + 1}")
    proc = run_coda("sessions", "list")
    assert proc.returncode == 1 and f"schema {known + 1}" in proc.stderr
