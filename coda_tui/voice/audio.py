"""The one audio format coda works in — 16 kHz mono, 16-bit PCM, what Whisper expects — and
small conversions around it."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from coda_tui.voice.errors import INSTALL_HINT, AudioFileError, VoiceUnavailable

RATE = 16_000
SAMPLE_BYTES = 2
# 30 ms frames: short enough that the end of speech is seen promptly, long enough that a
# frame's level means something.
FRAME_MS = 30
FRAME_SAMPLES = RATE * FRAME_MS // 1000
SILENCE_DB = -120.0


def to_float(pcm: bytes) -> np.ndarray:
    """16-bit little-endian PCM to float32 in [-1, 1]."""
    return np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0


def level_db(samples: np.ndarray) -> float:
    """The RMS level in dB relative to full scale (0 dBFS is the loudest; silence is very negative)."""
    if samples.size == 0:
        return SILENCE_DB
    rms = float(np.sqrt(np.mean(np.square(samples, dtype=np.float64))))
    return max(SILENCE_DB, 20 * math.log10(rms)) if rms > 0 else SILENCE_DB


def seconds(samples: np.ndarray | bytes) -> float:
    n = len(samples) // SAMPLE_BYTES if isinstance(samples, bytes) else samples.size
    return n / RATE


def load(path: str | Path) -> np.ndarray:
    """Decode any file faster-whisper's decoder (PyAV/FFmpeg) reads — wav, flac, mp3, ogg,
    m4a… — to 16 kHz mono float32."""
    path = Path(path)
    if not path.is_file():
        raise AudioFileError(f"{path}: no such file")
    try:
        from faster_whisper.audio import decode_audio
    except ImportError:
        raise VoiceUnavailable("faster-whisper is not installed", INSTALL_HINT) from None
    try:
        audio = decode_audio(str(path), sampling_rate=RATE)
    except Exception as exc:  # noqa: BLE001 - PyAV raises many types; all mean "cannot decode"
        raise AudioFileError(f"{path}: cannot decode it as audio ({type(exc).__name__}: {exc})",
                             "give a wav, flac, mp3, ogg or another format FFmpeg reads") from None
    if audio.size == 0:
        raise AudioFileError(f"{path}: the file holds no audio")
    return audio
