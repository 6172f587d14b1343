"""Anthropic's Messages API through the official `anthropic` SDK (streamed server-sent events).

The API differs from OpenAI's where a conversation with tools is concerned: the system
prompt is a top-level field, tool calls are `tool_use` content blocks of the assistant's
message (their arguments streamed as `input_json_delta` pieces), and tool results are
`tool_result` blocks of a *user* message. This module translates both ways.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

from coda_tui.config import ProviderConfig
from coda_tui.providers import errors as E
from coda_tui.providers.base import ChatMessage, RemoteProvider, ToolCall, Usage
from coda_tui.providers.tool_wire import rejects_tools
from coda_tui.providers.transport import bad_json, status_error

# Error types an `error` event can carry before any text, and what each means here.
_STREAM_ERRORS = {"overloaded_error": 529, "api_error": 500, "rate_limit_error": 429}


def to_anthropic_tools(tools: list[dict]) -> list[dict]:
    """OpenAI-shaped function descriptions as Anthropic's {name, description, input_schema}."""
    out = []
    for tool in tools:
        fn = tool.get("function", tool)
        out.append({
            "name": fn["name"],
            "description": fn.get("description") or "",
            "input_schema": fn.get("parameters") or {"type": "object", "properties": {}},
        })
    return out


def to_anthropic_tool_choice(choice: str) -> dict:
    """Provider.stream's tool_choice in Anthropic's shape ("required" is its "any")."""
    if choice in ("auto", "none"):
        return {"type": choice}
    if choice == "required":
        return {"type": "any"}
    return {"type": "tool", "name": choice}


