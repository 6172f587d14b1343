"""Big folders outside git: not indexed unasked (home, /, over the file limit); indexing
reports files done/total, runs at low priority, stops when cancelled, and leaves out
virtualenvs, node_modules, build output and caches without being told."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
import threading
from pathlib import Path

from coda_tui.context.index import CodeIndex
from coda_tui.context.project import Project
from tests.conftest import ROOT


def tree(root: Path, files: int) -> Path:
    for n in range(files):
        path = root / f"d{n % 7}" / f"f{n}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"def f{n}():\n    return {n}\n")
    return root


def test_big_folder_home_and_root_are_refused_outside_git_only(tmp_path, monkeypatch):
    big = tree(tmp_path / "big", 60)
    assert "holds over 50 files" in Project(big).auto_index_refusal(limit=50)
    assert Project(big).auto_index_refusal(limit=100) is None
    (big / ".git").mkdir()
    assert Project(big).auto_index_refusal(limit=50) is None  # a repository is what coda is for
    home = tree(tmp_path / "home2", 3)
    monkeypatch.setenv("HOME", str(home))
    assert "your home folder" in Project(home).auto_index_refusal()
    assert "root of the file system" in Project(Path("/")).auto_index_refusal()


def test_derived_folders_are_skipped_even_without_an_ignore_file(tmp_path):
    root = tree(tmp_path / "proj", 2)
    for folder in ("node_modules/pkg", ".venv/lib", "myenv/lib", "src/__pycache__", "build/lib", ".tox/py",
                   "pkg.egg-info", ".mypy_cache/3", "dist"):
        (root / folder).mkdir(parents=True)
        (root / folder / "x.py").write_text("x = 1\n")
    (root / "myenv" / "pyvenv.cfg").write_text("home = /usr/bin\n")
    (root / "src" / "real.py").write_text("y = 2\n")
    rels = {e.rel for e in Project(root).walk()}
    assert rels == {"d0/f0.py", "d1/f1.py", "src/real.py"}
    assert not Project(root).admits(root / "node_modules" / "pkg" / "x.py")
    (root / ".git").mkdir()  # in a repository, .gitignore decides about build/ and dist/
    assert {"build/lib/x.py", "dist/x.py"} <= {e.rel for e in Project(root).walk()}


def test_progress_low_priority_and_cancel(tmp_path):
    root = tree(tmp_path / "proj", 900)
    index = CodeIndex(tmp_path / "i.db", Project(root))
    seen, nice = [], []
    base = os.getpriority(os.PRIO_PROCESS, 0)

    def progress(p):
        seen.append((p.done, p.total))
        nice.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))

    stats = index.update(progress)
    assert seen[-1] == (900, 900) and all(t == 900 for _, t in seen) and stats.indexed == 900
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    assert set(nice) == {min(base + 10, 19)}  # the indexing thread, not the caller
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == base

    for f in root.rglob("*.py"):
        f.write_text(f.read_text() + "# changed\n")

    def cancel_at_once(p):
        index.cancel()

    stopped = index.update(cancel_at_once)
    assert stopped.cancelled and stopped.files_seen < 900 and stopped.removed == 0
    assert index.file_count() == 900  # nothing dropped for not having been looked at


def test_a_cancelled_first_build_is_searchable_and_completed_after_a_restart(tmp_path):
    root = tree(tmp_path / "proj", 900)
    index = CodeIndex(tmp_path / "i.db", Project(root))
    write = index._write

    def write_then_cancel(rows, stats):
        write(rows, stats)
        index.cancel()

    index._write = write_then_cancel
    first = index.update()
    assert first.cancelled and 0 < index.file_count() < 900

    # Reopened as after a crash: what was committed is kept and searchable, the rest is added.
    index.close()
    index = CodeIndex(tmp_path / "i.db", Project(root))
    kept = index.file_count()
    some = index.paths()[0]
    assert index.search(Path(some).stem)[0].path == some
    rest = index.update()
    assert rest.indexed == 900 - kept and index.file_count() == 900
    assert index.search("f899")[0].path == "d3/f899.py"


def test_cli_index_shows_progress_on_a_terminal(tmp_path):
    root = tree(tmp_path / "proj", 50)
    leader, follower = pty.openpty()
    proc = subprocess.run([sys.executable, "-m", "coda_tui", "--project", str(root), "index"], stdout=subprocess.PIPE,
                          stderr=follower, text=True, cwd=ROOT, env=dict(os.environ), timeout=120)
    os.close(follower)
    shown = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:
            break
        if not chunk:
            break
        shown += chunk
    os.close(leader)
    assert proc.returncode == 0
    assert b"indexing: 50/50 files" in shown and "50 files" in proc.stdout
