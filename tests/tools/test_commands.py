"""run_command, git_status and git_diff: real processes in a real repository."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from pathlib import Path

import pytest

from coda_tui.config import Config, ProviderConfig
from coda_tui.context.project import Project
from coda_tui.tools.base import ToolError
from coda_tui.tools.commands import GitDiff, GitStatus, RunCommand
from coda_tui.tools.setup import tool_context
from tests.tools.conftest import git, run


def test_run_command_runs_in_the_project_root(ctx, root, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert run(RunCommand().call({"command": "pwd"}, ctx)) == f"exit status 0\n{root}\n"
    assert run(RunCommand().call({"command": "echo oops >&2; exit 3"}, ctx)) == "exit status 3\noops\n"
    assert run(RunCommand().call({"command": "true"}, ctx)) == "exit status 0 (no output)"


def test_run_command_preview_is_the_command_line(ctx):
    preview = run(RunCommand().preview({"command": "pytest -x"}, ctx))
    assert (preview.kind, preview.title, preview.body) == ("command", "run: pytest -x", "pytest -x")


def test_run_command_is_stopped_at_its_timeout(ctx, root):
    short = dataclasses.replace(ctx, command_timeout_s=0.5)
    with pytest.raises(ToolError, match=r"timed out after 0.5 s and was stopped; output so far:\nstarted"):
        run(RunCommand().call({"command": "echo started; sleep 30 & echo $! > pid; wait"}, short))
    pid = int((root / "pid").read_text())
    # The command's whole process group went: its background sleep too.
    assert wait_gone(pid)


def wait_gone(pid: int) -> bool:
    """Gone or a zombie (nobody may be reaping orphans in a container)."""
    for _ in range(200):
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except FileNotFoundError:
            return True
        if state == "Z":
            return True
        time.sleep(0.05)
    return False


def test_run_command_keeps_the_head_and_tail_of_long_output(ctx):
    small = dataclasses.replace(ctx, output_chars=1000)
    out = run(RunCommand().call({"command": "seq 1 100000"}, small))
    lines = out.splitlines()
    assert lines[:3] == ["exit status 0", "1", "2"] and lines[-1] == "100000"
    assert any(line.startswith("… [") and "bytes of output not shown]" in line for line in lines)
    assert len(out) < 1200


def test_commands_get_no_api_keys_or_tokens(root, monkeypatch):
    config = Config()
    config.providers["srv"] = ProviderConfig(name="srv", type="openai", api_key="sk-configured-key-0123456789")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-openai-0123456789")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-0123456789")
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_0123456789")
    monkeypatch.setenv("MY_BASE_URL", "https://user:sk-configured-key-0123456789@example.com")
    monkeypatch.setenv("HARMLESS_SETTING", "kept")
    ctx = tool_context(config, Project(root))
    out = run(RunCommand().call({"command": "env"}, ctx))
    names = {line.split("=", 1)[0] for line in out.splitlines()[1:]}
    assert "HARMLESS_SETTING" in names
    assert not {"OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GITHUB_TOKEN", "MY_BASE_URL"} & names
    assert "sk-" not in out


def test_git_status_and_diff(ctx, root):
    assert run(GitStatus().call({}, ctx)).startswith("## ")
    (root / "src/util.py").write_text("def helper():\n    return 43\n")
    (root / "new.txt").write_text("new\n")
    status = run(GitStatus().call({}, ctx))
    assert " M src/util.py" in status and "?? new.txt" in status
    diff = run(GitDiff().call({}, ctx))
    assert "-    return 42\n+    return 43\n" in diff
    assert run(GitDiff().call({"path": "README.md"}, ctx)) == "no changes"
    assert "return 43" in run(GitDiff().call({"path": "src"}, ctx))
    assert run(GitDiff().call({"staged": True}, ctx)) == "no changes"
    git(root, "add", "src/util.py")
    assert "return 43" in run(GitDiff().call({"staged": True}, ctx))


def test_git_diff_leaves_out_a_protected_files_changes(ctx, root):
    git(root, "add", "-f", ".env")
    git(root, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "env")
    (root / ".env").write_text("OPENAI_API_KEY=sk-proj-changedsecret0123456789abcdef\n")
    out = run(GitDiff().call({}, ctx))
    assert out == "(1 protected file(s) not shown)" and "changedsecret" not in out


def test_git_tools_outside_a_repository_say_so(tmp_path):
    plain = tmp_path / "plain"
    plain.mkdir()
    ctx = tool_context(Config(), Project(plain))
    with pytest.raises(ToolError, match="git status failed: .*not a git repository"):
        run(GitStatus().call({}, ctx))


def test_a_cancelled_turn_stops_the_command_it_was_running(ctx, root):
    async def cancel_while_running():
        task = asyncio.ensure_future(RunCommand().call({"command": "sleep 30 & echo $! > pid; wait"}, ctx))
        while not (root / "pid").exists() or not (root / "pid").read_text().strip():
            await asyncio.sleep(0.02)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    run(cancel_while_running())
    assert wait_gone(int((root / "pid").read_text()))
