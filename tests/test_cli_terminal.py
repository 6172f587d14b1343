"""`coda` writing to a real terminal (a pty): escape sequences from a model, a server's error
page or a stored session are shown inert; `--raw` passes them through only to a pipe."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys

from tests.conftest import ROOT, run_coda, write_config
from tests.servers import Action, OpenAIServer

EVIL = "\x1b]52;c;cm0gLXJmIH4=\x07\x1b]0;pwned\x07\x1b[2J\x1b]8;;http://evil\x1b\\x\x1b]8;;\x1b\\\u202eabc\x9b31m"
# What only the hostile text could have put on the terminal (UTF-8 bytes as the pty reads them).
LEAKS = [b"\x1b]52;", b"\x1b]0;", b"\x1b[2J", b"\x1b]8;;", "\u202e".encode(), "\x9b".encode()]


def srv_config(tmp_path, url: str) -> str:
    return str(write_config(tmp_path, f'[general]\nprovider = "srv"\n[providers.srv]\ntype = "openai"\n'
                                      f'base_url = "{url}/v1"\nmodel = "fake-model"\nmax_retries = 0\n'))


def in_pty(*args: str) -> tuple[bytes, int]:
    """Run coda with stdout and stderr on a pseudo-terminal; everything it wrote there."""
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "coda_tui", *args], stdin=subprocess.DEVNULL, stdout=slave,
                            stderr=slave, cwd=ROOT, env=dict(os.environ))
    os.close(slave)
    out = b""
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        out += data
    os.close(master)
    return out, proc.wait(30)


def assert_no_leaks(out: bytes) -> None:
    leaked = [s for s in LEAKS if s in out]
    assert not leaked, f"reached the terminal: {leaked!r} in {out[:300]!r}"


def test_ask_on_a_terminal_shows_escapes_inert_even_with_raw(tmp_path):
    with OpenAIServer([Action(chunks=["ok ", EVIL, " done"])]) as srv:
        cfg = srv_config(tmp_path, srv.url)
        plain, code = in_pty("--config", cfg, "ask", "hi")
        raw, raw_code = in_pty("--config", cfg, "ask", "hi", "--raw")
        piped = run_coda("--config", cfg, "ask", "hi", "--raw")
    assert code == raw_code == 0
    for out in (plain, raw):
        assert_no_leaks(out)
        assert "␛]52;c;".encode() in out and b"done" in out
    assert EVIL in piped.stdout  # --raw to a pipe passes them through, as asked


def test_json_to_a_terminal_is_the_same_data_and_inert(tmp_path):
    with OpenAIServer([Action(chunks=[EVIL])]) as srv:
        out, code = in_pty("--config", srv_config(tmp_path, srv.url), "ask", "hi", "--json")
    assert code == 0
    assert_no_leaks(out)
    assert json.loads(out.decode().replace("\r\n", "\n"))["response"] == EVIL


def test_a_servers_error_text_is_inert_on_the_terminal(tmp_path):
    with OpenAIServer([Action("raw", status=500, body=f"upstream says: {EVIL}")]) as srv:
        out, code = in_pty("--config", srv_config(tmp_path, srv.url), "ask", "hi")
    assert code == 1 and b"HTTP 500" in out
    assert_no_leaks(out)


def test_stored_sessions_are_inert_on_the_terminal(tmp_path):
    with OpenAIServer([Action(chunks=[EVIL])]) as srv:
        assert run_coda("--config", srv_config(tmp_path, srv.url), "ask", f"q {EVIL}", "--session", "s").returncode == 0
    for args in (("sessions", "show", "s"), ("sessions", "show", "s", "--json"), ("sessions", "export", "s"),
                 ("sessions", "export", "s", "--format", "json"), ("sessions", "list"), ("sessions", "search", "pwned"),
                 ("trace", "1", "--json")):
        out, code = in_pty(*args)
        assert code == 0, (args, out)
        assert_no_leaks(out)
    # Exported to a file, the text is exactly as received.
    target = tmp_path / "s.json"
    assert run_coda("sessions", "export", "s", "--format", "json", "-o", str(target)).returncode == 0
    assert json.loads(target.read_text())["messages"][1]["content"] == EVIL
