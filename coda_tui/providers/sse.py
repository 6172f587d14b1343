"""OpenAI-style server-sent events, read straight off the HTTP body.

The openai SDK builds a pydantic object for every chunk of a stream; for a fast server
(thousands of chunks a second) that was most of coda's CPU. Here a chunk is one
`json.loads` into a plain dict, and events are cut out of the bytes as they arrive, so
the cost of a chunk does not depend on how long the answer already is.
"""

from __future__ import annotations

import json
from typing import AsyncIterator

from coda_tui.providers import errors as E


class EventSplitter:
    """Cuts a byte stream into the `data` payloads of its events (text/event-stream):
    events end at a blank line, which may fall anywhere in the pieces fed."""

    def __init__(self) -> None:
        self._rest = b""

    def feed(self, piece: bytes) -> list[bytes]:
        buf = self._rest + piece
        if b"\r" in buf:
            # CRLF line ends; a CR alone at the end waits for its LF in the next piece.
            buf = buf.replace(b"\r\n", b"\n")
        events = buf.split(b"\n\n")
        self._rest = events.pop()
        out = []
        for event in events:
            if event.startswith(b"data:") and b"\n" not in event:
                out.append(event[5:].lstrip(b" "))  # the usual event: one data line
                continue
            lines = [line[5:].lstrip(b" ") for line in event.split(b"\n") if line.startswith(b"data:")]
            if lines:
                out.append(b"\n".join(lines))
        return out


async def chat_chunks(body: AsyncIterator[bytes], *, provider: str, endpoint: str) -> AsyncIterator[dict]:
    """Each `chat.completion.chunk` of an OpenAI stream as a dict, until `[DONE]` (the
    rest of the body is still read, so the connection can be used again). An error event
    from the server becomes a typed error; malformed JSON or UTF-8 raise as json/Unicode
    errors, which the provider maps like any other."""
    splitter = EventSplitter()
    done = got_text = False
    async for piece in body:
        if done:
            continue
        for data in splitter.feed(piece):
            if data.startswith(b"[DONE]"):
                done = True
                break
            chunk = json.loads(data.decode("utf-8"))
            if not isinstance(chunk, dict):
                raise json.JSONDecodeError("an event that is not a JSON object", data.decode("utf-8", "replace"), 0)
            error = chunk.get("error")
            if error:
                message = error.get("message") if isinstance(error, dict) else str(error)
                kind = E.StreamInterrupted if got_text else E.BadResponse
                raise kind(provider, f"{endpoint} reported an error in the stream: {message or 'no message'}",
                           hint="what arrived is kept as a partial answer" if got_text else "", endpoint=endpoint)
            got_text = got_text or bool(chunk.get("choices"))
            yield chunk
