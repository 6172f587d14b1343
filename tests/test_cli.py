"""The `coda` command as a user runs it: a real child process, a real database file."""

from __future__ import annotations

import json
import sqlite3

import pytest

from coda_tui import __version__
from tests.conftest import run_coda, write_config
from tests.servers import Action, OpenAIServer, free_port


def srv_config(tmp_path, url: str) -> str:
    return str(write_config(tmp_path, f'[general]\nprovider = "srv"\n[providers.srv]\ntype = "openai"\nbase_url = "{url}/v1"\nmodel = "fake-model"\nmax_retries = 0\n'))


@pytest.mark.slow
def test_ask_json_with_no_configuration_uses_the_embedded_model(tmp_path):
    # A plain turn's stages (with tools, the embedded model looks something up first: see
    # tests/test_cli_tools.py).
    proc = run_coda("ask", "Write a Python function that reverses a string", "--json", "--no-tools")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["status"] == "complete" and out["response"].strip()
    assert out["trace"]["provider"] == "local" and "SmolLM2" in out["trace"]["model"]
    stages = out["trace"]["stages"]
    assert [s["name"] for s in stages] == ["context", "memory", "prompt", "llm", "store"]
    assert all(s["duration_ms"] >= 0 for s in stages)
    assert out["usage"]["completion_tokens"] > 0

    listing = run_coda("sessions", "list", "--json")
    sessions = json.loads(listing.stdout)
    assert [s["id"] for s in sessions] == [out["session"]["id"]]
    db = sqlite3.connect(tmp_path / "data" / "coda.db")
    roles = db.execute("SELECT role, status FROM messages ORDER BY id").fetchall()
    assert roles == [("user", "complete"), ("assistant", "complete")]
    assert db.execute("SELECT count(*) FROM trace_stages WHERE trace_id = ?", [out["trace"]["id"]]).fetchone()[0] == 5


def test_ask_streams_to_stdout_and_continues_a_session(tmp_path):
    with OpenAIServer([Action(chunks=["Hel", "lo"]), Action(chunks=["again"])]) as srv:
        cfg = srv_config(tmp_path, srv.url)
        first = run_coda("--config", cfg, "ask", "hi", "--session", "work")
        second = run_coda("ask", "--config", cfg, "--session", "work", "and again", "--trace")
        sent = srv.chat_requests()[1]["body"]["messages"]
    assert first.returncode == 0 and first.stdout == "Hello\n"
    assert second.returncode == 0 and second.stdout == "again\n"
    assert [m["content"] for m in sent[1:]] == ["hi", "Hello", "and again"]
    for stage in ("context", "memory", "prompt", "llm", "store"):
        assert stage in second.stderr
    assert "first token" in second.stderr


def test_ask_reads_stdin_and_attaches_files(tmp_path):
    f = tmp_path / "a.py"
    f.write_text("print('x')\n")
    with OpenAIServer([Action()]) as srv:
        proc = run_coda("--config", srv_config(tmp_path, srv.url), "--project", str(tmp_path), "ask", "-f", str(f),
                        input="what does it print?\n")
        user = srv.chat_requests()[0]["body"]["messages"][-1]["content"]
    assert proc.returncode == 0 and "print('x')" in user and "what does it print?" in user


def test_ask_missing_attachment_is_refused_before_anything_runs(tmp_path):
    proc = run_coda("ask", "--project", str(tmp_path), "--file", str(tmp_path / "nope.py"), "explain")
    assert proc.returncode == 2 and "nope.py: no such file" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_ask_output_is_made_inert_unless_raw_to_a_pipe(tmp_path):
    evil = "\x1b]52;c;ZWNobyBwd25lZA==\x07\x1b[2Jok"
    with OpenAIServer([Action(chunks=[evil])]) as srv:
        cfg = srv_config(tmp_path, srv.url)
        proc = run_coda("--config", cfg, "ask", "hi")
        raw = run_coda("--config", cfg, "ask", "hi", "--raw")
    assert "\x1b" not in proc.stdout and "␛]52;c;" in proc.stdout
    assert evil in raw.stdout  # stdout is a pipe here, and --raw was asked for
    db = sqlite3.connect(tmp_path / "data" / "coda.db")
    assert db.execute("SELECT content FROM messages WHERE role='assistant' LIMIT 1").fetchone()[0] == evil


