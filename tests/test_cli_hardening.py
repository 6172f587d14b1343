"""The CLI against odd arguments, hostile names, existing files and piped input: one clear
line and the right exit status, never a traceback, never a raw control byte."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys

import pytest
from click.testing import CliRunner

from coda_tui.cli import cli
from coda_tui.core.runtime import Runtime
from tests.conftest import ROOT, run_coda, write_config
from tests.servers import Action, OpenAIServer, free_port

HOSTILE = "\x1b]0;pwned\x07\x1b[2J\u202e\u200b\U000e0041\u2028x"


def srv_config(tmp_path, url: str) -> str:
    return str(write_config(tmp_path, f'[general]\nprovider = "srv"\n[providers.srv]\ntype = "openai"\n'
                                      f'base_url = "{url}/v1"\nmodel = "fake-model"\nmax_retries = 0\n'))


def make_session(name: str) -> int:
    rt = Runtime()
    try:
        return rt.store.sessions.create(name).id
    finally:
        rt.close()


def invoke(*args: str, input: str | None = None):
    return CliRunner().invoke(cli, list(args), input=input, prog_name="coda")


def assert_clean(result) -> None:
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    for text in (result.stdout, result.stderr):
        assert "Traceback" not in text
        assert not any(ord(c) < 0x20 and c not in "\n\t" or 0x7F <= ord(c) < 0xA0 for c in text), repr(text)


def test_piped_text_follows_the_question_as_a_fenced_block(tmp_path):
    diff = "diff --git a/x.py b/x.py\n-old\n+new ```not a fence```\n"
    with OpenAIServer([Action(chunks=["looks fine"])]) as srv:
        proc = run_coda("--config", srv_config(tmp_path, srv.url), "ask", "Review", "this", "--json", input=diff)
        user = srv.chat_requests()[0]["body"]["messages"][-1]["content"]
    assert proc.returncode == 0, proc.stderr
    assert user.endswith("Review this\n\n````\n" + diff.rstrip("\n") + "\n````")
    context = json.loads(proc.stdout)["trace"]["stages"][0]
    assert context["name"] == "context" and context["detail"]["piped_chars"] == len(diff)
    assert f"stdin {len(diff):,} chars" in context["summary"]


@pytest.mark.parametrize("args, message", [
    (["sessions", "show", "²"], "no session '²'"),
    (["sessions", "show", "99999999999999999999999"], "no session '99999999999999999999999'"),
    (["sessions", "rename", "²", "x"], "no session '²'"),
    (["sessions", "export", "³"], "no session '³'"),
    (["sessions", "delete", "99999999999999999999999", "--yes"], "no session '99999999999999999999999'"),
    (["trace", "99999999999999999999999"], "no trace 99999999999999999999999"),
    (["trace", "²"], "no trace ²"),
    (["trace", "--session", "²"], "no session '²'"),
    (["ask", "--session", "99999999999999999999999", "hi"], "no session '99999999999999999999999'"),
    (["--session", "²", "ask", "hi"], "no session '²'"),
])
def test_odd_ids_are_no_such_session_or_trace_with_status_2(args, message):
    make_session("one")
    result = invoke(*args)
    assert_clean(result)
    assert result.exit_code == 2 and message in result.stderr


def test_session_names_are_shown_inert_in_the_delete_prompt_and_the_rename_echo():
    sid = make_session(HOSTILE)
    asked = invoke("sessions", "delete", str(sid), input="n\n")
    assert_clean(asked)
    assert asked.exit_code == 1 and "␛]0;pwned" in asked.stdout and "⟪U+200B⟫" in asked.stdout
    renamed = invoke("sessions", "rename", str(sid), HOSTILE)
    assert_clean(renamed)
    assert renamed.exit_code == 0 and "⟪U+E0041⟫" in renamed.stdout and "⟪U+2028⟫" in renamed.stdout


def test_clicks_own_errors_quote_what_was_typed_inert():
    for args in (["\x1b[2Jnosuch"], ["sessions", "list", "--limit", "\x1b]0;x\x07"], ["ask", "--nosuch\x9b"]):
        result = invoke(*args)
        assert_clean(result)
        assert result.exit_code == 2


def test_export_does_not_overwrite_a_file_without_force(tmp_path):
    sid = make_session("kept")
    out = tmp_path / "notes.md"
    out.write_text("mine\n")
    refused = invoke("sessions", "export", str(sid), "-o", str(out))
    assert_clean(refused)
    assert refused.exit_code == 2 and "exists" in refused.stderr and "--force" in refused.stderr
    assert out.read_text() == "mine\n"
    forced = invoke("sessions", "export", str(sid), "-o", str(out), "--force")
    assert forced.exit_code == 0 and out.read_text().startswith("# kept")


def test_pipeline_output_is_refused_before_anything_runs(tmp_path):
    (tmp_path / "a.py").write_text("x = 1\n")
    report = tmp_path / "report.md"
    report.write_text("mine\n")
    cfg = srv_config(tmp_path, f"http://127.0.0.1:{free_port()}")  # nothing listens: nothing may be asked
    proc = run_coda("--config", cfg, "--project", str(tmp_path), "pipeline", "--spec", "explain",
                    "--input", str(tmp_path / "a.py"), "-o", str(report))
    assert proc.returncode == 2 and "report.md exists" in proc.stderr and "Traceback" not in proc.stderr
    assert report.read_text() == "mine\n"


def _on_terminal(answer: bytes, *args: str) -> tuple[bytes, int]:
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "coda_tui", *args], stdin=slave, stdout=slave, stderr=slave,
                            cwd=ROOT, env=dict(os.environ))
    os.close(slave)
    os.write(master, answer)  # typed ahead: the terminal holds it until the prompt reads it
    out = b""
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:
            break
        if not data:
            break
        out += data
    os.close(master)
    return out, proc.wait(30)


def test_export_asks_before_overwriting_on_a_terminal(tmp_path):
    sid = make_session("asked")
    out = tmp_path / "notes.md"
    out.write_text("mine\n")
    said_no, code = _on_terminal(b"n\n", "sessions", "export", str(sid), "-o", str(out))
    assert code == 1 and b"Overwrite it?" in said_no and out.read_text() == "mine\n"
    _, code = _on_terminal(b"y\n", "sessions", "export", str(sid), "-o", str(out))
    assert code == 0 and out.read_text().startswith("# asked")


def test_a_folder_that_cannot_be_read_is_one_line_not_a_traceback(tmp_path, monkeypatch):
    project = tmp_path / "proj"
    project.mkdir()

    # The tests run as root, for whom every folder is readable: the walk's error is raised
    # where it would come from.
    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied", str(project / "pgdata"))

    monkeypatch.setattr("coda_tui.context.index.CodeIndex.update", refuse)
    result = invoke("index", str(project))
    assert_clean(result)
    assert result.exit_code == 1 and f"coda: Permission denied: {project / 'pgdata'}" in result.stderr
