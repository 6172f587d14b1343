"""A long session in a real terminal: many short turns asked one after another in one app,
as the keys a user types, against a loopback server that answers at once.

Driven this way (benchmarks/tui_long_session.py did, with 150-token answers) the app has
stalled somewhere between turn 70 and 110: the next question typed reached no server and the
chat pane was no longer drawn (an answer's finish() stopping the Markdown stream its flush had
just opened ended the chat pane's message queue; tests/ui/test_long_conversation.py has that
interleaving on its own, every time). Each turn here must reach the server and finish in the
pipeline's history; when one does not, the failure carries the screen and the app's own
account of what its threads and tasks were waiting on (kill -USR1, coda_tui/stack_dump.py).
"""

from __future__ import annotations

import os
import re
import signal
import sys
import time

from tests.conftest import ROOT, write_config
from tests.servers import Action, OpenAIServer

sys.path.insert(0, str(ROOT / "benchmarks"))
from ptyterm import Term, coda_args, coda_env, panes_drawn

TURNS = 120
# A short Markdown answer in a few chunks: a paragraph, a list and a fenced block, so each
# turn streams into the Markdown widget, closes its stream and draws code, as answers do.
ANSWER = ["The cache keeps ", "recent answers.\n\n", "- one\n- two\n\n", "```python\nx = 1\n", "```\n"]


def _account(term: Term, log_path: str) -> str:
    """The screen, and the stack dump the app writes to its log on SIGUSR1."""
    os.kill(term.pid, signal.SIGUSR1)
    time.sleep(2)
    try:
        with open(log_path, encoding="utf-8") as f:
            dump = f.read()[-20_000:]
    except OSError:
        dump = "(no log)"
    return f"screen:\n{term.screen.text()}\n\nlog:\n{dump}"


def test_many_turns_in_a_real_terminal_each_reach_the_server(tmp_path):
    with OpenAIServer([Action(chunks=ANSWER)]) as srv:
        config = write_config(tmp_path, f'[general]\nprovider = "srv"\n[providers.srv]\ntype = "openai"\n'
                                        f'base_url = "{srv.url}/v1"\nmodel = "fake-model"\nmax_retries = 0\n')
        (tmp_path / "home").mkdir(exist_ok=True)
        env = coda_env(str(tmp_path / "data"), str(tmp_path / "home"))
        env["CODA_CONFIG_PATH"] = str(config)
        log_path = str(tmp_path / "data" / "logs" / "coda.log")
        with Term(coda_args(), env) as term:
            term.wait_for(lambda s: panes_drawn(s) and "srv/fake-model" in s, timeout=60)
            for i in range(1, TURNS + 1):
                asked = len(srv.chat_requests())
                term.send(f"question {i}: how does the cache work?\r")
                deadline = time.monotonic() + 30
                while len(srv.chat_requests()) <= asked:
                    assert time.monotonic() < deadline, f"turn {i} never reached the server; {_account(term, log_path)}"
                    time.sleep(0.02)
                # The turn is over when its row is in the pipeline's history (turns count from 1).
                row = re.compile(rf"│ {i} +[\d,-]+ +[\d,-]+ ")
                try:
                    term.wait_for(lambda s, row=row: row.search(s) is not None, timeout=30)
                except TimeoutError:
                    raise AssertionError(f"turn {i} did not finish; {_account(term, log_path)}") from None
