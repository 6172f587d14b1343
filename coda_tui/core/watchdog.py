"""The health watchdog: polls the providers in use in the background and publishes their
state (health and circuit) on the event bus, for the status bar, the pipeline pane and
`coda doctor`.

Only providers the user actually set up are polled: the default one, every [providers.X]
table of the config file, and whatever the roles name. The built-in `ollama` and `openai`
entries nobody configured are left alone (polling them would only report "not running").
"""

from __future__ import annotations

import asyncio
import logging

from coda_tui.config import Config, parse_target
from coda_tui.core.events import ProviderStatus
from coda_tui.providers.breaker import CLOSED
from coda_tui.providers.registry import Providers

log = logging.getLogger(__name__)

HEALTH_TIMEOUT_S = 10.0


def providers_in_use(config: Config) -> list[str]:
    names = {config.general.provider}
    names |= {n for n, pc in config.providers.items() if not pc.builtin}
    roles = config.roles
    if roles.enabled:
        if len(roles.roles) > 1:  # with one role there is nothing to classify
            names.add(parse_target(roles.router)[0])
        names |= {parse_target(t)[0] for r in roles.roles.values() for t in r.chain}
    return sorted(n for n in names if n in config.providers)


class HealthWatchdog:
    def __init__(self, config: Config, providers: Providers, publish, *, timeout_s: float = HEALTH_TIMEOUT_S,
                 redact=lambda s: s) -> None:
        self.config = config
        # Details quote servers' error text, which can echo a key: masked before it is shown.
        self.redact = redact
        self.providers = providers
        self.publish = publish
        self.interval_s = config.resilience.health_interval_s
        self.timeout_s = timeout_s
        self.names = providers_in_use(config)
        self.latest: dict[str, ProviderStatus] = {}

    def _breaker(self, name: str) -> tuple[str, float]:
        made = self.providers.made(name)
        breaker = made.breaker if made is not None else None
        if breaker is None:
            return CLOSED, 0.0
        return breaker.current(), breaker.retry_in()

    def _set(self, name: str, health: str, detail: str) -> ProviderStatus:
        state, retry_in = self._breaker(name)
        status = ProviderStatus(name, health, self.redact(detail) or "", state, retry_in)
        self.latest[name] = status
        self.publish(status)
        return status

    async def check(self, name: str) -> ProviderStatus:
        try:
            prov = self.providers.made(name)
            if prov is None:
                # Its client library is imported in a thread: the event loop (the UI) must not wait.
                await asyncio.to_thread(self.providers.preload, name)
                prov = self.providers.get(name)
            health = await asyncio.wait_for(prov.health(), self.timeout_s)
        except TimeoutError:
            return self._set(name, "down", f"no answer to a health check within {self.timeout_s:g} s")
        except Exception as exc:  # noqa: BLE001 - a ConfigError (no key) too: reported as the provider's state
            return self._set(name, "down", str(exc))
        return self._set(name, "ok" if health.ok else "down", health.detail)

    async def poll(self) -> list[ProviderStatus]:
        return list(await asyncio.gather(*(self.check(n) for n in self.names)))

    async def run(self) -> None:
        """Poll every interval until cancelled; does nothing when the interval is 0."""
        if self.interval_s <= 0:
            return
        while True:
            await self.poll()
            await asyncio.sleep(self.interval_s)

    def breaker_changed(self, name: str, state: str) -> None:
        """A provider's circuit changed state: say so at once, with its last known health."""
        last = self.latest.get(name)
        health, detail = (last.health, last.detail) if last else ("unknown", "")
        made = self.providers.made(name)
        if state != CLOSED and made is not None and made.breaker is not None:
            detail = made.breaker.last_error or detail
        self._set(name, health, detail)
