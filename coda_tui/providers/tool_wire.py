"""Tool calls on OpenAI's wire: the messages that carry them, and a call's streamed pieces
put back together.

OpenAI streams a call as `tool_calls` deltas: the first piece of call `index` brings its id
and name, the arguments follow in fragments over many chunks, and the choice's
finish_reason ends them all. Compatible servers differ in the details (llama.cpp's server
repeats the id and the whole name in every piece; some leave out `index`), so the pieces are
keyed loosely and a name is never doubled.
"""

from __future__ import annotations

from coda_tui.providers.base import ChatMessage, ToolCall

# Said by servers and models that cannot take tools (Ollama: "<model> does not support
# tools"; vLLM without a tool parser: "auto" tool choice requires --enable-auto-tool-choice).
_UNSUPPORTED = ("does not support tools", "tools are not supported", "tool use is not supported",
                "not support tool", "enable-auto-tool-choice", "tool_choice", "tools is not supported")


def rejects_tools(status: int, body: str) -> bool:
    """Does this error response refuse the request for its tools (not for something else)?"""
    text = body.lower()
    if any(s in text for s in _UNSUPPORTED):
        return True
    # A 400 (or 422, FastAPI's) that names the tools field is about them.
    return status in (400, 422) and "tool" in text


def openai_message(m: ChatMessage) -> dict:
    """A message in OpenAI's chat shape: an assistant's calls as `tool_calls`, a tool's
    answer by `tool_call_id`."""
    if m.role == "tool":
        return {"role": "tool", "tool_call_id": m.tool_call_id or "", "content": m.content}
    if m.tool_calls:
        return {"role": m.role, "content": m.content or None, "tool_calls": [
            {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
            for c in m.tool_calls]}
    return {"role": m.role, "content": m.content}


def openai_tool_choice(choice: str) -> str | dict:
    """Provider.stream's tool_choice in OpenAI's shape: a tool's name becomes a named function."""
    if choice in ("auto", "none", "required"):
        return choice
    return {"type": "function", "function": {"name": choice}}


class _Pending:
    __slots__ = ("arguments", "id", "name")

    def __init__(self) -> None:
        self.id = ""
        self.name = ""
        self.arguments: list[str] = []


class CallAssembler:
    """Collects `tool_calls` deltas until the choice finishes; `finish()` then gives the
    calls, whole, in the order they began."""

    def __init__(self) -> None:
        self._calls: dict[object, _Pending] = {}
        self._last: object = None

    @property
    def pending(self) -> bool:
        return bool(self._calls)

    def add(self, pieces: list) -> None:
        for piece in pieces:
            if not isinstance(piece, dict):
                continue
            key = piece.get("index")
            call_id = piece.get("id")
            if key is None:
                # No index: a new id starts a new call, a piece without one continues the last.
                key = call_id or self._last
                if key is None:
                    key = len(self._calls)
            self._last = key
            call = self._calls.get(key)
            if call is None:
                call = self._calls[key] = _Pending()
            if call_id and not call.id:
                call.id = call_id
            fn = piece.get("function")
            if not fn:
                continue
            name = fn.get("name")
            if name and name != call.name:
                call.name += name
            arguments = fn.get("arguments")
            if arguments:
                call.arguments.append(arguments)

    def finish(self) -> list[ToolCall]:
        calls = [ToolCall(c.id or f"call_{i}", c.name, "".join(c.arguments))
                 for i, c in enumerate(self._calls.values())]
        self._calls.clear()
        self._last = None
        return calls
