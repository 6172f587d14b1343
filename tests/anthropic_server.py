"""A loopback server speaking Anthropic's Messages API, for tests: the real API cannot be
reached from these machines.

The wire format is the documented one: POST /v1/messages with `stream: true` answers with
server-sent events `message_start`, `content_block_start`, `ping`, `content_block_delta`
(`text_delta` for text, `input_json_delta` for a tool call's arguments, in pieces),
`content_block_stop`, `message_delta` (stop_reason and cumulative usage) and `message_stop`;
an `error` event can come at any point. Errors outside a stream are JSON bodies
{"type": "error", "error": {"type", "message"}} with their HTTP status. GET /v1/models
lists models a page at a time.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

from tests.servers import Action, _Handler, _Server


@dataclass
class Reply(Action):
    """One scripted answer: `chunks` of text, then `tool_calls` ((id, name, arguments JSON
    text) each, streamed in pieces); `error_event` ((type, message)) is sent after `error_after`
    chunks instead of the rest; `cut_after` drops the connection after that many chunks,
    `cut_mid_call` in the middle of the first tool call's arguments."""

    tool_calls: list[tuple[str, str, str]] = field(default_factory=list)
    cut_mid_call: bool = False
    error_event: tuple[str, str] | None = None
    error_after: int = 0


def error_body(kind: str, message: str) -> str:
    return json.dumps({"type": "error", "error": {"type": kind, "message": message}, "request_id": "req_test"})


def event(name: str, data: dict) -> bytes:
    return f"event: {name}\ndata: {json.dumps(data)}\n\n".encode()


class AnthropicServer(_Server):
    models = ("claude-haiku-5-5-20260301", "claude-sonnet-5-5-20260301")
    # When set, requests must carry it (the SDK sends it as a bearer token).
    key: str | None = None

    def message_requests(self) -> list[dict]:
        return [r for r in self.requests if r["path"].startswith("/v1/messages")]

    def _authorized(self, h: _Handler) -> bool:
        if self.key is None:
            return True
        sent = h.headers.get("x-api-key") or (h.headers.get("authorization") or "").removeprefix("Bearer ")
        if sent == self.key:
            return True
        h._send_json(401, json.loads(error_body("authentication_error", "invalid x-api-key")))
        return False

    def get(self, h: _Handler) -> None:
        if not self._authorized(h):
            return
        if h.path.split("?")[0].rstrip("/") == "/v1/models":
            data = [{"type": "model", "id": m, "display_name": m, "created_at": "2026-03-01T00:00:00Z",
                     "lifecycle": "active"} for m in self.models]
            h._send_json(200, {"data": data, "has_more": False, "first_id": self.models[0], "last_id": self.models[-1]})
        else:
            h._send_json(404, json.loads(error_body("not_found_error", "Not found")))

    def post(self, h: _Handler, body: dict, action: Action) -> None:
        if not self._authorized(h):
            return
        if h.path.rstrip("/") != "/v1/messages":
            h._send_json(404, json.loads(error_body("not_found_error", "Not found")))
            return
        model = body.get("model", "")
        if not any(m == model or m.startswith(model + "-") for m in self.models):
            h._send_json(404, json.loads(error_body("not_found_error", f"model: {model}")))
            return
        reply = action if isinstance(action, Reply) else Reply(**vars(action))
        h._start_stream("text/event-stream; charset=utf-8")
        send = h._chunk
        p, c = reply.usage
        send(event("message_start", {"type": "message_start", "message": {
            "id": "msg_test", "type": "message", "role": "assistant", "content": [], "model": model,
            "stop_reason": None, "stop_sequence": None, "usage": {"input_tokens": p, "output_tokens": 1}}}))
        if reply.first_delay:
            time.sleep(reply.first_delay)
        index = 0
        if reply.chunks:
            send(event("content_block_start", {"type": "content_block_start", "index": 0,
                                               "content_block": {"type": "text", "text": ""}}))
            send(event("ping", {"type": "ping"}))
            for i, text in enumerate(reply.chunks):
                if reply.error_event and i == reply.error_after:
                    self._error_event(h, reply)
                    return
                if reply.cut_after is not None and i >= reply.cut_after:
                    h._cut()
                    return
                if i and reply.delay:
                    time.sleep(reply.delay)
                send(event("content_block_delta", {"type": "content_block_delta", "index": 0,
                                                   "delta": {"type": "text_delta", "text": text}}))
            send(event("content_block_stop", {"type": "content_block_stop", "index": 0}))
            index = 1
        if reply.error_event and reply.error_after >= len(reply.chunks):
            self._error_event(h, reply)
            return
        for call_id, name, arguments in reply.tool_calls:
            send(event("content_block_start", {"type": "content_block_start", "index": index, "content_block": {
                "type": "tool_use", "id": call_id, "name": name, "input": {}}}))
            # As the API does: an empty piece first, then the JSON text in arbitrary cuts.
            for n, piece in enumerate(["", *(arguments[i:i + 7] for i in range(0, len(arguments), 7))]):
                if reply.cut_mid_call and n == 2:
                    h._cut()
                    return
                send(event("content_block_delta", {"type": "content_block_delta", "index": index,
                                                   "delta": {"type": "input_json_delta", "partial_json": piece}}))
            send(event("content_block_stop", {"type": "content_block_stop", "index": index}))
            index += 1
        stop = "tool_use" if reply.tool_calls else "end_turn"
        send(event("message_delta", {"type": "message_delta", "delta": {"stop_reason": stop, "stop_sequence": None},
                                     "usage": {"output_tokens": c}}))
        send(event("message_stop", {"type": "message_stop"}))
        send(b"")

    def _error_event(self, h: _Handler, reply: Reply) -> None:
        kind, message = reply.error_event
        h._chunk(event("error", {"type": "error", "error": {"type": kind, "message": message}}))
        h._chunk(b"")
