"""Build a provider from its [providers.NAME] entry."""

from __future__ import annotations

from coda_tui.config import Config, ProviderConfig
from coda_tui.providers.base import Provider


def make_provider(pc: ProviderConfig) -> Provider:
    # Each backend's module is imported only when that backend is used.
    if pc.type == "llama_cpp":
        from coda_tui.providers.llama_cpp import LlamaCppProvider

        return LlamaCppProvider(pc)
    if pc.type == "ollama":
        from coda_tui.providers.ollama import OllamaProvider

        return OllamaProvider(pc)
    if pc.type == "openai":
        from coda_tui.providers.openai_compat import OpenAIProvider

        return OpenAIProvider(pc)
    raise ValueError(f"unknown provider type {pc.type!r}")  # config validation prevents this


class Providers:
    """The providers of one process, created on first use and reused (a loaded model is
    expensive to load twice)."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self._made: dict[str, Provider] = {}

    def get(self, name: str | None = None) -> Provider:
        pc = self.config.provider(name)
        if pc.name not in self._made:
            self._made[pc.name] = make_provider(pc)
        return self._made[pc.name]

    async def aclose(self) -> None:
        for p in self._made.values():
            await p.aclose()
        self._made.clear()