def _tool_input(arguments: str) -> dict:
    """A call's arguments as the object the API wants back. A call whose arguments were not
    a JSON object went back to the model as a tool error; it is replayed with no input."""
    try:
        value = json.loads(arguments or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def to_anthropic_messages(messages: list[ChatMessage]) -> tuple[str, list[dict]]:
    """(system prompt, messages) for the Messages API. Tool results become `tool_result`
    blocks of a user message, and messages of the same role in a row are merged into one:
    the API wants every result of one assistant turn in the single user message after it."""
    system: list[str] = []
    out: list[dict] = []
    for m in messages:
        if m.role == "system":
            if m.content:
                system.append(m.content)
            continue
        if m.role == "tool":
            role, blocks = "user", [{"type": "tool_result", "tool_use_id": m.tool_call_id or "", "content": m.content}]
        else:
            role = "assistant" if m.role == "assistant" else "user"
            # The API refuses empty text blocks.
            blocks = [{"type": "text", "text": m.content}] if m.content.strip() else []
            blocks += [{"type": "tool_use", "id": c.id, "name": c.name, "input": _tool_input(c.arguments)}
                       for c in m.tool_calls]
        if not blocks:
            continue
        if out and out[-1]["role"] == role:
            out[-1]["content"].extend(blocks)
        else:
            out.append({"role": role, "content": blocks})
    return "\n\n".join(system), out


class AnthropicProvider(RemoteProvider):
    takes_tools = True
    no_answer_hint = "is base_url the API root (https://api.anthropic.com, without /v1)?"

    def __init__(self, config: ProviderConfig) -> None:
        super().__init__(config)
        # Imported here: the SDK takes ~0.8 s to import (the registry preloads it in a thread).
        import anthropic

        self._anthropic = anthropic
        key = config.resolved_api_key()
        self._key_hint = (
            f"check the key in {config.api_key_env}" if config.api_key_env else f"check api_key in [providers.{config.name}]"
        )
        self._client = anthropic.AsyncAnthropic(
            # Always a key of our own: given none, the SDK would look in ANTHROPIC_API_KEY and
            # profile files, and lend the API's key to a gateway. A gateway without keys gets
            # a placeholder, as local OpenAI-compatible servers do.
            api_key=key or "not-needed",
            base_url=config.address,
            timeout=anthropic.Timeout(config.timeout, connect=config.connect_timeout),
            max_retries=0,  # Provider.stream retries, with the same policy for every backend.
        )

    async def _chunks(
        self,
        messages: list[ChatMessage],
        model: str,
        max_tokens: int,
        temperature: float | None,
        *,
        tools: list[dict] | None = None,
        tool_choice: str | None = None,
    ) -> AsyncIterator[str | ToolCall | Usage]:
        # `temperature` is not sent: the API version the SDK speaks refuses sampling
        # parameters (HTTP 400), whatever their value.
        system, wire = to_anthropic_messages(messages)
        kwargs: dict = {"model": model, "max_tokens": max_tokens, "messages": wire, "stream": True}
        if system:
            kwargs["system"] = system
        if tools:
            kwargs["tools"] = to_anthropic_tools(tools)
            if tool_choice:
                kwargs["tool_choice"] = to_anthropic_tool_choice(tool_choice)
        stream = None
        calls: dict[int, list] = {}  # block index -> [id, name, start input, argument pieces]
        try:
            stream = await self._create(kwargs, model)
            prompt_tokens = completion_tokens = None
            finished = False
            async for event in stream:
                kind = event.type
                if kind == "content_block_delta":
                    delta = event.delta
                    if delta.type == "text_delta":
                        if delta.text:
                            yield delta.text
                    elif delta.type == "input_json_delta" and event.index in calls:
                        calls[event.index][3].append(delta.partial_json)
                elif kind == "content_block_start":
                    block = event.content_block
                    if block.type == "tool_use":
                        calls[event.index] = [block.id, block.name, block.input, []]
                    elif block.type == "text" and block.text:
                        yield block.text
                elif kind == "message_start":
                    usage = event.message.usage
                    prompt_tokens, completion_tokens = usage.input_tokens, usage.output_tokens
                elif kind == "message_delta":
                    # Counts here are cumulative: they replace message_start's.
                    if event.usage.input_tokens is not None:
                        prompt_tokens = event.usage.input_tokens
                    completion_tokens = event.usage.output_tokens
                elif kind == "message_stop":
                    finished = True
            if finished:  # else the base says the answer was cut short
                for index in sorted(calls):
                    call_id, name, start, pieces = calls[index]
                    # No pieces: the input came whole with the block's start (often {}).
                    arguments = "".join(pieces) or json.dumps(start or {})
                    yield ToolCall(call_id, name, arguments)
                yield Usage(prompt_tokens, completion_tokens)
        except Exception as exc:
            # A call under way is an answer under way, though nothing of it was yielded yet.
            if not calls or isinstance(exc, E.ProviderError):
                raise
            raise self._map(exc, model, True) from None
        finally:
            if stream is not None:
                await stream.close()

    async def _create(self, kwargs: dict, model: str):
        try:
            return await self._client.messages.create(**kwargs)
        except self._anthropic.APIStatusError as exc:
            # A gateway to a model without tools refuses them: the turn goes on without.
            body = " ".join(str(p) for p in (exc.type, exc.api_message, exc.message) if p)
            if "tools" in kwargs and rejects_tools(exc.status_code, body):
                raise E.ToolsUnsupported(
                    self.name, f"{self.config.endpoint} will not offer tools to {model} (HTTP {exc.status_code}: "
                    f"{' '.join(body.split())[:200]})", hint="the turn goes on without tools",
                    endpoint=self.config.endpoint) from None
            raise

    def _map(self, exc: Exception, model: str, got_text: bool) -> Exception:
        if isinstance(exc, self._anthropic.APIStatusError):
            return self._status_error(exc, model, got_text)
        mapped = self._map_transport(exc, got_text)
        if mapped is None and isinstance(exc, self._anthropic.APIError):
            mapped = bad_json(self.name, self.config.endpoint, got_text)
        return mapped or exc

    def _status_error(self, exc, model: str, got_text: bool) -> E.ProviderError:
        endpoint = self.config.endpoint
        detail = ": ".join(str(p) for p in (exc.type, exc.api_message) if p) or str(exc.message)
        status = exc.status_code
        if status < 400:
            # An `error` event inside a 200 stream: the SDK raises it with the stream's status.
            if got_text:
                return E.StreamInterrupted(self.name, f"{endpoint} reported an error mid-answer ({detail})",
                                           hint="what arrived is kept as a partial answer; retry to get a full one",
                                           endpoint=endpoint)
            status = _STREAM_ERRORS.get(exc.type or "", 0)
            if not status:
                return E.BadResponse(self.name, f"{endpoint} reported an error in the stream ({detail})", endpoint=endpoint)
        retry_after = E.parse_retry_after(exc.response.headers.get("retry-after"))
        error = status_error(status, detail, provider=self.name, endpoint=endpoint, model=model,
                             retry_after=retry_after, key_hint=self._key_hint)
        if status == 529:
            # Anthropic's own status: the API is busy everywhere, not this request at fault.
            error.message = f"{endpoint} is overloaded (HTTP 529: {detail})"
            error.hint = "retried with backoff; if it persists, try again in a few minutes"
            error.args = (error.message,)
        return error

    async def list_models(self) -> list[str]:
        try:
            return sorted([m.id async for m in self._client.models.list(limit=1000)])
        except Exception as exc:  # noqa: BLE001
            raise self._map(exc, self.default_model, False) from None

    def offers(self, model: str, models: list[str]) -> bool:
        # The list names dated versions (claude-haiku-5-5-20260301); an alias names their family.
        return model in models or any(m.startswith(model + "-") for m in models)

    async def aclose(self) -> None:
        await self._client.close()
