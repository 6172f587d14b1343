"""`coda shell` (issue 17 item 5): driven in a real pseudo-terminal as a person would (keys,
Ctrl+C, Ctrl+D, history), and piped as a script would."""

from __future__ import annotations

import json
import os
import pty
import select
import signal
import sqlite3
import sys
import time

from tests.conftest import ROOT, run_coda
from tests.servers import Action, OpenAIServer
from tests.test_cli import srv_config


class Terminal:
    """coda shell on a pty of its own (its controlling terminal, so Ctrl+C is a SIGINT)."""

    def __init__(self, fd: int, pid: int | None = None) -> None:
        self.fd, self.pid = fd, pid
        self.seen = b""

    @classmethod
    def spawn(cls, *args: str) -> Terminal:
        pid, fd = pty.fork()
        if pid == 0:  # the child
            # As a parent that ignores Ctrl+C would start it (a script's background job):
            # the shell must make Ctrl+C work itself. Also keeps the test from depending on
            # what the test process's own SIGINT state is at that moment.
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            os.chdir(ROOT)
            os.execv(sys.executable, [sys.executable, "-m", "coda_tui", *args, "shell"])
        return cls(fd, pid)

    def expect(self, text: str, timeout: float = 30) -> str:
        """Read until `text` has appeared after what earlier calls consumed; that output."""
        want = text.encode()
        deadline = time.monotonic() + timeout
        while want not in self.seen:
            left = deadline - time.monotonic()
            assert left > 0, f"never saw {text!r}; got {self.seen[-600:]!r}"
            ready, _, _ = select.select([self.fd], [], [], left)
            if ready:
                try:
                    chunk = os.read(self.fd, 65536)
                except OSError:
                    chunk = b""
                assert chunk, f"the shell ended before {text!r}: {self.seen[-600:]!r}"
                self.seen += chunk
        upto = self.seen.index(want) + len(want)
        out, self.seen = self.seen[:upto], self.seen[upto:]
        return out.decode(errors="replace")

    def send(self, keys: str) -> None:
        os.write(self.fd, keys.encode())

    def exit_status(self, timeout: float = 30) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                os.read(self.fd, 65536)  # keep the terminal drained so the child can finish writing
            except OSError:
                pass
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                os.close(self.fd)
                return os.waitstatus_to_exitcode(status)
            time.sleep(0.05)
        raise AssertionError("the shell did not exit")


def test_shell_in_a_terminal_streams_traces_keeps_a_cancelled_partial_and_exits_on_ctrl_d(tmp_path):
    slow = Action(chunks=[f"w{i} " for i in range(400)], delay=0.05)
    with OpenAIServer([Action(chunks=["first ", "answer"]), slow, Action(chunks=["again"])]) as srv:
        cfg = srv_config(tmp_path, srv.url)
        term = Terminal.spawn("--config", cfg, "--project", str(tmp_path))
        term.expect("coda> ")
        # Ctrl+C at the prompt: a fresh prompt, nothing asked. Once on a half-typed line, then
        # the instant each prompt appears (a SIGINT that came before readline's wait began
        # used to be lost there, intermittently).
        term.send("half a line")
        term.expect("half a line")
        term.send("\x03")
        term.expect("coda> ")
        for _ in range(5):
            term.send("\x03")
            term.expect("coda> ", timeout=5)
        term.send("what is q1?\r")
        assert "first answer" in term.expect("coda> ")
        term.send("/trace\r")
        table = term.expect("coda> ")
        for stage in ("context", "memory", "prompt", "llm", "store"):
            assert f"\n{stage} " in table.replace("\r", "")
        term.send("tell me \\\r")  # a line ending in \ continues
        term.expect("... ")
        term.send("a long story\r")
        term.expect("w3 ")
        term.send("\x03")  # Ctrl+C while it streams
        assert "partial answer is kept" in term.expect("coda> ")
        term.send("\x04")  # Ctrl+D leaves
        assert term.exit_status() == 0

        # History across runs: Up brings back the last question, Enter asks it again.
        again = Terminal.spawn("--config", cfg, "--project", str(tmp_path))
        again.expect("coda> ")
        again.send("\x1b[A\r")
        assert "again" in again.expect("coda> ")
        again.send("\x04")
        assert again.exit_status() == 0
        sent = [r["body"]["messages"] for r in srv.chat_requests()]

    assert sent[0][-1]["content"] == "what is q1?"
    assert sent[1][-1]["content"] == "tell me \na long story"
    assert sent[2][-1]["content"] == "a long story"  # history holds lines as they were typed
    db = sqlite3.connect(tmp_path / "data" / "coda.db")
    role, status, content = db.execute("SELECT role, status, content FROM messages WHERE id = 4").fetchone()
    assert (role, status) == ("assistant", "cancelled") and content.startswith("w0 w1 w2 w3 ")
    assert len(content) < len("".join(slow.chunks))
    # The same sessions and traces as everything else.
    traces = json.loads(run_coda("--config", cfg, "trace", "--json").stdout)
    assert [t["status"] for t in traces][::-1] == ["complete", "cancelled", "complete"]


