"""The data directory is its user's alone: created 0700 with files 0600, and an existing
looser one tightened (said once)."""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path

from tests.conftest import run_coda


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def loose(data: Path) -> list[str]:
    return sorted(f"{p.relative_to(data)} {oct(mode(p))}" for p in [data, *data.rglob("*")] if mode(p) & 0o077)


def test_new_data_dir_and_every_file_in_it_are_private(tmp_path):
    old = os.umask(0o022)  # the usual umask: files would be world-readable by default
    try:
        project = tmp_path / "proj"
        project.mkdir()
        (project / "app.py").write_text("def main():\n    pass\n")
        for args in (("sessions", "list"), ("--project", str(project), "index")):
            proc = run_coda(*args)
            assert proc.returncode == 0, proc.stderr
        # The last connection to close removes the WAL: one held open keeps it to look at.
        reader = sqlite3.connect(tmp_path / "data" / "coda.db")
        reader.execute("SELECT count(*) FROM sessions").fetchone()
        assert run_coda("sessions", "list").returncode == 0
        data = tmp_path / "data"
        names = {p.relative_to(data).as_posix() for p in data.rglob("*")}
        assert {"coda.db", "coda.db-wal", "coda.db-shm", "logs/coda.log", "index"} <= names
        assert any(n.startswith("index/proj-") for n in names)
        assert mode(data) == 0o700
        assert loose(data) == []
        reader.close()
    finally:
        os.umask(old)


def test_an_existing_loose_data_dir_is_tightened_and_said_once(tmp_path):
    data = tmp_path / "data"
    first = run_coda("sessions", "list")
    assert first.returncode == 0
    data.chmod(0o755)
    (data / "coda.db").chmod(0o644)
    (data / "logs").chmod(0o755)
    (data / "logs" / "coda.log").chmod(0o644)
    (data / "unrelated.txt").write_text("not coda's")
    (data / "unrelated.txt").chmod(0o644)
    second = run_coda("sessions", "list")
    assert second.returncode == 0
    assert f"the data directory {data} could be read by other users" in second.stderr
    assert second.stderr.count("could be read by other users") == 1
    assert mode(data) == 0o700 and mode(data / "coda.db") == 0o600 and mode(data / "logs" / "coda.log") == 0o600
    assert mode(data / "unrelated.txt") == 0o644  # a file coda did not make is left alone
    third = run_coda("sessions", "list")
    assert "could be read by other users" not in third.stderr
