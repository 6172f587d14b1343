"""A circuit breaker for one provider: after N failed requests in a row it stops sending
more (each would only wait for the same failure), and after a cooldown lets one request
through to see whether the provider is back.

Pure bookkeeping with an injectable clock; Provider.stream consults it around every request.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from coda_tui.providers.errors import ProviderError

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half_open"

# Failures that say the request or the set-up is wrong, not that the service is down:
# opening the circuit for them would hide the real message behind "circuit open".
NOT_COUNTED = ("auth", "model_not_found", "circuit_open", "tools_unsupported")


class CircuitOpen(ProviderError):
    kind = "circuit_open"


class CircuitBreaker:
    def __init__(
        self,
        failures: int = 3,
        cooldown_s: float = 30.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        on_change: Callable[[str], None] | None = None,
    ) -> None:
        self.threshold = failures
        self.cooldown_s = cooldown_s
        self.clock = clock
        self.on_change = on_change
        self.state = CLOSED
        self.failures = 0  # consecutive
        self.last_error = ""
        self._opened_at = 0.0
        self._probing = False

    @property
    def enabled(self) -> bool:
        return self.threshold > 0

    def retry_in(self) -> float:
        """Seconds until an open circuit lets a request through again."""
        if self.state != OPEN:
            return 0.0
        return max(0.0, self._opened_at + self.cooldown_s - self.clock())

    def current(self) -> str:
        """The state now: an open circuit whose cooldown has passed reads as half-open."""
        if self.state == OPEN and self.retry_in() <= 0:
            self._set(HALF_OPEN)
        return self.state

    def allow(self) -> bool:
        """May a request go out now? In half-open state exactly one (the probe) may."""
        if not self.enabled:
            return True
        state = self.current()
        if state == CLOSED:
            return True
        if state == HALF_OPEN and not self._probing:
            self._probing = True
            return True
        return False

    def success(self) -> None:
        self._probing = False
        self.failures = 0
        self._set(CLOSED)

    def failure(self, error: ProviderError) -> None:
        self._probing = False
        if error.kind in NOT_COUNTED:
            return
        self.failures += 1
        self.last_error = error.render()
        if self.enabled and (self.state == HALF_OPEN or self.failures >= self.threshold):
            self._opened_at = self.clock()
            self._set(OPEN)

    def abandon(self) -> None:
        """The request ended with no verdict (cancelled): free the probe slot."""
        self._probing = False

    def rejection(self, provider: str) -> CircuitOpen:
        if self.state == HALF_OPEN:
            why = "a trial request is already under way after the cooldown"
        else:
            why = f"next try in {self.retry_in():.0f} s"
        return CircuitOpen(
            provider,
            f"not asked: its circuit is open after {self.failures} failure(s) in a row ({why})",
            hint=f"last error: {self.last_error}" if self.last_error else "",
        )

    def _set(self, state: str) -> None:
        if state != self.state:
            self.state = state
            if self.on_change:
                self.on_change(state)
