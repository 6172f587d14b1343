"""`coda ask` with tools, as a real process: the model is scripted (a provider type the test
registers in the child), the tools are coda's built-ins over a real project directory."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from tests.conftest import ROOT, write_config

CHILD = ("import sys; from tests.core.tool_doubles import register_scripted_type; register_scripted_type(); "
         "from coda_tui.cli import main; sys.argv[0] = 'coda'; main()")
PARSER = "import argparse\n\n\ndef parse_args(argv):\n    return argparse.ArgumentParser().parse_args(argv)\n"


def setup(tmp_path, script: list, extra: str = ""):
    project = tmp_path / "project"
    project.mkdir(parents=True)
    (project / "cli.py").write_text(PARSER)
    cfg = write_config(tmp_path, f'[general]\nprovider = "scripted"\n{extra}')
    (tmp_path / "script.json").write_text(json.dumps(script))
    env = {**os.environ, "SCRIPTED_MODEL_SCRIPT": str(tmp_path / "script.json"), "SCRIPTED_MODEL_SENT": str(tmp_path / "sent.jsonl"),
           "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    return project, ["--config", str(cfg), "--project", str(project)], env


def coda(tmp_path, script, *args, extra: str = ""):
    project, common, env = setup(tmp_path, script, extra)
    proc = subprocess.run([sys.executable, "-c", CHILD, "ask", *common, *args], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=120, stdin=subprocess.DEVNULL, check=False)
    sent = [json.loads(line) for line in (tmp_path / "sent.jsonl").read_text().splitlines()]
    return proc, project, sent


def test_ask_json_has_every_call_and_result(tmp_path):
    script = [["Reading. ", {"call": "read_file", "args": {"path": "cli.py"}, "id": "r1"}],
              [{"call": "grep", "args": {"pattern": "ArgumentParser"}, "id": "g1"},
               {"call": "read_file", "args": {"path": "../outside.txt"}, "id": "r2"}],
              ["parse_args parses them."]]
    proc, _, sent = coda(tmp_path, script, "--json", "which function parses the arguments?")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["response"] == "parse_args parses them." and out["status"] == "complete"
    calls = out["tool_calls"]
    assert [(c["step"], c["id"], c["name"], c["status"]) for c in calls] == [
        (1, "r1", "read_file", "ok"), (2, "g1", "grep", "ok"), (2, "r2", "read_file", "error")]
    assert "def parse_args" in calls[0]["result"] and "ArgumentParser" in calls[1]["result"]
    assert json.loads(calls[0]["arguments"]) == {"path": "cli.py"} and calls[0]["message_id"]
    stages = [s["name"] for s in out["trace"]["stages"]]
    assert stages[stages.index("llm"):] == ["llm", "tool", "llm", "tool", "tool", "llm", "store"]
    # The built-in tools were offered; the results went back to the model.
    assert "read_file" in sent[0]["tools"] and sent[1]["roles"][-2:] == ["assistant", "tool"]
    # And `coda trace ID` shows the rounds and the calls.
    _, _, env = setup(tmp_path / "t", [])
    shown = subprocess.run([sys.executable, "-m", "coda_tui", "trace", str(out["trace"]["id"])], capture_output=True,
                           text=True, env=env, cwd=ROOT, timeout=60, check=False)
    rows = [line.split("  ")[0].rstrip() for line in shown.stdout.splitlines()[2:]]
    assert rows[rows.index("llm 1"):] == ["llm 1", " └ tool", "llm 2", " └ tool", " └ tool", "llm 3", "store"], shown.stdout
    assert re.search(r"read_file path=cli.py → ok, \d+ lines, \d+ ms", shown.stdout), shown.stdout
    # The session keeps the calls and results: exported, and found by full-text search.
    exported = subprocess.run([sys.executable, "-m", "coda_tui", "sessions", "export", str(out["session"]["id"]),
                               "--format", "json"], capture_output=True, text=True, env=env, cwd=ROOT, timeout=60,
                              check=False)
    msgs = json.loads(exported.stdout)["messages"]
    assert [m["role"] for m in msgs] == ["user", "assistant", "tool", "assistant", "tool", "tool", "assistant"]
    assert [c["id"] for c in msgs[3]["tool_calls"]] == ["g1", "r2"]
    assert [(m["tool_call_id"], m["status"]) for m in msgs if m["role"] == "tool"] == [
        ("r1", "complete"), ("g1", "complete"), ("r2", "error")]
    found = subprocess.run([sys.executable, "-m", "coda_tui", "sessions", "search", "ArgumentParser"],
                           capture_output=True, text=True, env=env, cwd=ROOT, timeout=60, check=False)
    assert "(tool)" in found.stdout


def test_streamed_output_shows_each_call_on_stderr(tmp_path):
    script = [[{"call": "read_file", "args": {"path": "cli.py"}, "id": "r1"}], ["It is \x1b[31mparse_args."]]
    proc, _, _ = coda(tmp_path, script, "which function?")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "It is ␛[31mparse_args.\n"
    line = next(x for x in proc.stderr.splitlines() if "read_file" in x)
    assert line.startswith("coda: read_file path=cli.py → ok, ") and line.endswith(" ms")


def test_no_tools_offers_none(tmp_path):
    proc, _, sent = coda(tmp_path, [["plain"]], "--no-tools", "q")
    assert proc.returncode == 0 and proc.stdout == "plain\n"
    assert sent[0]["tools"] == []


def test_without_a_terminal_nothing_is_written_and_yes_writes(tmp_path):
    write = [[{"call": "write_file", "args": {"path": "new.py", "content": "x = 1\n"}, "id": "w"}], ["done"]]
    proc, project, _ = coda(tmp_path / "a", write, "--json", "make new.py")
    assert proc.returncode == 0, proc.stderr
    call = json.loads(proc.stdout)["tool_calls"][0]
    assert call["status"] == "denied" and "no terminal" in call["result"]
    assert not (project / "new.py").exists()
    proc, project, _ = coda(tmp_path / "b", write, "--json", "--yes", "make new.py")
    assert json.loads(proc.stdout)["tool_calls"][0]["status"] == "ok"
    assert (project / "new.py").read_text() == "x = 1\n"


def run_in_terminal(tmp_path, script, answer: bytes) -> tuple[str, object]:
    """`coda ask` with stdin and stderr on a terminal (a pty), answering the consent prompt."""
    project, common, env = setup(tmp_path, script)
    main_fd, child_fd = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-c", CHILD, "ask", *common, "make new.py"], stdin=child_fd,
                            stdout=subprocess.PIPE, stderr=child_fd, env=env, cwd=ROOT)
    os.close(child_fd)
    seen = b""
    deadline = time.monotonic() + 120
    answered = False
    while proc.poll() is None and time.monotonic() < deadline:
        ready, _, _ = select.select([main_fd], [], [], 0.2)
        if ready:
            try:
                seen += os.read(main_fd, 4096)
            except OSError:
                break
        if not answered and b"[a]lways this session: " in seen:
            os.write(main_fd, answer)
            answered = True
    proc.wait(30)
    os.close(main_fd)
    return seen.decode("utf-8", "replace"), project


def test_at_a_terminal_consent_is_asked_with_the_diff(tmp_path):
    write = [[{"call": "write_file", "args": {"path": "new.py", "content": "x = 1\n"}, "id": "w"}], ["done"]]
    seen, project = run_in_terminal(tmp_path / "no", write, b"n\n")
    assert "write_file asks to" in seen and "+x = 1" in seen
    assert not (project / "new.py").exists()
    assert "denied: the user declined" in seen
    seen, project = run_in_terminal(tmp_path / "yes", write, b"y\n")
    assert (project / "new.py").read_text() == "x = 1\n"
    assert "write_file path=new.py, content=x = 1 → ok" in seen


def embedded_ask(tmp_path, question: str) -> dict:
    """`coda ask --json` with no configuration at all (the embedded model) in an indexed project."""
    project = tmp_path / "project"
    project.mkdir()
    (project / "cli.py").write_text(PARSER + "\n\ndef main():\n    print(parse_args(None))\n")
    (project / "util.py").write_text("def add(a, b):\n    return a + b\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    indexed = subprocess.run([sys.executable, "-m", "coda_tui", "index", "--project", str(project)], capture_output=True,
                             text=True, env=env, cwd=ROOT, timeout=120, check=False)
    assert indexed.returncode == 0, indexed.stderr
    proc = subprocess.run([sys.executable, "-m", "coda_tui", "ask", "--json", "--project", str(project), question],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=600, check=False,
                          stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["status"] == "complete" and out["response"].strip()
    return out


@pytest.mark.slow
def test_the_embedded_model_calls_a_tool_that_runs(tmp_path):
    """No configuration at all: the embedded model, offered coda's tools in an indexed project,
    makes a call, the call runs, and an answer arrives (its quality is not judged)."""
    out = embedded_ask(tmp_path, "which function parses the command line arguments? read it and tell me")
    calls = out["tool_calls"]
    assert calls and all(c["status"] in ("ok", "error") for c in calls)
    assert {c["name"] for c in calls} & {"search_code", "read_file", "grep", "list_files"}
    stages = [s["name"] for s in out["trace"]["stages"]]
    assert stages.count("tool") == len(calls) and stages.count("llm") >= 2


@pytest.mark.slow
def test_the_embedded_model_answers_a_greeting_in_a_project_in_one_round_without_tools(tmp_path):
    """A question that asks nothing about the project is not made to search it (core.tool_gate):
    one model round, offered no tools, and no tool stage."""
    out = embedded_ask(tmp_path, "Say hi")
    stages = out["trace"]["stages"]
    assert [s["name"] for s in stages].count("llm") == 1 and "tool" not in [s["name"] for s in stages]
    assert out["tool_calls"] == []
    llm = next(s for s in stages if s["name"] == "llm")
    assert llm["detail"]["tools_offered"] == 0 and llm["detail"]["tool_choice"] is None
    context = next(s for s in stages if s["name"] == "context")
    assert context["detail"]["tools"] == {"offered": False, "why": "names nothing in the project"}


def test_ctrl_c_while_a_command_runs_keeps_what_ran(tmp_path):
    script = [[{"call": "grep", "args": {"pattern": "argparse"}, "id": "g"}],
              [{"call": "run_command", "args": {"command": "touch running; sleep 60"}, "id": "s"}], ["never"]]
    project, common, env = setup(tmp_path, script)
    proc = subprocess.Popen([sys.executable, "-c", CHILD, "ask", "--yes", *common, "go"], stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=ROOT)
    db = tmp_path / "data" / "coda.db"
    deadline = time.monotonic() + 120
    try:
        while not (project / "running").exists():  # the command has started
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=90)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130 and "coda: interrupted" in err.decode(), err.decode()
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT role, status, tool_call_id FROM messages ORDER BY id").fetchall()
        trace = conn.execute("SELECT status FROM traces").fetchall()
    assert rows == [("user", "complete", None), ("assistant", "complete", None), ("tool", "complete", "g"),
                    ("assistant", "complete", None), ("tool", "cancelled", "s")]
    assert trace == [("cancelled",)]
