"""OpenAI and every OpenAI-compatible server (LM Studio, vLLM, llama.cpp's server)."""

from __future__ import annotations

from typing import AsyncIterator

import httpx

from coda_tui.config import ProviderConfig
from coda_tui.providers import errors as E
from coda_tui.providers import sse
from coda_tui.providers.base import ChatMessage, RemoteProvider, ToolCall, Usage
from coda_tui.providers.tool_wire import (
    CallAssembler,
    openai_message,
    openai_tool_choice,
    rejects_tools,
)
from coda_tui.providers.transport import bad_json, status_error


class OpenAIProvider(RemoteProvider):
    takes_tools = True
    no_answer_hint = "is base_url an OpenAI-compatible API root (ending in /v1)?"

    def __init__(self, config: ProviderConfig) -> None:
        super().__init__(config)
        # Imported here: the openai package costs ~150 ms to import, which every other
        # command would otherwise pay at start-up.
        import openai

        self._openai = openai
        key = config.resolved_api_key()
        self._key_hint = (
            f"check the key in {config.api_key_env}" if config.api_key_env else f"check api_key in [providers.{config.name}]"
        )
        self._client = openai.AsyncOpenAI(
            # Local OpenAI-compatible servers need no key, but the client insists on one.
            api_key=key or "not-needed",
            base_url=config.address,
            timeout=httpx.Timeout(config.timeout, connect=config.connect_timeout),
            max_retries=0,  # Provider.stream retries, with the same policy for every backend.
        )
        self._supports_usage_option = True

    async def _chunks(
        self, messages: list[ChatMessage], model: str, max_tokens: int, temperature: float | None,
        *, tools: list[dict] | None = None, tool_choice: str | None = None,
    ) -> AsyncIterator[str | ToolCall | Usage]:
        kwargs = dict(
            model=model,
            messages=[openai_message(m) for m in messages],
            stream=True,
            max_tokens=max_tokens,
        )
        if temperature is not None:
            kwargs["temperature"] = temperature
        if self._supports_usage_option:
            kwargs["stream_options"] = {"include_usage": True}
        if tools:
            kwargs["tools"] = tools
            if tool_choice:
                kwargs["tool_choice"] = openai_tool_choice(tool_choice)
        stream = None
        try:
            try:
                stream = await self._create(kwargs, model)
            except self._openai.BadRequestError as exc:
                # Some compatible servers reject stream_options; ask once more without it.
                if "stream_options" not in kwargs or "stream_options" not in str(exc):
                    raise
                self._supports_usage_option = False
                kwargs.pop("stream_options")
                stream = await self._create(kwargs, model)
            content_type = stream.response.headers.get("content-type", "")
            if "html" in content_type:
                await stream.response.aclose()
                raise E.BadResponse(
                    self.name,
                    f"{self.config.endpoint} answered with an HTML page instead of an event stream",
                    hint="base_url should be the server's OpenAI-compatible API root, usually ending in /v1",
                    endpoint=self.config.endpoint,
                )
            usage = None
            finished = False
            calls = CallAssembler()
            # Parsed here rather than by the SDK's stream: a dict a chunk, not a model (see sse).
            chunks = sse.chat_chunks(stream.response.aiter_bytes(), provider=self.name, endpoint=self.config.endpoint)
            events = 0
            try:
                async for chunk in chunks:
                    events += 1
                    if chunk.get("usage"):
                        usage = Usage(chunk["usage"].get("prompt_tokens"), chunk["usage"].get("completion_tokens"))
                    for choice in chunk.get("choices") or ():
                        delta = choice.get("delta") or {}
                        text = delta.get("content")
                        if text:
                            yield text
                        pieces = delta.get("tool_calls")
                        if pieces:
                            calls.add(pieces)
                        if choice.get("finish_reason"):
                            finished = True
                            # Whole now, and only now: a call is never handed on half-written.
                            for call in calls.finish():
                                yield call
            except Exception as exc:
                # A call under way is an answer under way, though nothing of it was yielded yet.
                if not calls.pending or isinstance(exc, E.ProviderError):
                    raise
                raise self._map(exc, model, True) from None
            if calls.pending:
                raise E.StreamInterrupted(
                    self.name, f"the answer from {self.config.endpoint} ended in the middle of a tool call",
                    hint="the unfinished call was dropped; retry to get a full answer", endpoint=self.config.endpoint)
            if tools and not events:
                # llama.cpp's server does this when its chatml-function-calling handler cannot
                # stream what the model chose (a call under tool_choice "auto"): a 200 and
                # an empty stream. Without tools the same server answers.
                raise E.ToolsUnsupported(
                    self.name, f"{self.config.endpoint} sent nothing in reply to a request with tools"
                    + (f' (tool_choice "{tool_choice}")' if tool_choice else ""),
                    hint="the turn goes on without tools; llama.cpp's server streams calls only for a named "
                    f"tool_choice (set tool_choice in [providers.{self.name}])", endpoint=self.config.endpoint)
            if finished:  # else the base says the answer was cut short
                yield usage or Usage()
        finally:
            if stream is not None:
                await stream.close()

    async def _create(self, kwargs: dict, model: str):
        try:
            return await self._client.chat.completions.create(**kwargs)
        except self._openai.APIStatusError as exc:
            if "tools" in kwargs and rejects_tools(exc.status_code, _body(exc)):
                detail = " ".join(_body(exc).split())[:200]
                raise E.ToolsUnsupported(
                    self.name, f"{self.config.endpoint} will not offer tools to {model} (HTTP {exc.status_code}: {detail})",
                    hint="the turn goes on without tools", endpoint=self.config.endpoint) from None
            raise

    def _status_error(self, exc, model: str) -> E.ProviderError:
        retry_after = E.parse_retry_after(exc.response.headers.get("retry-after")) if exc.response is not None else None
        return status_error(
            exc.status_code,
            _body(exc),
            provider=self.name,
            endpoint=self.config.endpoint,
            model=model,
            retry_after=retry_after,
            key_hint=self._key_hint,
        )

    async def list_models(self) -> list[str]:
        try:
            page = await self._client.models.list()
            return sorted(m.id for m in page.data)
        except Exception as exc:  # noqa: BLE001
            raise self._map(exc, self.default_model, False) from None

    async def embed(self, texts: list[str], model: str) -> list[list[float]]:
        try:
            result = await self._client.embeddings.create(model=model, input=texts)
        except Exception as exc:  # noqa: BLE001
            raise self._map(exc, model, False) from None
        vectors = []
        for item in sorted(result.data, key=lambda d: d.index):
            vec = item.embedding
            if vec and isinstance(vec[0], list):
                # llama.cpp's server returns one vector a token for models without a
                # pooling layer; their mean stands for the text.
                vec = [sum(col) / len(vec) for col in zip(*vec)]
            vectors.append(vec)
        return vectors

    def _map(self, exc: Exception, model: str, got_text: bool) -> Exception:
        if isinstance(exc, self._openai.APIStatusError):
            return self._status_error(exc, model)
        mapped = self._map_transport(exc, got_text)
        if mapped is None and isinstance(exc, self._openai.APIError):
            mapped = bad_json(self.name, self.config.endpoint, got_text)
        return mapped or exc

    async def aclose(self) -> None:
        await self._client.close()


def _body(exc) -> str:
    try:
        return exc.response.text
    except Exception:  # noqa: BLE001 - a streamed body may not be readable any more
        return str(exc.message)
