"""The tool sources beyond the built-ins, as the registry takes them: one per enabled MCP
server, and the installed plugins. Nothing starts or imports here; the registry's
`ready()` loads them."""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

from coda_tui.config import Config
from coda_tui.tools.mcp import mcp_sources
from coda_tui.tools.plugins import GROUP, PluginSource
from coda_tui.tools.registry import ToolSource


def external_sources(config: Config, project_root: Path | None = None) -> list[ToolSource]:
    """`project_root` is where stdio servers are started (relative paths they are given
    are the project's)."""
    sources: list[ToolSource] = list(mcp_sources(config.mcp, project_root))
    # Only when some package declares tools: with none installed (the usual case) a turn
    # then has no "tools" stage to load them in.
    if importlib.metadata.entry_points(group=GROUP):
        sources.append(PluginSource())
    return sources
