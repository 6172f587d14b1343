"""End to end: the real `coda` in a real terminal (tmux), with the embedded model."""

from __future__ import annotations

import shlex
import shutil
import sqlite3
import subprocess
import sys
import time
import uuid

import pytest

from tests.conftest import ROOT

pytestmark = [pytest.mark.slow, pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is installed by scripts/install.sh")]


class Tmux:
    def __init__(self, env: dict[str, str], width: int = 120, height: int = 40) -> None:
        self.name = f"coda-e2e-{uuid.uuid4().hex[:8]}"
        self.env = env
        self.size = (width, height)

    def start(self, command: str) -> None:
        env_args = []
        for key, value in self.env.items():
            env_args += ["-e", f"{key}={value}"]
        subprocess.run(
            ["tmux", "new-session", "-d", "-s", self.name, "-x", str(self.size[0]), "-y", str(self.size[1]), *env_args, command],
            check=True,
            cwd=ROOT,
        )
        # A detached session can still start at the default 80x24; make it the size asked for.
        subprocess.run(["tmux", "resize-window", "-t", self.name, "-x", str(self.size[0]), "-y", str(self.size[1])], check=True)

    def keys(self, *keys: str, literal: bool = False) -> None:
        subprocess.run(["tmux", "send-keys", "-t", self.name, *(["-l"] if literal else []), *keys], check=True)

    def screen(self) -> str:
        return subprocess.run(["tmux", "capture-pane", "-p", "-t", self.name], capture_output=True, text=True).stdout

    def wait_for(self, predicate, timeout: float = 60.0) -> str:
        deadline = time.monotonic() + timeout
        while True:
            text = self.screen()
            if predicate(text):
                return text
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out; the screen was:\n{text}")
            time.sleep(0.2)

    def kill(self) -> None:
        subprocess.run(["tmux", "kill-session", "-t", self.name], capture_output=True)


def test_ask_in_the_terminal_app_with_the_embedded_model(tmp_path):
    data = tmp_path / "data"
    home = tmp_path / "home"  # made empty by the autouse fixture: no user config
    exit_file = tmp_path / "exit-status"
    env = {"CODA_DATA_DIR": str(data), "HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"), "TERM": "xterm-256color"}
    command = f"{shlex.quote(sys.executable)} -m coda_tui; echo $? > {shlex.quote(str(exit_file))}"
    tmux = Tmux(env)
    tmux.start(f"bash -c {shlex.quote(command)}")
    try:
        screen = tmux.wait_for(lambda s: "Pipeline" in s and "Chat" in s and "Context" in s and "Code" in s)
        assert "SmolLM2" in screen  # the status bar names the embedded model
        tmux.keys("Write a Python function that reverses a string", literal=True)
        tmux.keys("Enter")
        screen = tmux.wait_for(lambda s: "first token" in s and "│store " in s, timeout=90)
        # The pipeline pane shows the stages with their milliseconds.
        for stage in ("context", "memory", "prompt", "llm", "store"):
            assert any(f"│{stage} " in line for line in screen.splitlines()), stage
        tmux.keys("C-q")
        deadline = time.monotonic() + 15
        while not exit_file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert exit_file.read_text().strip() == "0"
    finally:
        tmux.kill()
    db = sqlite3.connect(data / "coda.db")
    assert db.execute("SELECT count(*) FROM sessions").fetchone()[0] == 1
    rows = db.execute("SELECT role, status, content FROM messages ORDER BY id").fetchall()
    assert [(r[0], r[1]) for r in rows] == [("user", "complete"), ("assistant", "complete")]
    assert rows[0][2] == "Write a Python function that reverses a string" and rows[1][2].strip()
    assert db.execute("SELECT count(*) FROM trace_stages").fetchone()[0] == 5
