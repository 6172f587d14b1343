"""Loopback servers that answer with tool calls, in OpenAI's streamed chat-completions
wire format and in Ollama's /api/chat NDJSON, scripted one reply a request, for the
provider tests and for scripted multi-step tool loops.

    with OpenAIToolServer([Reply(calls=[Call("read_file", ['{"pa', 'th": "a.py"}'])]),
                           Reply(text=["It is ", "main()."])]) as srv:
        ...  # base_url = srv.url + "/v1"

A Reply's call arguments are sent in the pieces given (a call split over many deltas is
just many pieces); anything else a server can do (an HTTP status, a dropped connection) is
an `Action` from tests.servers, usable in the same script.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

from tests.servers import Action, OllamaServer, OpenAIServer, _delta, _ollama_part, _sse

# Ollama's answer to tools for a model without tool support (HTTP 400).
OLLAMA_NO_TOOLS = "registry.ollama.ai/library/gemma:2b does not support tools"
# vLLM's, when started without a tool-call parser (HTTP 400).
OPENAI_NO_TOOLS = json.dumps({"object": "error", "type": "BadRequestError", "code": 400, "message":
                              '"auto" tool choice requires --enable-auto-tool-choice and --tool-call-parser to be set'})


@dataclass
class Call:
    name: str
    # The arguments' JSON text, in the pieces the server sends it in (concatenated: the text).
    pieces: list[str] = field(default_factory=lambda: ["{}"])
    id: str | None = None

    @property
    def arguments(self) -> str:
        return "".join(self.pieces)


@dataclass
class Reply(Action):
    """One scripted answer: text chunks, then tool calls."""

    chunks: list[str] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)
    # Send the calls' pieces round-robin (parallel calls streamed at once, as OpenAI does).
    interleave: bool = False
    # Drop the connection after this many events (the first event is the role's).
    cut_after: int | None = None
    finish: str | None = None  # default: "tool_calls" when there are calls, else "stop"


class _Tools:
    """Shared by both servers: what a reply sends, as a list of events."""

    def reply(self, h, body: dict, action) -> bool:
        if not isinstance(action, Reply):
            return False
        events = self.events(body, action)
        h._start_stream(self.content_type)
        for i, event in enumerate(events):
            if action.cut_after is not None and i >= action.cut_after:
                h._cut()
                return True
            if i and action.delay:
                time.sleep(action.delay)
            h._chunk(event)
        h._chunk(b"")
        return True


class OpenAIToolServer(_Tools, OpenAIServer):
    """/v1/chat/completions streaming `tool_calls` deltas as OpenAI documents them: a call's
    first delta has its index, id, type and name (arguments ""), later ones the index and a
    piece of the arguments; the choice ends with finish_reason "tool_calls", then a usage
    chunk (when asked for) and [DONE]."""

    content_type = "text/event-stream"

    def post(self, h, body: dict, action) -> None:
        if not self.reply(h, body, action):
            super().post(h, body, action)

    def events(self, body: dict, r: Reply) -> list[bytes]:
        model = body.get("model", self.model)
        out = [_sse(_delta(model, {"role": "assistant", "content": "" if r.chunks else None}, None))]
        out += [_sse(_delta(model, {"content": text}, None)) for text in r.chunks]
        pieces = []  # (index, piece number, delta)
        for index, call in enumerate(r.calls):
            call_id = call.id or f"call_{index}abc"
            first = {"index": index, "id": call_id, "type": "function", "function": {"name": call.name, "arguments": ""}}
            pieces.append((index, -1, first))
            pieces += [(index, n, {"index": index, "function": {"arguments": p}}) for n, p in enumerate(call.pieces)]
        if r.interleave:
            pieces.sort(key=lambda p: (p[1], p[0]))
        out += [_sse(_delta(model, {"tool_calls": [d]}, None)) for _, _, d in pieces]
        out.append(_sse(_delta(model, {}, r.finish or ("tool_calls" if r.calls else "stop"))))
        if (body.get("stream_options") or {}).get("include_usage"):
            p, c = r.usage
            usage = {"prompt_tokens": p, "completion_tokens": c, "total_tokens": p + c}
            out.append(_sse({"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 0, "model": model,
                             "choices": [], "usage": usage}))
        out.append(b"data: [DONE]\n\n")
        return out


class OllamaToolServer(_Tools, OllamaServer):
    """/api/chat as Ollama streams tool calls: text parts, then a part whose message holds
    the whole calls (arguments as JSON objects, no ids), then the final `done` part."""

    content_type = "application/x-ndjson"

    def post(self, h, body: dict, action) -> None:
        model = body.get("model", "")
        if isinstance(action, Reply) and model not in self.models and f"{model}:latest" not in self.models:
            h._send_json(404, {"error": f'model "{model}" not found, try pulling it first'})
        elif not self.reply(h, body, action):
            super().post(h, body, action)

    def events(self, body: dict, r: Reply) -> list[bytes]:
        model = body.get("model", "")
        parts = [_ollama_part(model, text, False) for text in r.chunks]
        if r.calls:
            part = _ollama_part(model, "", False)
            part["message"]["tool_calls"] = [
                {"function": {"name": c.name, "arguments": json.loads(c.arguments)}} for c in r.calls]
            parts.append(part)
        final = _ollama_part(model, "", True)
        final.update(done_reason="stop", total_duration=1_000_000, load_duration=1000, prompt_eval_count=r.usage[0],
                     prompt_eval_duration=1000, eval_count=r.usage[1], eval_duration=1000)
        parts.append(final)
        return [json.dumps(p).encode() + b"\n" for p in parts]
