"""The real `coda` in a real pseudo-terminal, for the TUI benchmarks.

`Term` starts a command on a pty of a given size, reads everything it writes on a thread,
and keeps a small screen model up to date: cursor moves (CUP), text and line controls are
applied to a grid of cells; colours, modes and queries are skipped. That is all a Textual
app writes to draw (it addresses every run of cells with CUP), so `screen.text()` is the
text a user would see. Each output chunk is stamped with `perf_counter()` the moment it is read,
so a wait measures when the app's bytes reached the terminal, not when the poll ran.
"""

from __future__ import annotations

import atexit
import codecs
import fcntl
import os
import re
import select
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
import unicodedata

from common import ROOT

_TOKEN = re.compile(
    r"\x1b\[(?P<csi>[0-?]*)[ -/]*(?P<final>[@-~])"  # CSI
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)"  # OSC
    r"|\x1b[P_^X][^\x1b]*\x1b\\"  # DCS, APC, PM, SOS
    r"|\x1b(?![\[\]P_^X])[ -/]*[0-~]"  # other escapes
    r"|(?P<ctl>[\x00-\x1f\x7f])"
    r"|(?P<text>[^\x00-\x1f\x1b\x7f]+)"
)


def _width(ch: str) -> int:
    if unicodedata.combining(ch):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


class Screen:
    def __init__(self, cols: int, rows: int) -> None:
        self.cols, self.rows = cols, rows
        self.grid = [[" "] * cols for _ in range(rows)]
        self.x = self.y = 0
        self._tail = ""

    def feed(self, text: str) -> None:
        data = self._tail + text
        self._tail = ""
        for m in _TOKEN.finditer(data):
            if m.group("text") is not None:
                self._put(m.group("text"))
            elif m.group("final") is not None:
                self._csi(m.group("csi"), m.group("final"))
            elif m.group("ctl") is not None:
                c = m.group("ctl")
                if c == "\r":
                    self.x = 0
                elif c == "\n":
                    self.y = min(self.rows - 1, self.y + 1)
                elif c == "\b":
                    self.x = max(0, self.x - 1)
                elif c == "\x1b" and len(data) - m.start() < 256:
                    # An escape sequence cut in two by the read: finish it with the next one.
                    self._tail = data[m.start():]
                    return

    def _csi(self, params: str, final: str) -> None:
        if final in "Hf":
            if params.startswith("?"):
                return
            parts = params.split(";")
            row = int(parts[0]) if parts and parts[0].isdigit() else 1
            col = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 1
            self.y, self.x = min(self.rows, max(1, row)) - 1, min(self.cols, max(1, col)) - 1
        elif final == "J" and params in ("2", "3"):
            self.grid = [[" "] * self.cols for _ in range(self.rows)]
        elif final == "K" and params in ("", "0"):
            for x in range(self.x, self.cols):
                self.grid[self.y][x] = " "
        elif final in "ABCD" and not params.startswith("?"):
            n = int(params) if params.isdigit() else 1
            if final == "A":
                self.y = max(0, self.y - n)
            elif final == "B":
                self.y = min(self.rows - 1, self.y + n)
            elif final == "C":
                self.x = min(self.cols - 1, self.x + n)
            else:
                self.x = max(0, self.x - n)

    def _put(self, text: str) -> None:
        row = self.grid[self.y]
        for ch in text:
            w = _width(ch)
            if w == 0:
                continue
            if self.x + w > self.cols:
                continue  # Textual never relies on autowrap
            row[self.x] = ch
            if w == 2:
                row[self.x + 1] = ""
            self.x += w

    def text(self) -> str:
        return "\n".join("".join(r) for r in self.grid)


class Watch:
    def __init__(self, predicate) -> None:
        self.predicate = predicate
        self.at: float | None = None  # perf_counter time the screen first satisfied it


