"""Which calls run at once, which ask first, which are refused.

Rules come from [tools] allow / ask / deny (tool names, "SERVER.*" for all of an MCP
server's tools, "*" for every tool); deny wins over ask, ask over allow. A tool no rule
names runs at once when it is read-only and asks otherwise. "Always" answered to a consent
request holds for the rest of the session (this Policy object), never longer.
"""

from __future__ import annotations

import fnmatch
from typing import Literal

from coda_tui.config import ToolsConfig
from coda_tui.tools.base import ToolSpec

Rule = Literal["allow", "ask", "deny"]


class Policy:
    def __init__(self, config: ToolsConfig, *, yes: bool = False) -> None:
        self.config = config
        # `coda ask --yes`: every "ask" is answered yes (deny rules still hold).
        self.yes = yes
        self._always: set[str] = set()

    @staticmethod
    def _named(patterns: list[str], name: str) -> bool:
        return any(fnmatch.fnmatchcase(name, p) for p in patterns)

    def rule(self, spec: ToolSpec) -> Rule:
        """The configured rule, before any answer given this session."""
        if self._named(self.config.deny, spec.name):
            return "deny"
        if self._named(self.config.ask, spec.name):
            return "ask"
        if self._named(self.config.allow, spec.name) or spec.read_only:
            return "allow"
        return "ask"

    def decide(self, spec: ToolSpec) -> Rule:
        """What to do with a call now: `ask` becomes `allow` after --yes or "always"."""
        rule = self.rule(spec)
        if rule == "ask" and (self.yes or spec.name in self._always):
            return "allow"
        return rule

    def always(self, name: str) -> None:
        self._always.add(name)
