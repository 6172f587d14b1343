"""Loopback servers speaking the real wire formats, for faults a real server will not
produce on demand (429 with Retry-After, a 500, a stream cut mid-way, an HTML page) and for
Ollama, which cannot be installed here.

Each server takes a script: a list of actions, one consumed per chat request (the last one
repeats). Every request is recorded with its headers and JSON body.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Action:
    kind: str = "stream"  # stream | status | raw | html | stall | malformed | invalid_utf8 | close
    chunks: list[str] = field(default_factory=lambda: ["Hello", ", ", "world", "!"])
    delay: float = 0.0  # between chunks
    first_delay: float = 0.0  # before the first chunk
    cut_after: int | None = None  # drop the connection after this many chunks
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""
    usage: tuple[int, int] = (12, 4)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: "_Server"

    def log_message(self, *args) -> None:  # keep test output clean
        pass

    def setup(self) -> None:
        super().setup()
        # As real model servers do: without it, Nagle's algorithm holds the first chunk
        # until the client's delayed ACK (~40 ms), which would swamp the timings measured.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _body(self) -> dict:
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            return json.loads(raw or b"{}")
        except ValueError:
            return {"_raw": raw.decode(errors="replace")}

    def _send_json(self, status: int, data, headers: dict | None = None) -> None:
        payload = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(payload)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(payload)

    def _send_body(self, status: int, content_type: str, payload: bytes) -> None:
        self.send_response(status)
        self.send_header("content-type", content_type)
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _start_stream(self, content_type: str) -> None:
        self.send_response(200)
        self.send_header("content-type", content_type)
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()

    def _cut(self) -> None:
        # An abrupt close mid-body, as when a proxy or the server dies.
        self.wfile.flush()
        self.connection.shutdown(socket.SHUT_RDWR)
        self.close_connection = True

    def _common(self, action: Action) -> bool:
        """Actions that look the same on any API; True if one was handled."""
        if action.kind == "status":
            self._send_json(action.status, json.loads(action.body) if action.body else {"error": "x"}, action.headers)
            return True
        if action.kind == "raw":
            # The body exactly as given (a proxy's plain-text error, say), not re-encoded as JSON.
            self._send_body(action.status, "text/plain; charset=utf-8", action.body.encode())
            return True
        if action.kind == "html":
            page = b"<!doctype html><html><body><h1>502 Bad Gateway</h1></body></html>"
            self._send_body(action.status, "text/html", page)
            return True
        if action.kind == "stall":
            time.sleep(action.delay)
            self.close_connection = True
            return True
        if action.kind == "close":
            self._cut()
            return True
        return False

    def do_GET(self) -> None:
        self.server.record(self, {})
        self.server.get(self)

    def do_POST(self) -> None:
        body = self._body()
        self.server.record(self, body)
        action = self.server.next_action()
        if not self._common(action):
            self.server.post(self, body, action)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, script: list[Action]) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.script = list(script) or [Action()]
        self.requests: list[dict] = []
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)

    def handle_error(self, request, client_address) -> None:
        # A client that hangs up mid-answer is part of what these servers test.
        import sys

        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def record(self, handler: _Handler, body: dict) -> None:
        with self._lock:
            self.requests.append(
                {"path": handler.path, "headers": dict(handler.headers), "body": body, "time": time.monotonic()}
            )

    def next_action(self) -> Action:
        with self._lock:
            return self.script.pop(0) if len(self.script) > 1 else self.script[0]

    def chat_requests(self) -> list[dict]:
        return [r for r in self.requests if r["path"].endswith(("/chat/completions", "/api/chat"))]

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.shutdown()
        self.server_close()


class OpenAIServer(_Server):
    """/v1/chat/completions as server-sent events, /v1/models."""

    model = "fake-model"

    def get(self, h: _Handler) -> None:
        if h.path.rstrip("/").endswith("/models"):
            h._send_json(200, {"object": "list", "data": [{"id": self.model, "object": "model", "owned_by": "test"}]})
        else:
            h._send_json(404, {"error": {"message": "not found"}})

    def post(self, h: _Handler, body: dict, action: Action) -> None:
        if action.kind == "malformed":
            h._start_stream("text/event-stream")
            h._chunk(b'data: {"id": "x", "choices": [{"delta": {"content": "Hi"}, "index": 0}]}\n\n')
            h._chunk(b"data: {this is not json\n\n")
            h._chunk(b"")
            return
        model = body.get("model", self.model)
        if action.kind == "invalid_utf8":
            h._start_stream("text/event-stream")
            event = _sse(_delta(model, {"content": "ok MARK end"}, None))
            h._chunk(event.replace(b"MARK", b"\xff\xfe\xc3"))
            h._chunk(_sse(_delta(model, {}, "stop")))
            h._chunk(b"data: [DONE]\n\n")
            h._chunk(b"")
            return
        h._start_stream("text/event-stream")
        if action.first_delay:
            time.sleep(action.first_delay)
        for i, text in enumerate(action.chunks):
            if action.cut_after is not None and i >= action.cut_after:
                h._cut()
                return
            if i and action.delay:
                time.sleep(action.delay)
            h._chunk(_sse(_delta(model, {"content": text}, None)))
        h._chunk(_sse(_delta(model, {}, "stop")))
        if (body.get("stream_options") or {}).get("include_usage"):
            p, c = action.usage
            usage = {"prompt_tokens": p, "completion_tokens": c, "total_tokens": p + c}
            h._chunk(_sse({"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 0, "model": model, "choices": [], "usage": usage}))
        h._chunk(b"data: [DONE]\n\n")
        h._chunk(b"")


def _delta(model: str, delta: dict, finish: str | None) -> dict:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


def _sse(data: dict) -> bytes:
    return b"data: " + json.dumps(data).encode() + b"\n\n"


class OllamaServer(_Server):
    """/api/chat as NDJSON, /api/tags, /api/version — Ollama's wire format."""

    models = ["llama3.2:latest", "qwen2.5-coder:1.5b"]

    def get(self, h: _Handler) -> None:
        if h.path.startswith("/api/tags"):
            h._send_json(200, {"models": [_tag(m) for m in self.models]})
        elif h.path.startswith("/api/version"):
            h._send_json(200, {"version": "0.6.0"})
        else:
            h._send_json(404, {"error": "not found"})

    def post(self, h: _Handler, body: dict, action: Action) -> None:
        model = body.get("model", "")
        if model not in self.models and f"{model}:latest" not in self.models:
            h._send_json(404, {"error": f'model "{model}" not found, try pulling it first'})
            return
        h._start_stream("application/x-ndjson")
        if action.kind == "malformed":
            h._chunk(json.dumps(_ollama_part(model, "Hi", False)).encode() + b"\n")
            h._chunk(b"{not json\n")
            h._chunk(b"")
            return
        if action.first_delay:
            time.sleep(action.first_delay)
        for i, text in enumerate(action.chunks):
            if action.cut_after is not None and i >= action.cut_after:
                h._cut()
                return
            if i and action.delay:
                time.sleep(action.delay)
            h._chunk(json.dumps(_ollama_part(model, text, False)).encode() + b"\n")
        final = _ollama_part(model, "", True)
        final.update(
            done_reason="stop",
            total_duration=1_000_000,
            load_duration=1000,
            prompt_eval_count=action.usage[0],
            prompt_eval_duration=1000,
            eval_count=action.usage[1],
            eval_duration=1000,
        )
        h._chunk(json.dumps(final).encode() + b"\n")
        h._chunk(b"")


def _ollama_part(model: str, text: str, done: bool) -> dict:
    return {
        "model": model,
        "created_at": "2026-11-21T10:00:00.000000Z",
        "message": {"role": "assistant", "content": text},
        "done": done,
    }


def _tag(name: str) -> dict:
    return {
        "name": name,
        "model": name,
        "modified_at": "2026-11-01T10:00:00.000000Z",
        "size": 1_000_000,
        "digest": "sha256:" + "0" * 64,
        "details": {"format": "gguf", "family": "llama", "parameter_size": "1B", "quantization_level": "Q4_K_M"},
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
