"""The objects one coda process shares: config, store, providers, the turn runner — made on demand,
so a command that needs only the config never opens the database."""

from __future__ import annotations

import hashlib
import logging
import os
from functools import cached_property
from typing import TYPE_CHECKING

from coda_tui import config as config_mod
from coda_tui import logs, paths
from coda_tui.context.project import Project
from coda_tui.core.events import EventBus
from coda_tui.core.sessions import Sessions
from coda_tui.core.watchdog import HealthWatchdog
from coda_tui.providers.errors import ProviderError
from coda_tui.providers.registry import Providers
from coda_tui.redact import Redactor
from coda_tui.store import Store

if TYPE_CHECKING:
    from coda_tui.context.index import CodeIndex, Hit
    from coda_tui.context.semantic import SemanticIndex
    from coda_tui.core.cache import ResponseCache
    from coda_tui.core.tool_loop import Toolbox
    from coda_tui.core.turn import TurnRunner

log = logging.getLogger(__name__)


class Runtime:
    def __init__(self, config_path: str | os.PathLike[str] | None = None, project: str | os.PathLike[str] | None = None) -> None:
        self.config = config_mod.load(config_path)
        if self.config.workflows:
            # Only then: the spec parser (and the operations it knows) stay out of every start-up.
            from coda_tui.core.spec import check_workflows

            check_workflows(self.config)
        self.redact = Redactor(self.config.secrets())
        tightened = paths.secure_data_dir()  # before anything is written there
        if tightened:
            self.config.warnings.append(tightened)
        logs.setup(self.redact)
        self.project = Project.discover(project, self.config.context, self.redact.secrets)

    @cached_property
    def index_path(self):
        # One index file a project: searches need no project filter, and forgetting a
        # project is deleting a file.
        digest = hashlib.sha1(str(self.project.root).encode()).hexdigest()[:16]
        return paths.data_dir() / "index" / f"{self.project.root.name}-{digest}.db"

    @cached_property
    def index(self) -> CodeIndex:
        # The index, the turn runner and what they bring (chunker, tools, pricing) are
        # imported when first used: the app's first frame needs none of them.
        from coda_tui.context.index import CodeIndex

        return CodeIndex(self.index_path, self.project)

    @cached_property
    def semantic(self) -> SemanticIndex | None:
        """Semantic ranking, when [context] embeddings names a provider."""
        ctx = self.config.context
        if not ctx.embeddings:
            return None
        provider = self.providers.get(ctx.embeddings)
        model = ctx.embedding_model or provider.default_model
        from coda_tui.context.semantic import SemanticIndex

        return SemanticIndex(self.index, lambda texts: provider.embed(texts, model))

    async def search(self, text: str, limit: int, exclude: set[str] = frozenset()) -> list[Hit] | None:
        """Code search for a question: BM25, fused with semantic ranking when configured;
        None if this project has not been indexed (the CLI does not index on its own:
        `coda index` does, and the app keeps the index current while it runs)."""
        # Looked for before it is opened: opening would create an index file for whatever
        # folder a question was asked in ($HOME, /).
        if "index" not in self.__dict__ and not self.index_path.exists():
            return None
        if not self.index.file_count():
            return None
        if self.semantic is not None:
            try:
                return await self.semantic.search(text, limit, set(exclude))
            except ProviderError as exc:
                # The embedding server being down must not cost the question its context.
                log.warning("semantic search failed, using BM25 alone: %s", exc)
        return self.index.search(text, limit, set(exclude))

    @cached_property
    def store(self) -> Store:
        return Store(paths.database_path())

    @cached_property
    def providers(self) -> Providers:
        return Providers(self.config, on_breaker=lambda name, state: self.watchdog.breaker_changed(name, state))

    @cached_property
    def watchdog(self) -> HealthWatchdog:
        return HealthWatchdog(self.config, self.providers, self.bus.publish, redact=self.redact)

    @cached_property
    def cache(self) -> ResponseCache | None:
        """The response cache when [cache] enabled; its own file, like the code index."""
        cfg = self.config.cache
        if not cfg.enabled:
            return None
        from coda_tui.core.cache import ResponseCache

        return ResponseCache(paths.response_cache_path(), ttl_s=cfg.ttl_s, max_entries=cfg.max_entries)

    @cached_property
    def bus(self) -> EventBus:
        return EventBus()

    @cached_property
    def turns(self) -> TurnRunner:
        from coda_tui.core.turn import TurnRunner

        return TurnRunner(self.config, self.store, self.providers, self.bus, self.project, self.search, cache=self.cache,
                          toolbox=lambda: self.toolbox)

    @cached_property
    def toolbox(self) -> Toolbox:
        """The tools a turn may offer, made on the first turn that uses them; one consent
        policy for the process, so "always" holds for the rest of this session."""
        from coda_tui.core.tool_loop import Toolbox
        from coda_tui.tools.policy import Policy
        from coda_tui.tools.setup import make_registry, tool_context

        async def search(query: str, limit: int):
            return await self.search(query, limit)

        context = tool_context(self.config, self.project, search)
        return Toolbox(make_registry(self.config, self.project.root), Policy(self.config.tools), context, self.config.tools)

    @cached_property
    def sessions(self) -> Sessions:
        return Sessions(self.store.sessions, self.redact)

    async def aclose(self) -> None:
        if "toolbox" in self.__dict__:
            await self.toolbox.registry.aclose()  # MCP servers it started
        if "providers" in self.__dict__:
            await self.providers.aclose()

    def close(self) -> None:
        if "store" in self.__dict__:
            self.store.close()
        if "index" in self.__dict__:
            self.index.close()
        if self.__dict__.get("cache") is not None:
            self.cache.close()

