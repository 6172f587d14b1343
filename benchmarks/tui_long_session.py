"""Long sessions in the terminal app, in a real pty: opening one of 5,000 messages, and
living through 200 turns (below). `python tui_long_session.py turns` runs only the latter.

A database is made once with coda's own store (its migrations, FTS triggers and all): one
session, "long", of 5,000 messages alternating question and answer (answers are Markdown
of 1 to 12 blocks: prose, lists, headings and fenced code, 1.4 KB on average; questions
of 1 to 3 sentences), and one of 10 messages, "short", for comparison (coda mounts only a
window of a session's newest messages, 24 when this was written: the long session fills
it, the short one does not). The last answer of each ends with a word
found nowhere else. Each run copies the database into a fresh data dir, with an empty home
(no config: the embedded model is the provider, and is not loaded), and starts
`coda --session NAME` on a 120x40 pty (benchmarks/ptyterm.py).

The figure is the time until the last message's final word is on the screen (with the
four panes drawn), measured two ways in the same runs:
- from spawn (the headline): what the user waits from launch, interpreter start and
  imports included. Baseline: Elia opening the same 5,000 messages (below).
- from app start: coda is started through benchmarks/coda_timed.py, which imports what
  `coda` imports, notes the time, then runs coda's main(); so this is config, database,
  loading the session, compose, mount and paint.
One warm-up run of each session, then ROUNDS runs each; medians quoted.

Elia (benchmarks/peers.py installs it under the cache) gets the same 5,000 messages as
one chat in its own database (made by benchmarks/elia_db.py with Elia's schema code) and
is started on a pty the same way; the chat is opened as a user would (Tab to the history
list, Enter), and the time runs from spawn to the last message's final word on screen.
One run: it is slow. When it has not shown the word after ELIA_LIMIT seconds the
baseline is that limit, a lower bound, and the row says so.

A long session as it is lived: TURNS questions typed one after another into one app on a
120x40 pty, as a user would (each once the previous turn's row is in the pipeline's
history), the provider a loopback OpenAI-format server in its own process
(benchmarks/stream_server.py) answering each with a TURN_TOKENS-token Markdown answer at
full speed. (This ran headless, App.run_test, while a pty run could stall between turns 70
and 110; that stall was found and fixed, see tests/e2e/test_long_session.py.) Figures:
- resident memory (VmRSS of the app's process) after TURNS turns, against the same process
  after 10 (the baseline): target <= 1.3x; after 50 and 100 turns too, as the curve.
- quitting after TURNS turns: from ctrl+q to the terminal restored (the app leaving the
  alternate screen). Target <= 0.5 s; beside it, the same after 10 turns in a second app.
  The process is gone later (stores closed, interpreter teardown): noted beside it.
"""

from __future__ import annotations

import json
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from answers import answer, question
from common import median, report, skip
from peers import ELIA_VENV, elia, elia_drawn, elia_env
from ptyterm import Term, coda_args, coda_env, panes_drawn, rss_kib
from stream_server import StreamServer
from tui_stream import write_config

HERE = Path(__file__).resolve().parent
ROUNDS = 5
SESSIONS = {"long": 5000, "short": 10}
LAST = {"long": "qzxLONG", "short": "qzxSHORT"}
ELIA_LIMIT = 90.0
TURNS = 200
TURN_TOKENS = 150
# Turns after which resident memory is also noted (the figure's curve).
CHECKPOINTS = (10, 50, 100)


