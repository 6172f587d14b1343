"""The code index against the disk and other processes: a read-only or full data dir is one
line naming the path; folders the user cannot read are skipped, counted and said once; two
`coda index` runs on one project do not collide; `coda ask` creates no index of its own."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.conftest import ROOT, run_coda
from tests.servers import Action, OpenAIServer
from tests.test_faults import needs_root, no_traceback, remount_read_only, srv_config, tmpfs


def make_project(root: Path, files: int = 40, lines: int = 30) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for n in range(files):
        (root / f"m{n}.py").write_text("".join(f"def zebracorn_{n}_{i}(x):\n    return x * {i}\n" for i in range(lines)))
    return root


@needs_root
def test_read_only_data_dir_index_and_search_are_one_line(tmp_path):
    proj = make_project(tmp_path / "proj")
    with tmpfs(tmp_path / "data", "8m") as data:
        assert run_coda("--project", str(proj), "index").returncode == 0
        remount_read_only(data)
        (proj / "new.py").write_text("def added(): pass\n")
        for args in (("index",), ("search", "zebracorn_3_1")):
            proc = run_coda("--project", str(proj), *args)
            no_traceback(proc)
            if proc.returncode == 0:  # reading a read-only index may still work
                assert args[0] == "search" and "m3.py" in proc.stdout
            else:
                assert str(data / "index") in proc.stderr and len(proc.stderr.strip().splitlines()) == 1, proc.stderr


@needs_root
def test_empty_read_only_data_dir_is_one_line(tmp_path):
    proj = make_project(tmp_path / "proj", files=3)
    with tmpfs(tmp_path / "data", "1m") as data:
        remount_read_only(data)
        index = run_coda("--project", str(proj), "index")
        search = run_coda("--project", str(proj), "search", "zebracorn")
    for proc in (index, search):
        no_traceback(proc)
        assert proc.returncode != 0 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert str(data / "index") in index.stderr and "not writable" in index.stderr
    # Search indexes a small project first, so it meets (and says) what `coda index` does.
    assert search.stderr == index.stderr


@needs_root
def test_full_disk_while_indexing_is_one_line(tmp_path):
    proj = make_project(tmp_path / "proj", files=300, lines=200)  # ~3 MB of text into 1 MB
    with tmpfs(tmp_path / "data", "1m") as data:
        proc = run_coda("--project", str(proj), "index")
    no_traceback(proc)
    assert proc.returncode == 1
    assert str(data / "index") in proc.stderr and "full" in proc.stderr and "Free some space" in proc.stderr


def as_nobody(*args: str, cwd: Path, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable, *args],
                          capture_output=True, text=True, cwd=cwd, env=env, timeout=120)


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("setpriv"), reason="needs root to become another user")
def test_unreadable_folders_are_skipped_counted_and_said_once():
    base = Path(tempfile.mkdtemp(dir="/tmp"))
    try:
        base.chmod(0o755)
        proj = make_project(base / "proj", files=5, lines=2)
        for name in ("pgdata", "pgdata2/deeper"):
            secret = proj / name
            secret.mkdir(parents=True)
            (secret / "PG_VERSION").write_text("16\n")
            secret.chmod(0o700)  # root's: the user running coda cannot look inside
        home, data = base / "home", base / "data"
        for d in (home, data):
            d.mkdir()
            os.chown(d, 65534, 65534)
        env = {**os.environ, "HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"), "XDG_DATA_HOME": str(home),
               "CODA_DATA_DIR": str(data), "PYTHONPATH": str(ROOT)}
        proc = as_nobody("-m", "coda_tui", "--project", str(proj), "index", cwd=base, env=env)
        no_traceback(proc)
        assert proc.returncode == 0, proc.stderr
        assert "indexed" in proc.stdout and "5 files" in proc.stdout
        assert proc.stderr.count("cannot be read") == 1 and "2 folder(s)" in proc.stderr
        assert "pgdata/" in proc.stderr and "pgdata2/deeper/" in proc.stderr
        # The walker the app shares: its tree and file list.
        walk = as_nobody("-c", "from pathlib import Path; from coda_tui.context.project import Project; "
                               f"p = Project(Path({str(proj)!r})); print(p.admits(Path({str(proj / 'pgdata')!r})), "
                               "len(list(p.walk())))", cwd=base, env=env)
        assert walk.returncode == 0, walk.stderr
        assert walk.stdout.split() == ["True", "5"]
    finally:
        for p in base.rglob("*"):
            if p.is_dir():
                p.chmod(0o755)
        shutil.rmtree(base, ignore_errors=True)


def test_two_index_runs_at_once_do_not_collide(tmp_path):
    proj = make_project(tmp_path / "proj", files=600, lines=10)
    cmd = [sys.executable, "-m", "coda_tui", "--project", str(proj), "index", "--json"]
    runs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT, env=dict(os.environ))
            for _ in range(3)]
    outs = [r.communicate(timeout=180) for r in runs]
    for run, (out, err) in zip(runs, outs):
        assert run.returncode == 0, err
        assert "Traceback" not in err
    import json

    results = [json.loads(out) for out, _ in outs]
    assert all(r["files"] == 600 for r in results)
    # One of them read the files; the others found the work done.
    assert sum(r["indexed"] for r in results) == 600
    found = run_coda("--project", str(proj), "search", "zebracorn_599_3", "--json")
    assert json.loads(found.stdout)[0]["path"] == "m599.py"


def test_ask_creates_no_index_database_where_nothing_is_indexed(tmp_path):
    folder = make_project(tmp_path / "somewhere", files=3)
    with OpenAIServer([Action(chunks=["hello"])]) as srv:
        proc = run_coda("--config", srv_config(tmp_path, srv.url), "--project", str(folder), "ask", "hi")
    assert proc.returncode == 0, proc.stderr
    assert not (tmp_path / "data" / "index").exists() or not any((tmp_path / "data" / "index").iterdir())


def test_an_index_of_schema_2_keeps_its_files_and_indexes_edits(tmp_path):
    """Schema 3 writes full-text rows in bulk instead of by trigger: an index written by an
    older coda loses only its trigger, keeps what it holds, and what changes afterwards is
    searchable (the trigger is not left to add every row a second time)."""
    import sqlite3

    from coda_tui.context import index as index_module
    from coda_tui.context.index import CodeIndex
    from coda_tui.context.project import Project

    proj = make_project(tmp_path / "proj", files=3, lines=3)
    db = tmp_path / "index.db"
    index = CodeIndex(db, Project(proj))
    index.update()
    index.close()
    with sqlite3.connect(db) as conn:  # as schema 2 left it
        conn.execute("""CREATE TRIGGER chunks_ai AFTER INSERT ON chunks BEGIN
            INSERT INTO chunks_fts (rowid, name, path, text) VALUES (new.id, new.name, new.path, new.text); END""")
        conn.execute("PRAGMA user_version = 2")
    index = CodeIndex(db, Project(proj))
    assert index.update().indexed == 0  # nothing read again
    (proj / "m1.py").write_text("def quokkafied_total(x):\n    return x\n")
    assert index.update_paths([proj / "m1.py"]).indexed == 1
    assert [h.path for h in index.search("quokkafied_total")] == ["m1.py"]
    assert [h.path for h in index.search("zebracorn_2_1")] == ["m2.py"]
    assert index.search("zebracorn_1_1") == []
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == index_module.SCHEMA_VERSION
        assert conn.execute("SELECT count(*) FROM sqlite_master WHERE name = 'chunks_ai'").fetchone()[0] == 0
        # Every chunk once in the full-text index: its integrity check agrees with the table.
        conn.execute("INSERT INTO chunks_fts (chunks_fts, rank) VALUES ('integrity-check', 1)")
    index.close()
