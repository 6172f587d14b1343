"""The code index: chunks of the project's files in SQLite FTS5, ranked with BM25.

It lives in its own database file (index.db beside coda.db): it is derived data that can
be rebuilt at any time, and its long write transactions must never make a conversation
wait for the database lock.

Kept current by mtime and size on each update (cheap: one stat a file), and file by file
by the app's watcher while it runs. What goes in has its secrets masked first (the
project's `scrub`); what comes out is checked against the project's rules again, so a file
denied after it was indexed is not sent from the stale index.

Being derived data, a damaged index file is moved aside and built anew. One process writes
at a time (a lock file beside it): a second `coda index` waits, then finds the work done.
"""

from __future__ import annotations

import logging
import os
import re
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from coda_tui import paths
from coda_tui.context.chunker import (
    CODE_LANGUAGES,
    chunk,
    defined_names,
    definition_depth,
    language_for,
)
from coda_tui.context.documents import is_container
from coda_tui.context.project import Project
from coda_tui.store.db import StoreError, explain, is_damaged
from coda_tui.tokens import estimate_tokens

try:
    import fcntl
except ImportError:  # Windows: one process at a time is then up to the user
    fcntl = None

log = logging.getLogger(__name__)

# A batch is written in one transaction (the connection's lock held meanwhile, so a search
# waits at most that long); the next one is read and chunked meanwhile in a second thread.
BATCH_FILES = 200
BATCH_BYTES = 2_000_000
SNIFF = 8192
# BM25 weights of the FTS columns (name, path, text): a chunk that *defines* the word
# searched for ranks above chunks that only use it.
WEIGHTS = (10.0, 3.0, 1.0)