def make_database(path: Path, keep: list | None = None) -> dict[str, int]:
    """The database, made with coda's store; returns each session's message count. The
    long session's (role, content) pairs are appended to `keep` when given."""
    from coda_tui.store import Store
    from coda_tui.store.db import now

    rng = random.Random(11)
    store = Store(path)
    counts = {}
    with store.db.conn:
        for name, n in SESSIONS.items():
            session = store.sessions.create(name)
            rows = []
            for i in range(n):
                ts = now()
                if i % 2 == 0:
                    rows.append((session.id, "user", question(rng), "complete", None, None, None, None, ts, ts))
                else:
                    text = answer(rng, rng.choice([1, 2, 3, 4, 6, 8, 12]))
                    if i == n - 1:
                        text += f"\nThat is all: {LAST[name]}\n"
                    rows.append((session.id, "assistant", text, "complete", "local", "SmolLM2-135M-Instruct.Q4_1",
                                 30, rng.randint(50, 600), ts, ts))
            if keep is not None and name == "long":
                keep.extend((r[1], r[2]) for r in rows)
            store.db.conn.executemany(
                "INSERT INTO messages (session_id, role, content, status, provider, model, prompt_tokens,"
                " completion_tokens, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
    for name in SESSIONS:
        session = store.sessions.find(name)
        counts[name] = store.sessions.message_count(session.id)
    store.db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    return counts


def once(tmp: str, template: Path, name: str, i: int) -> tuple[float, float]:
    """(from app start, from spawn) to the last message on screen, in ms."""
    run = Path(tmp, f"{name}{i}")
    (run / "data").mkdir(parents=True)
    (run / "home").mkdir()
    shutil.copy(template, run / "data" / "coda.db")
    env = coda_env(str(run / "data"), str(run / "home"))
    env["CODA_BENCH_T0"] = str(run / "t0")
    args = [sys.executable, str(HERE / "coda_timed.py"), "--session", name]
    marker = LAST[name]
    with Term(args, env) as term:
        shown = term.wait_for(lambda s: marker in s and panes_drawn(s))
        t0 = float((run / "t0").read_text())
        return (shown - t0) * 1000, (shown - term.t0) * 1000


def elia_once(tmp: str, messages: list) -> tuple[float | None, str]:
    """(ms from spawn to the last message on screen, None past ELIA_LIMIT), or (None, why not)."""
    exe, why = elia()
    if exe is None:
        return None, why
    home = Path(tmp, "elia-home")
    home.mkdir()
    env = elia_env(str(home))
    subprocess.run([str(ELIA_VENV / "bin" / "python"), str(HERE / "elia_db.py")], input=json.dumps(messages), text=True,
                   env=env, check=True, capture_output=True)
    with Term([str(exe)], env) as term:
        term.wait_for(elia_drawn)
        time.sleep(0.3)
        term.send("\t")  # from the input to the history list
        time.sleep(0.3)
        term.send("\r")
        try:
            return (term.wait_for(lambda s: LAST["long"] in s, timeout=ELIA_LIMIT) - term.t0) * 1000, ""
        except TimeoutError:
            return None, ""


def session_run(tmp: str, name: str, srv: StreamServer, turns: int) -> dict:
    """`turns` questions typed one after another into one app on a 120x40 pty, each sent
    once the previous turn's row is in the pipeline's history; returns VmRSS (MiB) after
    CHECKPOINTS turns and after the last one, and the time (ms) from ctrl+q to the process
    gone."""
    where = Path(tmp, f"turns-{name}")
    (where / "project").mkdir(parents=True)
    (where / "project" / "cache.py").write_text("def get(key):\n    return None\n")
    env = coda_env(str(where / "data"), str(where / "home"))
    env["CODA_CONFIG_PATH"] = write_config(str(where), srv.url)
    rss: dict[int, float] = {}
    with Term(coda_args("--project", str(where / "project")), env) as term:
        term.wait_for(lambda s: panes_drawn(s) and "srv/fake-model" in s, timeout=60)
        for i in range(1, turns + 1):
            term.send(f"question {i}: how does the cache work?\r")
            # The turn is over when its row is in the pipeline's history (turns count from 1).
            row = re.compile(rf"│ {i} +[\d,-]+ +[\d,-]+ ")
            term.wait_for(lambda s, row=row: row.search(s) is not None, timeout=60)
            if i in CHECKPOINTS or i == turns:
                time.sleep(0.5)  # the last frames drawn, the turn stored
                rss[i] = rss_kib(term.pid) / 1024
        term.drain()
        t = term.send("\x11")  # ctrl+q
        term.proc.wait(30)
        exit_ms = (time.perf_counter() - t) * 1000
        # The terminal is the user's again when the app leaves the alternate screen.
        restored = term.arrived("\x1b[?1049l")
        quit_ms = (restored - t) * 1000 if restored is not None else exit_ms
    return {"rss10": rss[10], "rss": rss[turns], "quit_ms": quit_ms, "exit_ms": exit_ms,
            "curve": {str(k): round(v, 1) for k, v in sorted(rss.items())}}


def long_sessions(tmp: str) -> None:
    with StreamServer(TURN_TOKENS, 0.0, "qzxEND", group=10) as srv:
        short = session_run(tmp, "short", srv, 10)
        long = session_run(tmp, "long", srv, TURNS)
    report(f"tui resident memory after {TURNS} turns vs after 10", long["rss"], "MiB", "<= 1.3x",
           f"one app, {TURN_TOKENS}-token answers; {(long['rss'] - long['rss10']) / (TURNS - 10) * 1024:.0f} KiB a turn",
           baseline=long["rss10"], baseline_name="after 10", met=long["rss"] <= 1.3 * long["rss10"])
    curve = ", ".join(f"{k}: {v:.0f}" for k, v in long["curve"].items())
    report("  resident memory (MiB) after turns", long["rss"], "MiB", "-", curve)
    report(f"tui quit after {TURNS} turns (ctrl+q to terminal back)", long["quit_ms"], "ms", "<= 500 ms",
           f"baseline: another app after 10 turns; process gone after {long['exit_ms']:,.0f} ms "
           f"({short['exit_ms']:,.0f} ms after 10)", baseline=short["quit_ms"], baseline_name="after 10",
           met=long["quit_ms"] <= 500)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        long_sessions(tmp)
    if sys.argv[1:] == ["turns"]:
        return
    with tempfile.TemporaryDirectory() as tmp:
        template = Path(tmp, "template.db")
        messages: list = []
        counts = make_database(template, messages)
        db_mb = template.stat().st_size / 1e6
        results = {}
        for name in SESSIONS:
            once(tmp, template, name, -1)
            results[name] = [once(tmp, template, name, i) for i in range(ROUNDS)]
        peer, why = elia_once(tmp, messages)
    long_app = [r[0] for r in results["long"]]
    long_spawn = [r[1] for r in results["long"]]
    short_app = [r[0] for r in results["short"]]
    short_spawn = [r[1] for r in results["short"]]
    title = f"tui {counts['long']:,}-message session, spawn to last message"
    note = f"{ROUNDS} runs, {db_mb:.1f} MB database; max {max(long_spawn):.0f} ms"
    if peer is not None:
        report(f"{title} vs Elia", median(long_spawn), "ms", "<= 1x Elia", note, baseline=peer, baseline_name="Elia",
               met=median(long_spawn) <= peer)
    elif not why:
        report(f"{title} vs Elia", median(long_spawn), "ms", "<= 1x Elia", note + f"; Elia had not shown it after "
               f"{ELIA_LIMIT:.0f} s: its figure is a lower bound", baseline=ELIA_LIMIT * 1000,
               baseline_name="Elia (> limit)", met=True)
    else:
        report(title, median(long_spawn), "ms", "-", note)
        skip(f"{title}: Elia", why)
    report("  same, from app start (interpreter + imports left out)", median(long_app), "ms", "-")
    report(f"  {counts['short']}-message session: app start to last message", median(short_app), "ms", "-")
    report(f"  {counts['short']}-message session: from spawn", median(short_spawn), "ms", "-")
    report("  long minus short session, from app start", median(long_app) - median(short_app), "ms", "-")


if __name__ == "__main__":
    main()
