"""Scrolling through big content in the terminal app, in a real pty: the time of each frame.

The real `coda` runs on a 120x40 pty (benchmarks/ptyterm.py) with a fresh data dir holding
one session, "big": a question and a stored 1 MB answer (Markdown prose, lists, headings
and code, ending in a 10,000-line code block), and a project with two files: long.py
(10,000 lines) and wide.py (a 100,000-character line between two short ones).

A frame here is what a user waits for after a scroll key: from writing the key to the pty
to the end of the first output that changes the screen (the app is let settle, 80 ms
without output, before each key; chunks read back to back, under 5 ms apart, count as
one frame split by the pty). Three passes:
- chat: the conversation focused, PageDown ×STEPS, End, PageUp ×STEPS, Home;
- code pane, long.py: PageDown ×STEPS, End, PageUp ×STEPS, Home (the file is opened with
  Ctrl+O first, and the keys start once its last line count is in the gutter);
- code pane, wide.py: Down and Up over the long line, End, Home.
The figure is the slowest frame of all (target: no frame over 100 ms), with the median and
p95 beside it. A key that changes nothing (already at the end) is not a frame. Run once; the machine is shared, so quote medians with that caveat.
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from pathlib import Path

from answers import answer
from common import median, p95, report
from ptyterm import Term, coda_args, coda_env, panes_drawn

STEPS = 25
PAGE_DOWN, PAGE_UP, END, HOME, DOWN, UP = "\x1b[6~", "\x1b[5~", "\x1b[F", "\x1b[H", "\x1b[B", "\x1b[A"
BURST_GAP = 0.005
KEY_NAMES = {PAGE_DOWN: "PageDown", PAGE_UP: "PageUp", END: "End", HOME: "Home", DOWN: "Down", UP: "Up"}


def make_data(root: Path) -> tuple[Path, Path, int]:
    """(data dir, project dir, answer length)."""
    from coda_tui.store import Store

    rng = random.Random(7)
    prose = ""
    while len(prose) < 560_000:
        prose += answer(rng, 6) + "\n\n"
    code = "```python\n" + "".join(f"value_{i} = compute({i}, 'item')  # step {i}\n" for i in range(10_000)) + "```\n"
    text = prose + code
    data, project = root / "data", root / "proj"
    data.mkdir()
    project.mkdir()
    store = Store(data / "coda.db")
    s = store.sessions.create("big")
    store.sessions.add_message(s.id, "user", "everything at once, please")
    store.sessions.add_message(s.id, "assistant", text)
    store.db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    (project / "long.py").write_text("".join(f"def f_{i}(x):\n    return x + {i}\n" for i in range(5_000)))
    (project / "wide.py").write_text("first = 1\nx = '" + "ab" * 50_000 + "'\nlast = 2\n")
    return data, project, len(text)


def settle(term: Term, quiet: float = 0.08) -> None:
    """Wait until the app has written nothing for `quiet` seconds."""
    while True:
        seen = len(term.log)
        time.sleep(quiet)
        if len(term.log) == seen:
            term.drain()
            return


def frame(term: Term, key: str) -> float | None:
    """ms from the key to the end of the frame it caused; None if nothing changed. The app
    is settled first; the frame is the first output that changes the screen, with the
    chunks that follow it back to back (under BURST_GAP apart: one frame split by the pty)."""
    settle(term)
    before = term.screen.text()
    sent = term.send(key)
    try:
        first = term.wait_for(lambda s: s != before, timeout=2.0)
    except TimeoutError:
        return None
    time.sleep(0.05)
    term.drain()
    end = first
    for at, _ in term.log:
        if end < at <= end + BURST_GAP:
            end = at
    return (end - sent) * 1000


def scroll(term: Term, keys: list[str]) -> list[tuple[str, float]]:
    out = []
    for key in keys:
        ms = frame(term, key)
        if ms is not None:
            out.append((KEY_NAMES[key], ms))
    return out


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        data, project, size = make_data(Path(tmp))
        home = Path(tmp, "home")
        home.mkdir()
        env = coda_env(str(data), str(home))
        pages = [PAGE_DOWN] * STEPS + [END] + [PAGE_UP] * STEPS + [HOME]
        with Term(coda_args("--session", "big", "--project", str(project)), env) as term:
            term.wait_for(lambda s: panes_drawn(s) and "characters" in s, timeout=60)
            term.send("\t")  # from the chat input into the conversation
            term.wait_for(lambda s: True)
            chat = scroll(term, pages)
            term.send("\x0f")  # ctrl+o: open a file
            term.wait_for(lambda s: "Open file" in s)
            term.send("long.py")
            term.wait_for(lambda s: "long.py" in s.split("Open file", 1)[-1])
            term.send("\r")
            term.wait_for(lambda s: "def f_0(x):" in s, timeout=30)
            term.send("\x1b2")  # alt+2: the code pane
            code = scroll(term, pages)
            term.send("\x0f")
            term.wait_for(lambda s: "Open file" in s)
            term.send("wide.py")
            term.wait_for(lambda s: "wide.py" in s.split("Open file", 1)[-1])
            term.send("\r")
            term.wait_for(lambda s: "first = 1" in s and "last = 2" in s, timeout=30)
            term.send("\x1b2")
            wide = scroll(term, [DOWN, DOWN, UP, UP, END, HOME] * 3)
    frames = [ms for _, ms in chat + code + wide]
    if not frames:
        sys.exit("no frames measured")
    report("tui scrolling big content: slowest frame", max(frames), "ms", "<= 100 ms",
           f"{len(frames)} frames; a {size / 1e6:.1f} MB answer, 10,000 lines, a 100,000-char line", met=max(frames) <= 100)
    report("  median frame", median(frames), "ms", "-", f"p95 {p95(frames):.0f} ms")
    for name, part in (("chat (stored 1 MB answer)", chat), ("code pane, 10,000 lines", code), ("code pane, 100,000-char line", wide)):
        if part:
            ms = [m for _, m in part]
            worst = max(part, key=lambda kv: kv[1])
            report(f"  {name}: slowest", worst[1], "ms", "-",
                   f"on {worst[0]}; median {median(ms):.0f} ms, {len(ms)} frames")

if __name__ == "__main__":
    main()
