"""Typing after a megabyte pasted into the chat input, in a real pty: key echo.

The real `coda` runs on a 120x40 pty (benchmarks/ptyterm.py) with a fresh data dir and an
empty project. A 1 MiB text (17,804 log lines; then, in a second set of runs, one
line of minified JSON) is pasted the way a terminal pastes it, as
one bracketed paste (ESC[200~ … ESC[201~), then a word is typed one key at a time. Each
figure is the time from writing a key to the pty to the output that first shows it on
screen. The first key is measured from the end of the paste, so it includes whatever the
paste itself costs the app (the freeze a user sees); the following keys show whether
the input stays fast with the megabyte in it. Target: every echo within 100 ms.
Three runs, each a fresh app; medians (the machine is shared). --profile OUT records the
first run with py-spy; --screen prints its screen after the typing.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import median, report
from ptyterm import Term, coda_args, coda_env, panes_drawn

SIZE = 1 << 20
RUNS = 3
WORD = "zqxjvk"  # letters the pasted text does not hold, to spot their echo


def pasted_text(one_line: bool) -> str:
    """1 MiB of log lines, or of minified JSON on one line (the slowest for the editor to
    wrap: before the paste was held aside it took ~10 s to show the next key)."""
    line = 0
    parts, size = [], 0
    while size < SIZE:
        if one_line:
            part = f'{{"line": {line}, "module": "m{line % 97}", "seen": 1}}, '
        else:
            part = f"log line {line:05}: something happened in module m{line % 97}, all fine\n"
        parts.append(part)
        size += len(part)
        line += 1
    return "".join(parts)[:SIZE]


def write_all(term: Term, text: str) -> None:
    """os.write may take only part of a megabyte: write until the pty has all of it."""
    data = text.encode()
    while data:
        data = data[os.write(term.master, data):]


def one_run(text: str, profile: str | None, screen: bool) -> tuple[float, float, float, list[float]]:
    """(first key's echo after the paste, the paste's first byte to that echo, the time the
    pty took to take the paste, the following keys' echoes), in ms."""
    with tempfile.TemporaryDirectory() as tmp:
        data, project, home = (Path(tmp, name) for name in ("data", "proj", "home"))
        for d in (data, project, home):
            d.mkdir(mode=0o700)  # private, so no notice about it covers the input
        with Term(coda_args("--project", str(project)), coda_env(str(data), str(home))) as term:
            term.wait_for(panes_drawn, timeout=60)
            time.sleep(0.5)
            spy = None
            if profile:  # py-spy (beside this Python) over the paste and the keys after it
                spy = subprocess.Popen([str(Path(sys.executable).with_name("py-spy")), "record", "--pid", str(term.pid),
                                        "-d", "6", "-f", "raw", "-o", profile, "--nonblocking"])
                time.sleep(1)  # py-spy attaches
            started = time.perf_counter()
            write_all(term, "\x1b[200~" + text + "\x1b[201~")
            written = time.perf_counter()  # the pty has the paste: the app reads it from there
            echoes = []
            for i, key in enumerate(WORD):
                if i:
                    time.sleep(0.05)
                term.drain()
                typed = WORD[: i + 1]
                seen = term.screen.text().count(typed)
                sent_at = term.send(key)
                if not i:
                    sent_at = written  # the first key is timed from the end of the paste
                shown = term.wait_for(lambda s, typed=typed, seen=seen: s.count(typed) > seen, timeout=60)
                echoes.append((shown - sent_at) * 1000)
                if not i:
                    whole = (shown - started) * 1000
            if screen:
                print(term.screen.text())
            if spy is not None:
                spy.wait()
    return echoes[0], whole, (written - started) * 1000, echoes[1:]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=RUNS)
    parser.add_argument("--profile", metavar="OUT", help="record the app with py-spy (raw, collapsed stacks) into OUT")
    parser.add_argument("--screen", action="store_true", help="print the screen after the typing")
    args = parser.parse_args()
    for one_line in (False, True):
        text = pasted_text(one_line)
        assert not any(c in text for c in WORD)
        runs = [one_run(text, args.profile if i == 0 and not one_line else None, args.screen and i == 0)
                for i in range(args.runs)]
        first = [r[0] for r in runs]
        rest = [ms for r in runs for ms in r[3]]
        shape = "one line" if one_line else f"{text.count(chr(10)) + 1:,} lines"
        report(f"tui 1 MiB paste ({shape}): first key echo after it", median(first), "ms", "<= 100 ms",
               f"median of {len(runs)} runs, worst {max(first):.0f} ms; {len(text):,} chars, bracketed paste",
               met=median(first) <= 100)
        report("  from the paste's first byte to that echo", median([r[1] for r in runs]), "ms", "-",
               f"the pty took the paste in {median([r[2] for r in runs]):.0f} ms (Textual's input parser reading it)")
        report("  following keys: slowest echo", max(rest), "ms", "<= 100 ms",
               f"median {median(rest):.0f} ms over {len(rest)} keys", met=max(rest) <= 100)

if __name__ == "__main__":
    main()
