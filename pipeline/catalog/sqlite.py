"""SQLite catalog: one file under the data home, FTS5 for search, WAL so readers never block a writer.

Search runs on two copies of each page: `text` as written (NFC) and `folded` (`fold()`: no tones,
no vowel marks, `đ`→`d`). SQLite's own `remove_diacritics` leaves `đ` alone, hence the folded copy
made in Python. All terms must match in the folded columns; how many also match in the written
columns decides the order, so `hồ` ranks pages with `hồ` above pages with only `hổ`/`hộ`.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from pipeline.catalog.base import Catalog, Hit, check_page_window, plan_rows
from pipeline.catalog.query import Term, best_snippet, parse_query
from pipeline.errors import ConfigError
from pipeline.manifest import Manifest

MIGRATIONS: list[str] = [
    # 1: initial schema. Append new scripts; never edit one that has shipped.
    """
    CREATE TABLE dossiers (
        id               TEXT PRIMARY KEY,
        status           TEXT NOT NULL CHECK (status IN ('done', 'failed')),
        error            TEXT,
        source_path      TEXT NOT NULL,
        source_sha256    TEXT NOT NULL,
        pages            INTEGER NOT NULL,
        settings_version TEXT NOT NULL,
        created_at       TEXT NOT NULL,
        indexed_at       TEXT NOT NULL,
        manifest_json    TEXT NOT NULL
    );
    CREATE INDEX dossiers_status ON dossiers (status);
    CREATE INDEX dossiers_source_sha256 ON dossiers (source_sha256);

    CREATE TABLE components (
        id            TEXT PRIMARY KEY,
        dossier_id    TEXT NOT NULL REFERENCES dossiers (id) ON DELETE CASCADE,
        seq           INTEGER NOT NULL,
        type          TEXT NOT NULL,
        type_name     TEXT NOT NULL,
        confidence    REAL NOT NULL,
        needs_review  INTEGER NOT NULL,
        pages_json    TEXT NOT NULL,
        metadata_json TEXT NOT NULL,
        object_uri    TEXT,
        sha256        TEXT,
        reused_from   TEXT,
        UNIQUE (dossier_id, seq)
    );
    CREATE INDEX components_type ON components (type);
    CREATE INDEX components_sha256 ON components (sha256);

    CREATE TABLE pages (
        dossier_id   TEXT NOT NULL REFERENCES dossiers (id) ON DELETE CASCADE,
        n            INTEGER NOT NULL,
        component_id TEXT REFERENCES components (id) ON DELETE SET NULL,
        blank        INTEGER NOT NULL,
        text         TEXT NOT NULL,
        PRIMARY KEY (dossier_id, n)
    );
    CREATE INDEX pages_component ON pages (component_id);

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
]

# bm25 weights for page_fts columns (text, folded, meta, meta_folded). Only the folded columns
# are in the MATCH expression; a hit in the extracted fields counts double.
_BM25 = "bm25(page_fts, 0.0, 1.0, 0.0, 2.0)"
MAX_LIMIT = 1000


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


def _phrase(words: tuple[str, ...]) -> str:
    """An FTS5 string literal: only ever a quoted phrase, so user text is never FTS syntax."""
    return '"' + " ".join(words).replace('"', '""') + '"'


def _folded_match(terms: list[Term]) -> str:
    return " AND ".join(f"{{folded meta_folded}} : {_phrase(t.folded)}" for t in terms)


def _page_match(terms: list[Term]) -> str:
    """Rows whose page text (not only the component's metadata) has some term: when only the
    metadata matches, every page of the component ties and the first page is the one to show."""
    return "folded : (" + " OR ".join(_phrase(t.folded) for t in terms) + ")"


