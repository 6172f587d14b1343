"""The status bar: provider, model and its health, the session and what it cost so far,
the turn's state."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from coda_tui.core import events as ev
from coda_tui.core.choice import label
from coda_tui.providers.pricing import CostTotal, stage_costs
from coda_tui.textsafe import inert
from coda_tui.ui.dispatch import Dispatcher


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
    cost = reactive("")  # the session's running cost: "$0.0123", "local, $0", "cost unknown"
    activity = reactive("")
    hint = reactive("F1 help · ctrl+p commands")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._cost_session: int | None = None
        self._costs = CostTotal()

    def follow(self, events: Dispatcher, retry_key: str) -> None:
        """Say what the running turn is doing, and the state of the provider it shows."""
        self._retry_key = retry_key
        events.on(ev.TurnStarted, lambda e: setattr(self, "activity", "answering… (Esc cancels)"))
        events.on(ev.Retrying, lambda e: setattr(self, "activity", f"retrying in {e.delay_s:.1f} s: {e.reason[:60]}"))
        events.on(ev.FallingBack, self._falling_back)
        events.on(ev.ProviderStatus, self._provider_status)
        events.on(ev.TurnFinished, self._turn_finished)

    def _falling_back(self, event: ev.FallingBack) -> None:
        target = event.next_provider + (f"/{event.next_model}" if event.next_model else "")
        self.activity = f"{event.provider} failed, asking {target}: {event.reason[:50]}"

    def _provider_status(self, event: ev.ProviderStatus) -> None:
        if event.provider == self.provider:
            self.circuit = event.breaker
            if event.health != "unknown":
                self.health, self.health_detail = event.health, event.detail

    def session_cost(self, session_id: int | None, costs: list[dict]) -> None:
        """Start the running cost of the session shown from its model calls so far."""
        self._cost_session, self._costs = session_id, CostTotal.of(costs)
        self.cost = self._costs.label()

    def _turn_finished(self, event: ev.TurnFinished) -> None:
        if event.session_id != self._cost_session:
            self.session_cost(event.session_id, [])  # a session the turn itself created
        for cost in stage_costs(event.trace.stages):
            self._costs.add(cost)
        self.cost = self._costs.label()
        self.activity = {"complete": "", "cancelled": "cancelled: the partial answer is kept"}.get(
            event.status, ("failed" if event.status == "error" else "cut short") + f": {self._retry_key} retries"
        )

    def render(self) -> Text:
        dot = {"ok": ("●", "green"), "down": ("●", "red")}.get(self.health, ("○", "yellow"))
        out = Text(no_wrap=True, overflow="ellipsis")
        out.append(dot[0] + " ", style=dot[1])
        out.append(inert(label(self.provider, self.model)), style="bold")
        if self.circuit != "closed":
            out.append(f" circuit {self.circuit.replace('_', '-')}", style="red" if self.circuit == "open" else "yellow")
        if self.health == "down" and self.health_detail:
            out.append(f" ({inert(self.health_detail)[:60]})", style="red")
        out.append("  │  session: ")
        out.append(inert(self.session) or "new", style="bold")
        if self.cost:
            out.append(f" · {self.cost}")
        if self.activity:
            # Activity quotes outside text (a server's error, a device's name).
            out.append("  │  " + inert(self.activity))
        out.append("  │  " + self.hint, style="dim")
        return out
