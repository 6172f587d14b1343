"""End to end, as a new user would try tools: the real `coda` in tmux, the embedded model and
no configuration at all, in a real repository nobody here wrote (a clone of pallets/click).

Nothing here waits on a clock: every wait is for something to appear on the screen, with a
generous bound for a shared 2-core machine."""

from __future__ import annotations

import json
import shlex
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, write_config
from tests.e2e.test_tmux import Tmux
from tests.test_cli_tools import CHILD

CLICK = Path("/work/repos/click")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is installed by scripts/install.sh"),
]

QUESTION = "which function parses the command line arguments? read it and tell me"
OLD = "from __future__ import annotations"
NEW = "# parses argv\nfrom __future__ import annotations"


def clone(tmp_path) -> Path:
    """pallets/click as a git work tree: a clone of the fetched repository when this machine
    has one, else click's own source as installed from PyPI (a CI machine reaches only the
    package registries), laid out as in the repository and committed."""
    project = tmp_path / "click"
    if (CLICK / ".git").exists():
        subprocess.run(["git", "clone", "--quiet", str(CLICK), str(project)], check=True)
        return project
    import click

    shutil.copytree(Path(click.__file__).parent, project / "src" / "click",
                    ignore=shutil.ignore_patterns("__pycache__"))
    git = ["git", "-C", str(project), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run(["git", "init", "--quiet", str(project)], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "--quiet", "-m", "click"], check=True)
    return project


def terminal_env(tmp_path, **extra: str) -> dict[str, str]:
    home = tmp_path / "home"  # made empty by the autouse fixture: no user config
    return {"CODA_DATA_DIR": str(tmp_path / "data"), "HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"),
            "TERM": "xterm-256color",
            # A pane started from pytest gets COLUMNS=80 LINES=24 (seen, cause not found), which
            # the app's size check believes before the terminal's: wide enough for every pane.
            "COLUMNS": "180", "LINES": "50", **extra}


def test_a_question_about_a_real_repository_calls_tools_live(tmp_path, monkeypatch):
    # A tmux server of this test's own: one another test started may hold other sizes.
    monkeypatch.setenv("TMUX_TMPDIR", str(tmp_path))
    project = clone(tmp_path)
    data = tmp_path / "data"
    tmux = Tmux(terminal_env(tmp_path), width=180, height=50)
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


def test_an_edit_in_a_real_repository_shows_the_diff_writes_only_after_yes_and_undo_restores(tmp_path, monkeypatch):
    """The embedded model does not make an edit call reliably (it searches instead), so the
    model here is scripted (tests.core.tool_doubles, a provider type of the real process);
    the app, the edit tool, its consent dialog, the journal and /undo are the real ones."""
    monkeypatch.setenv("TMUX_TMPDIR", str(tmp_path))
    project = clone(tmp_path)
    parser = project / "src" / "click" / "parser.py"
    original = parser.read_text()
    edit = {"call": "edit_file", "args": {"path": "src/click/parser.py", "old": OLD, "new": NEW}}
    script = [[edit], ["Left as it was."], [edit], ["Added the comment."]]
    (tmp_path / "script.json").write_text(json.dumps(script))
    config = write_config(tmp_path, '[general]\nprovider = "scripted"\n')
    env = terminal_env(tmp_path, SCRIPTED_MODEL_SCRIPT=str(tmp_path / "script.json"),
                       SCRIPTED_MODEL_SENT=str(tmp_path / "sent.jsonl"), PYTHONPATH=str(ROOT))
    tmux = Tmux(env, width=180, height=50)
    tmux.start(f"{shlex.quote(sys.executable)} -c {shlex.quote(CHILD)} --config {shlex.quote(str(config))} "
               f"--project {shlex.quote(str(project))}")
    try:
        tmux.wait_for(lambda s: "Pipeline" in s and "Chat" in s, timeout=120)
        tmux.keys("add a comment at the top of the parser", literal=True)
        tmux.keys("Enter")
        screen = tmux.wait_for(lambda s: "edit_file wants to edit src/click/parser.py" in s, timeout=120)
        assert "+# parses argv" in screen  # the diff, in the dialog
        tmux.keys("n")
        tmux.wait_for(lambda s: "Left as it was." in s and "⊘ denied" in s, timeout=120)
        assert parser.read_text() == original
        tmux.keys("please do", literal=True)
        tmux.keys("Enter")
        tmux.wait_for(lambda s: "edit_file wants to edit" in s, timeout=120)
        tmux.keys("y")
        tmux.wait_for(lambda s: "Added the comment." in s, timeout=120)
        assert parser.read_text() == original.replace(OLD, NEW, 1)
        tmux.keys("/undo", literal=True)
        tmux.keys("Enter")
        tmux.wait_for(lambda s: "undone: restored src/click/parser.py" in s, timeout=120)
        assert parser.read_text() == original
        tmux.keys("C-q")
    finally:
        tmux.kill()
