"""SQLite catalog: one file under the data home, FTS5 for search, WAL so readers never block a writer.

Search runs on two copies of each page: `text` as written (NFC) and `folded` (`fold()`: no tones,
no vowel marks, `đ`→`d`). SQLite's own `remove_diacritics` leaves `đ` alone, hence the folded copy
made in Python. All terms must match in the folded columns; how many also match in the written
columns decides the order, so `hồ` ranks pages with `hồ` above pages with only `hổ`/`hộ`.

A search asks FTS5 for the newest matching rows only (it walks its doclists by descending rowid
and stops at the candidate cap), reads their word strings, and leaves the rest to `rank.py`:
which terms each has as written, in the fields, on the page, and the order. Nothing scans the
whole index per term, and bm25 (whose idf costs a full count of every phrase) is not used.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from pipeline.catalog import schema
from pipeline.catalog.base import SIGNATURE_COLUMNS, Catalog, Hit, plan_rows
from pipeline.catalog.query import Term, joined, parse_query, word_lists
from pipeline.catalog.rank import Candidate, Needles, Shown, find, has_all, hits, measure
from pipeline.errors import ConfigError
from pipeline.manifest import Manifest
from pipeline.retrying import RetryPolicy

MIGRATIONS: list[str] = [
    # 1: initial schema. Append new scripts; never edit one that has shipped.
    schema.core_tables(real="REAL", boolean="INTEGER") + """
    -- One row per (component, page): the FTS index below reads its text from here.
    CREATE TABLE page_search (
        id           INTEGER PRIMARY KEY,
        dossier_id   TEXT NOT NULL REFERENCES dossiers (id) ON DELETE CASCADE,
        component_id TEXT NOT NULL REFERENCES components (id) ON DELETE CASCADE,
        n            INTEGER NOT NULL,
        text         TEXT NOT NULL,
        folded       TEXT NOT NULL,
        meta         TEXT NOT NULL,
        meta_folded  TEXT NOT NULL
    );
    CREATE INDEX page_search_dossier ON page_search (dossier_id);
    CREATE INDEX page_search_component ON page_search (component_id, n);

    CREATE VIRTUAL TABLE page_fts USING fts5 (
        text, folded, meta, meta_folded,
        content = 'page_search', content_rowid = 'id',
        tokenize = 'unicode61 remove_diacritics 0'
    );
    CREATE TRIGGER page_search_ai AFTER INSERT ON page_search BEGIN
        INSERT INTO page_fts (rowid, text, folded, meta, meta_folded)
        VALUES (new.id, new.text, new.folded, new.meta, new.meta_folded);
    END;
    CREATE TRIGGER page_search_ad AFTER DELETE ON page_search BEGIN
        INSERT INTO page_fts (page_fts, rowid, text, folded, meta, meta_folded)
        VALUES ('delete', old.id, old.text, old.folded, old.meta, old.meta_folded);
    END;
    CREATE TRIGGER page_search_au AFTER UPDATE ON page_search BEGIN
        INSERT INTO page_fts (page_fts, rowid, text, folded, meta, meta_folded)
        VALUES ('delete', old.id, old.text, old.folded, old.meta, old.meta_folded);
        INSERT INTO page_fts (rowid, text, folded, meta, meta_folded)
        VALUES (new.id, new.text, new.folded, new.meta, new.meta_folded);
    END;
    """,
    # 2: search that never scans the whole index. `page_search.type` (the component's type) and
    # the FTS column `kind` (its hex: one token) make the type filter part of the MATCH;
    # `words` / `folded_words` (base.py) tell which terms a candidate has, and where, without
    # one more FTS query per term.
    """
    DROP TRIGGER page_search_ai;
    DROP TRIGGER page_search_ad;
    DROP TRIGGER page_search_au;
    DROP TABLE page_fts;
    ALTER TABLE page_search ADD COLUMN type TEXT NOT NULL DEFAULT '';
    ALTER TABLE page_search ADD COLUMN words TEXT NOT NULL DEFAULT '';
    ALTER TABLE page_search ADD COLUMN folded_words TEXT NOT NULL DEFAULT '';
    UPDATE page_search SET
        type = COALESCE((SELECT c.type FROM components AS c WHERE c.id = page_search.component_id), ''),
        words = sohoa_words(text, meta),
        folded_words = sohoa_folded_words(text, folded, meta, meta_folded);
    ALTER TABLE page_search ADD COLUMN kind TEXT GENERATED ALWAYS AS ('t' || lower(hex(type))) VIRTUAL;

    CREATE VIRTUAL TABLE page_fts USING fts5 (
        text, folded, meta, meta_folded, kind,
        content = 'page_search', content_rowid = 'id',
        tokenize = 'unicode61 remove_diacritics 0'
    );
    INSERT INTO page_fts (page_fts) VALUES ('rebuild');
    CREATE TRIGGER page_search_ai AFTER INSERT ON page_search BEGIN
        INSERT INTO page_fts (rowid, text, folded, meta, meta_folded, kind)
        VALUES (new.id, new.text, new.folded, new.meta, new.meta_folded, new.kind);
    END;
    CREATE TRIGGER page_search_ad AFTER DELETE ON page_search BEGIN
        INSERT INTO page_fts (page_fts, rowid, text, folded, meta, meta_folded, kind)
        VALUES ('delete', old.id, old.text, old.folded, old.meta, old.meta_folded, old.kind);
    END;
    CREATE TRIGGER page_search_au AFTER UPDATE ON page_search BEGIN
        INSERT INTO page_fts (page_fts, rowid, text, folded, meta, meta_folded, kind)
        VALUES ('delete', old.id, old.text, old.folded, old.meta, old.meta_folded, old.kind);
        INSERT INTO page_fts (rowid, text, folded, meta, meta_folded, kind)
        VALUES (new.id, new.text, new.folded, new.meta, new.meta_folded, new.kind);
    END;
    """,
    # 3: documents by owner and by date (`documents()`), and who points at a stored object
    # (`references()`): metadata.ngay as a column, the CCCD numbers as rows, each indexed.
    schema.owner_tables(ngay_from_json="json_extract(metadata_json, '$.ngay')", table_options=" WITHOUT ROWID") + """
    INSERT OR IGNORE INTO component_owners (cccd, component_id, dossier_id)
        SELECT j.value, c.id, c.dossier_id FROM components AS c, json_each(c.metadata_json, '$.cccd') AS j
        WHERE j.type = 'text' AND j.value != '';
    """,
    # 4: digital signatures of the components' source PDFs (`component_signatures`, base.py).
    schema.signature_tables(boolean="INTEGER", table_options=" WITHOUT ROWID"),
    # 5: the web application's staff accounts, sessions and audit log (`accounts.py`), and the
    # review queue's order (least confident first) from an index.
    schema.account_tables(boolean="INTEGER", serial_key="INTEGER PRIMARY KEY"),
]


CACHE_KIB = 32 * 1024
MMAP_BYTES = 1 << 30  # read the file through the page cache instead of read() calls


def _statements(script: str) -> Iterator[str]:
    """Split a script into statements (trigger bodies included) so one transaction can run them all;
    `executescript` would commit the open transaction first."""
    buffer = ""
    for piece in script.split(";"):
        buffer += piece + ";"
        if sqlite3.complete_statement(buffer):
            statement = buffer.strip()
            buffer = ""
            if statement.strip(";").strip():
                yield statement


def _words(text: str, meta: str) -> str:
    """`page_search.words` for rows written before migration 2."""
    return joined(word_lists(text)[0], word_lists(meta)[0])


def _folded_words(text: str, folded: str, meta: str, meta_folded: str) -> str:
    return joined(word_lists(text, folded)[1], word_lists(meta, meta_folded)[1])


def _phrase(words: tuple[str, ...]) -> str:
    """An FTS5 string literal: only ever a quoted phrase, so user text is never FTS syntax."""
    return '"' + " ".join(words).replace('"', '""') + '"'


def _kind(type: str) -> str:
    """The one-token form of a type code in the `kind` column (as `'t' || lower(hex(type))`)."""
    return "t" + type.encode("utf-8").hex()


class _Match:
    """FTS5 MATCH expressions for one query: each term folded, in the page or the fields (the
    search), and as written (for the exact-only second look); plus the type filter."""

    def __init__(self, terms: list[Term], type: str | None):
        self.folded = [f"{{folded meta_folded}} : {_phrase(t.folded)}" for t in terms]
        self.exact = [f"{{text meta}} : {_phrase(t.words)}" for t in terms]
        self.filter = [f"kind : {_phrase((_kind(type),))}"] if type is not None else []
        self.needles = Needles(terms)

    def base(self, all_exact: bool) -> str:
        """Every term folded; or every term as written, which (folding being per letter) implies
        it folded: half the phrases to walk. `_candidates` checks the implication anyway."""
        return " AND ".join((self.exact if all_exact else self.folded) + self.filter)


def _enable_wal(conn: sqlite3.Connection, path: Path, timeout_s: float) -> None:
    """Switch a file to WAL. On a brand-new file opened by several workers at once the switch can
    fail with "database is locked" without SQLite's busy handler being consulted, so retry it."""
    policy = RetryPolicy(attempts=200, first_delay_s=0.01, max_delay_s=0.5, within_s=timeout_s)  # bound: within_s
    policy.call(conn.execute, "PRAGMA journal_mode = WAL", what=f"catalog {path}: switching to WAL",
                level=logging.INFO)  # several workers opening one new file: expected, not a warning