# 2: chunks are stored with their secrets masked; an index of version 1 holds them raw,
# so it is emptied and read again. 3: the full-text rows of new chunks are written by the
# indexer in one statement per batch rather than by a trigger row by row (three times
# faster); from 2 only the trigger goes.
SCHEMA_VERSION = 3
# Indexing yields the processor: a question asked meanwhile must not wait for it.
NICENESS = 10
SCHEMA = [
    """CREATE TABLE IF NOT EXISTS files (
        id INTEGER PRIMARY KEY,
        project TEXT NOT NULL,
        path TEXT NOT NULL,
        mtime REAL NOT NULL,
        size INTEGER NOT NULL,
        language TEXT,
        UNIQUE (project, path)
    )""",
    """CREATE TABLE IF NOT EXISTS chunks (
        id INTEGER PRIMARY KEY,
        file_id INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,
        start_line INTEGER NOT NULL,
        end_line INTEGER NOT NULL,
        name TEXT NOT NULL,
        path TEXT NOT NULL,
        text TEXT NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS chunks_file ON chunks(file_id)",
    # '_' is part of a word: identifiers like parse_config are one token.
    """CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5(
        name, path, text, content='chunks', content_rowid='id', tokenize="unicode61 tokenchars '_'"
    )""",
    # The weights, as FTS5's own rank: ORDER BY rank is then sorted inside FTS5.
    f"INSERT INTO chunks_fts (chunks_fts, rank) VALUES ('rank', 'bm25({WEIGHTS[0]}, {WEIGHTS[1]}, {WEIGHTS[2]})')",
    # Chunk vectors for the optional semantic ranking (semantic.py).
    "CREATE TABLE IF NOT EXISTS vectors (chunk_id INTEGER PRIMARY KEY REFERENCES chunks(id) ON DELETE CASCADE, vec BLOB NOT NULL)",
    # Per-term document counts, to leave out words nearly every chunk has (see search).
    "CREATE VIRTUAL TABLE IF NOT EXISTS chunks_vocab USING fts5vocab(chunks_fts, 'row')",
    """CREATE TRIGGER IF NOT EXISTS chunks_ad AFTER DELETE ON chunks BEGIN
        INSERT INTO chunks_fts (chunks_fts, rowid, name, path, text) VALUES ('delete', old.id, old.name, old.path, old.text);
    END""",
]


@dataclass
class IndexStats:
    files_seen: int = 0
    indexed: int = 0
    removed: int = 0
    skipped: int = 0  # binary or unreadable
    chunks: int = 0
    seconds: float = 0.0
    changed: list[str] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)  # folders the walk could not open
    cancelled: bool = False

    @property
    def files_per_s(self) -> float:
        return self.files_seen / self.seconds if self.seconds > 0 else 0.0


@dataclass(frozen=True)
class IndexProgress:
    """Files looked at so far out of those the walk found, during an update."""

    done: int
    total: int


@dataclass
class Hit:
    path: str
    start_line: int
    end_line: int
    name: str
    score: float  # higher is better (BM25 negated)
    snippet: str
    text: str
    id: int = 0  # the chunk's row
    defines: str = ""  # the query's identifier this chunk defines (see CodeIndex.search)

    @property
    def tokens(self) -> int:
        return estimate_tokens(self.text)


_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|\d+")
_STOP = {"the", "a", "an", "is", "are", "of", "to", "in", "on", "and", "or", "for", "what", "how", "does",
         "do", "this", "that", "it", "with", "be", "can", "i", "me", "my", "you", "where", "which", "why", "when"}
# A word found in more than this share of all chunks says almost nothing about which chunk
# is meant (BM25 gives it next to no weight) but makes FTS5 score nearly every row; such
# words are left out of the query while a rarer one remains.
COMMON_SHARE = 0.10
MAX_WORDS = 12
# Query words looked up as definitions (identifier-like ones first), and definitions kept
# per word.
DEFINITION_WORDS = 6
DEFINITIONS_PER_WORD = 5
_IDENTIFIER = re.compile(r"[A-Za-z]\w*?(?:[a-z][A-Z]|_)|[A-Z]")  # camelCase, snake_case, Capitalised
_TEST_PATH = re.compile(r"(?:^|/)(?:tests?|spec|__tests__)/|(?:^|/)test_[^/]*$|[_.](?:test|spec)\.\w+$")


def query_words(text: str) -> list[str]:
    words = list(dict.fromkeys(_WORD.findall(text)))
    kept = [w for w in words if w.lower() not in _STOP]
    return (kept or words)[:24]


def fts_query(words: list[str], prefixes: set[str] = frozenset()) -> str:
    """Any word may match (BM25 ranks chunks with more of them first); words in `prefixes`
    match as the start of longer tokens too."""
    return " OR ".join(f'"{w}"*' if w in prefixes else f'"{w}"' for w in words)


def snippet(text: str, words: list[str], width: int = 160) -> str:
    """The first line of the chunk that holds one of the words (or its first line)."""
    lowered = [w.lower() for w in words]
    lines = text.splitlines()
    for line in lines:
        low = line.lower()
        if any(w in low for w in lowered):
            return line.strip()[:width]
    return (lines[0].strip() if lines else "")[:width]


class CodeIndex:
    def __init__(self, path: Path, project: Project) -> None:
        self.path = Path(path)
        self.project = project
        self.key = str(project.root)
        # The app updates the index in a worker thread while turns search it on the event
        # loop: one lock, held a batch at a time, keeps the shared connection consistent.
        self.lock = threading.RLock()
        self.cancel_event = threading.Event()
        # Said once by whoever shows this index to a user (a damaged file was replaced).
        self.notice: str | None = None
        try:
            paths.private_file(self.path)
        except OSError as exc:
            raise StoreError(f"cannot create the code index {self.path}: {exc.strerror}; {self.path.parent} is not "
                             f"writable. Make it writable (chmod u+w {self.path.parent}), or set CODA_DATA_DIR "
                             "to a writable directory.") from None
        try:
            self._open()
        except sqlite3.DatabaseError as exc:
            if not is_damaged(exc):
                raise StoreError(explain(self.path, exc)) from None
            self._replace_damaged(exc)

    def _open(self) -> None:
        self.conn = sqlite3.connect(str(self.path), timeout=5, check_same_thread=False)
        self.conn.execute("PRAGMA journal_mode = WAL")
        self.conn.execute("PRAGMA synchronous = NORMAL")
        self.conn.execute("PRAGMA foreign_keys = ON")
        # Created once (user_version marks it): opening must not write, or a second coda
        # process (the CLI while the app runs) would queue behind the first one's lock.
        version = self.conn.execute("PRAGMA user_version").fetchone()[0]
        if version < SCHEMA_VERSION:
            with self._writer(), self.conn:
                if version == 2:
                    self.conn.execute("DROP TRIGGER IF EXISTS chunks_ai")
                else:
                    if version:
                        for table in ("chunks_vocab", "chunks_fts", "vectors", "chunks", "files"):
                            self.conn.execute(f"DROP TABLE IF EXISTS {table}")
                    for statement in SCHEMA:
                        self.conn.execute(statement)
                self.conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _replace_damaged(self, exc: sqlite3.DatabaseError) -> None:
        """Move the damaged file aside (kept for a look) and start an empty index."""
        if getattr(self, "conn", None) is not None:
            self.conn.close()
        aside = self.path.with_name(self.path.name + ".damaged")
        try:
            os.replace(self.path, aside)
            for suffix in ("-wal", "-shm"):
                Path(str(self.path) + suffix).unlink(missing_ok=True)
        except OSError as err:
            raise StoreError(f"the code index {self.path} is damaged ({exc}) and cannot be moved aside "
                             f"({err.strerror}): delete it and run 'coda index'") from None
        self.notice = (f"the code index {self.path} was damaged ({exc}); it was moved to {aside.name} "
                       "and is being built again")
        log.warning(self.notice)
        try:
            self._open()
        except sqlite3.DatabaseError as err:
            raise StoreError(explain(self.path, err)) from None

    @contextmanager
    def _guard(self):
        """Database trouble as a user can act on it: a damaged file is replaced (the caller
        then sees an empty index), a read-only or full disk is one line naming the file."""
        try:
            yield
        except sqlite3.DatabaseError as exc:
            if is_damaged(exc):
                with self.lock:
                    self._replace_damaged(exc)
                return
            raise StoreError(explain(self.path, exc)) from None

    @contextmanager
    def _writer(self):
        """One writing process at a time: others wait here (the app and `coda index`, two
        `coda index` runs), then see what the first one wrote and skip it."""
        if fcntl is None:
            yield
            return
        try:
            handle = os.open(str(self.path) + ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise StoreError(f"cannot write {self.path}.lock: {exc.strerror}. "
                             "Make the data directory writable, or set CODA_DATA_DIR.") from None
        try:
            fcntl.flock(handle, fcntl.LOCK_EX)
            yield
        finally:
            os.close(handle)  # releases the lock

    def close(self) -> None:
        self.conn.close()

    def cancel(self) -> None:
        """Stop a running update after the file it is reading (the app is quitting)."""
        self.cancel_event.set()

    # --- updating ----------------------------------------------------------------------

    def update(self, on_progress: Callable[[IndexProgress], None] | None = None) -> IndexStats:
        """Bring the index in line with the files on disk: new and changed files are
        (re)indexed, deleted ones dropped. Unchanged files cost a stat each. Runs in a
        thread of its own at low priority; the caller waits for it."""
        result: list = []

        def run() -> None:
            _lower_priority()
            try:
                with self._guard():
                    result.append(self._update(on_progress))
            except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
                result.append(exc)

        worker = threading.Thread(target=run, name="coda-index", daemon=True)
        worker.start()
        worker.join()
        if not result:  # a damaged file was replaced: build the new one
            return self.update(on_progress)
        if isinstance(result[0], BaseException):
            raise result[0]
        return result[0]

    def _update(self, on_progress) -> IndexStats:
        t0 = time.perf_counter()
        stats = IndexStats()
        self.cancel_event.clear()
        unreadable: list[str] = []
        entries = list(self.project.walk(unreadable))
        stats.unreadable = unreadable
        total = len(entries)
        report_at = 0.0
        with self._writer():
            # Read after the lock is held: what a writer before us did is not done again.
            with self.lock:
                known = {path: (fid, mtime, size) for fid, path, mtime, size in self.conn.execute(
                    "SELECT id, path, mtime, size FROM files WHERE project = ?", [self.key])}
            seen: set[str] = set()
            pending, pending_bytes = [], 0
            # Reading, masking and chunking a batch (Python) runs in a second thread while
            # this one writes the batch before (SQLite, which lets go of the GIL): at most
            # two batches in flight.
            prepared: deque = deque()
            with ThreadPoolExecutor(1, thread_name_prefix="coda-index-read", initializer=_lower_priority) as reader:
                for done, entry in enumerate(entries, 1):
                    if self.cancel_event.is_set():
                        stats.cancelled = True
                        break
                    stats.files_seen += 1
                    seen.add(entry.rel)
                    old = known.get(entry.rel)
                    if old is None or old[1] != entry.mtime or old[2] != entry.size:
                        pending.append(entry)
                        pending_bytes += entry.size
                    if len(pending) >= BATCH_FILES or pending_bytes >= BATCH_BYTES:
                        prepared.append(reader.submit(self._prepare, pending, stats))
                        pending, pending_bytes = [], 0
                        if len(prepared) > 1:
                            self._write(prepared.popleft().result(), stats)
                    now = time.monotonic()
                    if on_progress is not None and now >= report_at and done < total:
                        on_progress(IndexProgress(done, total))
                        report_at = now + 0.1
                if pending and not stats.cancelled:
                    prepared.append(reader.submit(self._prepare, pending, stats))
                while prepared:
                    rows = prepared.popleft().result()
                    if not self.cancel_event.is_set():
                        self._write(rows, stats)
                    else:
                        stats.cancelled = True
            if on_progress is not None and total and not stats.cancelled:
                on_progress(IndexProgress(total, total))
            gone = [known[p][0] for p in known if p not in seen]
            if gone and not stats.cancelled:
                with self.lock, self.conn:
                    self.conn.executemany("DELETE FROM files WHERE id = ?", [(fid,) for fid in gone])
                stats.removed = len(gone)
        if on_progress is not None and total == 0:
            on_progress(IndexProgress(0, 0))
        stats.seconds = time.perf_counter() - t0
        return stats

    def update_paths(self, paths: list[Path]) -> IndexStats:
        """Re-index just these files (the watcher's path): changed, new or deleted."""
        with self._guard():
            return self._update_paths(paths)
        return IndexStats()  # the file was damaged and replaced: the next full update fills it

    def _update_paths(self, paths: list[Path]) -> IndexStats:
        t0 = time.perf_counter()
        stats = IndexStats()
        by_rel = {}
        for p in paths:
            try:
                rel = self.project.rel(Path(p).resolve() if Path(p).exists() else Path(p).absolute())
            except ValueError:
                continue
            by_rel[rel] = p
        if not by_rel:
            return stats
        wanted = {e.rel: e for e in self._entries_for(list(by_rel))}
        with self._writer():
            with self.lock:
                known = {path: (fid, mtime, size) for fid, path, mtime, size in self.conn.execute(
                    f"SELECT id, path, mtime, size FROM files WHERE project = ? AND path IN ({', '.join('?' for _ in by_rel)})",
                    [self.key, *by_rel])}
            removed = [known[r][0] for r in by_rel if r in known and r not in wanted]
            if removed:
                with self.lock, self.conn:
                    self.conn.executemany("DELETE FROM files WHERE id = ?", [(fid,) for fid in removed])
                stats.removed = len(removed)
            stats.files_seen = len(wanted)
            if wanted:
                self._write(self._prepare(list(wanted.values()), stats), stats)
        stats.seconds = time.perf_counter() - t0
        return stats
    def _entries_for(self, rels: list[str]):
        """FileEntry for each of these paths that the project's rules still admit."""
        wanted = set(rels)
        folders = {str(Path(r).parent) for r in rels}
        # Walking only the folders involved keeps a one-file update cheap while applying
        # exactly the same ignore and deny rules as a full walk.
        for entry in self.project.walk_folders(folders):
            if entry.rel in wanted:
                yield entry

    def _prepare(self, entries, stats: IndexStats) -> list[tuple]:
        """(entry, language, chunks) for each file: read, its secrets masked, chunked. Runs
        in the reading thread; of the stats it touches only `skipped`, which the writer
        leaves alone."""
        rows_files = []
        for entry in entries:
            try:
                data = entry.path.read_bytes()
            except OSError:
                stats.skipped += 1
                continue
            if self.project.indexes_document(entry.rel):
                rows_files.append(self._document_row(entry, data, stats))
                continue
            # A PDF's raw bytes can look like text (an uncompressed one is ASCII): never indexed as such.
            if b"\0" in data[:SNIFF] or is_container(entry.rel):
                # Recorded without chunks, so an unchanged binary file is not read again.
                stats.skipped += 1
                rows_files.append((entry, "binary", []))
                continue
            # Secrets are masked before the text is chunked: nothing raw reaches the file.
            text = self.project.scrub(data.decode("utf-8", errors="replace"), entry.rel)
            language = language_for(entry.path.name)
            rows_files.append((entry, language, chunk(text, language)))
        return rows_files

    def _write(self, rows_files: list[tuple], stats: IndexStats) -> None:
        """One transaction: the files' rows replaced, their chunks inserted, and the chunks'
        full-text rows added in one statement (those with ids above the largest before)."""
        chunk_rows = []
        with self.lock, self.conn:
            # By path, not by the id read earlier: the row may be newer than that. All before
            # the largest chunk id is read: a new chunk's id may reuse one deleted here.
            self.conn.executemany("DELETE FROM files WHERE project = ? AND path = ?",
                                  [(self.key, entry.rel) for entry, _, _ in rows_files])
            last = self.conn.execute("SELECT coalesce(max(id), 0) FROM chunks").fetchone()[0]
            for entry, language, chunks in rows_files:
                cur = self.conn.execute(
                    "INSERT INTO files (project, path, mtime, size, language) VALUES (?, ?, ?, ?, ?)",
                    [self.key, entry.rel, entry.mtime, entry.size, language],
                )
                fid = cur.lastrowid
                chunk_rows.extend((fid, c.start, c.end, c.name, entry.rel, c.text) for c in chunks)
                if language != "binary":
                    stats.indexed += 1
                    stats.changed.append(entry.rel)
            self.conn.executemany(
                "INSERT INTO chunks (file_id, start_line, end_line, name, path, text) VALUES (?, ?, ?, ?, ?, ?)", chunk_rows
            )
            self.conn.execute(
                "INSERT INTO chunks_fts (rowid, name, path, text) SELECT id, name, path, text FROM chunks WHERE id > ?", [last]
            )
        stats.chunks += len(chunk_rows)

    def _document_row(self, entry, data: bytes, stats: IndexStats) -> tuple:
        """A document named by `[context] documents`, chunked as its Markdown. One that
        cannot be converted is recorded like a binary file (not read again until it
        changes), and why is logged: indexing has no one to tell at that moment."""
        from coda_tui.context.documents import DocumentError, convert

        try:
            markdown = convert(entry.path, data).markdown
        except DocumentError as exc:
            log.warning("not indexed: %s", exc)
            stats.skipped += 1
            return entry, "binary", []
        text = self.project.scrub(markdown, entry.rel)
        return entry, "document", chunk(text, "markdown")

    # --- reading -----------------------------------------------------------------------

    def file_count(self) -> int:
        with self._guard(), self.lock:
            return self.conn.execute("SELECT count(*) FROM files WHERE project = ?", [self.key]).fetchone()[0]
        return 0

    def paths(self) -> list[str]:
        """Every indexed text file, for the fuzzy file finder."""
        with self._guard(), self.lock:
            return [r[0] for r in self.conn.execute(
                "SELECT path FROM files WHERE project = ? AND language NOT IN ('binary', 'document') ORDER BY path", [self.key])
                if self.project.still_admitted(r[0])]
        return []

    def search(self, text: str, limit: int = 10, exclude: set[str] | None = None) -> list[Hit]:
        """Best chunks first: those that define one of the query's identifiers (in code, with
        that exact spelling), then BM25's ranking. BM25 alone lets a page of prose that says
        "Context" twenty times beat `class Context`, whose name it is."""
        words = query_words(text)
        if not words:
            return []
        wanted = limit + len(exclude or ())
        definitions, rows = [], []
        with self._guard(), self.lock:
            # All the query's words, before common ones are left out: `Context` is in a fifth
            # of click's chunks, yet `class Context` is what a search for it wants.
            named = sorted(words, key=lambda w: not _IDENTIFIER.match(w))[:DEFINITION_WORDS]
            definitions = self._definitions(named)
            words, prefixes = self._informative(words)
            rows = self._top(fts_query(words, prefixes), wanted)
            if not rows and not definitions:
                # Nothing for the cheap query: try every word as a prefix, slow as that can be.
                rows = self._top(fts_query(words, set(words)), wanted)
        seen = {row[0] for row, _ in definitions}
        ranked = definitions + [(row, "") for row in rows if row[0] not in seen]
        # Checked again on the way out: the rules may have changed since the file was indexed,
        # and an index written by an older coda holds text that was never scrubbed.
        hits = []
        for (cid, p, s, e, n, rank, t), defines in ranked:
            if (exclude and p in exclude) or not self.project.still_admitted(p):
                continue
            t = self.project.scrub(t, p)
            hits.append(Hit(p, s, e, n, -rank, snippet(t, words), t, cid, defines))
        return hits[:limit]

    def _definitions(self, words: list[str]) -> list[tuple[tuple, str]]:
        """(row, word) for chunks of code whose definitions include one of `words`, spelled
        exactly so; best ranked first, the query's rarest word first."""
        found = []
        for word in words:
            rows = self.conn.execute(
                """SELECT c.id, c.path, c.start_line, c.end_line, c.name, top.rank, c.text, f.language
                   FROM (SELECT rowid, rank FROM chunks_fts WHERE chunks_fts MATCH ? ORDER BY rank LIMIT 200) AS top
                   JOIN chunks c ON c.id = top.rowid JOIN files f ON f.id = c.file_id ORDER BY top.rank""",
                [f'name : "{word}"'],
            ).fetchall()
            exact = [row for row in rows if row[7] in CODE_LANGUAGES and word in defined_names(row[4])]
            # Top-level definitions before nested ones, the project's code before its tests;
            # BM25's order (the sort is stable) among equals.
            exact.sort(key=lambda row: (definition_depth(row[6], row[7], word), bool(_TEST_PATH.search(row[1]))))
            found += [(row[:7], word) for row in exact[:DEFINITIONS_PER_WORD]]
        return found

    def _top(self, query: str, n: int) -> list[tuple]:
        # Rank and cut inside FTS5 first; only the top rows are joined.
        return self.conn.execute(
            """SELECT c.id, c.path, c.start_line, c.end_line, c.name, top.rank, c.text
               FROM (SELECT rowid, rank FROM chunks_fts WHERE chunks_fts MATCH ? ORDER BY rank LIMIT ?) AS top
               JOIN chunks c ON c.id = top.rowid ORDER BY top.rank""",
            [query, n],
        ).fetchall()

    def _informative(self, words: list[str]) -> tuple[list[str], set[str]]:
        """The query's words without those nearly every chunk contains (see COMMON_SHARE),
        rarest first, at most MAX_WORDS, never empty; and which of them to match as
        prefixes: those that are no whole token anywhere (part of an identifier, like
        "select_bill"). Whole words are matched exactly, because a prefix query on a word
        with thousands of longer completions costs FTS5 a scan of all of them."""
        total = self.conn.execute("SELECT count(*) FROM chunks").fetchone()[0] or 1
        marks = ", ".join("?" for _ in words)
        counts = dict(self.conn.execute(f"SELECT term, doc FROM chunks_vocab WHERE term IN ({marks})",
                                        [w.lower() for w in words]).fetchall())
        present = sorted((w for w in words if counts.get(w.lower())), key=lambda w: counts[w.lower()])
        informative = [w for w in present if counts[w.lower()] <= total * COMMON_SHARE]
        partial = [w for w in words if not counts.get(w.lower()) and self._few_completions(w.lower())]
        chosen = (informative or present[:1])[:MAX_WORDS] + partial[:4]
        return chosen or words[:1], set(partial)

    def _few_completions(self, word: str, most: int = 64) -> bool:
        """Is `word` the start of a handful of indexed tokens (an identifier typed in part)?"""
        upper = word[:-1] + chr(ord(word[-1]) + 1)
        n = self.conn.execute(
            "SELECT count(*) FROM (SELECT term FROM chunks_vocab WHERE term > ? AND term < ? LIMIT ?)",
            [word, upper, most + 1],
        ).fetchone()[0]
        return 0 < n <= most


def _lower_priority() -> None:
    """Lower this thread's scheduling priority (Linux gives each thread its own nice value;
    elsewhere the call fails harmlessly and indexing runs at normal priority)."""
    try:
        me = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, me, min(19, os.getpriority(os.PRIO_PROCESS, me) + NICENESS))
    except (AttributeError, OSError):
        pass