def test_shell_piped_answers_every_line_in_one_session_with_no_escape_sequences(tmp_path):
    with OpenAIServer([Action(chunks=["one\x1b[2J"]), Action(chunks=["two"])]) as srv:
        cfg = srv_config(tmp_path, srv.url)
        proc = run_coda("--config", cfg, "shell", input="q1\nq2\n")
        sent = [r["body"]["messages"] for r in srv.chat_requests()]
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "one␛[2J\ntwo\n"
    assert "\x1b" not in proc.stdout + proc.stderr
    assert [m["content"] for m in sent[1][1:]] == ["q1", "one\x1b[2J", "q2"]


def test_shell_commands_answer_in_one_line_and_bad_ones_do_not_end_it(tmp_path):
    with OpenAIServer([]) as srv:
        cfg = srv_config(tmp_path, srv.url)
        script = "/trace\n/session\n/bogus\n/analyze\n/trace 99\n/session nope\n/session ²\n/trace 99999999999999999999\n/remember uses hatch\n/forget\nq\n/memory\n/model other\n/undo\n/quit\nnever asked\n"
        proc = run_coda("--config", cfg, "--project", str(tmp_path), "shell", input=script)
        sent = [r["body"]["messages"] for r in srv.chat_requests()]
    assert proc.returncode == 0 and "Traceback" not in proc.stderr
    out = proc.stdout
    assert "no turn yet in this shell" in out and "no session yet" in out
    assert "unknown command /bogus" in proc.stderr and "/analyze works on a file" in proc.stderr
    assert "no trace 99" in proc.stderr and "no session 'nope'" in proc.stderr
    assert "#1 (project) uses hatch" in out and "facts: 1" in out and "srv/other" in out
    assert "coda: nothing to undo: no tool has written a file in this project" in proc.stderr
    assert len(sent) == 1 and "uses hatch" in sent[0][0]["content"]


def test_shell_runs_the_apps_operations_and_applies_a_refactoring_after_a_yes(tmp_path):
    (tmp_path / "calc.py").write_text("def add(a, b):\n    return a+b\n")
    diff = "```diff\n--- a/calc.py\n+++ b/calc.py\n@@ -1,2 +1,2 @@\n def add(a, b):\n-    return a+b\n+    return a + b\n```\n"
    script = [Action(chunks=['{"score": 0.42, "issues": [{"line": 2, "message": "no spaces"}]}']), Action(chunks=[diff])]
    with OpenAIServer(script) as srv:
        cfg = srv_config(tmp_path, srv.url)
        proc = run_coda("--config", cfg, "--project", str(tmp_path), "shell",
                        input="/analyze\n/analyze type:security calc.py\n/trace\n/refactor calc.py\n/apply\ny\n/apply\n")
        sent = srv.chat_requests()
    assert proc.returncode == 0 and "Traceback" not in proc.stderr
    assert "/analyze works on a file" in proc.stderr and len(sent) == 2
    assert "Security score: 0.42" in proc.stdout and "no spaces" in proc.stdout
    assert "\nllm " in proc.stdout  # /trace: the operation's own turn
    assert "applied to calc.py (+1 -1)" in proc.stderr and "no refactoring to apply" in proc.stderr
    assert (tmp_path / "calc.py").read_text() == "def add(a, b):\n    return a + b\n"