def _exact_match(term: Term) -> str:
    return f"{{text meta}} : {_phrase(term.words)}"


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
            self._conn.execute("PRAGMA journal_mode = WAL")
            self._conn.execute("PRAGMA synchronous = NORMAL")
            self._conn.execute("PRAGMA foreign_keys = ON")
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
                " pages_json, metadata_json, object_uri, sha256, reused_from)"
                " VALUES (:id, :dossier_id, :seq, :type, :type_name, :confidence, :needs_review,"
                " :pages_json, :metadata_json, :object_uri, :sha256, :reused_from)",
                rows.components,
            )
            conn.executemany(
                "INSERT INTO pages (dossier_id, n, component_id, blank, text)"
                " VALUES (:dossier_id, :n, :component_id, :blank, :text)",
                rows.pages,
            )
            conn.executemany(
                "INSERT INTO page_search (dossier_id, component_id, n, text, folded, meta, meta_folded)"
                " VALUES (:dossier_id, :component_id, :n, :text, :folded, :meta, :meta_folded)",
                rows.search,
            )

    @staticmethod
    def _delete(conn: sqlite3.Connection, dossier_id: str) -> int:
        # Children first and explicitly (not only by cascade) so the FTS delete trigger always runs.
        conn.execute("DELETE FROM page_search WHERE dossier_id = ?", (dossier_id,))
        conn.execute("DELETE FROM pages WHERE dossier_id = ?", (dossier_id,))
        conn.execute("DELETE FROM components WHERE dossier_id = ?", (dossier_id,))
        return conn.execute("DELETE FROM dossiers WHERE id = ?", (dossier_id,)).rowcount

    def delete_dossier(self, dossier_id: str) -> bool:
        with self._write() as conn:
            return self._delete(conn, dossier_id) > 0

    # -- reads -------------------------------------------------------------------------------

    def get_dossier(self, dossier_id: str) -> Manifest | None:
        with self._lock:
            row = self.conn.execute(
                "SELECT manifest_json FROM dossiers WHERE id = ?", (dossier_id,)
            ).fetchone()
        return Manifest.model_validate_json(row[0]) if row else None

    def get_component(self, component_id: str) -> dict | None:
        with self._lock:
            cur = self.conn.execute(
                "SELECT id, dossier_id, seq, type, type_name, confidence, needs_review, pages_json,"
                " metadata_json, object_uri, sha256, reused_from FROM components WHERE id = ?",
                (component_id,),
            )
            row = cur.fetchone()
            names = [d[0] for d in cur.description]
        if row is None:
            return None
        out = dict(zip(names, row, strict=True))
        out["needs_review"] = bool(out["needs_review"])
        out["pages"] = json.loads(out.pop("pages_json"))
        out["metadata"] = json.loads(out.pop("metadata_json"))
        return out

    def stats(self) -> dict[str, int]:
        with self._lock:
            row = self.conn.execute(
                "SELECT (SELECT COUNT(*) FROM dossiers),"
                " (SELECT COUNT(*) FROM dossiers WHERE status = 'done'),"
                " (SELECT COUNT(*) FROM dossiers WHERE status = 'failed'),"
                " (SELECT COUNT(*) FROM components),"
                " (SELECT COUNT(*) FROM pages)"
            ).fetchone()
        return dict(zip(("dossiers", "done", "failed", "components", "pages"), row, strict=True))

    def search(
        self,
        query: str,
        *,
        type: str | None = None,
        dossier: str | None = None,
        limit: int = 20,
        offset: int = 0,
    ) -> list[Hit]:
        check_page_window(limit, offset)
        terms = parse_query(query)
        if not terms or limit == 0:
            return []
        exact_sum = " + ".join("(s.id IN (SELECT rowid FROM page_fts WHERE page_fts MATCH ?))" for _ in terms)
        params: list[object] = [_exact_match(t) for t in terms]
        params.append(_page_match(terms))
        params.append(_folded_match(terms))
        filters = ""
        if dossier is not None:
            filters += " AND s.dossier_id = ?"
            params.append(dossier)
        if type is not None:
            filters += " AND s.component_id IN (SELECT id FROM components WHERE type = ?)"
            params.append(type)
        params += [min(limit, MAX_LIMIT), offset]
        sql = f"""
            WITH matched AS MATERIALIZED (
                SELECT s.id, s.dossier_id, s.component_id, s.n, {_BM25} AS rank,
                       ({exact_sum}) AS exact_terms,
                       (s.id IN (SELECT rowid FROM page_fts WHERE page_fts MATCH ?)) AS on_page
                FROM page_fts JOIN page_search AS s ON s.id = page_fts.rowid
                WHERE page_fts MATCH ?{filters}
            ), best AS (
                SELECT *, ROW_NUMBER() OVER (
                    PARTITION BY component_id
                    ORDER BY exact_terms DESC, on_page DESC, CASE WHEN on_page THEN rank END, n
                ) AS pick
                FROM matched
            )
            SELECT b.dossier_id, b.component_id, b.n, b.rank, b.exact_terms,
                   c.type, c.type_name, c.pages_json, s.text, s.meta
            FROM best AS b
            JOIN components AS c ON c.id = b.component_id
            JOIN page_search AS s ON s.id = b.id
            WHERE b.pick = 1
            ORDER BY b.exact_terms DESC, b.rank, b.dossier_id, c.seq
            LIMIT ? OFFSET ?
        """
        with self._lock:
            try:
                rows = self.conn.execute(sql, params).fetchall()
            except sqlite3.OperationalError as exc:
                # Terms are quoted word lists, so this is not expected; if FTS5 still rejects one
                # (a tokenizer edge case), a search box must answer "nothing", not crash.
                if str(exc).startswith("fts5:"):
                    return []
                raise
        return [
            Hit(
                dossier_id=dossier_id,
                component_id=component_id,
                type=ctype,
                type_name=type_name,
                pages=json.loads(pages_json),
                page=n,
                snippet=best_snippet(text, meta, terms),
                score=-rank,
                exact=exact_terms == len(terms),
            )
            for (
                dossier_id,
                component_id,
                n,
                rank,
                exact_terms,
                ctype,
                type_name,
                pages_json,
                text,
                meta,
            ) in rows
        ]
