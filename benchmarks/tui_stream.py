"""Typing while a long answer streams, and how far the view is behind when it ends.

A loopback server in OpenAI's wire format (tests/servers.py) streams a 3,500-token Markdown
answer (prose, lists, headings, code blocks; 15.8 K characters, within the chat's display cap
of messages.SHOW_CHARS, so its last word is drawn) at up to 500 tokens/s (2 ms between chunks; the
rate reached is reported). The app is the real `coda` in a real 120x40 pty (see
benchmarks/ptyterm.py), configured to use that server, with a fresh data dir and home.

- keystroke to echo: while the answer streams, a key is typed into the chat input every
  KEY_EVERY seconds (or as soon as the previous one is echoed, if that took longer):
  alternately "§" and Backspace. Each latency runs from writing the key to the pty to the
  app's output that shows "§" on the screen (or no longer shows it). This is the whole
  path a user feels: the terminal input thread, the app's message queue (which waits
  behind whatever the event loop is doing: parsing the stream, Markdown, layout, painting),
  the TextArea, and the next frame written to the terminal. Target: p95 <= 50 ms.
- view behind at the end: from the server writing the last token (a word found nowhere
  else) to the app's output that shows that word on the screen. The app receives the token
  within a fraction of a millisecond of the write unless its loop is busy, which is part of
  what is measured. Target: <= 100 ms.

A second pass runs the app inside this process (App.run_test, headless; the server stays in
a process of its own, so it sends at the same rate) and reads the figures the issue names off
the app itself: from the pipeline's TurnFinished event to the answer's Markdown widget
holding the full text (`Markdown.source`, polled every 5 ms), and from posting a Key event
to the app (what Pilot.press does) to the key being in ChatInput.text (polled every 1 ms).
Those are lower bounds, not the figures to quote: the headless driver writes no frames;
Markdown.source is set when a fragment is handed to the widget, before it is parsed, laid
out and drawn; and a key is posted only when the measuring coroutine gets the event loop,
i.e. just after the loop finished a piece of work, never in the middle of a long frame as
a key typed at a random moment often is. The gap between the two passes is the cost of
the frames.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from pathlib import Path

from answers import streamed_answer
from common import median, p95, report, skip
from ptyterm import (
    Term,
    coda_args,
    coda_env,
    main_thread_cpu_seconds,
    panes_drawn,
    python_env,
)
from stream_server import StreamServer

N_TOKENS = 3500
DELAY = 0.002  # 500 tokens/s
KEY_EVERY = 0.05
MARKER = "qzxEND"
KEY = "§"
PTY_ROUNDS = 3


def write_config(tmp: str, url: str) -> str:
    path = os.path.join(tmp, "config.toml")
    with open(path, "w") as f:
        f.write(f'[general]\nprovider = "srv"\n[providers.srv]\ntype = "openai"\nbase_url = "{url}/v1"\n'
                f'model = "fake-model"\nmax_retries = 0\nmax_tokens = 8192\n')
    os.chmod(path, 0o600)
    return path


# --- in a real pty -----------------------------------------------------------------------


def pty_round(tmp: str, i: int, srv: StreamServer, cfg: str) -> tuple[list[float], float, float, float]:
    """Echo latencies (ms), how far the view was behind at the end (ms), the rate reached
    (tok/s), and the app's main-thread CPU seconds from the question to the last word drawn."""
    home = os.path.join(tmp, f"home{i}")
    os.makedirs(home)
    env = coda_env(os.path.join(tmp, f"data{i}"), home)
    env["CODA_CONFIG_PATH"] = cfg
    latencies: list[float] = []
    with Term(coda_args(), env) as term:
        term.wait_for(panes_drawn)
        term.wait_for(lambda s: "srv/fake-model" in s)
        srv.reset()
        cpu = main_thread_cpu_seconds(term.pid)
        term.send("Explain how the cache works, with code\r")
        if not srv.started.wait(15):
            raise RuntimeError(f"the stream did not start; screen:\n{term.screen.text()}")
        end = term.watch(lambda s: MARKER in s)
        shown = False
        while not srv.finished.is_set():
            sent = term.send("\x7f" if shown else KEY)
            shown = not shown
            echoed = term.wait_for((lambda s: KEY in s) if shown else (lambda s: KEY not in s), timeout=10)
            latencies.append((echoed - sent) * 1000)
            pause = sent + KEY_EVERY - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
        shown_at = term.wait_for(lambda s: MARKER in s, timeout=30) if end.at is None else end.at
        behind = (shown_at - srv.last) * 1000
        return latencies, behind, srv.rate, main_thread_cpu_seconds(term.pid) - cpu


