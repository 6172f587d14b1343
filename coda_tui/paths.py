"""Where coda keeps its files: one place to ask, so tests and users can move them all."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "coda"


def config_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The config file: --config, else CODA_CONFIG_PATH, else the platform config dir."""
    if explicit:
        return Path(explicit).expanduser()
    env = os.environ.get("CODA_CONFIG_PATH")
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)) / "config.toml"


def data_dir() -> Path:
    """The database and logs live here: CODA_DATA_DIR, else the platform data dir."""
    env = os.environ.get("CODA_DATA_DIR")
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def database_path() -> Path:
    return data_dir() / "coda.db"


def response_cache_path() -> Path:
    """The response cache: its own file, derived data that may be deleted at any time."""
    return data_dir() / "cache" / "responses.db"


def log_path() -> Path:
    return data_dir() / "logs" / "coda.log"
