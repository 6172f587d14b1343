"""Recording one spoken question from the input device with PyAudio, 16 kHz mono.

`Recorder.record()` blocks (run it in a thread) until the end of speech, the maximum
length, `stop()` (push-to-talk pressed again) or `cancel()`. It reports each frame's level
for a meter, and the first moment of quiet after speech so that transcription can start
before the end is certain (see core/listen.py).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from coda_tui.voice import audio
from coda_tui.voice.audio import FRAME_MS, FRAME_SAMPLES, RATE, SAMPLE_BYTES
from coda_tui.voice.endpoint import STARTED, EndpointDetector, EndpointSettings
from coda_tui.voice.errors import (
    INSTALL_HINT,
    DeviceBusy,
    NoInputDevice,
    VoiceError,
    VoiceUnavailable,
)
from coda_tui.voice.quiet import native_stderr_quiet

STOPPED = "stopped"
CANCELLED = "cancelled"
# Quiet after speech before a provisional transcription starts. Shorter means the text is
# ready sooner after the last word; longer means fewer transcriptions thrown away at pauses
# inside a sentence (a queued one is dropped when a newer pause comes, see core/listen.py).
SPECULATE_AFTER_MS = 150
# PortAudio error codes (portaudio.h) that mean "this device, not now".
_PA_DEVICE_UNAVAILABLE = -9985
_PA_INVALID_DEVICE = -9996
_PA_INVALID_RATE = -9997

Level = Callable[[float, float, bool], None]  # level dBFS, seconds recorded, speaking?
Pause = Callable[["Recording"], None]


@dataclass
class InputDevice:
    index: int
    name: str
    rate: int
    default: bool = False


@dataclass
class Recording:
    pcm: bytes
    speech: tuple[int, int] | None  # sample range of the speech, if anybody spoke
    ended_by: str
    device: str
    started_at: float  # perf_counter values
    ended_at: float
    last_voice_at: float | None = None

    @property
    def audio_s(self) -> float:
        return len(self.pcm) / SAMPLE_BYTES / RATE

    @property
    def speech_s(self) -> float:
        return (self.speech[1] - self.speech[0]) / RATE if self.speech else 0.0

    def speech_audio(self, pad_ms: int = 300) -> np.ndarray:
        """The speech with a little air around it: Whisper invents words in long silences."""
        samples = audio.to_float(self.pcm)
        if not self.speech:
            return samples
        pad = RATE * pad_ms // 1000
        return samples[max(0, self.speech[0] - pad): self.speech[1] + pad]


def _pyaudio():
    try:
        import pyaudio
    except ImportError:
        raise VoiceUnavailable("PyAudio is not installed", INSTALL_HINT) from None
    return pyaudio


def input_devices() -> list[InputDevice]:
    """The devices that can record, the default marked. Raises VoiceUnavailable without PyAudio."""
    pyaudio = _pyaudio()
    with native_stderr_quiet():
        pa = pyaudio.PyAudio()
    try:
        return _devices(pa)
    finally:
        with native_stderr_quiet():
            pa.terminate()


def _devices(pa) -> list[InputDevice]:
    try:
        default = pa.get_default_input_device_info()["index"]
    except OSError:
        default = None
    found = []
    for i in range(pa.get_device_count()):
        info = pa.get_device_info_by_index(i)
        if info.get("maxInputChannels", 0) > 0:
            found.append(InputDevice(i, str(info["name"]), int(info["defaultSampleRate"]), default == i))
    return found


def choose_device(devices: list[InputDevice], wanted: str) -> InputDevice:
    """`wanted`: "" for the default, a device index, or part of a device's name."""
    if not devices:
        raise NoInputDevice("no audio input device found", "connect a microphone, or check ALSA/PulseAudio (`arecord -l`)")
    if not wanted:
        for d in devices:
            if d.default:
                return d
        return devices[0]
    if wanted.strip().isdigit():
        for d in devices:
            if d.index == int(wanted):
                return d
    else:
        for d in devices:
            if wanted.lower() in d.name.lower():
                return d
    names = ", ".join(f"{d.index}: {d.name}" for d in devices)
    raise NoInputDevice(f"no input device matches {wanted!r} (voice.input_device)", f"the input devices are: {names}")


