"""Real audio without a microphone: ALSA's default capture device becomes the `file` plugin
reading a raw 16 kHz mono file, in an .asoundrc under the test's own HOME. PortAudio opens
it like any device; speech comes from espeak-ng, converted by sox."""

from __future__ import annotations

import os
import shutil
import subprocess
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


@pytest.fixture
def microphone(isolated) -> Microphone:
    home = Path(os.environ["HOME"])
    return Microphone(home, isolated)


def words(text: str) -> set[str]:
    return {w.strip(".,?!'\"").lower() for w in text.split()}
