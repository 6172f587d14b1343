"""core.choice: who answers the next turn, and why, in the documented order."""

from __future__ import annotations

from coda_tui.config import load
from coda_tui.core.choice import next_turn
from coda_tui.providers.registry import Providers
from coda_tui.store.sessions import Session
from tests.conftest import write_config

CONFIG = ('[general]\nprovider = "a"\nmodel = "a-general"\n'
          '[providers.a]\ntype = "openai"\nbase_url = "http://127.0.0.1:9/v1"\nmodel = "a-default"\n'
          '[providers.b]\ntype = "openai"\nbase_url = "http://127.0.0.1:9/v1"\nmodel = "b-default"\n')


def session(provider: str | None, model: str | None) -> Session:
    return Session(id=1, name="s", created_at="", updated_at="", provider=provider, model=model)


def test_the_order_named_then_roles_then_the_session_then_the_default(tmp_path):
    config = load(write_config(tmp_path, CONFIG))
    providers = Providers(config)
    mine = session("b", "b-tuned")
    first = next_turn(config, providers, None)
    assert (first.provider, first.model, first.why, first.routed) == ("a", "a-general", "default", False)
    of_session = next_turn(config, providers, mine)
    assert (of_session.provider, of_session.model, of_session.why) == ("b", "b-tuned", "the session's")
    routed = next_turn(config, providers, mine, roles=True)
    assert routed.why == "roles" and routed.for_turn() == (None, None) and routed.provider == "b"
    named = next_turn(config, providers, mine, ("a", None), "--provider", roles=True)
    assert (named.provider, named.model, named.why) == ("a", "a-general", "--provider")
    assert named.for_turn() == ("a", "a-general")
    model_only = next_turn(config, providers, None, (None, "a-big"), "--model")
    assert (model_only.provider, model_only.model) == ("a", "a-big")
    gone = next_turn(config, providers, session("removed", "x"))
    assert (gone.provider, gone.why) == ("a", "default")
