"""The circuit breaker: its states on an explicit clock, then for real, in real time, around
a provider talking to a loopback server."""

from __future__ import annotations

import asyncio
import time

from coda_tui.config import Config, ProviderConfig, ResilienceConfig
from coda_tui.providers import errors as E
from coda_tui.providers.breaker import (
    CLOSED,
    HALF_OPEN,
    OPEN,
    CircuitBreaker,
    CircuitOpen,
)
from coda_tui.providers.registry import Providers
from tests.providers.helpers import HELLO
from tests.servers import Action, OpenAIServer, free_port


class Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def refused() -> E.ProviderError:
    return E.ConnectionRefused("p", "connection refused")


def test_opens_after_n_consecutive_failures_and_half_opens_after_cooldown():
    clock, changes = Clock(), []
    b = CircuitBreaker(3, 30.0, clock=clock, on_change=changes.append)
    for _ in range(2):
        assert b.allow()
        b.failure(refused())
    b.success()  # a success in between resets the count
    for _ in range(3):
        assert b.allow()
        b.failure(refused())
    assert b.state == OPEN and not b.allow() and b.retry_in() == 30.0
    clock.t += 29.9
    assert not b.allow()
    clock.t += 0.1
    assert b.allow()  # the one trial request
    assert b.state == HALF_OPEN and not b.allow()  # and only one
    b.failure(refused())  # the trial failed: open again, a fresh cooldown
    assert b.state == OPEN and b.retry_in() == 30.0
    clock.t += 30
    assert b.allow()
    b.success()
    assert b.state == CLOSED and b.allow() and b.failures == 0
    assert changes == [OPEN, HALF_OPEN, OPEN, HALF_OPEN, CLOSED]


def test_config_and_request_errors_do_not_count():
    b = CircuitBreaker(1, 30.0, clock=Clock())
    b.failure(E.AuthError("p", "bad key"))
    b.failure(E.ModelNotFound("p", "no such model"))
    assert b.state == CLOSED and b.allow()


def test_a_cancelled_trial_frees_the_slot():
    clock = Clock()
    b = CircuitBreaker(1, 1.0, clock=clock)
    b.failure(refused())
    clock.t += 1
    assert b.allow() and not b.allow()
    b.abandon()
    assert b.allow()


def test_zero_failures_means_never_open():
    b = CircuitBreaker(0, 30.0, clock=Clock())
    for _ in range(10):
        b.failure(refused())
    assert b.allow()


def providers_for(url: str, failures: int = 3, cooldown: float = 0.5) -> Providers:
    pc = ProviderConfig(name="srv", type="openai", base_url=f"{url}/v1", model="fake-model", max_retries=0)
    cfg = Config(providers={"srv": pc}, resilience=ResilienceConfig(breaker_failures=failures, breaker_cooldown_s=cooldown))
    return Providers(cfg)


async def ask(prov) -> str | Exception:
    try:
        return "".join([item async for item in prov.stream(HELLO) if isinstance(item, str)])
    except E.ProviderError as exc:
        return exc


def test_breaker_around_a_real_provider_in_real_time():
    """Three 500s open the circuit; while open, requests fail fast without reaching the
    server; after the cooldown one goes through, succeeds, and the circuit closes."""
    script = [Action("status", status=500, body="{}")] * 3 + [Action(chunks=["back"])]
    with OpenAIServer(script) as srv:
        providers = providers_for(srv.url)
        prov = providers.get("srv")

        async def go():
            results = [await ask(prov) for _ in range(3)]
            t0 = time.perf_counter()
            rejected = await ask(prov)
            fast_ms = (time.perf_counter() - t0) * 1000
            seen_while_open = len(srv.chat_requests())
            await asyncio.sleep(0.55)
            state_after_cooldown = prov.breaker.current()
            recovered = await ask(prov)
            await providers.aclose()
            return results, rejected, fast_ms, seen_while_open, state_after_cooldown, recovered

        results, rejected, fast_ms, seen_while_open, after_cooldown, recovered = asyncio.run(go())
        total_requests = len(srv.chat_requests())
    assert all(isinstance(r, E.ServerError) for r in results)
    assert isinstance(rejected, CircuitOpen) and "circuit is open after 3 failure(s)" in str(rejected)
    assert "HTTP 500" in rejected.hint  # the last real error is kept
    assert seen_while_open == 3 and fast_ms < 50
    assert after_cooldown == HALF_OPEN
    assert recovered == "back" and prov.breaker.state == CLOSED
    assert total_requests == 4


def test_refused_connections_open_the_circuit_and_the_registry_reports_changes():
    changes = []
    providers = providers_for(f"http://127.0.0.1:{free_port()}", failures=2, cooldown=30)
    providers.on_breaker = lambda name, state: changes.append((name, state))
    prov = providers.get("srv")

    async def go():
        out = [await ask(prov) for _ in range(3)]
        await providers.aclose()
        return out

    first, second, third = asyncio.run(go())
    assert isinstance(first, E.ConnectionRefused) and isinstance(second, E.ConnectionRefused)
    assert isinstance(third, CircuitOpen)
    assert changes == [("srv", OPEN)]


def test_retries_inside_one_request_count_once(monkeypatch):
    from coda_tui.providers import base

    monkeypatch.setattr(base, "BACKOFF_BASE", 0.01)
    with OpenAIServer([Action("status", status=503, body="{}")]) as srv:
        prov = providers_for(srv.url, failures=2).get("srv")
        prov.config.max_retries = 2
        exc = asyncio.run(ask(prov))
        assert len(srv.chat_requests()) == 3
    assert isinstance(exc, E.ServerError) and prov.breaker.failures == 1 and prov.breaker.state == CLOSED
