"""Real components: the embedded llama.cpp model in-process, and llama.cpp's own
OpenAI-compatible server for the openai provider."""

from __future__ import annotations

import asyncio
import time

import pytest

from coda_tui.providers import errors as E
from coda_tui.providers.base import ChatMessage
from tests.conftest import LLAMA_SERVER_KEY
from tests.providers.helpers import collect, collect_until_error, provider

pytestmark = pytest.mark.slow
QUESTION = [ChatMessage("user", "Write a Python function that reverses a string.")]


def test_embedded_model_streams_an_answer_with_usage():
    chunks, usage, _ = collect(provider("llama_cpp", max_tokens=48), messages=QUESTION)
    text = "".join(chunks)
    assert len(chunks) > 5 and text.strip()
    assert usage.completion_tokens == len(chunks) and usage.prompt_tokens > 10


def test_embedded_model_stops_promptly_when_cancelled():
    prov = provider("llama_cpp", max_tokens=400)

    async def go():
        await prov.load()
        got = []
        stopped_at = None

        async def consume():
            async for item in prov.stream(QUESTION):
                if isinstance(item, str):
                    got.append(item)

        task = asyncio.create_task(consume())
        while len(got) < 3:
            await asyncio.sleep(0.01)
        task.cancel()
        t0 = time.perf_counter()
        with pytest.raises(asyncio.CancelledError):
            await task
        n_at_cancel = len(got)
        # The worker thread must let go of the model: a second turn can start at once.
        async for item in prov.stream([ChatMessage("user", "Hi")], max_tokens=4):
            if isinstance(item, str) and stopped_at is None:
                stopped_at = time.perf_counter() - t0
        return n_at_cancel, stopped_at

    n, next_first_token = asyncio.run(go())
    assert n < 20
    # A worker that did not stop would finish its 400 tokens first (8 s or more here); the
    # margin is for a machine whose two cores are busy with other work.
    assert next_first_token is not None and next_first_token < 5.0


def test_embedded_missing_model_file_is_clear(tmp_path):
    _, exc = collect_until_error(provider("llama_cpp", model_path=str(tmp_path / "nope.gguf")))
    assert isinstance(exc, E.ModelNotFound) and "nope.gguf" in str(exc)


def test_embedded_corrupt_model_file_is_clear(tmp_path):
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"GGUF" + b"\0" * 100)
    _, exc = collect_until_error(provider("llama_cpp", model_path=str(bad)))
    assert isinstance(exc, E.ModelNotFound) and "cannot load" in str(exc)


def test_openai_provider_against_llama_cpp_server(llama_server):
    prov = provider("openai", base_url=llama_server, api_key=LLAMA_SERVER_KEY, model="smollm2", max_tokens=32)
    chunks, usage, _ = collect(prov, messages=QUESTION)
    assert len(chunks) > 3 and "".join(chunks).strip()
    assert usage is not None  # this server sends no usage; the pipeline then counts chunks
    prov = provider("openai", base_url=llama_server, api_key=LLAMA_SERVER_KEY, model="smollm2")
    assert asyncio.run(prov.list_models()) == ["smollm2"]


def test_openai_provider_wrong_key_against_llama_cpp_server(llama_server):
    prov = provider("openai", base_url=llama_server, api_key="sk-wrong-key-000000000000", model="smollm2")
    chunks, exc = collect_until_error(prov)
    assert chunks == [] and isinstance(exc, E.AuthError) and "401" in str(exc)
    assert "sk-wrong" not in str(exc)
