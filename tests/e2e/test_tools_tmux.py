"""End to end, as a new user would try tools: the real `coda` in tmux, the embedded model and
no configuration at all, in a real repository nobody here wrote (a clone of pallets/click).

Nothing here waits on a clock: every wait is for something to appear on the screen, with a
generous bound for a shared 2-core machine."""

from __future__ import annotations

import shlex
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.test_tmux import Tmux

CLICK = Path("/work/repos/click")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is installed by scripts/install.sh"),
    pytest.mark.skipif(not (CLICK / ".git").exists(), reason="needs a clone of pallets/click at /work/repos/click"),
]

QUESTION = "which function parses the command line arguments? read it and tell me"


def test_a_question_about_a_real_repository_calls_tools_live(tmp_path, monkeypatch):
    # A tmux server of this test's own: one another test started may hold other sizes.
    monkeypatch.setenv("TMUX_TMPDIR", str(tmp_path))
    project = tmp_path / "click"
    subprocess.run(["git", "clone", "--quiet", str(CLICK), str(project)], check=True)
    data = tmp_path / "data"
    home = tmp_path / "home"  # made empty by the autouse fixture: no user config
    env = {"CODA_DATA_DIR": str(data), "HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"), "TERM": "xterm-256color",
           # A pane started from here gets COLUMNS=80 LINES=24 (seen, cause not found), which
           # the app's size check believes before the terminal's: wide enough for every pane.
           "COLUMNS": "180", "LINES": "50"}
    tmux = Tmux(env, width=180, height=50)
    tmux.start(f"{shlex.quote(sys.executable)} -m coda_tui --project {shlex.quote(str(project))}")
    try:
        # The index's first pass is done when the filter counts the files: search_code has hits.
        tmux.wait_for(lambda s: "Pipeline" in s and "files" in s and "filter" in s, timeout=240)
        tmux.keys(QUESTION, literal=True)
        tmux.keys("Enter")
        # A tool stage on the pipeline pane's waterfall (its row names the tool), and later
        # the turn's end (the store stage).
        tmux.wait_for(lambda s: "↳ search_code" in s or "↳ read_file" in s, timeout=600)
        # The turn's end: its store stage, or the status bar's word for a failed turn (the
        # database below then says what happened).
        tmux.wait_for(lambda s: ("│store " in s and "first token" in s) or "failed: alt+r" in s, timeout=900)
        tmux.keys("C-q")
    finally:
        tmux.kill()
    db = sqlite3.connect(data / "coda.db")
    tools = [r[0] for r in db.execute("SELECT tool_name FROM messages WHERE role = 'tool' ORDER BY id")]
    assert {"search_code", "read_file"} & set(tools), tools
    answer = db.execute("SELECT content, status FROM messages WHERE role = 'assistant' ORDER BY id DESC").fetchone()
    assert answer[1] == "complete" and answer[0].strip(), answer
    stages = [r[0] for r in db.execute("SELECT name FROM trace_stages ORDER BY id")]
    assert stages.count("llm") >= 2 and "tool" in stages, stages
