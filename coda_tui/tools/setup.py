"""Making the tools of a run: the registry (built-ins, then the sources configured) and
the context calls get (limits from [tools], an environment without keys, the undo journal)."""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from coda_tui.config import Config
from coda_tui.context.project import Project
from coda_tui.tools.backups import prune_soon
from coda_tui.tools.base import Tool, ToolContext
from coda_tui.tools.commands import GitDiff, GitStatus, RunCommand, clean_env
from coda_tui.tools.edits import EditFile, WriteFile
from coda_tui.tools.files import Grep, ListFiles, ReadFile, SearchCode
from coda_tui.tools.registry import ToolRegistry
from coda_tui.tools.sources import external_sources
from coda_tui.tools.undo import Journal

if TYPE_CHECKING:
    from coda_tui.context.index import Hit


def builtin_tools() -> list[Tool]:
    # Reading and searching first: a small model tends to pick among the first it is shown.
    return [ReadFile(), ListFiles(), SearchCode(), Grep(), GitStatus(), GitDiff(), EditFile(), WriteFile(),
            RunCommand()]


def make_registry(config: Config, project_root: Path | None = None) -> ToolRegistry:
    """Built-ins, then the MCP servers and plugins (loaded by `ready()`); stdio servers are
    started in `project_root`."""
    return ToolRegistry(builtin_tools(), external_sources(config, project_root))


def tool_context(
    config: Config,
    project: Project,
    search: Callable[[str, int], Awaitable[list[Hit] | None]] | None = None,
    turn: str | None = None,
) -> ToolContext:
    return ToolContext(
        project,
        search,
        output_chars=config.tools.output_chars,
        command_timeout_s=config.tools.command_timeout_s,
        env=clean_env(os.environ, config.secrets()),
        turn=turn,
        journal=Journal(project, after_record=partial(prune_soon, config.backups)),
    )
