"""Ollama through its own AsyncClient (NDJSON streaming over HTTP)."""

from __future__ import annotations

import json
import math
from typing import AsyncIterator

import httpx

from coda_tui.config import ProviderConfig
from coda_tui.providers import errors as E
from coda_tui.providers.base import ChatMessage, RemoteProvider, ToolCall, Usage
from coda_tui.providers.tool_wire import rejects_tools
from coda_tui.providers.transport import bad_json, status_error
from coda_tui.tokens import estimate_tokens

MIN_NUM_CTX = 2048


def num_ctx_for(prompt_tokens: int, max_tokens: int, window: int) -> int:
    """Context length to ask Ollama for, sized from the conversation.

    Ollama's default context (2-4k) silently drops the start of longer prompts. Sizes are
    rounded up to a power of two because every change of num_ctx makes Ollama reload the
    model; steps keep those reloads rare.
    """
    need = max(MIN_NUM_CTX, prompt_tokens + max_tokens)
    size = 2 ** math.ceil(math.log2(need))
    return min(size, window)


def ollama_message(m: ChatMessage) -> dict:
    """A message in Ollama's chat shape: call arguments as an object, a tool's answer named
    by `tool_name` (Ollama matches answers to calls by name and order, it has no ids)."""
    if m.role == "tool":
        return {"role": "tool", "content": m.content, "tool_name": m.name or ""}
    if m.tool_calls:
        return {"role": m.role, "content": m.content,
                "tool_calls": [{"function": {"name": c.name, "arguments": _arguments(c.arguments)}} for c in m.tool_calls]}
    return {"role": m.role, "content": m.content}


def _arguments(text: str) -> dict:
    # A malformed call is sent back as an empty object; its tool error says what was wrong.
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


class OllamaProvider(RemoteProvider):
    takes_tools = True

    def __init__(self, config: ProviderConfig) -> None:
        super().__init__(config)
        import ollama  # lazily, like openai: start-up time matters

        self._ollama = ollama
        self._client = ollama.AsyncClient(
            host=config.address,
            timeout=httpx.Timeout(config.timeout, connect=config.connect_timeout),
        )
        self.last_num_ctx: int | None = None

    async def _chunks(
        self, messages: list[ChatMessage], model: str, max_tokens: int, temperature: float | None,
        *, tools: list[dict] | None = None, tool_choice: str | None = None,
    ) -> AsyncIterator[str | ToolCall | Usage]:
        # tool_choice has no counterpart in Ollama's API: the model decides, unless "none",
        # which is the same as offering no tools.
        if tool_choice == "none":
            tools = None
        prompt_tokens = sum(estimate_tokens(m.content) + 4 for m in messages)
        if tools:
            prompt_tokens += estimate_tokens(json.dumps(tools))
        self.last_num_ctx = num_ctx_for(prompt_tokens, max_tokens, self.context_window)
        options: dict = {"num_ctx": self.last_num_ctx, "num_predict": max_tokens}
        if temperature is not None:
            options["temperature"] = temperature
        stream = None
        calls = 0
        try:
            stream = await self._client.chat(
                model=model,
                messages=[ollama_message(m) for m in messages],
                tools=tools or None,
                stream=True,
                options=options,
            )
            async for part in stream:
                message = part.message
                text = message.content if message else None
                if text:
                    yield text
                # Each call arrives whole, arguments as a JSON object, and without an id:
                # numbered in order, which is all a tool answer needs to find its call.
                for call in (message.tool_calls if message else None) or ():
                    yield ToolCall(f"call_{calls}", call.function.name, json.dumps(call.function.arguments))
                    calls += 1
                if part.done:
                    yield Usage(part.prompt_eval_count, part.eval_count)
        except self._ollama.ResponseError as exc:
            if tools and exc.status_code in (400, 500) and rejects_tools(exc.status_code, str(exc.error)):
                raise E.ToolsUnsupported(
                    self.name, f"{model} at {self.config.endpoint} does not take tools ({exc.error})",
                    hint="the turn goes on without tools; a model with tool support would use them",
                    endpoint=self.config.endpoint) from None
            raise
        finally:
            if stream is not None:
                await stream.aclose()

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
        mapped = self._map_transport(exc, got_text)
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