class Term:
    """A command on a pty: `wait_for(pred)` returns the time the screen first satisfied it."""

    def __init__(self, args: list[str], env: dict[str, str], cols: int = 120, rows: int = 40,
                 term: str = "xterm-256color") -> None:
        self.cols, self.rows = cols, rows
        self.screen = Screen(cols, rows)
        self.master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        self._cond = threading.Condition()
        self._chunks: list[tuple[float, str]] = []  # (read at, text), not yet applied
        self.log: list[tuple[float, int]] = []  # (read at, bytes): when output arrived
        self._watches: list[Watch] = []
        self._last_at = 0.0
        self._closed = False
        env = dict(env, TERM=term, COLUMNS=str(cols), LINES=str(rows))
        self.t0 = time.perf_counter()
        self.proc = subprocess.Popen(
            args, stdin=slave, stdout=slave, stderr=slave, env=env, cwd=ROOT, start_new_session=True, close_fds=True
        )
        os.close(slave)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    @property
    def pid(self) -> int:
        return self.proc.pid

    def _read(self) -> None:
        decoder = codecs.getincrementaldecoder("utf-8")("replace")
        while True:
            try:
                ready, _, _ = select.select([self.master], [], [], 0.5)
                if not ready:
                    if self.proc.poll() is not None:
                        break
                    continue
                data = os.read(self.master, 65536)
            except OSError:  # EIO: the child closed the pty
                break
            if not data:
                break
            now = time.perf_counter()
            with self._cond:
                self.log.append((now, len(data)))
                self._chunks.append((now, decoder.decode(data)))
                self._cond.notify_all()
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def send(self, text: str) -> float:
        t = time.perf_counter()
        os.write(self.master, text.encode())
        return t

    def watch(self, predicate) -> "Watch":
        """Note the time the screen first satisfies `predicate`, from the output not yet
        applied on: `wait_for` and `drain` apply output in order and check every watch."""
        w = Watch(predicate)
        if predicate(self.screen.text()):
            w.at = self._last_at
        self._watches.append(w)
        return w

    def _apply_pending(self) -> None:
        while self._chunks:
            at, text = self._chunks.pop(0)
            self.screen.feed(text)
            self._last_at = at
            live = [w for w in self._watches if w.at is None]
            if live:
                screen = self.screen.text()
                for w in live:
                    if w.predicate(screen):
                        w.at = at
        self._watches = [w for w in self._watches if w.at is None]

    def wait_for(self, predicate, timeout: float = 30.0) -> float:
        """The perf_counter time of the output chunk that first made `predicate(screen)`
        true (if it is true already, of the last chunk applied)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            w = self.watch(predicate)
            while True:
                self._apply_pending()
                if w.at is not None:
                    return w.at
                if self._closed:
                    raise RuntimeError(f"the app exited (status {self.proc.poll()}); screen:\n{self.screen.text()}")
                left = deadline - time.monotonic()
                if left <= 0:
                    self._watches.remove(w)
                    raise TimeoutError(f"timed out; the screen was:\n{self.screen.text()}")
                self._cond.wait(min(left, 0.5))

    def arrived(self, text: str) -> float | None:
        """The perf_counter time the first output chunk not yet applied that holds `text`
        arrived (None if none does): for output no screen shows, such as leaving the
        alternate screen."""
        with self._cond:
            return next((at for at, chunk in self._chunks if text in chunk), None)

    def drain(self) -> None:
        """Apply whatever output has arrived so far."""
        with self._cond:
            self._apply_pending()

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                os.write(self.master, b"\x11")  # ctrl+q: quit as a user would
                self.proc.wait(3)
            except (OSError, subprocess.TimeoutExpired):
                pass
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait(5)
        self._reader.join(2)
        try:
            os.close(self.master)
        except OSError:
            pass

    def __enter__(self) -> "Term":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


_PYCACHE: str | None = None


def python_env(base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for a child Python, with its bytecode cached as on a user's machine.

    pip compiles a package's bytecode when it installs it; a shell with
    PYTHONDONTWRITEBYTECODE=1 (as some dev and CI environments have) would instead make
    every start compile coda from source (~60 ms). The cache goes to a temporary
    PYTHONPYCACHEPREFIX, filled by each benchmark's warm-up run, so nothing is written into
    the work tree; it is removed when the benchmark exits.
    """
    global _PYCACHE
    if _PYCACHE is None:
        _PYCACHE = tempfile.mkdtemp(prefix="coda-bench-pyc-")
        atexit.register(shutil.rmtree, _PYCACHE, True)
    env = dict(os.environ if base is None else base)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = _PYCACHE
    return env


def coda_env(data_dir: str, home: str) -> dict[str, str]:
    """A fresh data dir and an empty home: no config, so the embedded model is the default."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CODA_") and k not in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "OLLAMA_HOST")}
    env.update(
        CODA_DATA_DIR=data_dir,
        HOME=home,
        XDG_CONFIG_HOME=os.path.join(home, ".config"),
        XDG_DATA_HOME=os.path.join(home, ".local", "share"),
        XDG_CACHE_HOME=os.path.join(home, ".cache"),
    )
    return python_env(env)


def coda_args(*extra: str) -> list[str]:
    return [sys.executable, "-m", "coda_tui", *extra]


def panes_drawn(screen: str) -> bool:
    """The first frame: all four pane titles and the status bar are on screen."""
    return all(t in screen for t in ("Chat", "Context", "Code", "Pipeline")) and "session:" in screen


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process, in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main_thread_cpu_seconds(pid: int) -> float:
    """utime + stime of a process's main thread (its event loop, in the app), in seconds:
    less noisy than wall-clock latencies on a shared machine."""
    with open(f"/proc/{pid}/task/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0