def test_provider_failure_is_one_clear_line(tmp_path):
    cfg = srv_config(tmp_path, f"http://127.0.0.1:{free_port()}")
    proc = run_coda("--config", cfg, "ask", "hello")
    assert proc.returncode == 1
    assert "connection refused at http://127.0.0.1" in proc.stderr and "Traceback" not in proc.stderr


def test_sessions_show_export_search_rename_delete(tmp_path):
    with OpenAIServer([Action(chunks=["Use ", "functools.lru_cache"])]) as srv:
        cfg = srv_config(tmp_path, srv.url)
        assert run_coda("--config", cfg, "ask", "how to memoize?", "--session", "memo").returncode == 0
    show = run_coda("sessions", "show", "memo")
    assert "## You" in show.stdout and "functools.lru_cache" in show.stdout
    md = tmp_path / "out.md"
    assert run_coda("sessions", "export", "memo", "-o", str(md)).returncode == 0
    assert md.read_text().startswith("# memo")
    exported = json.loads(run_coda("sessions", "export", "memo", "--format", "json").stdout)
    assert [m["role"] for m in exported["messages"]] == ["user", "assistant"]
    hits = json.loads(run_coda("sessions", "search", "memoize", "--json").stdout)
    assert hits[0]["session_name"] == "memo"
    assert run_coda("sessions", "search", "nothing-like-this").stdout.strip() == "no matches"
    assert run_coda("sessions", "rename", "memo", "caching").returncode == 0
    assert run_coda("sessions", "delete", "caching", input="n\n").returncode == 1
    assert run_coda("sessions", "delete", "caching", "--yes").returncode == 0
    assert json.loads(run_coda("sessions", "list", "--json").stdout) == []
    missing = run_coda("sessions", "show", "caching")
    assert missing.returncode == 2 and "no session 'caching'" in missing.stderr


def test_trace_lists_and_shows_stages(tmp_path):
    with OpenAIServer([Action()]) as srv:
        cfg = srv_config(tmp_path, srv.url)
        run_coda("--config", cfg, "ask", "one")
        run_coda("--config", cfg, "ask", "two")
    listing = json.loads(run_coda("trace", "--json").stdout)
    assert len(listing) == 2 and listing[0]["id"] > listing[1]["id"]
    table = run_coda("trace", str(listing[0]["id"]))
    assert table.returncode == 0 and "llm" in table.stdout and "first token" in table.stdout
    assert "srv/fake-model" in run_coda("trace").stdout


def test_models_lists_each_providers_models(tmp_path):
    with OpenAIServer([Action()]) as srv:
        cfg = srv_config(tmp_path, srv.url)
        out = json.loads(run_coda("--config", cfg, "models", "--json").stdout)
        only = run_coda("--config", cfg, "models", "--provider", "srv")
    by = {row["provider"]: row for row in out}
    assert by["srv"]["models"] == ["fake-model"] and by["srv"]["error"] is None
    assert by["ollama"]["error"]  # nothing listens on 11434 here
    assert only.returncode == 0 and "fake-model" in only.stdout


def test_doctor_status_follows_the_default_provider(tmp_path):
    with OpenAIServer([Action()]) as srv:
        ok = run_coda("--config", srv_config(tmp_path, srv.url), "doctor", "--json")
    report = json.loads(ok.stdout)
    assert ok.returncode == 0 and report["ok"] is True
    names = [c["name"] for c in report["checks"]]
    for needed in ("config", "database", "provider srv (default)", "local model", "speech model", "audio input"):
        assert needed in names
    down = run_coda("--config", srv_config(tmp_path, f"http://127.0.0.1:{free_port()}"), "doctor")
    assert down.returncode == 1 and "cannot answer" in down.stderr


def test_version_and_help():
    assert run_coda("--version").stdout.strip() == f"coda, version {__version__}"
    help_text = run_coda("--help").stdout
    for cmd in ("ask", "sessions", "models", "doctor", "trace"):
        assert cmd in help_text
    for opt in ("--provider", "--model", "--session", "--project", "--config"):
        assert opt in help_text
