"""Following a folder on disk: batches of changed paths, and an index kept current by them.

watchfiles runs in a thread: setting up its watches on a large tree takes over 100 ms,
which an event loop must not wait on. Used by the app for the project (the index, the
code pane) and for the user's themes folder (live reload). No Textual here.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

log = logging.getLogger(__name__)

# Writes nobody edits: git's own files, bytecode, and the database's journal files (the
# data dir may sit inside the project).
_SKIPPED_PARTS = ("/.git/", "__pycache__")
_SKIPPED_ENDS = (".db-wal", ".db-shm", ".db-journal")


def _wanted(_change, path: str) -> bool:
    return not any(part in path for part in _SKIPPED_PARTS) and not path.endswith(_SKIPPED_ENDS)


async def changes(root: Path, *, debounce_ms: int = 100) -> AsyncIterator[list[Path]]:
    """Batches of changed paths under `root`, sorted, until the consumer stops iterating."""
    from watchfiles import watch

    queue: asyncio.Queue[list[Path]] = asyncio.Queue()
    stop = threading.Event()
    loop = asyncio.get_running_loop()

    def run() -> None:
        try:
            for batch in watch(root, watch_filter=_wanted, debounce=debounce_ms, step=50, stop_event=stop, yield_on_timeout=False):
                loop.call_soon_threadsafe(queue.put_nowait, sorted({Path(p) for _, p in batch}))
        except Exception:
            log.exception("file watcher stopped")

    thread = threading.Thread(target=run, name="coda-watch", daemon=True)
    thread.start()
    try:
        while True:
            yield await queue.get()
    finally:
        stop.set()


async def keep_index_current(index, root: Path, *, indexed: Callable[[object], Awaitable[None]],
                             changed: Callable[[list[Path]], Awaitable[None]],
                             progress: Callable[[object], None] | None = None) -> None:
    """Index what changed since the last run (by mtime), then follow the disk: re-index
    each batch of changed files. `indexed(stats)` runs after the first pass, `changed(paths)`
    after each batch is re-indexed; `progress` is called from the indexing thread. A pass
    cancelled (coda is quitting) ends it."""
    stats = await asyncio.to_thread(index.update, progress)
    if stats.cancelled:
        return
    await indexed(stats)
    async for paths in changes(root):
        await asyncio.to_thread(index.update_paths, paths)
        await changed(paths)