class SqliteCatalog(Catalog):
    """The catalog in one SQLite file. One instance may be shared by threads (calls serialise);
    several processes may open the same file (WAL + busy timeout)."""

    def __init__(self, path: str | Path, *, busy_timeout_s: float = 30.0):
        self.path = Path(path)
        if str(path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._conn: sqlite3.Connection | None = sqlite3.connect(
            str(path), timeout=busy_timeout_s, isolation_level=None, check_same_thread=False
        )
        try:
            self._conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_s * 1000)}")
            _enable_wal(self._conn, self.path, busy_timeout_s)
            self._conn.execute("PRAGMA synchronous = NORMAL")
            self._conn.execute("PRAGMA foreign_keys = ON")
            self._conn.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
            self._conn.execute(f"PRAGMA mmap_size = {MMAP_BYTES}")
            self._conn.create_function("sohoa_words", 2, _words, deterministic=True)
            self._conn.create_function("sohoa_folded_words", 4, _folded_words, deterministic=True)
            self._require_fts5()
            self._migrate()
        except BaseException:
            self._conn.close()
            self._conn = None
            raise

    # -- plumbing ----------------------------------------------------------------------------

    @property
    def conn(self) -> sqlite3.Connection:
        if self._conn is None:
            raise sqlite3.ProgrammingError(f"{self.path}: catalog is closed")
        return self._conn

    def _require_fts5(self) -> None:
        try:
            self.conn.execute("CREATE VIRTUAL TABLE temp.fts5_probe USING fts5 (x)")
            self.conn.execute("DROP TABLE temp.fts5_probe")
        except sqlite3.OperationalError as exc:
            raise ConfigError(
                "this Python's SQLite has no FTS5 full-text search",
                path=self.path,
                hint="Use a Python built with a standard SQLite (3.35 or newer)",
            ) from exc

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One IMMEDIATE transaction: takes the write lock up front so it cannot deadlock later."""
        with self._lock:
            conn = self.conn
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    @property
    def schema_version(self) -> int:
        with self._lock:
            row = self.conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version").fetchone()
        return int(row[0])

    def _migrate(self) -> None:
        """Apply the scripts of MIGRATIONS the file has not seen, each with its version row, in one
        transaction, so two processes opening a new file at once cannot both migrate it."""
        with self._write() as conn:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_version ("
                " version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)"
            )
            current = conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version").fetchone()[0]
            if current > len(MIGRATIONS):
                raise ConfigError(
                    f"catalog schema version {current} is newer than this sohoa knows ({len(MIGRATIONS)})",
                    path=self.path,
                    hint="Upgrade sohoa, or point the catalog setting at another file",
                )
            now = datetime.now(UTC).isoformat(timespec="seconds")
            for version, script in enumerate(MIGRATIONS, start=1):
                if version <= current:
                    continue
                for statement in _statements(script):
                    conn.execute(statement)
                conn.execute("INSERT INTO schema_version (version, applied_at) VALUES (?, ?)", (version, now))

    def _rows(self, sql: str, args: tuple | list = ()) -> list[tuple]:
        with self._lock:
            return self.conn.execute(sql, args).fetchall()

    def _change(self, sql: str, args: tuple | list = ()) -> int:
        with self._write() as conn:
            return conn.execute(sql, args).rowcount

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    # -- writes ------------------------------------------------------------------------------

    def index_dossier(self, manifest: Manifest) -> None:
        rows = plan_rows(manifest, datetime.now(UTC).isoformat(timespec="seconds"))
        dossier_id = manifest.dossier_id
        with self._write() as conn:
            if rows.components:
                ids = [c["id"] for c in rows.components]
                marks = ",".join("?" * len(ids))
                clash = conn.execute(
                    f"SELECT id, dossier_id FROM components WHERE id IN ({marks}) AND dossier_id != ?",
                    (*ids, dossier_id),
                ).fetchone()
                if clash:
                    raise ValueError(
                        f"{dossier_id}: component id {clash[0]!r} already belongs to dossier {clash[1]!r}"
                    )
            self._delete(conn, dossier_id)
            conn.execute(
                "INSERT INTO dossiers (id, status, error, source_path, source_sha256, pages,"
                " settings_version, created_at, indexed_at, manifest_json)"
                " VALUES (:id, :status, :error, :source_path, :source_sha256, :pages,"
                " :settings_version, :created_at, :indexed_at, :manifest_json)",
                rows.dossier,
            )
            conn.executemany(
                "INSERT INTO components (id, dossier_id, seq, type, type_name, confidence, needs_review,"
                " pages_json, metadata_json, object_uri, sha256, reused_from, ngay)"
                " VALUES (:id, :dossier_id, :seq, :type, :type_name, :confidence, :needs_review,"
                " :pages_json, :metadata_json, :object_uri, :sha256, :reused_from, :ngay)",
                rows.components,
            )
            conn.executemany(
                "INSERT INTO component_owners (cccd, component_id, dossier_id)"
                " VALUES (:cccd, :component_id, :dossier_id)",
                rows.owners,
            )
            conn.executemany(
                f"INSERT INTO component_signatures ({', '.join(SIGNATURE_COLUMNS)})"
                f" VALUES ({', '.join(':' + c for c in SIGNATURE_COLUMNS)})",
                rows.signatures,
            )
            conn.executemany(
                "INSERT INTO pages (dossier_id, n, component_id, blank, text)"
                " VALUES (:dossier_id, :n, :component_id, :blank, :text)",
                rows.pages,
            )
            conn.executemany(
                "INSERT INTO page_search (dossier_id, component_id, n, type, text, folded, meta, meta_folded,"
                " words, folded_words) VALUES (:dossier_id, :component_id, :n, :type, :text, :folded, :meta,"
                " :meta_folded, :words, :folded_words)",
                rows.search,
            )

    @staticmethod
    def _delete(conn: sqlite3.Connection, dossier_id: str) -> int:
        # Children first and explicitly (not only by cascade) so the FTS delete trigger always runs.
        conn.execute("DELETE FROM page_search WHERE dossier_id = ?", (dossier_id,))
        conn.execute("DELETE FROM pages WHERE dossier_id = ?", (dossier_id,))
        conn.execute("DELETE FROM component_owners WHERE dossier_id = ?", (dossier_id,))
        conn.execute("DELETE FROM component_signatures WHERE dossier_id = ?", (dossier_id,))
        conn.execute("DELETE FROM components WHERE dossier_id = ?", (dossier_id,))
        return conn.execute("DELETE FROM dossiers WHERE id = ?", (dossier_id,)).rowcount

    def delete_dossier(self, dossier_id: str) -> bool:
        with self._write() as conn:
            return self._delete(conn, dossier_id) > 0

    # -- reads -------------------------------------------------------------------------------

    def _read(self, queries: list[tuple[str, Sequence]]) -> list[list[tuple]]:
        with self._lock:
            return [self.conn.execute(sql, args).fetchall() for sql, args in queries]

    def references(self, uris: list[str], *, exclude_dossier: str) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        uris = list(dict.fromkeys(uris))
        with self._lock:
            for start in range(0, len(uris), 500):
                chunk = uris[start:start + 500]
                rows = self.conn.execute(
                    f"SELECT object_uri, id FROM components WHERE object_uri IN ({','.join('?' * len(chunk))})"
                    " AND dossier_id != ? ORDER BY id",
                    (*chunk, exclude_dossier),
                ).fetchall()
                for uri, cid in rows:
                    out.setdefault(uri, []).append(cid)
        return out

    def _search(self, terms: list[Term], type: str | None, dossier: str | None, limit: int,
                offset: int) -> list[Hit]:
        match = _Match(terms, type)
        with self._lock:
            window = self._dossier_window(dossier)
            if window is None:
                return []
            try:
                ranked = find(
                    lambda all_exact, cap, below: self._candidates(
                        match, all_exact, window if below is None else (window[0], min(window[1], below - 1)),
                        dossier, cap,
                    ),
                    terms,
                    offset + limit,
                )
                page = ranked[offset : offset + limit]
                return hits(page, self._shown([r.best.id for r in page]), terms)
            except sqlite3.OperationalError as exc:
                # Terms are quoted word lists, so this is not expected; if FTS5 still rejects one
                # (a tokenizer edge case), a search box must answer "nothing", not crash.
                if str(exc).startswith("fts5:"):
                    return []
                raise

    def search_type_counts(self, query: str, *, dossier: str | None = None,
                           cap: int = 1000) -> tuple[dict[str, int], bool]:
        terms = parse_query(query)
        if not terms or cap <= 0:
            return {}, False
        match = _Match(terms, None)
        with self._lock:
            window = self._dossier_window(dossier)
            if window is None:
                return {}, False
            only_dossier = " AND s.dossier_id = ?" if dossier is not None else ""
            try:
                rows = self.conn.execute(
                    "SELECT s.type, s.component_id FROM page_fts JOIN page_search AS s ON s.id = page_fts.rowid"
                    f" WHERE page_fts MATCH ? AND page_fts.rowid BETWEEN ? AND ?{only_dossier}"
                    " ORDER BY page_fts.rowid DESC LIMIT ?",
                    (match.base(False), *window, *([dossier] if dossier is not None else []), cap + 1),
                ).fetchall()
            except sqlite3.OperationalError as exc:
                if str(exc).startswith("fts5:"):
                    return {}, False
                raise
        more = len(rows) > cap
        pairs = set(rows[:cap])
        counts: dict[str, int] = {}
        for type_, _component in pairs:
            counts[type_] = counts.get(type_, 0) + 1
        return counts, more

    def _dossier_window(self, dossier: str | None) -> tuple[int, int] | None:
        """Rowid range of one dossier's rows (written in one transaction, so contiguous);
        everything when no dossier is asked for; None when the dossier has no rows."""
        if dossier is None:
            return (-(2**63), 2**63 - 1)
        lo, hi = self.conn.execute(
            "SELECT MIN(id), MAX(id) FROM page_search WHERE dossier_id = ?", (dossier,)
        ).fetchone()
        return None if lo is None else (lo, hi)

    def _candidates(
        self, match: _Match, all_exact: bool, window: tuple[int, int], dossier: str | None, cap: int
    ) -> tuple[list[Candidate], bool]:
        """The newest `cap` rows matching the query (FTS5 walks its doclists newest first and
        stops), each measured for exact / field / page terms from its word strings."""
        only_dossier = " AND s.dossier_id = ?" if dossier is not None else ""
        rows = self.conn.execute(
            "SELECT page_fts.rowid, s.dossier_id, s.component_id, s.n, s.words, s.folded_words"
            " FROM page_fts JOIN page_search AS s ON s.id = page_fts.rowid"
            f" WHERE page_fts MATCH ? AND page_fts.rowid BETWEEN ? AND ?{only_dossier}"
            " ORDER BY page_fts.rowid DESC LIMIT ?",
            (match.base(all_exact), *window, *([dossier] if dossier is not None else []), cap + 1),
        ).fetchall()
        found: list[Candidate] = []
        terms = len(match.folded)
        for rowid, dossier_id, component_id, n, words, folded_words in rows[:cap]:
            c = measure(Candidate(rowid, dossier_id, component_id, n), words, folded_words, match.needles)
            # As the ranking counts them: every term folded, and (second look) as written.
            if not all_exact or (c.exact == terms and has_all(folded_words, match.needles)):
                found.append(c)
        return found, len(rows) > cap

    def _shown(self, ids: list[int]) -> dict[int, Shown]:
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        rows = self.conn.execute(
            "SELECT s.id, c.type, c.type_name, c.pages_json, s.text, s.meta, s.words, s.folded_words"
            " FROM page_search AS s JOIN components AS c ON c.id = s.component_id"
            f" WHERE s.id IN ({marks})",
            ids,
        ).fetchall()
        return {r[0]: Shown(r[1], r[2], json.loads(r[3]), *r[4:]) for r in rows}
