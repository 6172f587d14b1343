"""A provider type that lives outside coda_tui: it answers with the question's words, for
the test that one module and one row in providers.types are all a new type needs."""

from __future__ import annotations

from collections.abc import AsyncIterator

from coda_tui.providers.base import ChatMessage, RemoteProvider, Usage


class EchoProvider(RemoteProvider):
    async def _chunks(
        self, messages: list[ChatMessage], model: str, max_tokens: int, temperature: float | None
    ) -> AsyncIterator[str | Usage]:
        words = messages[-1].content.split()
        for word in words:
            yield word + " "
        if words[-1] != "unfinished":
            yield Usage(len(words), len(words))

    def _map(self, exc: Exception, model: str, got_text: bool) -> Exception:
        return self._map_transport(exc, got_text) or exc

    async def list_models(self) -> list[str]:
        return ["echo-1"]