# --- in process ----------------------------------------------------------------------------


async def in_process(tmp: str, cfg: str) -> tuple[list[float], float]:
    from coda_tui.core.runtime import Runtime

    project = Path(tmp, "project")
    project.mkdir()
    saved = dict(os.environ)
    os.environ.update(coda_env(os.path.join(tmp, "data-inproc"), os.path.join(tmp, "home-inproc")))
    os.environ["CODA_CONFIG_PATH"] = cfg
    try:
        return await _in_process(Runtime(cfg), project)
    finally:
        os.environ.clear()
        os.environ.update(saved)


async def _in_process(rt, project: Path) -> tuple[list[float], float]:
    from textual import events
    from textual.widgets import Markdown

    from coda_tui.core import events as ev
    from coda_tui.textsafe import inert
    from coda_tui.ui.app import CodaApp
    from coda_tui.ui.widgets.chat import ChatInput
    from coda_tui.ui.widgets.messages import MessageView

    app = CodaApp(rt, project=project)
    first: list[float] = []
    finished: list[float] = []

    def on_event(e) -> None:
        if isinstance(e, ev.TokenChunk) and not first:
            first.append(time.perf_counter())
        elif isinstance(e, ev.TurnFinished):
            finished.append(time.perf_counter())

    rt.bus.subscribe(on_event)
    full = inert("".join(streamed_answer(N_TOKENS, MARKER)))
    latencies: list[float] = []
    async with app.run_test(size=(120, 40)) as pilot:
        chat = app.query_one(ChatInput)
        chat.focus()
        chat.load_text("Explain how the cache works, with code")
        await pilot.press("enter")
        while not first:
            await asyncio.sleep(0.005)
        view = [v for v in app.query(MessageView) if v.role == "assistant"][-1]
        shown = False
        while not finished:
            sent = time.perf_counter()
            key = "backspace" if shown else KEY
            app._driver.send_message(events.Key(key, None if shown else KEY))
            shown = not shown
            while (KEY in chat.text) != shown:
                if time.perf_counter() - sent > 10:
                    raise RuntimeError("a key was not handled in 10 s")
                await asyncio.sleep(0.001)
            latencies.append((time.perf_counter() - sent) * 1000)
            pause = sent + KEY_EVERY - time.perf_counter()
            if pause > 0:
                await asyncio.sleep(pause)
        # A long answer is written into several Markdown documents, one after another.
        while "".join(m.source for m in view.query(Markdown)) != full:
            if time.perf_counter() - finished[0] > 30:
                raise RuntimeError("the answer's Markdown never held the full text")
            await asyncio.sleep(0.005)
        behind = (time.perf_counter() - finished[0]) * 1000
    rt.close()
    return latencies, behind


# --- one update, alone --------------------------------------------------------------------


async def update_cost(step: int = 300) -> list[float]:
    """CPU seconds of the main thread for each update of the answer, written STEP characters
    at a time into a chat alone on a headless screen, each update laid out and painted
    before the next: what an update costs the loop, without the stream, keys or load."""
    from textual.app import App

    from coda_tui.ui.widgets.messages import MessageList, MessageView

    class Chat(App):
        def compose(self):
            yield MessageList()

    text = "".join(streamed_answer(N_TOKENS, MARKER))
    costs = []
    app = Chat()
    async with app.run_test(size=(100, 40)) as pilot:
        chat = app.query_one(MessageList)
        await chat.add(MessageView("user", "Explain how the cache works, with code"))
        view = await chat.add(MessageView("assistant", "", status="partial"))
        await pilot.pause()
        for i in range(0, len(text), step):
            t = time.thread_time()
            view.append(text[i : i + step])
            await view._flush(hold=False)
            await pilot.pause()
            await pilot.pause()
            costs.append(time.thread_time() - t)
        await view.finish("complete", "")
    return costs


