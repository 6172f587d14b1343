"""Where coda keeps its files: one place to ask, so tests and users can move them all."""

from __future__ import annotations

import os
import stat
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


def exports_dir() -> Path:
    """Where the app proposes to export a session: not the project, where the file would
    show up in `git status`."""
    return data_dir() / "exports"


# Conversations are private: the data dir and what coda keeps in it are the user's alone.
PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600
# What coda writes in the data dir; CODA_DATA_DIR may name a folder that holds other things too.
_OWN = ("coda.db", "coda.db-wal", "coda.db-shm", "coda.db-journal", "logs", "index", "cache", "ui-state.json", "exports")


def private_dir(path: Path) -> Path:
    """Create `path` (0700) and its missing parents; an existing folder is left as it is."""
    path.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR_MODE)
    return path


def private_file(path: Path) -> Path:
    """Create an empty `path` readable by its owner alone, unless it exists: SQLite then
    gives the -wal and -shm files it makes the same mode."""
    private_dir(path.parent)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, PRIVATE_FILE_MODE))
    return path


def secure_data_dir() -> str | None:
    """Create the data dir 0700, or take group and other access away from an existing one
    and from what coda keeps in it. Returns what was changed, to be said (once: the next
    run finds nothing to change); None when nothing was, or nothing could be."""
    root = data_dir()
    try:
        if not root.exists():
            private_dir(root)
            return None
        loose = [root] if stat.S_IMODE(root.stat().st_mode) & 0o077 else []
        for name in _OWN:
            top = root / name
            for p in [top, *(top.rglob("*") if top.is_dir() and not top.is_symlink() else ())]:
                if not p.is_symlink() and p.exists() and stat.S_IMODE(p.lstat().st_mode) & 0o077:
                    loose.append(p)
        for p in loose:
            p.chmod(stat.S_IMODE(p.lstat().st_mode) & 0o700)
    except OSError:
        return None  # a read-only or foreign folder: opening the database says what is wrong
    if not loose:
        return None
    return (f"the data directory {root} could be read by other users; made it and {len(loose) - (root in loose)} "
            "of coda's files in it private (0700 folders, 0600 files)")
