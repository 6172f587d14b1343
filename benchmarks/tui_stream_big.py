"""A 1 MB answer at full speed: what it costs the app, side by side with Elia.

A loopback server in OpenAI's wire format (benchmarks/stream_server.py, a process of its
own) sends a ~1.1 MB Markdown answer as fast as it can write, GROUP tokens (~80
characters) to an event, as a fast server does. The app runs in a real 120x40 pty
(benchmarks/ptyterm.py), configured to use that server, its first frame drawn and left to
settle; then the question is typed and sent, and for WINDOW seconds from then a key is
typed into the app's input every KEY_EVERY seconds (or as soon as the previous one shows),
alternately "§" and Backspace.

- CPU: utime + stime of the app's process (all threads) over the window, from the
  server's first byte (Elia imports litellm after the question is sent; that is not the
  answer's cost). The same window for both apps, so an app still busy with the answer at
  the end of it is charged for the whole window. Target: coda <= Elia.
- keystroke to echo (p95), all keys in the window: from writing the key to the pty to the
  output that shows (or no longer shows) it; a key not shown within KEY_TIMEOUT counts as
  KEY_TIMEOUT. Target <= 50 ms. Also split into keys sent while the server was still
  sending ("during") and after.

Elia (benchmarks/peers.py installs it into its own virtualenv under the cache) gets the
same server as an OpenAI-compatible model in its config file. One warm-up round of each
first (bytecode compiled and lazily imported modules cached, as on a used machine: see
ptyterm.python_env), then runs alternate (coda, Elia, coda, ...); medians are quoted.
"""

from __future__ import annotations

import os
import tempfile
import time

from common import median, p95, report, skip
from peers import elia, elia_drawn, elia_env
from ptyterm import Term, coda_args, coda_env, cpu_seconds, panes_drawn, python_env
from stream_server import StreamServer
from tui_stream import write_config

N_TOKENS = 260_000  # ~1.1 MB
GROUP = 18
MARKER = "qzxEND"
WINDOW = 8.0
KEY_EVERY = 0.05
KEY_TIMEOUT = 3.0
KEY = "§"
ROUNDS = 2
QUESTION = "Explain how the cache works, with code"


def elia_config(home: str, url: str) -> None:
    path = os.path.join(home, ".config", "elia")
    os.makedirs(path)
    with open(os.path.join(path, "config.toml"), "w") as f:
        f.write(f'default_model = "bench"\n[[models]]\nid = "bench"\nname = "openai/fake-model"\n'
                f'api_base = "{url}/v1"\napi_key = "not-needed"\n')


def stream_round(term: Term, srv: StreamServer, send: str) -> tuple[float, list[float], list[float]]:
    """(CPU seconds, echo ms during the stream, echo ms after it) over WINDOW."""
    time.sleep(1.0)  # settled
    srv.reset()
    term.send(QUESTION)
    time.sleep(0.2)
    term.send(send)
    if not srv.started.wait(30):
        raise RuntimeError(f"the stream did not start; screen:\n{term.screen.text()}")
    c0, t0 = cpu_seconds(term.pid), time.perf_counter()
    during: list[float] = []
    after: list[float] = []
    shown = False
    while time.perf_counter() - t0 < WINDOW:
        sent = term.send("\x7f" if shown else KEY)
        shown = not shown
        try:
            echoed = term.wait_for((lambda s: KEY in s) if shown else (lambda s: KEY not in s), timeout=KEY_TIMEOUT)
            ms = (echoed - sent) * 1000
        except TimeoutError:
            ms = KEY_TIMEOUT * 1000
        (after if srv.finished.is_set() and srv.last < sent else during).append(ms)
        pause = sent + KEY_EVERY - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
    left = WINDOW - (time.perf_counter() - t0)
    if left > 0:
        time.sleep(left)
    return cpu_seconds(term.pid) - c0, during, after


def main() -> None:
    elia_exe, why_not = elia()
    coda_runs, elia_runs = [], []
    with tempfile.TemporaryDirectory() as tmp, StreamServer(N_TOKENS, 0.0, MARKER, python_env(), group=GROUP) as srv:
        cfg = write_config(tmp, srv.url)
        for i in range(-1, ROUNDS):
            home = os.path.join(tmp, f"home{i}")
            os.makedirs(home)
            env = coda_env(os.path.join(tmp, f"data{i}"), home)
            env["CODA_CONFIG_PATH"] = cfg
            with Term(coda_args(), env) as term:
                term.wait_for(panes_drawn)
                term.wait_for(lambda s: "srv/fake-model" in s)
                figures = stream_round(term, srv, "\r")
                if i >= 0:
                    coda_runs.append(figures)
            if elia_exe:
                home = os.path.join(tmp, f"elia{i}")
                os.makedirs(home)
                elia_config(home, srv.url)
                with Term([str(elia_exe)], elia_env(home)) as term:
                    term.wait_for(elia_drawn)
                    figures = stream_round(term, srv, "\n")  # ctrl+j sends in Elia
                    if i >= 0:
                        elia_runs.append(figures)
        rate = srv.rate
    cpu = median([r[0] for r in coda_runs])
    keys = [ms for r in coda_runs for ms in r[1] + r[2]]
    during = [ms for r in coda_runs for ms in r[1]]
    after = [ms for r in coda_runs for ms in r[2]]
    note = f"{ROUNDS} runs, {WINDOW:.0f} s from sending; server at {rate:,.0f} tok/s"
    if elia_runs:
        peer = median([r[0] for r in elia_runs])
        report("tui 1 MB answer at full speed: CPU vs Elia", cpu, "s", "<= 1x Elia", note,
               baseline=peer, baseline_name="Elia", met=cpu <= peer)
    else:
        skip("tui 1 MB answer at full speed: CPU vs Elia", why_not)
    report("tui 1 MB answer: keystroke to echo (p95)", p95(keys), "ms", "<= 50 ms", f"{len(keys)} keys",
           met=p95(keys) <= 50)
    if during:
        report("  keys while the server sends (p95)", p95(during), "ms", "-", f"{len(during)} keys")
    if after:
        report("  keys after it sent the last token (p95)", p95(after), "ms", "-", f"{len(after)} keys")
    peer_keys = [ms for r in elia_runs for ms in r[1] + r[2]]
    if peer_keys:
        report("  Elia, same keys (p95)", p95(peer_keys), "ms", "-", f"{len(peer_keys)} keys, capped at {KEY_TIMEOUT:.0f} s")


if __name__ == "__main__":
    main()
