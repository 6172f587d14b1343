"""A render cache of Textual's that outlives the widgets it was filled for."""

from __future__ import annotations

try:
    from textual._styles_cache import StylesCache
except ImportError:  # a private module: a Textual that moved it has changed this cache too
    StylesCache = None


def release_removed_widgets() -> None:
    """Let the widgets removed so far be freed, with the lines they had drawn.

    Textual (8.x) caches `StylesCache.get_inner_outer` with `functools.lru_cache` on the
    method, so each key holds the StylesCache itself: every widget drawn since (up to
    1,024 of them) keeps its styles cache alive after it is removed, and with it every
    line it rendered, each a Strip with its own caches. In a long chat, where the oldest
    messages are unmounted as new ones arrive, that was ~25 MiB by turn 60 (a live heap,
    not fragmentation: pymalloc's allocated blocks). What the cache holds (two Styles for
    a pair of background colours) is recomputed in microseconds.
    """
    clear = getattr(getattr(StylesCache, "get_inner_outer", None), "cache_clear", None)
    if clear is not None:
        clear()
