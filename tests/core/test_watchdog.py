"""The health watchdog: real providers against loopback servers, polled in real time."""

from __future__ import annotations

import asyncio
import json

from coda_tui.config import load
from coda_tui.core.events import ProviderStatus
from coda_tui.core.runtime import Runtime
from coda_tui.core.watchdog import providers_in_use
from tests.conftest import run_coda, write_config
from tests.servers import Action, OpenAIServer, free_port


def config_text(up: str, down: str, interval: float = 0.1) -> str:
    return (
        '[general]\nprovider = "up"\n'
        f'[providers.up]\ntype = "openai"\nbase_url = "{up}/v1"\nmodel = "fake-model"\nmax_retries = 0\n'
        f'[providers.down]\ntype = "openai"\nbase_url = "{down}/v1"\nmodel = "fake-model"\nmax_retries = 0\n'
        f"[resilience]\nhealth_interval_s = {interval}\nbreaker_failures = 1\nbreaker_cooldown_s = 60\n"
    )


def watched(tmp_path, up_url: str) -> tuple[Runtime, list[ProviderStatus]]:
    """A runtime with a provider up and one down, and the statuses it publishes."""
    rt = Runtime(write_config(tmp_path, config_text(up_url, f"http://127.0.0.1:{free_port()}")), project=tmp_path)
    seen: list[ProviderStatus] = []
    rt.bus.subscribe(lambda e: seen.append(e) if isinstance(e, ProviderStatus) else None)
    return rt, seen


def test_only_providers_in_use_are_polled(tmp_path):
    assert providers_in_use(load()) == ["local"]  # no config: the embedded model only
    text = ('[general]\nprovider = "local"\n[roles]\nenabled = true\nrouter = "local"\n'
            '[roles.coder]\nchain = ["ollama:qwen2.5-coder:1.5b", "local"]\n')
    assert providers_in_use(load(write_config(tmp_path, text))) == ["local", "ollama"]  # not the unused openai


def test_polls_in_the_background_and_reports_a_provider_going_down(tmp_path):
    with OpenAIServer([Action()]) as up:
        rt, seen = watched(tmp_path, up.url)

        async def go():
            task = asyncio.create_task(rt.watchdog.run())
            while len({s.provider for s in seen}) < 2:
                await asyncio.sleep(0.02)
            first = dict(rt.watchdog.latest)
            polls = len([r for r in up.requests if r["path"].endswith("/models")])
            await asyncio.sleep(0.35)
            again = len([r for r in up.requests if r["path"].endswith("/models")]) - polls
            up.model = "another-model"  # the server stops offering the model while the watchdog runs
            while rt.watchdog.latest["up"].health != "down":
                await asyncio.sleep(0.02)
            task.cancel()
            await rt.aclose()
            return first, again

        first, again = asyncio.run(go())
    assert first["up"].health == "ok" and "1 model(s)" in first["up"].detail
    assert first["down"].health == "down" and "connection refused" in first["down"].detail
    assert again >= 2  # it kept polling, at its interval
    assert "model 'fake-model' is not offered" in rt.watchdog.latest["up"].detail


def test_a_circuit_opening_is_published_at_once(tmp_path):
    with OpenAIServer([Action()]) as up:
        rt, seen = watched(tmp_path, up.url)

        async def go():
            await rt.watchdog.poll()
            result = await rt.turns.run("hello", provider="down")
            await rt.aclose()
            return result

        result = asyncio.run(go())
    assert result.status == "error"
    last = seen[-1]
    assert (last.provider, last.health, last.breaker) == ("down", "down", "open") and last.retry_in_s > 50
    assert "connection refused" in last.detail


def test_interval_zero_means_no_polling(tmp_path):
    rt = Runtime(write_config(tmp_path, config_text("http://127.0.0.1:1", "http://127.0.0.1:1", interval=0)), project=tmp_path)
    seen = []
    rt.bus.subscribe(seen.append)
    asyncio.run(asyncio.wait_for(rt.watchdog.run(), 1))
    assert seen == []


def test_doctor_shows_circuits_roles_and_cache(tmp_path):
    with OpenAIServer([Action()]) as up:
        text = config_text(up.url, f"http://127.0.0.1:{free_port()}", interval=30)
        text += '[cache]\nenabled = true\n[roles]\nenabled = true\n[roles.coder]\nchain = ["down", "up"]\n'
        path = write_config(tmp_path, text)
        out = run_coda("--config", str(path), "doctor", "--json")
        asked = run_coda("--config", str(path), "ask", "hello")
    checks = {c["name"]: c for c in json.loads(out.stdout)["checks"]}
    assert "circuit closed" in checks["provider up (default)"]["detail"]
    assert "after 1 failed requests in a row" in checks["circuit breakers"]["detail"]
    assert checks["health watchdog"]["detail"] == "in the app, every 30 s: down, up"
    assert checks["roles"]["detail"] == "router local, default coder; coder: down → up"
    assert checks["response cache"]["ok"] and "0 answers" in checks["response cache"]["detail"]
    assert asked.returncode == 0 and asked.stdout.strip() == "Hello, world!"
    assert "down/fake-model failed (down: connection refused" in asked.stderr and "asking up" in asked.stderr
