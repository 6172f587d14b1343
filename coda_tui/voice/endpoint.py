"""End-of-speech detection on the level of 30 ms frames.

Speech starts after `min_speech_ms` of frames louder than the threshold (a click or a bump
is not speech) and ends after `silence_ms` of quieter frames. A recording also ends at
`max_seconds`, or after `no_speech_seconds` in which nobody spoke. Pure and clock-free: it
counts frames, so tests feed it synthetic audio at any speed.
"""

from __future__ import annotations

from dataclasses import dataclass

from coda_tui.voice.audio import FRAME_MS

STARTED = "started"
SILENCE = "silence"
MAX_LENGTH = "max length"
NO_SPEECH = "no speech"


@dataclass(frozen=True)
class EndpointSettings:
    threshold_db: float = -40.0  # louder than this (dBFS) is speech
    silence_ms: int = 700
    min_speech_ms: int = 120
    max_seconds: float = 30.0
    no_speech_seconds: float = 8.0


class EndpointDetector:
    def __init__(self, settings: EndpointSettings | None = None) -> None:
        self.settings = settings or EndpointSettings()
        self.frames = 0
        self.speech_start: int | None = None  # index of the first speech frame
        self.last_voice: int | None = None  # index of the last speech frame
        self.ended: str | None = None
        self._run = 0

    def feed(self, level_db: float) -> str | None:
        """Take the next frame's level; return STARTED, the reason recording ends, or None."""
        if self.ended:
            return self.ended
        s = self.settings
        index = self.frames
        self.frames += 1
        voiced = level_db > s.threshold_db
        event = None
        if self.speech_start is None:
            self._run = self._run + 1 if voiced else 0
            if self._run * FRAME_MS >= s.min_speech_ms:
                self.speech_start = index - self._run + 1
                self.last_voice = index
                event = STARTED
            elif self.frames * FRAME_MS >= s.no_speech_seconds * 1000:
                self.ended = event = NO_SPEECH
        else:
            if voiced:
                self.last_voice = index
            elif self.silence_ms >= s.silence_ms:
                self.ended = event = SILENCE
        if not self.ended and self.frames * FRAME_MS >= s.max_seconds * 1000:
            self.ended = event = MAX_LENGTH
        return event

    @property
    def in_speech(self) -> bool:
        return self.speech_start is not None

    @property
    def silence_ms(self) -> int:
        """How long it has been quiet since the last speech frame (0 before speech)."""
        if self.last_voice is None:
            return 0
        return (self.frames - 1 - self.last_voice) * FRAME_MS

    def span(self) -> tuple[int, int] | None:
        """Speech as (first frame, frame after the last), or None if nobody spoke."""
        if self.speech_start is None or self.last_voice is None:
            return None
        return self.speech_start, self.last_voice + 1
