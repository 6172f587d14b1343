"""Adding a provider type is one module and one row in providers.types.TYPES: config,
the built-in entry, the key rule, the registry and the shared stream ending all follow."""

from __future__ import annotations

import asyncio

import pytest

from coda_tui import config
from coda_tui.config import ConfigError
from coda_tui.providers import errors as E
from coda_tui.providers.base import ChatMessage, Usage
from coda_tui.providers.registry import Providers
from coda_tui.providers.types import TYPES, ProviderType
from tests.conftest import write_config


@pytest.fixture
def echo_type(monkeypatch):
    row = ProviderType("echo", "tests.providers.echo_type", "EchoProvider",
                       endpoint_field="base_url", default_endpoint="https://echo.example/v1",
                       builtin="echo", builtin_model="echo-1", key_env="ECHO_KEY", key_required_at=("*",))
    monkeypatch.setitem(TYPES, "echo", row)


def run(providers: Providers, name: str, text: str) -> tuple[list, Exception | None]:
    items = []

    async def go():
        async for item in providers.get(name).stream([ChatMessage("user", text)]):
            items.append(item)

    try:
        asyncio.run(go())
    except E.ProviderError as exc:
        return items, exc
    return items, None


def test_one_row_makes_a_type_config_and_the_registry_know(tmp_path, echo_type, monkeypatch):
    monkeypatch.setenv("ECHO_KEY", "k" * 20)
    path = write_config(tmp_path, '[providers.mine]\ntype = "echo"\nbase_url = "https://me:secret@echo.example/v2"\n')
    cfg = config.load(path, env={})
    assert cfg.providers["echo"].builtin and cfg.providers["echo"].model == "echo-1"
    assert cfg.providers["echo"].resolved_api_key() == "k" * 20  # the row's key variable, built-in entry only
    with pytest.raises(ConfigError, match="provider 'mine' talks to https://me:\\*\\*\\*@echo.example/v2 but has no API key"):
        cfg.provider("mine")  # key_required_at "*": every endpoint wants one
    providers = Providers(cfg)
    assert providers.describe("echo") == ("echo", "echo-1", 8192)
    items, exc = run(providers, "echo", "hello there")
    assert exc is None and items[:2] == ["hello ", "there "] and isinstance(items[2], Usage)
    # The shared ending: no Usage means the answer was cut short, and what came is kept.
    items, exc = run(providers, "echo", "cut short unfinished")
    assert items == ["cut ", "short ", "unfinished "] and isinstance(exc, E.StreamInterrupted)


def test_an_unknown_type_suggests_the_rows(tmp_path, echo_type):
    path = write_config(tmp_path, '[providers.mine]\ntype = "ecko"\n')
    with pytest.raises(ConfigError, match="did you mean 'echo'"):
        config.load(path, env={})
