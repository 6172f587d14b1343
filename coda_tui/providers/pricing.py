"""What a turn cost, in US dollars: prices from genai-prices (a maintained list, not a table
of ours), a user's own `price_in` / `price_out`, 0 for models that run locally, and
"unknown" — never 0 — when nobody knows.

The order, and why: a price the user set wins. The embedded model is local. A model of the
type's own vendor (OpenAI's gpt-4o-mini behind an `openai` provider, Claude behind
`anthropic`) is priced as that vendor prices it, wherever the server is: a known price is
a price, even from a proxy on this machine. Otherwise a server on a loopback or private
address is self-hosted, so local; a public one is looked up by its URL, then by the model's
name across the list; else the price is unknown.

genai-prices takes ~140 ms to import: it is imported on the first priced lookup, never at
start-up, and never for a local model.
"""

from __future__ import annotations

import ipaddress
import logging
from dataclasses import asdict, dataclass
from urllib.parse import urlsplit

from coda_tui.config import ProviderConfig
from coda_tui.providers.base import Usage
from coda_tui.providers.types import TYPES

log = logging.getLogger(__name__)

PRICED, CONFIG, LOCAL, CACHED, UNKNOWN = "priced", "config", "local", "cached", "unknown"
PER_MILLION = 1_000_000


@dataclass(frozen=True)
class Cost:
    """One model call's cost. `usd` is None when the price is unknown."""

    usd: float | None
    basis: str  # priced (genai-prices) | config (price_in/price_out) | local | cached | unknown
    input_tokens: int
    output_tokens: int
    # The token counts were estimated by coda (the server reported none).
    estimated: bool = False
    # Where the price came from: "genai-prices openai/gpt-4o-mini", "[providers.x]", ...
    source: str = ""

    def to_dict(self) -> dict:
        return asdict(self)

    def label(self) -> str:
        if self.basis in (LOCAL, CACHED):
            return f"{self.basis}, $0"
        if self.usd is None:
            return "cost unknown"
        return ("~" if self.estimated else "") + format_usd(self.usd)


def format_usd(usd: float) -> str:
    """Dollars with the precision a fraction of a cent needs: $0.00042, $0.0123, $1.25."""
    if usd == 0:
        return "$0"
    if usd < 0.0001:
        return f"${usd:.6f}".rstrip("0")
    if usd < 1:
        return f"${usd:.4f}"
    return f"${usd:,.2f}"


def is_private_address(address: str) -> bool:
    """Is this URL's host this machine or a private network (self-hosted)? Decided from the
    text alone: a name other than localhost is not resolved (no DNS on this path)."""
    try:
        host = urlsplit(address if "://" in address else f"http://{address}").hostname or ""
    except ValueError:
        return False
    if host == "localhost" or host.endswith((".localhost", ".local", ".internal", ".lan")):
        return True
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return False
    return ip.is_loopback or ip.is_private or ip.is_link_local


def _lookup(model: str, tokens_in: int, tokens_out: int, **where: str) -> tuple[float, str] | None:
    """(USD, "vendor/model") from genai-prices, or None when it has no price for it."""
    import genai_prices  # lazily: see the module's docstring

    try:
        calc = genai_prices.calc_price(genai_prices.Usage(input_tokens=tokens_in, output_tokens=tokens_out),
                                       model, **where)
    except LookupError:
        return None
    except Exception as exc:  # noqa: BLE001 - a price list problem must not fail a turn
        log.warning("genai-prices could not price %s (%s): %s", model, where, exc)
        return None
    return float(calc.total_price), f"{calc.provider.id}/{calc.model.id}"


def turn_cost(pc: ProviderConfig, model: str, usage: Usage, *, cached: bool = False) -> Cost:
    """The cost of one model call with this usage, by the rules in the module's docstring;
    an answer from coda's response cache called nobody, so cost nothing."""
    tokens_in, tokens_out = usage.prompt_tokens or 0, usage.completion_tokens or 0
    if usage.estimated and not tokens_out:
        tokens_in = 0  # nothing came and the server counted nothing: a failed call is not billed
    kind = TYPES[pc.type]

    def cost(usd: float | None, basis: str, source: str) -> Cost:
        return Cost(usd, basis, tokens_in, tokens_out, usage.estimated, source)

    if cached:
        return cost(0.0, CACHED, "answered from coda's cache")
    if pc.price_in is not None or pc.price_out is not None:
        usd = (tokens_in * (pc.price_in or 0.0) + tokens_out * (pc.price_out or 0.0)) / PER_MILLION
        return cost(usd, CONFIG, f"[providers.{pc.name}] price_in/price_out")
    if kind.endpoint_field == "model_path":
        return cost(0.0, LOCAL, "runs in this process")
    private = is_private_address(pc.address)
    found = None
    if kind.price_vendor:
        found = _lookup(model, tokens_in, tokens_out, provider_id=kind.price_vendor)
    if found is None and private:
        return cost(0.0, LOCAL, f"self-hosted at {pc.endpoint}")
    if found is None:
        found = _lookup(model, tokens_in, tokens_out, provider_api_url=pc.address) or _lookup(model, tokens_in, tokens_out)
    if found is None:
        return cost(None, UNKNOWN, f"no price for '{model}' in genai-prices; set price_in/price_out in [providers.{pc.name}]")
    usd, priced_as = found
    return cost(usd, PRICED, f"genai-prices {priced_as}")


@dataclass
class CostTotal:
    """Costs added up (a turn's model rounds, a session's turns). Unknown ones are counted
    apart, so a total never passes an unknown price off as $0."""

    usd: float = 0.0
    priced: int = 0
    local: int = 0
    unknown: int = 0

    def add(self, cost: dict | None) -> None:
        """Add one call's cost as stored (Cost.to_dict() in an llm stage's detail)."""
        if not cost:
            return
        if cost.get("basis") == LOCAL:
            self.local += 1
        elif cost.get("usd") is None:
            self.unknown += 1
        else:
            self.usd += cost["usd"]
            self.priced += 1

    @classmethod
    def of(cls, costs) -> CostTotal:
        total = cls()
        for c in costs:
            total.add(c)
        return total

    def label(self) -> str:
        """'' when nothing was recorded; else "$0.0123", "$0.0123 + 2 unknown", "local, $0"."""
        if self.priced:
            return format_usd(self.usd) + (f" + {self.unknown} unknown" if self.unknown else "")
        if self.unknown:
            return "cost unknown"
        return "local, $0" if self.local else ""

    def to_dict(self) -> dict:
        """For --json: usd is None when any price was unknown (the sum would understate it)
        or nothing was recorded."""
        known = not self.unknown and (self.priced or self.local)
        return {"usd": round(self.usd, 10) if known else None, "priced_usd": round(self.usd, 10),
                "calls": {"priced": self.priced, "local": self.local, "unknown": self.unknown}}


def stage_costs(stages) -> list[dict]:
    """The costs recorded in a trace's llm stages (one a model round)."""
    return [s.detail["cost"] for s in stages if s.name == "llm" and isinstance(s.detail.get("cost"), dict)]
