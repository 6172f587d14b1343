"""The provider types coda knows: one row each, read by config (validation, built-ins) and
by the registry (creating, preloading).

Plain data, imported at every start: a row names its module and class as strings, so no
client library (openai, ollama, llama_cpp) is imported until a provider of that type is used.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ProviderType:
    name: str  # the `type = "..."` of a [providers.NAME] table
    module: str  # imported when a provider of the type is first made
    cls: str
    # The ProviderConfig field that says where the provider is (base_url, host, model_path),
    # and what is used when it is empty.
    endpoint_field: str
    default_endpoint: str
    # The built-in provider of this type that exists without any file (`local`, `ollama`, ...).
    builtin: str
    builtin_model: str | None = None
    # The built-in entry exists only while key_env is set: a hosted API nobody configured
    # should not show up (in doctor, in a role chain) as a provider that always fails.
    builtin_needs_key: bool = False
    # The usual environment variables: the key and the endpoint of the built-in entry.
    key_env: str | None = None
    endpoint_env: str | None = None
    # ... and whether the endpoint variable applies to every provider of the type (OLLAMA_HOST
    # names the machine's one server; a key is never lent to another server).
    endpoint_env_for_all: bool = False
    # Hosts that refuse requests without a key ("*": every host); elsewhere a key is optional.
    key_required_at: tuple[str, ...] = ()
    # Libraries worth importing in a thread before first use (openai: ~350 ms; genai-prices,
    # ~140 ms, prices a hosted model's turns).
    preload: tuple[str, ...] = ()
    # Shown before the provider exists, without importing its module.
    default_model: str = ""
    context_window: int = 8192
    # The answer's length when the config sets none.
    max_tokens: int = 1024
    # The vendor whose price list (genai-prices' provider id) a model of this type is
    # looked up in first; None: the type serves models of many vendors (ollama, llama.cpp).
    price_vendor: str | None = None
    # Its models follow a round plan of the provider's (tool_choice_for) rather than choose
    # their tools, unless [providers.NAME] tool_choice is set: a question is offered tools
    # only when it earns them (core.tool_gate).
    plans_tools: bool = False

    def needs_key(self, endpoint: str) -> bool:
        return any(host == "*" or host in endpoint for host in self.key_required_at)


TYPES: dict[str, ProviderType] = {
    t.name: t
    for t in (
        ProviderType("llama_cpp", "coda_tui.providers.llama_cpp", "LlamaCppProvider",
                     endpoint_field="model_path", default_endpoint="embedded SmolLM2-135M-Instruct",
                     # The 135M model rarely has more to say than this, and when it loops every
                     # token past it is noise the user waits for (1,024 looping tokens took 247 s).
                     builtin="local", context_window=4096, max_tokens=512, plans_tools=True),
        ProviderType("ollama", "coda_tui.providers.ollama", "OllamaProvider",
                     endpoint_field="host", default_endpoint="http://localhost:11434",
                     builtin="ollama", endpoint_env="OLLAMA_HOST", endpoint_env_for_all=True,
                     preload=("ollama",), default_model="llama3.2", context_window=32768),
        ProviderType("openai", "coda_tui.providers.openai_compat", "OpenAIProvider",
                     endpoint_field="base_url", default_endpoint="https://api.openai.com/v1",
                     builtin="openai", builtin_model="gpt-4o-mini", key_env="OPENAI_API_KEY",
                     endpoint_env="OPENAI_BASE_URL", key_required_at=("api.openai.com",), preload=("openai", "genai_prices"),
                     price_vendor="openai"),
        # The SDK costs ~0.8 s to import: preloaded in a thread, like openai.
        ProviderType("anthropic", "coda_tui.providers.anthropic", "AnthropicProvider",
                     endpoint_field="base_url", default_endpoint="https://api.anthropic.com",
                     builtin="anthropic", builtin_model="claude-haiku-5-5", builtin_needs_key=True,
                     key_env="ANTHROPIC_API_KEY", endpoint_env="ANTHROPIC_BASE_URL", key_required_at=("api.anthropic.com",), preload=("anthropic", "genai_prices"),
                     default_model="claude-haiku-5-5", context_window=200_000, price_vendor="anthropic"),
    )
}
