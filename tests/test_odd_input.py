"""Big and odd input through the real `coda ask`: bytes that are not UTF-8, NUL bytes, a
megabyte each way, an empty answer. Each gives something sensible, never a traceback."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT, run_coda
from tests.servers import Action, OpenAIServer
from tests.test_cli_terminal import srv_config


def coda_bytes(*args, input: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "coda_tui", *args], input=input, capture_output=True, cwd=ROOT,
                          env=dict(os.environ), timeout=120, check=False)


def stored(tmp_path) -> list[tuple[str, str, str]]:
    db = sqlite3.connect(tmp_path / "data" / "coda.db")
    try:
        return db.execute("SELECT role, status, content FROM messages ORDER BY id").fetchall()
    finally:
        db.close()


def test_question_bytes_that_are_not_utf8_or_hold_nul(tmp_path):
    with OpenAIServer([Action(chunks=["fine"])]) as srv:
        cfg = srv_config(tmp_path, srv.url)
        piped = coda_bytes("--config", cfg, "ask", input=b"caf\xe9 \xff\xfe and a NUL \x00 here")
        argv = coda_bytes("--config", cfg, "ask", b"an argument \xff\xfe")
        sent = [r["body"]["messages"][-1]["content"] for r in srv.chat_requests()]
    for proc in (piped, argv):
        assert proc.returncode == 0, proc.stderr
        assert b"Traceback" not in proc.stderr and proc.stdout == b"fine\n"
    assert sent == ["caf\ufffd \ufffd\ufffd and a NUL \x00 here", "an argument \ufffd\ufffd"]
    assert [row[2] for row in stored(tmp_path) if row[0] == "user"] == sent


def test_stream_with_bytes_that_are_not_utf8(tmp_path):
    with OpenAIServer([Action("invalid_utf8")]) as srv:
        proc = run_coda("--config", srv_config(tmp_path, srv.url), "ask", "hi")
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "not UTF-8" in proc.stderr
    assert [r[:2] for r in stored(tmp_path)] == [("user", "complete"), ("assistant", "error")]


def test_empty_answer_is_said_so(tmp_path):
    with OpenAIServer([Action(chunks=[])]) as srv:
        proc = run_coda("--config", srv_config(tmp_path, srv.url), "ask", "anything?")
    assert proc.returncode == 0 and proc.stdout == ""
    assert "empty answer" in proc.stderr
    assert stored(tmp_path) == [("user", "complete", "anything?"), ("assistant", "complete", "")]


def test_file_with_nul_bytes_is_refused_and_one_not_utf8_is_read(tmp_path):
    (tmp_path / "nul.py").write_bytes(b"x = 1\x00\n")
    (tmp_path / "latin1.py").write_bytes(b"name = 'caf\xe9'\n")
    with OpenAIServer([Action()]) as srv:
        cfg = srv_config(tmp_path, srv.url)
        refused = run_coda("--config", cfg, "--project", str(tmp_path), "ask", "-f", str(tmp_path / "nul.py"), "what")
        read = run_coda("--config", cfg, "--project", str(tmp_path), "ask", "-f", str(tmp_path / "latin1.py"), "what")
        sent = srv.chat_requests()[0]["body"]["messages"][-1]["content"]
    assert refused.returncode == 2 and "binary" in refused.stderr and "Traceback" not in refused.stderr
    assert read.returncode == 0 and "name = 'caf\ufffd'" in sent


def test_a_megabyte_each_way(tmp_path):
    question = "".join(f"line {i} of a pasted log\n" for i in range(45_000))
    assert len(question) > 1_000_000
    chunk = "".join(f"answer line {i}\n" for i in range(700))
    with OpenAIServer([Action(chunks=[chunk] * 100, usage=(1, 1))]) as srv:
        # max_tokens high enough that a megabyte is a fair answer, not one past the ceiling.
        cfg = srv_config(tmp_path, srv.url)
        # and a window a megabyte question fits (a larger question is refused before sending).
        Path(cfg).write_text(Path(cfg).read_text() + "max_tokens = 1000000\ncontext_window = 2000000\n")
        proc = run_coda("--config", cfg, "ask", "--json", input=question)
        sent = srv.chat_requests()[0]["body"]["messages"][-1]["content"]
    assert proc.returncode == 0, proc.stderr[-500:]
    out = json.loads(proc.stdout)
    assert len(out["response"]) > 1_000_000 and out["response"] == chunk * 100
    assert sent == question
    rows = stored(tmp_path)
    assert rows == [("user", "complete", question), ("assistant", "complete", chunk * 100)]
