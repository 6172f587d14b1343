"""Ollama through its own AsyncClient (NDJSON streaming over HTTP)."""

from __future__ import annotations

import math
from typing import AsyncIterator

import httpx

from coda_tui.config import OLLAMA_DEFAULT_HOST, ProviderConfig
from coda_tui.providers import errors as E
from coda_tui.providers.base import ChatMessage, Provider, Usage
from coda_tui.providers.transport import bad_json, map_transport_error, status_error
from coda_tui.tokens import estimate_tokens

MIN_NUM_CTX = 2048
DEFAULT_CONTEXT_WINDOW = 32768
DEFAULT_MODEL = "llama3.2"


def num_ctx_for(prompt_tokens: int, max_tokens: int, window: int) -> int:
    """Context length to ask Ollama for, sized from the conversation.

    Ollama's default context (2-4k) silently drops the start of longer prompts. Sizes are
    rounded up to a power of two because every change of num_ctx makes Ollama reload the
    model; steps keep those reloads rare.
    """
    need = max(MIN_NUM_CTX, prompt_tokens + max_tokens)
    size = 2 ** math.ceil(math.log2(need))
    return min(size, window)


class OllamaProvider(Provider):
    def __init__(self, config: ProviderConfig) -> None:
        super().__init__(config)
        import ollama  # lazily, like openai: start-up time matters

        self._ollama = ollama
        self._client = ollama.AsyncClient(
            host=config.host or OLLAMA_DEFAULT_HOST,
            timeout=httpx.Timeout(config.timeout, connect=config.connect_timeout),
        )
        self.last_num_ctx: int | None = None

    @property
    def default_model(self) -> str:
        return self.config.model or DEFAULT_MODEL

    @property
    def context_window(self) -> int:
        return self.config.context_window or DEFAULT_CONTEXT_WINDOW

    async def _stream_once(
        self, messages: list[ChatMessage], model: str, max_tokens: int, temperature: float | None
    ) -> AsyncIterator[str | Usage]:
        prompt_tokens = sum(estimate_tokens(m.content) + 4 for m in messages)
        self.last_num_ctx = num_ctx_for(prompt_tokens, max_tokens, self.context_window)
        options: dict = {"num_ctx": self.last_num_ctx, "num_predict": max_tokens}
        if temperature is not None:
            options["temperature"] = temperature
        got_text = False
        done = False
        usage = Usage()
        stream = None
        try:
            stream = await self._client.chat(
                model=model,
                messages=[{"role": m.role, "content": m.content} for m in messages],
                stream=True,
                options=options,
            )
            async for part in stream:
                text = part.message.content if part.message else None
                if text:
                    got_text = True
                    yield text
                if part.done:
                    done = True
                    usage = Usage(part.prompt_eval_count, part.eval_count)
        except E.ProviderError:
            raise
        except Exception as exc:  # noqa: BLE001 - mapped to a typed error, or re-raised as is
            raise self._map(exc, model, got_text) from None
        finally:
            if stream is not None:
                await stream.aclose()
        if not done:
            if got_text:
                raise E.StreamInterrupted(
                    self.name,
                    f"the answer from {self.config.endpoint} ended without finishing",
                    hint="what arrived is kept as a partial answer; retry to get a full one",
                    endpoint=self.config.endpoint,
                )
            raise E.BadResponse(self.name, f"{self.config.endpoint} sent no answer", endpoint=self.config.endpoint)
        yield usage

    def _map(self, exc: Exception, model: str, got_text: bool) -> Exception:
        if isinstance(exc, self._ollama.ResponseError):
            status = exc.status_code
            if status == -1:
                # The client's marker for an error line inside a 200 stream.
                if got_text:
                    return E.StreamInterrupted(
                        self.name, f"Ollama reported an error mid-answer: {exc.error}", endpoint=self.config.endpoint
                    )
                status = 500
            if "<html" in str(exc.error).lower():
                return E.BadResponse(
                    self.name,
                    f"{self.config.endpoint} answered with an HTML page, not Ollama's API (HTTP {status})",
                    hint="check 'host' / OLLAMA_HOST",
                    endpoint=self.config.endpoint,
                )
            return status_error(
                status,
                str(exc.error),
                provider=self.name,
                endpoint=self.config.endpoint,
                model=model,
                pull_hint=f"pull it first: ollama pull {model}",
            )
        mapped = map_transport_error(
            exc, provider=self.name, endpoint=self.config.endpoint, got_text=got_text, timeout=self.config.timeout
        )
        if mapped is None and type(exc).__name__ == "ValidationError":
            mapped = bad_json(self.name, self.config.endpoint, got_text)
        return mapped or exc

    async def embed(self, texts: list[str], model: str) -> list[list[float]]:
        try:
            result = await self._client.embed(model=model, input=texts)
        except Exception as exc:  # noqa: BLE001
            raise self._map(exc, model, False) from None
        return [list(v) for v in result.embeddings]

    async def list_models(self) -> list[str]:
        try:
            listing = await self._client.list()
        except Exception as exc:  # noqa: BLE001
            raise self._map(exc, self.default_model, False) from None
        return sorted(m.model for m in listing.models if m.model)

    def offers(self, model: str, models: list[str]) -> bool:
        # Ollama names carry a tag; "llama3.2" is offered as "llama3.2:latest".
        return model in models or f"{model}:latest" in models

    async def aclose(self) -> None:
        await self._client._client.aclose()
