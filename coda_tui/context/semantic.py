"""Optional semantic ranking: chunk vectors from a provider's embedding endpoint, stored
beside the chunks, and fused with BM25's ranking by reciprocal rank fusion.

Without an embedding source configured none of this runs, and search is BM25 alone.
Vectors are compared with numpy (it comes with the `local` extra); without numpy,
semantic ranking reports itself unavailable rather than crawling in pure Python.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Awaitable, Callable

from coda_tui.config import ConfigError
from coda_tui.context.index import CodeIndex, Hit, query_words, snippet

Embed = Callable[[list[str]], Awaitable[list[list[float]]]]

BATCH = 32
MAX_CHARS = 2000  # of a chunk sent to be embedded
RRF_K = 60  # the usual constant of reciprocal rank fusion


class SemanticUnavailable(ConfigError):
    """Embeddings are configured but cannot be used here (reported like a config error)."""


def _numpy():
    try:
        import numpy
    except ImportError:
        raise SemanticUnavailable("semantic ranking needs numpy (pip install 'coda-tui[local]')") from None
    return numpy


@dataclass
class EmbedStats:
    embedded: int = 0
    total: int = 0


class SemanticIndex:
    def __init__(self, index: CodeIndex, embed: Embed) -> None:
        self.index = index
        self.embed = embed
        self._matrix = None  # (ids, unit vectors), rebuilt when the chunk set changes

    async def refresh(self) -> EmbedStats:
        """Embed the chunks that have no vector yet (new or changed files)."""
        np = _numpy()
        conn = self.index.conn
        with self.index.lock:
            missing = conn.execute(
                "SELECT c.id, c.path, c.text FROM chunks c LEFT JOIN vectors v ON v.chunk_id = c.id WHERE v.chunk_id IS NULL"
            ).fetchall()
        stats = EmbedStats(total=len(missing))
        for start in range(0, len(missing), BATCH):
            batch = missing[start : start + BATCH]
            vectors = await self.embed([f"{path}\n{text[:MAX_CHARS]}" for _, path, text in batch])
            rows = [(cid, np.asarray(vec, dtype=np.float32).tobytes()) for (cid, _, _), vec in zip(batch, vectors)]
            with self.index.lock, conn:
                conn.executemany("INSERT OR REPLACE INTO vectors (chunk_id, vec) VALUES (?, ?)", rows)
            stats.embedded += len(rows)
        if stats.embedded:
            self._matrix = None
        return stats

    def _load(self):
        np = _numpy()
        with self.index.lock:
            count = self.index.conn.execute("SELECT count(*) FROM vectors").fetchone()[0]
            if self._matrix is not None and len(self._matrix[0]) == count:
                return self._matrix
            rows = self.index.conn.execute("SELECT chunk_id, vec FROM vectors ORDER BY chunk_id").fetchall()
        if not rows:
            self._matrix = ([], None)
            return self._matrix
        ids = [r[0] for r in rows]
        matrix = np.vstack([np.frombuffer(r[1], dtype=np.float32) for r in rows])
        matrix /= np.linalg.norm(matrix, axis=1, keepdims=True) + 1e-9
        self._matrix = (ids, matrix)
        return self._matrix

    async def nearest(self, text: str, limit: int) -> list[int]:
        """Chunk ids closest in meaning to `text`, best first."""
        np = _numpy()
        ids, matrix = self._load()
        if matrix is None:
            return []
        query = np.asarray((await self.embed([text]))[0], dtype=np.float32)
        query /= np.linalg.norm(query) + 1e-9
        scores = matrix @ query
        top = np.argsort(-scores)[:limit]
        return [ids[i] for i in top]

    async def search(self, text: str, limit: int = 10, exclude: set[str] | None = None) -> list[Hit]:
        """BM25 and semantic rankings fused: each chunk scores the sum of 1 / (60 + rank)
        over the rankings it appears in."""
        depth = max(limit * 3, 30)
        keyword = self.index.search(text, limit=depth)
        semantic = await self.nearest(text, depth)
        fused: dict[int, float] = {}
        by_id: dict[int, Hit] = {}
        for rank, hit in enumerate(keyword):
            fused[hit.id] = fused.get(hit.id, 0.0) + 1.0 / (RRF_K + rank + 1)
            by_id[hit.id] = hit
        for rank, cid in enumerate(semantic):
            fused[cid] = fused.get(cid, 0.0) + 1.0 / (RRF_K + rank + 1)
        missing = [cid for cid in fused if cid not in by_id]
        if missing:
            words = query_words(text)
            with self.index.lock:
                marks = ", ".join("?" for _ in missing)
                for cid, path, start, end, name, body in self.index.conn.execute(
                    f"SELECT id, path, start_line, end_line, name, text FROM chunks WHERE id IN ({marks})", missing
                ):
                    by_id[cid] = Hit(path, start, end, name, 0.0, snippet(body, words), body, cid)
        ranked = sorted(fused, key=lambda cid: -fused[cid])
        hits = []
        for cid in ranked:
            hit = by_id[cid]
            if exclude and hit.path in exclude:
                continue
            hit.score = fused[cid]
            hits.append(hit)
            if len(hits) >= limit:
                break
        return hits
