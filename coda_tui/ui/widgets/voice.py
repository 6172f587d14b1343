"""The line above the chat input while a question is spoken: a live level meter, the time
recorded, and what the keys do; then that it is transcribing."""

from __future__ import annotations

from rich.text import Text
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget

METER_W = 24
FLOOR_DB = -60.0  # the meter's left end; speech sits around -30 to -10 dBFS


class VoiceLevel(Message):
    """Posted from the capture thread (post_message is thread-safe), a few times a second."""

    def __init__(self, level_db: float, seconds: float, speaking: bool) -> None:
        super().__init__()
        self.level_db, self.seconds, self.speaking = level_db, seconds, speaking


class VoiceMeter(Widget):
    DEFAULT_CSS = """
    VoiceMeter { height: 1; padding: 0 1; background: $boost; }
    """
    state = reactive("idle")  # idle | recording | transcribing
    level_db = reactive(FLOOR_DB)
    seconds = reactive(0.0)
    speaking = reactive(False)
    model_loading = reactive(False)  # (Widget.loading is taken: it would cover the meter)
    keys = reactive("")

    def on_mount(self) -> None:
        self.display = False

    def watch_state(self, state: str) -> None:
        self.display = state != "idle"

    def render(self) -> Text:
        width = max(20, self.content_size.width)
        out = Text(no_wrap=True, overflow="ellipsis")
        if self.state == "transcribing":
            out.append("◌ transcribing", style="bold")
            out.append(f" {self.seconds:.1f} s of speech…", style="dim")
            return out
        out.append("● REC ", style="bold red")
        out.append(f"{self.seconds:4.1f} s ")
        # The meter takes what is left after the words that must show, up to METER_W.
        meter_w = max(6, min(METER_W, width - 26))
        filled = round(max(0.0, min(1.0, (self.level_db - FLOOR_DB) / -FLOOR_DB)) * meter_w)
        out.append("▕")
        out.append("█" * filled, style="green" if self.speaking else "dim green")
        out.append("░" * (meter_w - filled), style="dim")
        out.append("▏")
        out.append(" speaking" if self.speaking else " listening", style="bold" if self.speaking else "dim")
        out.append(f" {self.level_db:.0f} dB", style="dim")
        if self.model_loading:
            out.append(" · loading the speech model", style="yellow")
        out.append(f" · {self.keys}", style="dim")
        return out

    def on_voice_level(self, message: VoiceLevel) -> None:
        self.level_db, self.seconds, self.speaking = message.level_db, message.seconds, message.speaking
