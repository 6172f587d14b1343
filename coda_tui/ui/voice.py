"""Push-to-talk in the app: the key starts a recording and stops it; the transcript lands
in the chat input for review (or is sent, with voice.send_immediately).

Recording and transcription run in a thread worker (core.listen blocks); what they publish
comes back to the event loop as messages, and the meter gets its levels the same way,
throttled. The speech model is shared by every recording of the run.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from textual.app import App
from textual.message import Message

from coda_tui.core import events as ev
from coda_tui.ui.widgets.voice import VoiceLevel, VoiceMeter

if TYPE_CHECKING:
    from coda_tui.config import VoiceConfig
    from coda_tui.core.listen import Listener, Utterance

LEVEL_EVERY_S = 0.06


class VoiceEvent(Message):
    def __init__(self, event: ev.Event) -> None:
        super().__init__()
        self.event = event


class PushToTalk:
    """`host` is used through Textual's own App API only (workers, messages, the widgets it
    draws in); what coda decides (the voice settings, the key that stops) is given here."""

    def __init__(self, host: App, voice: VoiceConfig, talk_keys: str) -> None:
        self.host = host
        self.config = voice
        self.talk_keys = talk_keys
        self.listener: Listener | None = None
        # The last transcript put in the input: the next question sent carries its stages.
        self.spoken: Utterance | None = None
        self._timer = None

    @property
    def meter(self) -> VoiceMeter:
        return self.host.query_one(VoiceMeter)

    @property
    def busy(self) -> bool:
        return any(w.group == "voice" and not w.is_finished for w in self.host.workers)

    def _listener(self) -> Listener:
        if self.listener is None:
            from coda_tui.core.listen import Listener

            self.listener = Listener(self.config)
        return self.listener

    def preload(self) -> None:
        """Load the speech model in the background (voice.preload), off the UI thread."""
        self._listener().preload()

    def toggle(self) -> None:
        listener = self.listener
        if listener is not None and listener.recording:
            listener.stop()
            return
        if self.busy:
            self.host.notify("Still transcribing the last recording.", severity="warning")
            return
        self.host.run_worker(self._record, group="voice", thread=True, exit_on_error=False)

    def cancel(self) -> bool:
        """Esc while recording throws the recording away. True if there was one."""
        if self.listener is not None and self.listener.recording:
            self.listener.cancel()
            return True
        return False

    def close(self) -> None:
        """The app is quitting: stop a recording, and let no transcription hold the exit."""
        if self.listener is not None:
            self.listener.close()

    def _record(self) -> None:
        from coda_tui.voice.errors import VoiceError

        last = [0.0]
        meter = self.meter

        def level(db: float, seconds: float, speaking: bool) -> None:
            now = time.monotonic()
            if now - last[0] >= LEVEL_EVERY_S:
                last[0] = now
                meter.post_message(VoiceLevel(db, seconds, speaking))

        try:
            listener = self._listener()
            if listener.listen(lambda event: self.host.post_message(VoiceEvent(event)), level) is None:
                self.host.post_message(VoiceEvent(ev.VoiceFinished(None)))  # cancelled
        except VoiceError:
            pass  # published as VoiceFailed: shown on the loop
        except ImportError as exc:  # numpy, faster-whisper or PyAudio missing: the voice extra
            from coda_tui.voice.errors import INSTALL_HINT

            missing = exc.name or str(exc)
            self.host.post_message(VoiceEvent(ev.VoiceFailed(f"{missing} is not installed — {INSTALL_HINT}",
                                                            "voice unavailable")))
        except Exception as exc:  # noqa: BLE001 - a voice failure must not take the app down
            self.host.post_message(VoiceEvent(ev.VoiceFailed(f"{type(exc).__name__}: {exc}", "voice")))

    # --- on the event loop ---------------------------------------------------------------

    def handle(self, event: ev.Event) -> None:
        from coda_tui.ui.widgets.chat import ChatInput
        from coda_tui.ui.widgets.pipeline import PipelinePane
        from coda_tui.ui.widgets.status import StatusBar

        waterfall = self.host.query_one(PipelinePane).waterfall
        status = self.host.query_one(StatusBar)
        meter = self.meter
        if isinstance(event, ev.VoiceStarted):
            meter.keys = f"{self.talk_keys.replace(',', '/')} stops · esc cancels"
            meter.model_loading, meter.seconds, meter.state = event.loading, 0.0, "recording"
            status.activity = "recording… (speak, then pause)"
            waterfall.start(f"voice · {event.model}", status="recording")
            self._timer = self.host.set_interval(1 / 10, waterfall.refresh)
        elif isinstance(event, ev.StageStarted) and event.name == "stt":
            meter.state, meter.model_loading = "transcribing", False
            status.activity = "transcribing…"
            waterfall.status = "transcribing"
            waterfall.stage_started(event.name, event.start_ms)
        elif isinstance(event, ev.StageStarted):
            waterfall.stage_started(event.name, event.start_ms)
        elif isinstance(event, ev.StageFinished):
            waterfall.stage_finished(event.name, event.start_ms, event.duration_ms, event.summary)
            if event.name == "capture":
                meter.state = "transcribing"
                meter.seconds = event.detail.get("speech_s", 0.0)
        elif isinstance(event, ev.VoiceFinished):
            self._stop_live()
            u: Utterance | None = event.utterance
            meter.state = "idle"
            if u is None:
                self.spoken = None
                status.activity = "recording cancelled"
                waterfall.settle("cancelled")
                return
            if not u.text:
                status.activity = f"heard no speech (recording ended by {u.recording.ended_by})"
                waterfall.settle("no speech")
                return
            chat = self.host.query_one(ChatInput)
            before = chat.text
            chat.insert((" " if before and not before.endswith((" ", "\n")) else "") + u.text)
            self.spoken = u
            took = f"end of speech → text {u.end_to_text_ms:.0f} ms" if u.end_to_text_ms is not None else ""
            waterfall.settle(f"transcribed · {took}" if took else "transcribed")
            status.activity = f"transcribed {u.recording.speech_s:.1f} s of speech" + (f" · {took}" if took else "")
            chat.focus()
            if self.config.send_immediately:
                chat.action_send()
        elif isinstance(event, ev.VoiceFailed):
            self._stop_live()
            meter.state = "idle"
            status.activity = f"voice: {event.error[:80]}"
            waterfall.settle(f"voice failed: {event.kind}")
            self.host.notify(event.error, title="Voice input", severity="error", timeout=8)

    def _stop_live(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None

    def take_spoken(self) -> Utterance | None:
        """The transcript's stages go with the next question sent, once."""
        spoken, self.spoken = self.spoken, None
        return spoken
