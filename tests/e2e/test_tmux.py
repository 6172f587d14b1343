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

from tests.conftest import ROOT, write_config

pytestmark = [pytest.mark.slow, pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is installed by scripts/install.sh")]


def small_setup(tmp_path) -> str:
    """Arguments for a quick embedded-model turn on a shared 2-core machine: a tiny project
    (so the context stage adds little to the prompt) and short answers."""
    project = tmp_path / "proj"
    project.mkdir()
    (project / "util.py").write_text("def double(x):\n    return 2 * x\n")
    config = write_config(tmp_path, '[providers.local]\ntype = "llama_cpp"\nmax_tokens = 128\n')
    return f"--config {shlex.quote(str(config))} --project {shlex.quote(str(project))}"


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
    command = f"{shlex.quote(sys.executable)} -m coda_tui {small_setup(tmp_path)}; echo $? > {shlex.quote(str(exit_file))}"
    tmux = Tmux(env)
    tmux.start(f"bash -c {shlex.quote(command)}")
    try:
        screen = tmux.wait_for(lambda s: "Pipeline" in s and "Chat" in s and "Context" in s and "Code" in s)
        assert "SmolLM2" in screen  # the status bar names the embedded model
        tmux.keys("Write a Python function that reverses a string", literal=True)
        tmux.keys("Enter")
        screen = tmux.wait_for(lambda s: "first token" in s and "│store " in s, timeout=180)
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
    rows = db.execute("SELECT role, status, content, tool_calls FROM messages ORDER BY id").fetchall()
    assert (rows[0][0], rows[0][1]) == ("user", "complete") and (rows[-1][0], rows[-1][1]) == ("assistant", "complete")
    assert rows[0][2] == "Write a Python function that reverses a string" and rows[-1][2].strip()
    # With no configuration the embedded model looks something up first: what lies between
    # is its rounds of tool calls and their results, each a stage of the trace.
    assert all(r[0] == "tool" or r[3] for r in rows[1:-1])
    names = [r[0] for r in db.execute("SELECT name FROM trace_stages ORDER BY seq")]
    assert names[:3] == ["context", "memory", "prompt"] and names[-2:] == ["llm", "store"]
    assert names.count("tool") == sum(1 for r in rows if r[0] == "tool")


def test_a_spoken_question_in_the_terminal_app(tmp_path, microphone):
    """Push-to-talk in a real terminal: PortAudio's chatter never reaches the screen, the
    transcript lands in the input, and the spoken turn is answered by the embedded model."""
    data = tmp_path / "data"
    home = tmp_path / "home"  # holds the .asoundrc that makes the FIFO the default microphone
    env = {"CODA_DATA_DIR": str(data), "HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"), "TERM": "xterm-256color"}
    microphone.say("What does this function return")
    tmux = Tmux(env)
    tmux.start(f"{shlex.quote(sys.executable)} -m coda_tui {small_setup(tmp_path)}")
    chatter = ("ALSA lib", "Jack", "jack server", "Cannot connect", "PortAudio")
    seen = []
    try:
        tmux.wait_for(lambda s: "Pipeline" in s and "Chat" in s)
        tmux.keys("M-v")
        screen = tmux.wait_for(lambda s: "transcribed" in s and "function return" in s, timeout=60)
        seen.append(screen)
        assert "What does this function return" in screen
        assert any(line.startswith("│capture ") or "│capture " in line for line in screen.splitlines())
        tmux.keys("Enter")
        seen.append(tmux.wait_for(lambda s: "│store " in s and "first token" in s, timeout=180))
        for text in seen:
            for word in chatter:
                assert word not in text, f"{word!r} reached the screen:\n{text}"
        tmux.keys("C-q")
    finally:
        tmux.kill()
    db = sqlite3.connect(data / "coda.db")
    question = db.execute("SELECT content FROM messages WHERE role = 'user'").fetchone()[0]
    assert "function return" in question
    stages = [r[0] for r in db.execute("SELECT name FROM trace_stages ORDER BY id")]
    # Between the first model round and the store, the embedded model's tool rounds if any.
    assert stages[:6] == ["capture", "stt", "context", "memory", "prompt", "llm"] and stages[-1] == "store"
    assert set(stages[6:-1]) <= {"tool", "llm"}
    # The chatter went where it belongs.
    assert "ALSA lib" in (data / "logs" / "native-stderr.log").read_text()
