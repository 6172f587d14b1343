"""Real audio without a microphone: ALSA's default capture device becomes the `file` plugin
reading a raw 16 kHz mono file, in an .asoundrc under the test's own HOME. PortAudio opens
it like any device; speech comes from espeak-ng, converted by sox."""

from __future__ import annotations

import fcntl
import os
import queue
import shutil
import subprocess
import threading
import time
from pathlib import Path

import numpy as np
import pytest

RATE = 16_000

ASOUNDRC = """
pcm.!default {{
  type asym
  capture.pcm "speech"
  playback.pcm "null"
}}
pcm.speech {{
  type file
  slave.pcm "null"
  file "/dev/null"
  infile "{infile}"
  format "raw"
}}
"""


def _need(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        pytest.fail(f"{tool} is not installed (scripts/install.sh installs it with apt)")
    return path


def silence(seconds: float) -> np.ndarray:
    return np.zeros(int(RATE * seconds), dtype=np.int16)


def tone(seconds: float, hz: float = 440.0, dbfs: float = -12.0) -> np.ndarray:
    t = np.arange(int(RATE * seconds)) / RATE
    return (np.sin(2 * np.pi * hz * t) * 32767 * 10 ** (dbfs / 20)).astype(np.int16)


def speech(text: str, tmp: Path) -> np.ndarray:
    """`text` spoken by espeak-ng, as 16 kHz mono 16-bit samples."""
    wav, raw = tmp / "espeak.wav", tmp / "espeak.raw"
    subprocess.run([_need("espeak-ng"), "-v", "en-us", "-s", "140", "-w", str(wav), text], check=True)
    subprocess.run([_need("sox"), str(wav), "-r", str(RATE), "-c", "1", "-b", "16", "-e", "signed-integer", str(raw)],
                   check=True)
    samples = np.fromfile(raw, dtype="<i2")
    # espeak pads its output with quiet; trimmed, the gaps a test puts between phrases are exact.
    loud = np.flatnonzero(np.abs(samples) > 300)
    return samples[loud[0]: loud[-1] + 1] if loud.size else samples


class Microphone:
    """What the default input device will 'hear'."""

    def __init__(self, home: Path, tmp: Path) -> None:
        self.home = home
        self.tmp = tmp
        self.infile = tmp / "microphone.raw"

    def play(self, *parts: np.ndarray) -> Path:
        np.concatenate(parts).astype("<i2").tofile(self.infile)
        (self.home / ".asoundrc").write_text(ASOUNDRC.format(infile=self.infile))
        return self.infile

    def say(self, text: str, before: float = 0.6, after: float = 2.5) -> np.ndarray:
        spoken = speech(text, self.tmp)
        self.play(silence(before), spoken, silence(after))
        return spoken


F_SETPIPE_SZ = 1031  # fcntl.F_SETPIPE_SZ, named in Python only from 3.10 on some builds
CHUNK_S = 0.03


class LiveMicrophone(Microphone):
    """A microphone in real time: the device reads a FIFO that a thread fills at 16 kHz,
    with silence until `say()` queues speech. The pipe holds only a few frames, so what is
    queued is heard when it is played, not earlier: end-of-speech timings are real."""

    def __init__(self, home: Path, tmp: Path) -> None:
        super().__init__(home, tmp)
        self.infile = tmp / "microphone.fifo"
        os.mkfifo(self.infile)
        (self.home / ".asoundrc").write_text(ASOUNDRC.format(infile=self.infile))
        # Read-write: opening never blocks, and readers (PortAudio probes, then the
        # recording) can come and go.
        self._fd = os.open(self.infile, os.O_RDWR | os.O_NONBLOCK)
        fcntl.fcntl(self._fd, F_SETPIPE_SZ, 4096)
        self._queue: queue.Queue[np.ndarray] = queue.Queue()
        self._stop = threading.Event()
        self.last_speech_at: float | None = None  # perf_counter when the last queued speech was written
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def say(self, text: str, before: float = 0.0, after: float = 0.0) -> np.ndarray:
        spoken = speech(text, self.tmp)
        self.queue(spoken)
        return spoken

    def queue(self, samples: np.ndarray) -> None:
        self._queue.put(samples.astype("<i2"))

    def _run(self) -> None:
        n = int(RATE * CHUNK_S)
        pending = np.zeros(0, dtype="<i2")
        started = time.perf_counter()
        sent = 0
        while not self._stop.is_set():
            if pending.size == 0:
                try:
                    pending = self._queue.get_nowait()
                except queue.Empty:
                    pending = np.zeros(n, dtype="<i2")
                    speaking = False
                else:
                    speaking = True
            chunk, pending = pending[:n], pending[n:]
            try:
                os.write(self._fd, chunk.tobytes())
            except BlockingIOError:
                pass  # nobody is recording: the sound is lost, as in a room
            if speaking and pending.size == 0:
                self.last_speech_at = time.perf_counter()
                speaking = False
            sent += 1
            delay = started + sent * CHUNK_S - time.perf_counter()
            if delay > 0:
                time.sleep(delay)

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        os.close(self._fd)


@pytest.fixture
def microphone(isolated) -> Microphone:
    home = Path(os.environ["HOME"])
    return Microphone(home, isolated)


@pytest.fixture
def live_microphone(isolated):
    mic = LiveMicrophone(Path(os.environ["HOME"]), isolated)
    yield mic
    mic.close()


def words(text: str) -> set[str]:
    return {w.strip(".,?!'\"").lower() for w in text.split()}