def _report_pty(lat_pty: list[float], behind_pty: list[float], rates: list[float], cpus: list[float],
                lost: list[str]) -> None:
    note = f"{len(lat_pty)} keys over {len(rates)} streams of {N_TOKENS} tokens at {median(rates):.0f} tok/s"
    if lost:
        note += f"; {len(lost)} round(s) lost: {lost[0]}"
    report("tui keystroke to echo while streaming (p95)", p95(lat_pty), "ms", "<= 50 ms", note, met=p95(lat_pty) <= 50)
    report("  keystroke to echo while streaming (median)", median(lat_pty), "ms", "-", f"max {max(lat_pty):.0f} ms")
    report("tui view behind at the end of the stream", median(behind_pty), "ms", "<= 100 ms",
           f"last token written to it on screen; median of {len(behind_pty)}, max {max(behind_pty):.0f} ms",
           met=median(behind_pty) <= 100)
    report("  app main-thread CPU for the answer (median)", median(cpus), "s", "-",
           f"question sent to last word drawn; per round: {', '.join(f'{c:.2f}' for c in cpus)}")


def main() -> None:
    from coda_tui.ui.widgets.messages import SHOW_CHARS

    size = len("".join(streamed_answer(N_TOKENS, MARKER)))
    if size > SHOW_CHARS:
        raise SystemExit(f"the answer ({size:,} characters) is longer than the chat shows ({SHOW_CHARS:,}): its end is never drawn")
    lat_pty: list[float] = []
    behind_pty: list[float] = []
    rates: list[float] = []
    cpus: list[float] = []
    with tempfile.TemporaryDirectory() as tmp, StreamServer(N_TOKENS, DELAY, MARKER, python_env()) as srv:
        cfg = write_config(tmp, srv.url)
        lost = []
        for i in range(PTY_ROUNDS):
            try:
                lat, behind, rate, cpu = pty_round(tmp, i, srv, cfg)
            except (RuntimeError, TimeoutError) as exc:
                # Now and then the app exits (status 0) during a round, before and after the
                # stream changes of issue 19 alike; on a machine loaded by other work a round
                # can also time out. Such a round is left out and counted in the row.
                lost.append(str(exc).splitlines()[0])
                continue
            lat_pty += lat
            behind_pty.append(behind)
            rates.append(rate)
            cpus.append(cpu)
        if not rates:
            raise SystemExit(f"no round finished: {lost[0]}")
        # The pty figures are printed before the in-process pass, which may fail on its own.
        _report_pty(lat_pty, behind_pty, rates, cpus, lost)
        costs = asyncio.run(update_cost())
        last = costs[-len(costs) // 3 :]
        report("  one Markdown update, last third of the answer (mean CPU)", sum(last) / len(last) * 1000, "ms", "-",
               f"headless, {len(costs)} updates of 300 characters; all: {sum(costs):.2f} s")
        srv.reset()
        try:
            lat_in, behind_in = asyncio.run(in_process(tmp, cfg))
        except RuntimeError as exc:
            skip("  in process: key to ChatInput.text (p95)", str(exc))
            return
        rate_in = srv.rate
    report("  in process: key to ChatInput.text (p95)", p95(lat_in), "ms", "-",
           f"{len(lat_in)} keys at {rate_in:.0f} tok/s; headless, before any frame")
    report("  in process: key to ChatInput.text (median)", median(lat_in), "ms", "-")
    report("  in process: TurnFinished to Markdown.source full", behind_in, "ms", "-", "headless; source, not yet drawn")


if __name__ == "__main__":
    main()
