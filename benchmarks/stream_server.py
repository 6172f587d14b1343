"""The loopback OpenAI-format server of tests/servers.py, streaming a long answer, in a
process of its own: a server thread inside the measuring process would share its GIL with
the app (in-process runs) or the terminal reader, and send slower than asked.

Run as `python stream_server.py N_TOKENS DELAY MARKER [GROUP]` (GROUP tokens to an event,
as servers that batch their output send them); serves until its stdin closes;
prints `url URL`, then for each answer `first T` and `last T`, the perf_counter times (CLOCK_MONOTONIC, the same clock in
every process on Linux) at which its first and last token were written. `StreamServer`
starts it and reads those lines.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from common import ROOT  # noqa: E402


class StreamServer:
    def __init__(self, n_tokens: int, delay: float, marker: str, env: dict[str, str] | None = None, group: int = 1) -> None:
        self.n_tokens = n_tokens
        self.proc = subprocess.Popen(
            [sys.executable, str(HERE / "stream_server.py"), str(n_tokens), str(delay), marker, str(group)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT, env=env,
        )
        line = self.proc.stdout.readline().split()
        if not line or line[0] != "url":
            self.close()
            raise RuntimeError("the stream server did not start")
        self.url = line[1]
        self.first = self.last = 0.0
        self.answers = 0  # answers sent to the end so far
        self.started = threading.Event()
        self.finished = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            kind, value = line.split()
            if kind == "first":
                self.first = float(value)
                self.started.set()
            elif kind == "last":
                self.last = float(value)
                self.answers += 1
                self.finished.set()

    def reset(self) -> None:
        self.started.clear()
        self.finished.clear()

    @property
    def rate(self) -> float:
        """Tokens a second, first to last."""
        return (self.n_tokens - 1) / max(self.last - self.first, 1e-6)

    def close(self) -> None:
        self.proc.stdin.close()
        try:
            self.proc.wait(2)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def __enter__(self) -> "StreamServer":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _serve(n_tokens: int, delay: float, marker: str, group: int) -> None:
    from answers import streamed_answer

    from tests.servers import Action, OpenAIServer

    class TimedServer(OpenAIServer):
        def post(self, h, body, action: Action) -> None:
            write, n, count = h._chunk, len(action.chunks), [0]

            def chunk(data: bytes) -> None:
                write(data)
                count[0] += 1
                if count[0] == 1:
                    print("first", time.perf_counter(), flush=True)
                elif count[0] == n:
                    print("last", time.perf_counter(), flush=True)

            h._chunk = chunk
            super().post(h, body, action)

    tokens = streamed_answer(n_tokens, marker)
    chunks = ["".join(tokens[i:i + group]) for i in range(0, len(tokens) - 1, group)] + tokens[-1:]
    with TimedServer([Action(chunks=chunks, delay=delay, usage=(40, n_tokens))]) as srv:
        print("url", srv.url, flush=True)
        sys.stdin.read()  # until the parent closes the pipe (or dies)


if __name__ == "__main__":
    _serve(int(sys.argv[1]), float(sys.argv[2]), sys.argv[3], int(sys.argv[4]) if len(sys.argv) > 4 else 1)
