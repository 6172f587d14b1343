import asyncio

import pytest

from coda_tui.providers import errors as E
from coda_tui.providers.sse import EventSplitter, chat_chunks

STREAM = (
    b'data: {"choices": [{"delta": {"content": "Hi"}}]}\n\n'
    b": a comment line\n\n"
    b'event: message\r\ndata: {"choices": [{"delta": {"content": " there"}}]}\r\n\r\n'
    b'data: {"a":\ndata: 1}\n\n'
    b"data: [DONE]\n\n"
)
PAYLOADS = [b'{"choices": [{"delta": {"content": "Hi"}}]}', b'{"choices": [{"delta": {"content": " there"}}]}',
            b'{"a":\n1}', b"[DONE]"]


@pytest.mark.parametrize("size", [1, 2, 3, 7, len(STREAM)])
def test_events_are_the_same_however_the_body_is_cut(size):
    splitter = EventSplitter()
    got = []
    for i in range(0, len(STREAM), size):
        got += splitter.feed(STREAM[i:i + size])
    assert got == PAYLOADS


async def _pieces(*pieces: bytes):
    for p in pieces:
        yield p


def _collect(*pieces: bytes) -> list[dict]:
    async def go():
        return [c async for c in chat_chunks(_pieces(*pieces), provider="p", endpoint="http://x/v1")]
    return asyncio.run(go())


def test_chunks_stop_at_done_and_the_rest_is_read():
    assert _collect(b'data: {"choices": []}\n\ndata: [DONE]\n\n', b'data: {"late": 1}\n\n') == [{"choices": []}]


def test_an_error_event_is_a_typed_error_and_keeps_what_came_before():
    with pytest.raises(E.StreamInterrupted, match="overloaded"):
        _collect(b'data: {"choices": [{"delta": {"content": "a"}}]}\n\ndata: {"error": {"message": "overloaded"}}\n\n')
    with pytest.raises(E.BadResponse, match="overloaded"):
        _collect(b'data: {"error": {"message": "overloaded"}}\n\n')
