"""End-of-speech detection on synthetic audio: the detector alone, then through PortAudio."""

from __future__ import annotations

from coda_tui.voice import audio
from coda_tui.voice.audio import FRAME_MS, FRAME_SAMPLES
from coda_tui.voice.capture import STOPPED, Recorder
from coda_tui.voice.endpoint import (
    MAX_LENGTH,
    NO_SPEECH,
    SILENCE,
    STARTED,
    EndpointDetector,
    EndpointSettings,
)
from tests.audio import RATE, silence, tone


def feed(detector: EndpointDetector, samples) -> list[tuple[int, str]]:
    events = []
    for i in range(0, len(samples) - FRAME_SAMPLES + 1, FRAME_SAMPLES):
        frame = audio.to_float(samples[i:i + FRAME_SAMPLES].astype("<i2").tobytes())
        event = detector.feed(audio.level_db(frame))
        if event:
            events.append((i // FRAME_SAMPLES, event))
            if event != STARTED:
                break
    return events


def test_tone_then_silence_ends_after_the_configured_quiet():
    settings = EndpointSettings(silence_ms=600)
    detector = EndpointDetector(settings)
    samples = __import__("numpy").concatenate([silence(0.9), tone(1.5), silence(3.0)])
    events = feed(detector, samples)
    assert [e for _, e in events] == [STARTED, SILENCE]
    first, last = detector.span()
    # The tone runs from 0.9 s to 2.4 s: frames 30..79.
    assert first * FRAME_MS == 900
    assert last * FRAME_MS == 2400
    # It ends 600 ms of quiet after the tone, not before.
    end_frame = events[-1][0]
    assert (end_frame + 1 - last) * FRAME_MS == 600


def test_a_click_is_not_speech_and_quiet_thresholds_are_respected():
    import numpy as np

    detector = EndpointDetector(EndpointSettings(no_speech_seconds=2.0))
    # 60 ms of loud click, then a tone quieter than the threshold: nobody spoke.
    events = feed(detector, np.concatenate([tone(0.06, dbfs=-6), tone(3.0, dbfs=-55)]))
    assert events == [(66, NO_SPEECH)]
    assert detector.span() is None


def test_a_pause_shorter_than_the_silence_keeps_recording_and_max_length_stops_it():
    import numpy as np

    detector = EndpointDetector(EndpointSettings(silence_ms=700, max_seconds=4.0))
    samples = np.concatenate([tone(1.0), silence(0.5), tone(1.0), silence(0.3), tone(5.0)])
    events = feed(detector, samples)
    assert [e for _, e in events] == [STARTED, MAX_LENGTH]
    assert events[-1][0] + 1 == -(-4000 // FRAME_MS)  # the first frame that reaches 4 s


def test_end_of_speech_through_portaudio(microphone):
    import numpy as np

    microphone.play(silence(0.5), tone(2.0, dbfs=-20), silence(3.0))
    levels = []
    rec = Recorder(EndpointSettings(silence_ms=500), on_level=lambda db, s, speaking: levels.append(db)).record()
    assert rec.ended_by == SILENCE
    start, end = rec.speech
    assert abs(start / RATE - 0.5) <= 0.03 and abs(end / RATE - 2.5) <= 0.03
    # 0.5 s of quiet after the tone, then it stopped; the meter saw the tone's level.
    assert abs(rec.audio_s - 3.0) <= 0.06
    assert max(levels) > -25 and min(levels) < -100
    # What was recorded is what the device gave.
    recorded = np.frombuffer(rec.pcm, dtype="<i2")
    assert np.array_equal(recorded[: RATE // 2], silence(0.5))


def test_push_to_talk_stop_ends_the_recording(microphone):
    import threading

    microphone.play(tone(60.0, dbfs=-20))
    recorder = Recorder(EndpointSettings(max_seconds=120))
    seen = threading.Event()

    def level(db, seconds, speaking):
        if seconds >= 1.0:
            seen.set()
            recorder.stop()

    recorder.on_level = level
    rec = recorder.record()
    assert seen.is_set() and rec.ended_by == STOPPED
    assert 1.0 <= rec.audio_s < 1.2
