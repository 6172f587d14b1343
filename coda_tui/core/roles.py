"""Model roles: a small router model sorts each request into a role (coder, reviewer, …),
and the role names the fallback chain of provider:model targets that answer it.

The router's answer is read tolerantly: the first role name it mentions wins; an answer
naming none, or a router that fails, gives the default role, and the trace says which.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from coda_tui.config import ConfigError, RolesConfig, parse_target
from coda_tui.core.model_stats import ModelStat
from coda_tui.providers.base import ChatMessage
from coda_tui.providers.errors import ProviderError
from coda_tui.providers.pricing import format_usd
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
    # With [roles] prefer: the statistic the chain was ordered by, and each target's figure.
    prefer: str = ""
    order: list[dict] = field(default_factory=list)

    def summary(self) -> str:
        targets = " → ".join(p + (f":{m}" if m else "") for p, m in self.fallback_chain)
        text = f"role {self.role} ({self.how}: {self.why}); fallback chain {targets}"
        if self.prefer:
            text += f"; ordered by {self.prefer}: " + ", ".join(f"{o['target']} {o['shown']}" for o in self.order)
        return text

    def detail(self) -> dict:
        return {"role": self.role, "how": self.how, "why": self.why, "router": self.router,
                "router_answer": self.router_answer, "router_ms": self.router_ms,
                "fallback_chain": [p + (f":{m}" if m else "") for p, m in self.fallback_chain],
                "prefer": self.prefer or None, "order": self.order}


def _measure(prefer: str, stat: ModelStat | None) -> tuple[float | None, str]:
    """(the figure to sort by, smaller first; how it reads) of one target; None: unmeasured."""
    if prefer == "rating":
        if stat is None or not stat.rated:
            return None, "no ratings"
        return -stat.up_share, f"{stat.up_share:.0%} up of {stat.rated}"
    if prefer == "speed":
        if stat is None or stat.ttft_median_ms is None:
            return None, "no timings"
        return stat.ttft_median_ms, f"first token {stat.ttft_median_ms:,.0f} ms median"
    per_answer = stat.cost_per_answer if stat is not None else None
    if per_answer is None:
        return None, "no known cost"
    if stat.cost.local and not stat.cost.priced:
        return 0.0, "local, $0"
    return per_answer, f"{format_usd(per_answer)} an answer"


def order_chain(chain: list[tuple[str, str | None]], prefer: str, stats: list[ModelStat],
                default_model: Callable[[str], str]) -> tuple[list[tuple[str, str | None]], list[dict]]:
    """The chain sorted by the preferred statistic, best first; targets with no figure keep
    their written order after those with one (nothing measured: the chain as written)."""
    by_target = {(s.provider, s.model): s for s in stats}
    rows = []
    for i, (provider, model) in enumerate(chain):
        value, shown = _measure(prefer, by_target.get((provider, model or default_model(provider))))
        rows.append(((value is None, value or 0.0, i), (provider, model), shown))
    rows.sort(key=lambda r: r[0])
    order = [{"target": p + (f":{m}" if m else ""), "value": None if k[0] else k[1], "shown": shown}
             for k, (p, m), shown in rows]
    return [t for _, t, _ in rows], order


@dataclass
class Roles:
    config: RolesConfig
    providers: Providers
    # The measured statistics [roles] prefer orders chains by (read at each routing).
    measured: Callable[[], list[ModelStat]] | None = None

    @property
    def enabled(self) -> bool:
        return self.config.routing

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

    def _default_model(self, provider: str) -> str:
        try:
            return self.providers.describe(provider)[1]
        except ConfigError:
            return ""

    async def route(self, request: str) -> Route:
        route = await self._route(request)
        prefer = self.config.prefer
        if prefer and self.measured is not None:
            route.fallback_chain, route.order = order_chain(route.fallback_chain, prefer, self.measured(),
                                                            self._default_model)
            route.prefer = prefer
        return route

    async def _route(self, request: str) -> Route:
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
