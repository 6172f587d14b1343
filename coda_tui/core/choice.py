"""Who answers the next turn, and why: one decision, read by the status bar before a turn
and by the turn itself.

In order:
1. a provider or model the user named: `--provider` / `--model` at launch, or one picked in
   the app (which then stands for the session opened after it, as the session's own);
2. with roles configured, the router, which decides per question when the turn starts;
3. the session's own: the provider and model it last used, while that provider exists;
4. the default: [general] provider and model, else the provider's own default model.

Only the turn writes a session's provider and model (core.pipeline), once it has run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the annotations' names only: `coda ask` imports this before its runtime
    from coda_tui.config import Config
    from coda_tui.store.sessions import Session


@dataclass(frozen=True)
class Choice:
    provider: str
    model: str
    # "--provider", "--model", "picked in the app", "the session's", "roles" or "default".
    why: str
    # Roles pick per question at the turn; provider and model are then what would answer
    # without them, which is what the status bar shows until the turn says otherwise.
    routed: bool = False

    def for_turn(self) -> tuple[str | None, str | None]:
        """The provider and model to hand the turn: none when roles decide."""
        return (None, None) if self.routed else (self.provider, self.model)


def label(provider: str, model: str | None) -> str:
    """"provider/model", or the provider alone when it has no model (an OpenAI-compatible
    server configured without one picks its own): never a dangling "llamasrv/"."""
    return f"{provider}/{model}" if model else provider


def model_for(config: Config, provider: str, default: str, explicit: str | None, session: Session | None) -> str:
    """The model named, else what the session last used with this provider, else the
    config's, else the provider's own default."""
    if explicit:
        return explicit
    if session and session.provider == provider and session.model:
        return session.model
    if provider == config.general.provider and config.general.model:
        return config.general.model
    return default


def next_turn(config: Config, providers, session: Session | None, named: tuple[str | None, str | None] | None = None,
              why_named: str = "picked in the app", roles: bool = False) -> Choice:
    """The choice for the next turn. `named` is (provider, model) the user named, either
    part None; `providers` is the providers.registry.Providers, asked without creating one."""
    if named is not None:
        name, default, _ = providers.describe(named[0])
        return Choice(name, model_for(config, name, default, named[1], session), why_named)
    if session is not None and session.provider in config.providers:
        provider, model, why = session.provider, session.model, "the session's"
    else:
        provider, model, why = None, None, "default"
    name, default, _ = providers.describe(provider)
    return Choice(name, model_for(config, name, default, model, session), "roles" if roles else why, routed=roles)
