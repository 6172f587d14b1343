"""Model roles: a small router model sorts each request into a role (coder, reviewer, …),
and the role names the fallback chain of provider:model targets that answer it.

The router's answer is read tolerantly: the first role name it mentions wins; an answer
naming none, or a router that fails, gives the default role, and the trace says which.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from coda_tui.config import ConfigError, RolesConfig, parse_target
from coda_tui.providers.base import ChatMessage
from coda_tui.providers.errors import ProviderError
from coda_tui.providers.registry import Providers

# The router only has to say one word; the request it reads is cut to keep it quick.
ROUTER_MAX_TOKENS = 12
ROUTER_PROMPT_CHARS = 2000
ROUTER_SYSTEM = (
    "You route requests sent to a coding assistant. Reply with exactly one role name from "
    "the list, and nothing else."
)


@dataclass
class Route:
    role: str
    # How the role was chosen: "router", "default" (the router could not decide) or "only role".
    how: str
    why: str
    fallback_chain: list[tuple[str, str | None]]
    router: str | None = None
    router_answer: str | None = None
    router_ms: float = 0.0

    def summary(self) -> str:
        targets = " → ".join(p + (f":{m}" if m else "") for p, m in self.fallback_chain)
        return f"role {self.role} ({self.how}: {self.why}); fallback chain {targets}"

    def detail(self) -> dict:
        return {"role": self.role, "how": self.how, "why": self.why, "router": self.router,
                "router_answer": self.router_answer, "router_ms": self.router_ms,
                "fallback_chain": [p + (f":{m}" if m else "") for p, m in self.fallback_chain]}


@dataclass
class Roles:
    config: RolesConfig
    providers: Providers

    @property
    def enabled(self) -> bool:
        return self.config.enabled and bool(self.config.roles)

    def fallback_chain(self, role: str) -> list[tuple[str, str | None]]:
        return [parse_target(t) for t in self.config.roles[role].chain]

    def classification_prompt(self, request: str) -> list[ChatMessage]:
        lines = [f"- {r.name}: {r.description or r.name}" for r in self.config.roles.values()]
        text = request.strip()
        if len(text) > ROUTER_PROMPT_CHARS:
            text = text[:ROUTER_PROMPT_CHARS] + " …"
        user = "Roles:\n" + "\n".join(lines) + f"\n\nRequest:\n{text}\n\nWhich role should answer? Role:"
        return [ChatMessage("system", ROUTER_SYSTEM), ChatMessage("user", user)]

    def parse(self, answer: str) -> str | None:
        """The role the answer names first (whole words, any case), or None."""
        low = answer.lower()
        found = []
        for name in self.config.roles:
            m = re.search(rf"(?<![\w-]){re.escape(name.lower())}(?![\w-])", low)
            if m:
                found.append((m.start(), name))
        return min(found)[1] if found else None

    async def route(self, request: str) -> Route:
        cfg = self.config
        if len(cfg.roles) == 1:
            only = next(iter(cfg.roles))
            return Route(only, "only role", "no classification needed", self.fallback_chain(only))
        router, model = parse_target(cfg.router)
        t0 = time.perf_counter()
        answer = None
        try:
            prov = self.providers.get(router)
            parts = []
            async for item in prov.stream(
                self.classification_prompt(request), model=model, max_tokens=ROUTER_MAX_TOKENS, temperature=0.0
            ):
                if isinstance(item, str):
                    parts.append(item)
            answer = "".join(parts).strip()
        except (ProviderError, ConfigError) as exc:  # a router that cannot answer must not stop the turn
            ms = (time.perf_counter() - t0) * 1000
            return Route(cfg.default, "default", f"router failed: {exc}", self.fallback_chain(cfg.default), cfg.router, None, ms)
        ms = (time.perf_counter() - t0) * 1000
        role = self.parse(answer)
        shown = " ".join(answer.split())[:60]
        if role is None:
            return Route(cfg.default, "default", f"router's answer named no role: {shown!r}", self.fallback_chain(cfg.default),
                         cfg.router, answer, ms)
        return Route(role, "router", f"classified as {role!r} by {cfg.router}", self.fallback_chain(role), cfg.router, answer, ms)
