"""One spoken question: capture → stt, timed as two stages on one clock.

Transcription starts provisionally at the first pause after speech (capture.py reports
it), while the recorder waits to be sure speech has ended. If nobody speaks again, that
transcript is the answer and is ready about when the end of speech is decided, instead of a
full transcription later; if speech resumes, it is thrown away. The speech model loads
alongside the first recording when it is not loaded yet.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from coda_tui.config import VoiceConfig
from coda_tui.core.events import Event, VoiceFailed, VoiceFinished, VoiceStarted
from coda_tui.core.tracer import Tracer
from coda_tui.store.traces import StageRecord
from coda_tui.voice import audio
from coda_tui.voice.capture import CANCELLED, Level, Recorder, Recording
from coda_tui.voice.endpoint import EndpointSettings
from coda_tui.voice.errors import VoiceError
from coda_tui.voice.whisper import SpeechModel, Transcript


@dataclass
class Utterance:
    text: str
    recording: Recording
    transcript: Transcript | None  # None when nobody spoke
    # Milliseconds from the last frame of speech to the text: what a speaker waits.
    end_to_text_ms: float | None
    speculative: bool
    load_ms: float
    stages: list[StageRecord] = field(default_factory=list)  # capture, stt; 0 = recording began
    started_at: float = 0.0  # perf_counter when recording began
    text_at: float = 0.0  # perf_counter when the text was ready


def settings_from(config: VoiceConfig) -> EndpointSettings:
    return EndpointSettings(
        threshold_db=-abs(config.threshold_db),
        silence_ms=config.silence_ms,
        max_seconds=config.max_seconds,
        no_speech_seconds=config.no_speech_seconds,
    )


def model_from(config: VoiceConfig) -> SpeechModel:
    return SpeechModel(config.model, config.device, config.compute_type, config.language, config.beam_size)


class Listener:
    """Shared by every recording of a run: the speech model is loaded once."""

    def __init__(self, config: VoiceConfig, model: SpeechModel | None = None) -> None:
        self.config = config
        self.model = model or model_from(config)
        # One worker: the model's own threads use the cores; two transcriptions at once
        # would only slow each other down.
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="coda-stt")
        self._recorder: Recorder | None = None
        self._lock = threading.Lock()

    @property
    def recording(self) -> bool:
        return self._recorder is not None

    def preload(self) -> Future:
        return self._pool.submit(self.model.load)

    def stop(self) -> None:
        """End the recording now (push-to-talk pressed again); what was said is transcribed."""
        with self._lock:
            if self._recorder:
                self._recorder.stop()

    def cancel(self) -> None:
        with self._lock:
            if self._recorder:
                self._recorder.cancel()

    def close(self) -> None:
        """Cancel a recording and drop queued transcriptions (one already running finishes)."""
        self.cancel()
        self._pool.shutdown(wait=False, cancel_futures=True)

    def transcribe_file(self, path: str | Path) -> Transcript:
        samples = audio.load(path)
        self.model.load()
        return self.model.transcribe(samples)

    def listen(self, publish: Callable[[Event], None], on_level: Level | None = None) -> Utterance | None:
        """Record until the end of speech and transcribe; blocks (call it from a thread).
        Returns None when cancelled. Errors are published as VoiceFailed and raised."""
        try:
            return self._listen(publish, on_level)
        except VoiceError as exc:
            publish(VoiceFailed(exc.render(), exc.kind))
            raise

    def _listen(self, publish: Callable[[Event], None], on_level: Level | None) -> Utterance | None:
        loading = None if self.model.loaded else self._pool.submit(self.model.load)
        provisional: dict = {}

        def on_pause(so_far: Recording) -> None:
            if loading is not None and loading.done() and loading.exception() is not None:
                return  # no model: the error is reported when the recording ends
            older = provisional.get("future")
            if older is not None:
                older.cancel()  # still queued behind a running one: it would only be thrown away
            provisional.update(span=so_far.speech, at=time.perf_counter(),
                               future=self._pool.submit(self.model.transcribe, so_far.speech_audio()))

        recorder = Recorder(settings_from(self.config), self.config.input_device, on_level, on_pause)
        with self._lock:
            self._recorder = recorder
        started = time.perf_counter()
        tracer = Tracer(publish, t0=started)
        publish(VoiceStarted(self.model.name, loading is not None))
        capture = tracer.begin("capture", 0.0)
        try:
            rec = recorder.record()
        finally:
            with self._lock:
                self._recorder = None
        capture.summary = (f"{rec.audio_s:.1f} s recorded from {rec.device}, speech {rec.speech_s:.1f} s, "
                           f"ended by {rec.ended_by}")
        capture.detail = {"audio_s": rec.audio_s, "speech_s": rec.speech_s, "ended_by": rec.ended_by, "device": rec.device}
        tracer.end(capture, tracer.ms_at(rec.ended_at))
        if rec.ended_by == CANCELLED:
            return None
        load_s = loading.result() if loading is not None else 0.0  # raises the model's error, if any

        future = provisional.get("future")
        speculative = future is not None and provisional.get("span") == rec.speech
        stt_start = provisional["at"] if speculative else time.perf_counter()
        stt = tracer.begin("stt", tracer.ms_at(stt_start))
        transcript = None
        if rec.speech:
            transcript = future.result() if speculative else self._pool.submit(self.model.transcribe, rec.speech_audio()).result()
        text_at = time.perf_counter()
        end_to_text = (text_at - rec.last_voice_at) * 1000 if rec.last_voice_at else None
        decided_to_text = (text_at - rec.ended_at) * 1000
        text = transcript.text if transcript else ""
        if transcript:
            stt.summary = (f"{self.model.name}: {transcript.audio_s:.1f} s of speech in {transcript.seconds * 1000:.0f} ms "
                           f"(RTF {transcript.rtf:.2f}); end of speech → text {end_to_text:.0f} ms"
                           + (", provisional transcript kept" if speculative else ""))
        else:
            stt.summary = "nobody spoke: nothing to transcribe"
        if load_s:
            stt.summary += f"; model loaded in {load_s * 1000:.0f} ms"
        stt.detail = {"model": self.model.name, "audio_s": transcript.audio_s if transcript else 0.0,
                      "rtf": transcript.rtf if transcript else None,
                      "transcribe_ms": transcript.seconds * 1000 if transcript else 0.0,
                      "end_of_speech_to_text_ms": end_to_text, "decided_to_text_ms": decided_to_text,
                      "provisional": speculative, "load_ms": load_s * 1000, "chars": len(text)}
        tracer.end(stt, tracer.ms_at(text_at))
        utterance = Utterance(text, rec, transcript, end_to_text, speculative, load_s * 1000,
                              list(tracer.stages), started, text_at)
        publish(VoiceFinished(utterance))
        return utterance