def test_shell_typed_at_a_terminal_into_a_pipe_keeps_prompts_and_escapes_out_of_the_pipe(tmp_path):
    import subprocess

    with OpenAIServer([Action(chunks=["piped ", "answer"])]) as srv:
        cfg = srv_config(tmp_path, srv.url)
        master, slave = pty.openpty()
        proc = subprocess.Popen([sys.executable, "-m", "coda_tui", "--config", cfg, "shell"], stdin=slave,
                                stdout=subprocess.PIPE, stderr=slave, cwd=ROOT, start_new_session=True)
        os.close(slave)
        term = Terminal(master)
        term.expect("coda> ")  # on the terminal (stderr), not in the pipe
        term.send("q1\n")
        term.expect("coda> ")
        term.send("\x04")
        out, _ = proc.communicate(timeout=30)
        os.close(master)
    assert proc.returncode == 0 and out == b"piped answer\n"


def test_shell_renders_markdown_on_a_terminal_block_by_block_after_streaming_it_plain(tmp_path):
    answer = ("# Plan\n\nSome **bold** words \x1b]52;c;aGk=\x07 and a [link](http://example.com/x).\n\n"
              "```python\nprint('hi')\n```\n\n- one\n- two")
    # In small pieces: blocks close in the middle of chunks, and the last one with the answer.
    with OpenAIServer([Action(chunks=[answer[i:i + 5] for i in range(0, len(answer), 5)])]) as srv:
        cfg = srv_config(tmp_path, srv.url)
        term = Terminal.spawn("--config", cfg, "--project", str(tmp_path))
        term.expect("coda> ")
        term.send("plan?\r")
        shown = term.expect("coda> ")
        term.send("\x04")
        assert term.exit_status() == 0
    # Each block first streams as it arrives (plain), then its rows are cleared ("\x1b[J")
    # and it is drawn rendered: four blocks, four redraws.
    assert shown.count("\x1b[J") == 4
    assert "Some **bold** words" in shown.split("\x1b[J")[1]  # the plain stream, before its redraw
    rendered = "".join(part.split("\r\n\r\n")[0] for part in shown.split("\x1b[J")[1:])
    assert "**" not in rendered and "```" not in rendered and "# Plan" not in rendered
    assert "\x1b[1mbold\x1b[0m" in rendered  # bold, by Rich
    assert " • one" in rendered.replace("\x1b[1m", "").replace("\x1b[0m", "")
    assert "http://example.com/x" in rendered and "\x1b]8;" not in shown  # a link as text, not a hyperlink
    # The model's own escape sequence (a clipboard write) arrives inert, streamed and rendered.
    assert "\x1b]52" not in shown and "␛]52;c;aGk=␇" in shown


def test_shell_context_attaches_files_and_documents_to_every_next_question_until_dropped(tmp_path):
    from tests.documents_made import write_docx

    (tmp_path / "calc.py").write_text("def add(a, b):\n    return a + b\n")
    write_docx(tmp_path / "notes.docx", "Release notes", ["The frobnicator ships on Tuesday."])
    with OpenAIServer([Action(chunks=["ok"])]) as srv:
        cfg = srv_config(tmp_path, srv.url)
        script = ("/context\n/context add calc.py notes.docx\n/context show\nq1\n"
                  "/context add missing.py\n/context drop 1\nq2\n/context drop 7\n/context frob\n/context drop all\nq3\n")
        proc = run_coda("--config", cfg, "--project", str(tmp_path), "shell", input=script)
        sent = [r["body"]["messages"][-1]["content"] for r in srv.chat_requests()]
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    out = proc.stdout
    assert "no files: /context add PATH" in out
    assert "added calc.py (~" in out and "added notes.docx (as Markdown, ~" in out
    assert "1. calc.py (~" in out and "2. notes.docx (~" in out
    assert "dropped 1 file; 1 left" in out and "dropped 1 file; 0 left" in out
    errors = proc.stderr.strip().splitlines()
    assert any("missing.py: no such file" in e for e in errors)
    assert any("no file 7 in the context" in e for e in errors) and any("usage: /context" in e for e in errors)
    assert "return a + b" in sent[0] and "# Release notes" in sent[0] and sent[0].endswith("q1")
    assert "return a + b" not in sent[1] and "ships on Tuesday" in sent[1]
    assert sent[2] == "q3"