class Recorder:
    def __init__(
        self,
        settings: EndpointSettings | None = None,
        device: str = "",
        on_level: Level | None = None,
        on_pause: Pause | None = None,
    ) -> None:
        self.settings = settings or EndpointSettings()
        self.wanted_device = device
        self.on_level = on_level
        self.on_pause = on_pause
        self._stop = threading.Event()
        self._cancel = threading.Event()

    def stop(self) -> None:
        self._stop.set()

    def cancel(self) -> None:
        self._cancel.set()
        self._stop.set()

    def record(self) -> Recording:
        pyaudio = _pyaudio()
        with native_stderr_quiet():
            pa = pyaudio.PyAudio()
        try:
            stream, device, rate = self._open(pa, pyaudio)
            try:
                return self._read(stream, device, rate)
            finally:
                with native_stderr_quiet():
                    stream.stop_stream()
                    stream.close()
        finally:
            with native_stderr_quiet():
                pa.terminate()

    def _open(self, pa, pyaudio):
        device = choose_device(_devices(pa), self.wanted_device)
        # 16 kHz where the device takes it (ALSA's "default" resamples); else its own rate,
        # resampled here.
        for rate in dict.fromkeys((RATE, device.rate)):
            try:
                with native_stderr_quiet():
                    stream = pa.open(format=pyaudio.paInt16, channels=1, rate=rate, input=True,
                                     input_device_index=device.index,
                                     frames_per_buffer=FRAME_SAMPLES * rate // RATE)
                return stream, device, rate
            except OSError as exc:
                code = exc.args[0] if exc.args and isinstance(exc.args[0], int) else None
                if code == _PA_INVALID_RATE and rate != device.rate:
                    continue
                if code == _PA_DEVICE_UNAVAILABLE:
                    raise DeviceBusy(f"the input device {device.name!r} is busy or unavailable",
                                     "close the program using it, or choose another with voice.input_device") from None
                if code == _PA_INVALID_DEVICE:
                    raise NoInputDevice(f"the input device {device.name!r} cannot record", str(exc)) from None
                raise VoiceError(f"cannot open the input device {device.name!r}: {exc}") from None
        raise VoiceError(f"the input device {device.name!r} takes neither {RATE} Hz nor its own rate")

    def _read(self, stream, device: InputDevice, rate: int) -> Recording:
        detector = EndpointDetector(self.settings)
        chunks: list[bytes] = []
        per_read = FRAME_SAMPLES * rate // RATE
        started = time.perf_counter()
        last_voice_at = None
        paused = False
        ended_by = None
        while ended_by is None:
            if self._stop.is_set():
                ended_by = CANCELLED if self._cancel.is_set() else STOPPED
                break
            try:
                raw = stream.read(per_read, exception_on_overflow=False)
            except OSError as exc:
                raise VoiceError(f"recording from {device.name!r} failed: {exc}") from None
            frame = _resample(raw, rate) if rate != RATE else raw
            chunks.append(frame)
            level = audio.level_db(audio.to_float(frame))
            event = detector.feed(level)
            now = time.perf_counter()
            if detector.in_speech and detector.silence_ms == 0:
                last_voice_at, paused = now, False
            if event not in (None, STARTED):
                ended_by = event
            if self.on_level:
                self.on_level(level, detector.frames * FRAME_MS / 1000, detector.in_speech and detector.silence_ms == 0)
            if (self.on_pause and not paused and ended_by is None and detector.in_speech
                    and detector.silence_ms >= SPECULATE_AFTER_MS):
                paused = True
                self.on_pause(self._recording(chunks, detector, "pause", device, started, now, last_voice_at))
        return self._recording(chunks, detector, ended_by, device, started, time.perf_counter(), last_voice_at)

    @staticmethod
    def _recording(chunks, detector, ended_by, device, started, ended, last_voice_at) -> Recording:
        span = detector.span()
        speech = (span[0] * FRAME_SAMPLES, span[1] * FRAME_SAMPLES) if span else None
        return Recording(b"".join(chunks), speech, ended_by, device.name, started, ended, last_voice_at)


def _resample(raw: bytes, rate: int) -> bytes:
    samples = np.frombuffer(raw, dtype="<i2").astype(np.float32)
    n = max(1, round(samples.size * RATE / rate))
    out = np.interp(np.linspace(0, samples.size - 1, n), np.arange(samples.size), samples)
    return out.astype("<i2").tobytes()


def probe(device: InputDevice) -> None:
    """Open `device` for a moment: raises DeviceBusy / NoInputDevice as recording would."""
    pyaudio = _pyaudio()
    with native_stderr_quiet():
        pa = pyaudio.PyAudio()
    try:
        recorder = Recorder(device=str(device.index))
        stream, _, _ = recorder._open(pa, pyaudio)
        with native_stderr_quiet():
            stream.close()
    finally:
        with native_stderr_quiet():
            pa.terminate()
