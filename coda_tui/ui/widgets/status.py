"""The status bar: provider, model and its health, the session, the turn's state."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from coda_tui.textsafe import inert


class StatusBar(Widget):
    DEFAULT_CSS = """
    StatusBar { height: 1; background: $panel; color: $foreground; padding: 0 1; }
    """
    provider = reactive("")
    model = reactive("")
    health = reactive("checking")  # checking | ok | down
    health_detail = reactive("")
    circuit = reactive("closed")  # closed | open | half_open: the provider's circuit breaker
    session = reactive("")
    activity = reactive("")
    hint = reactive("F1 help · ctrl+p commands")

    def render(self) -> Text:
        dot = {"ok": ("●", "green"), "down": ("●", "red")}.get(self.health, ("○", "yellow"))
        out = Text(no_wrap=True, overflow="ellipsis")
        out.append(dot[0] + " ", style=dot[1])
        out.append(inert(f"{self.provider}/{self.model}"), style="bold")
        if self.circuit != "closed":
            out.append(f" circuit {self.circuit.replace('_', '-')}", style="red" if self.circuit == "open" else "yellow")
        if self.health == "down" and self.health_detail:
            out.append(f" ({inert(self.health_detail)[:60]})", style="red")
        out.append("  │  session: ")
        out.append(inert(self.session) or "new", style="bold")
        if self.activity:
            # Activity quotes outside text (a server's error, a device's name).
            out.append("  │  " + inert(self.activity))
        out.append("  │  " + self.hint, style="dim")
        return out
