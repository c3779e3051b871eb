"""PostgreSQL catalog: workers on several machines index into one database at the same time.

Same logical schema as the SQLite catalog (`base.py`) and the same search, ranking, best page and
snippets (`rank.py`). Candidates come from `page_search.terms`, a tsvector built here in Python
from the row's word strings, with a GIN index. Its lexemes, without positions:

    ho, so, dat …            every word, folded
    =hồ, =sơ, =đất …         every word as written (lower case)
    'ho so', 'so dat' …      every two neighbouring words, folded (within the page, or the fields)
    #quyet_dinh              the component's type

A query asks for the lexemes of its terms (a phrase by its word pairs), so the GIN index answers
it exactly, never rereading rows; the few rows where a phrase of three words or more has its pairs
but not in a row are dropped in Python by the same substring test on `folded_words` the ranking
uses. Queries are built the same way and cast with `::tsquery`: PostgreSQL's parser and
dictionaries never touch the words, the database's locale does not matter, and no extension is
needed (`unaccent` would leave `đ` alone; `fold()` does not).

Writers: `index_dossier` is one transaction that first takes a transaction-level advisory lock
on the dossier id, so two workers re-indexing the same dossier run one after the other (the
second replaces the first's rows; nothing doubles, nothing deadlocks), while different dossiers
never wait for each other. Migrations run under an advisory lock too, numbered in
`schema_version` like SQLite's.

Errors: a server that cannot be reached, or refuses the user, raises `CatalogUnavailable` naming
host:port and what to check; the password never appears in a message.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlsplit

import psycopg
from psycopg import errors
from psycopg.conninfo import conninfo_to_dict
from psycopg_pool import ConnectionPool, PoolTimeout

from pipeline.catalog import schema
from pipeline.catalog.base import (
    COMPONENT_COLUMNS,
    SIGNATURE_COLUMNS,
    Catalog,
    CatalogUnavailable,
    Hit,
    IndexRows,
    plan_rows,
)
from pipeline.catalog.query import Term, parse_query, split_joined
from pipeline.catalog.rank import Candidate, Needles, Shown, find, has_all, hits, measure
from pipeline.errors import ConfigError
from pipeline.manifest import Manifest
from pipeline.retrying import RetryPolicy

MIGRATIONS: list[str] = [
    # 1: initial schema, the logical schema of base.py. Append new scripts; never edit one that
    # has shipped. JSON columns are text, as in SQLite (jsonb cannot hold \u0000 and reorders).
    schema.core_tables(real="double precision", boolean="boolean") + """
    CREATE TABLE page_search (
        id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        dossier_id   text NOT NULL REFERENCES dossiers (id) ON DELETE CASCADE,
        component_id text NOT NULL REFERENCES components (id) ON DELETE CASCADE,
        n            integer NOT NULL,
        type         text NOT NULL,
        text         text NOT NULL,
        folded       text NOT NULL,
        meta         text NOT NULL,
        meta_folded  text NOT NULL,
        words        text NOT NULL,
        folded_words text NOT NULL,
        terms        tsvector NOT NULL
    ) WITH (toast_tuple_target = 128);
    -- Long values live out of line (TOAST): the table itself stays narrow (~130 bytes a row), so
    -- the rows the GIN index finds are read from few pages.
    CREATE INDEX page_search_dossier ON page_search (dossier_id);
    CREATE INDEX page_search_component ON page_search (component_id, n);
    CREATE INDEX page_search_terms ON page_search USING gin (terms);
    """,
    # 2: documents by owner and by date (`documents()`), and who points at a stored object
    # (`references()`): metadata.ngay as a column, the CCCD numbers as rows, each indexed.
    schema.owner_tables(ngay_from_json="metadata_json::json ->> 'ngay'") + """
    INSERT INTO component_owners (cccd, component_id, dossier_id)
        SELECT DISTINCT j.value, c.id, c.dossier_id
        FROM components AS c, json_array_elements_text(c.metadata_json::json -> 'cccd') AS j (value)
        WHERE j.value <> ''
        ON CONFLICT DO NOTHING;
    """,
    # 3: digital signatures of the components' source PDFs (`component_signatures`, base.py).
    schema.signature_tables(boolean="boolean"),
    # 4: the web application's staff accounts, sessions and audit log (`accounts.py`), and the
    # review queue's order (least confident first) from an index.
    schema.account_tables(boolean="boolean", serial_key="bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY"),
]

LOCK_MIGRATE = 0x736F6801  # pg_advisory_xact_lock(key1, key2) classes: 'soh' + 1, 'soh' + 2
LOCK_DOSSIER = 0x736F6802
MAX_WORD = 250  # longer words are cut (a lexeme, even a pair, holds < 2 KiB); queries are cut alike
SCAN_NEWEST = 2000  # rows a search tests newest first before it asks the GIN index
CONNECT_TIMEOUT_S = 10
QUICK_WAIT_S = 1.0  # for a pooled connection, before asking whether the server is there at all
CONFLICTS = RetryPolicy(attempts=5, first_delay_s=0.05, max_delay_s=1.0)
"""Transactions the server rolled back (deadlock, serialization) or whose connection dropped: short waits."""
PROBE_TIMEOUT_S = 5

T = TypeVar("T")


# -- tsvector / tsquery text ------------------------------------------------------------------


def _lexeme(word: str) -> str:
    """A quoted tsvector/tsquery lexeme."""
    return "'" + word[:MAX_WORD].replace("\\", "\\\\").replace("'", "''") + "'"


def _pairs(words: list[str]) -> list[str]:
    return [f"{a} {b}" for a, b in zip(words, words[1:], strict=False)]


def tsvector(words: str, folded_words: str, type: str) -> str:
    """`page_search.terms` for a row, from its word strings. Words are letters and digits only
    (`query.TOKEN`), so they need no escaping."""
    (page, page_plain), (fields, fields_plain) = split_joined(words, folded_words)
    lexemes: set[str] = set()
    for exact, plain in ((fields, fields_plain), (page, page_plain)):
        plain = [w[:MAX_WORD] for w in plain]
        lexemes.update(plain)
        lexemes.update(["=" + w[:MAX_WORD] for w in exact])
        lexemes.update(_pairs(plain))
    lexemes -= {"", "="}
    return " ".join([f"'{x}'" for x in sorted(lexemes)] + [_lexeme("#" + type)])


def tsquery(terms: list[Term], *, exact: bool, type: str | None) -> str:
    """The lexemes every matching row has: each term folded (a phrase as its word pairs), every
    word as written too if `exact`, and the type if asked for."""
    lexemes: list[str] = []
    for t in terms:
        plain = [w[:MAX_WORD] for w in t.folded]
        lexemes += plain if len(plain) == 1 else _pairs(plain)
        if exact:
            lexemes += ["=" + w[:MAX_WORD] for w in t.words]
    if type is not None:
        lexemes.append("#" + type)
    return " & ".join(_lexeme(x) for x in dict.fromkeys(lexemes))


# -- connection errors --------------------------------------------------------------------------


def redact(url: str) -> str:
    """The URL without its password, for messages."""
    try:
        parts = urlsplit(url)
        if parts.password is None:
            return url
        netloc = parts.netloc.rsplit("@", 1)[1]
        user = parts.username or ""
        return parts._replace(netloc=f"{user}@{netloc}" if user else netloc).geturl()
    except ValueError:
        return "postgresql://…"


class _Target:
    """Where the catalog lives, for messages (never the password)."""

    def __init__(self, url: str):
        try:
            info = conninfo_to_dict(url)
        except psycopg.ProgrammingError:
            raise ConfigError(  # not chained: the parser's message may quote the password
                "the catalog URL is not a valid PostgreSQL URL",
                path=redact(url),
                hint="Use postgresql://user:password@host:port/database",
            ) from None
        self.url = redact(url)
        self.host = str(info.get("host") or info.get("hostaddr") or "localhost")
        self.port = str(info.get("port") or 5432)
        self.user = str(info.get("user") or "")
        self.dbname = str(info.get("dbname") or self.user)
        self.password = str(info.get("password") or "")
        self.info = info

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}"

    def scrub(self, text: str) -> str:
        if len(self.password) >= 3:
            text = text.replace(self.password, "***")
        return text

    def unavailable(self, exc: BaseException) -> CatalogUnavailable:
        detail = self.scrub(str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__)
        low = str(exc).lower()
        if isinstance(exc, PoolTimeout):
            problem = f"no connection to PostgreSQL at {self.where} became free or could be made in time"
            hint = f"Check that the server at {self.where} is up and reachable, and its max_connections"
        elif "password authentication failed" in low or "authentication failed" in low or "no password" in low:
            problem = f"PostgreSQL at {self.where} refused user {self.user!r} ({detail})"
            hint = "Check the user and password in SOHOA_CATALOG, and the server's pg_hba.conf"
        elif "does not exist" in low and "database" in low:
            problem = f"database {self.dbname!r} does not exist on PostgreSQL at {self.where}"
            hint = "Create it (see docs/catalog.md), or fix the database name in SOHOA_CATALOG"
        elif "pg_hba.conf" in low:
            problem = f"PostgreSQL at {self.where} does not let this machine in ({detail})"
            hint = "Add a host line for this client and user to the server's pg_hba.conf and reload it"
        elif "timeout" in low or "timed out" in low:
            problem = f"no answer from PostgreSQL at {self.where} in time ({detail})"
            hint = "Check the host and port in SOHOA_CATALOG, the network and any firewall between"
        elif "translate host name" in low or "name or service not known" in low:
            problem = f"cannot find the PostgreSQL host {self.host!r} ({detail})"
            hint = "Check the host name in SOHOA_CATALOG and this machine's DNS"
        else:
            problem = f"cannot use PostgreSQL at {self.where} ({detail})"
            hint = (
                f"Check that PostgreSQL is running and listening on {self.where} (listen_addresses, port),"
                " that this machine may connect (pg_hba.conf, firewall), and the user and password in SOHOA_CATALOG"
            )
        return CatalogUnavailable(problem, path=self.url, hint=hint)


def _connection_lost(exc: BaseException) -> bool:
    """A failure of the connection or server, not of one statement."""
    if isinstance(exc, PoolTimeout):
        return True
    if not isinstance(exc, psycopg.OperationalError):
        return False
    state = getattr(exc, "sqlstate", None)
    return state is None or state[:2] in ("08", "28", "3D", "57")


def _guarded(method: Callable[..., T]) -> Callable[..., T]:
    """Turn a lost or refused connection into one clear `CatalogUnavailable` line."""

    @wraps(method)
    def wrapper(self: PostgresCatalog, *args: Any, **kwargs: Any) -> T:
        try:
            return method(self, *args, **kwargs)
        except (psycopg.OperationalError, PoolTimeout) as exc:
            if _connection_lost(exc):
                raise self._target.unavailable(exc) from None
            raise

    return wrapper


def _clean(value: Any) -> Any:
    """PostgreSQL text cannot hold NUL: store U+FFFD instead (a separator, like NUL, for search)."""
    if isinstance(value, str) and "\x00" in value:
        return value.replace("\x00", "\ufffd")
    return value


def _has_nul(*values: str | None) -> bool:
    return any(v is not None and "\x00" in v for v in values)


# -- the catalog --------------------------------------------------------------------------------


class PostgresCatalog(Catalog):
    """The catalog in a PostgreSQL database (`postgresql://user:password@host:port/db`).

    One instance may be shared by threads: it keeps a small pool of connections (`pool_size`).
    Any number of instances, in any number of processes and machines, may write at once.
    """

    MARK = "%s"
    BYTE_ORDER = ' COLLATE "C"'

    def __init__(self, url: str, *, pool_size: int = 4, connect_timeout_s: float = CONNECT_TIMEOUT_S):
        self._target = _Target(url)
        self._url = url
        self._kwargs: dict[str, Any] = {"prepare_threshold": None}  # custom plans for every query
        if "connect_timeout" not in self._target.info:
            self._kwargs["connect_timeout"] = max(1, round(connect_timeout_s))
        if "application_name" not in self._target.info:
            self._kwargs["application_name"] = "sohoa"
        self._pool: ConnectionPool | None = None
        self._wait_s = connect_timeout_s + 20  # for a free connection when all are busy
        try:
            with psycopg.connect(url, **self._kwargs) as conn:
                self._check_server(conn)
                self._migrate(conn)
        except (psycopg.OperationalError, PoolTimeout) as exc:
            if _connection_lost(exc):
                raise self._target.unavailable(exc) from None
            raise
        self._pool = ConnectionPool(
            url,
            kwargs=self._kwargs,
            min_size=1,
            max_size=max(1, pool_size),
            open=False,
            name="sohoa-catalog",
            check=ConnectionPool.check_connection,  # a server restart costs no failed call
            timeout=self._wait_s,
        )
        try:
            self._pool.open(wait=True, timeout=connect_timeout_s + 5)
        except PoolTimeout as exc:
            self._pool.close()
            self._pool = None
            raise self._target.unavailable(exc) from None

    def __repr__(self) -> str:
        return f"PostgresCatalog({self._target.url!r})"

    # -- plumbing ----------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The catalog URL without its password."""
        return self._target.url

    @contextmanager
    def _conn(self) -> Iterator[psycopg.Connection]:
        """A pooled connection; its transaction is committed at the end (rolled back on error)."""
        pool = self._pool
        if pool is None:
            raise psycopg.InterfaceError(f"{self._target.url}: catalog is closed")
        try:
            conn = pool.getconn(timeout=QUICK_WAIT_S)
        except PoolTimeout:
            # Busy, or down? Ask the server directly: if it is down, say so now rather than
            # after the pool's whole wait.
            self._probe()
            conn = pool.getconn(timeout=self._wait_s)
        try:
            with conn:
                yield conn
        finally:
            pool.putconn(conn)

    def _probe(self) -> None:
        try:
            psycopg.connect(self._url, **{**self._kwargs, "connect_timeout": PROBE_TIMEOUT_S}).close()
        except psycopg.OperationalError as exc:
            raise self._target.unavailable(exc) from None

    def _check_server(self, conn: psycopg.Connection) -> None:
        if conn.info.server_version < 120000:
            raise ConfigError(
                f"PostgreSQL {conn.info.server_version // 10000} is too old for the catalog",
                path=self._target.url,
                hint="Use PostgreSQL 12 or newer",
            )
        encoding = conn.execute("SHOW server_encoding").fetchone()
        if encoding is None or encoding[0].upper() not in ("UTF8", "UTF-8"):
            raise ConfigError(
                f"database {self._target.dbname!r} is encoded {encoding[0] if encoding else '?'}, not UTF8",
                path=self._target.url,
                hint="Create the database with ENCODING 'UTF8' (see docs/catalog.md)",
            )

    @property
    def schema_version(self) -> int:
        with self._conn() as conn:
            row = conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version").fetchone()
        return int(row[0]) if row else 0

    def _migrate(self, conn: psycopg.Connection) -> None:
        """Apply the MIGRATIONS the database has not seen, each with its version row, in one
        transaction under an advisory lock: workers starting together migrate it once."""
        try:
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s, 0)", (LOCK_MIGRATE,))
                conn.execute(
                    "CREATE TABLE IF NOT EXISTS schema_version ("
                    " version integer PRIMARY KEY, applied_at text NOT NULL)"
                )
                row = conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version").fetchone()
                current = int(row[0]) if row else 0
                if current > len(MIGRATIONS):
                    raise ConfigError(
                        f"catalog schema version {current} is newer than this sohoa knows ({len(MIGRATIONS)})",
                        path=self._target.url,
                        hint="Upgrade sohoa, or point the catalog setting at another database",
                    )
                now = datetime.now(UTC).isoformat(timespec="seconds")
                for version, script in enumerate(MIGRATIONS, start=1):
                    if version > current:
                        conn.execute(script)
                        conn.execute(
                            "INSERT INTO schema_version (version, applied_at) VALUES (%s, %s)", (version, now)
                        )
        except errors.InsufficientPrivilege as exc:
            raise ConfigError(
                f"user {self._target.user!r} may not create the catalog tables ({self._target.scrub(str(exc).splitlines()[0])})",
                path=self._target.url,
                hint="Make the user the owner of the database, or GRANT CREATE ON SCHEMA public to it (docs/catalog.md)",
            ) from None

    _mark = "%s"

    @_guarded
    def _rows(self, sql: str, args: tuple | list = ()) -> list[tuple]:
        args = [_clean(a) for a in args]
        with self._conn() as conn:
            return conn.execute(sql, args).fetchall()

    @_guarded
    def _change(self, sql: str, args: tuple | list = ()) -> int:
        args = [_clean(a) for a in args]
        with self._conn() as conn, conn.transaction():
            return conn.execute(sql, args).rowcount

    def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.close()

    # -- writes ------------------------------------------------------------------------------

    @_guarded
    def index_dossier(self, manifest: Manifest) -> None:
        rows = plan_rows(manifest, datetime.now(UTC).isoformat(timespec="seconds"))
        # A deadlock or serialization failure (not expected: writers take an advisory lock per dossier)
        # or a connection the server dropped is tried again on a fresh transaction.
        CONFLICTS.call(self._index, rows, what=f"catalog {self._target.url}: indexing {rows.dossier['id']}")

    def _index(self, rows: IndexRows) -> None:
        with self._conn() as conn, conn.transaction():
            self._replace(conn, rows)

    def _replace(self, conn: psycopg.Connection, rows: IndexRows) -> None:
        dossier_id = rows.dossier["id"]
        conn.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (LOCK_DOSSIER, _clean(dossier_id)))
        ids = [_clean(c["id"]) for c in rows.components]
        if ids:
            clash = conn.execute(
                "SELECT id, dossier_id FROM components WHERE id = ANY(%s) AND dossier_id <> %s LIMIT 1",
                (ids, _clean(dossier_id)),
            ).fetchone()
            if clash:
                raise ValueError(f"{dossier_id}: component id {clash[0]!r} already belongs to dossier {clash[1]!r}")
        self._delete(conn, dossier_id)
        d = {k: _clean(v) for k, v in rows.dossier.items()}
        conn.execute(
            "INSERT INTO dossiers (id, status, error, source_path, source_sha256, pages,"
            " settings_version, created_at, indexed_at, manifest_json)"
            " VALUES (%(id)s, %(status)s, %(error)s, %(source_path)s, %(source_sha256)s, %(pages)s,"
            " %(settings_version)s, %(created_at)s, %(indexed_at)s, %(manifest_json)s)",
            d,
        )
        if not rows.components:
            return
        try:
            with conn.cursor() as cur:
                self._copy(
                    cur,
                    "components",
                    (*COMPONENT_COLUMNS, "ngay"),
                    rows.components,
                )
                self._copy(cur, "component_owners", ("cccd", "component_id", "dossier_id"), rows.owners)
                self._copy(cur, "component_signatures", SIGNATURE_COLUMNS, rows.signatures)
                self._copy(cur, "pages", ("dossier_id", "n", "component_id", "blank", "text"), rows.pages)
                search = [{**r, "terms": tsvector(r["words"], r["folded_words"], r["type"])} for r in rows.search]
                self._copy(
                    cur,
                    "page_search",
                    ("dossier_id", "component_id", "n", "type", "text", "folded", "meta", "meta_folded",
                     "words", "folded_words", "terms"),
                    search,
                )
        except errors.UniqueViolation as exc:  # another worker claimed a component id meanwhile
            raise ValueError(f"{dossier_id}: a component id already belongs to another dossier ({exc.diag.message_detail})") from None

    @staticmethod
    def _copy(cur: psycopg.Cursor, table: str, columns: tuple[str, ...], rows: list[dict]) -> None:
        if not rows:
            return
        with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(tuple(_clean(row[c]) for c in columns))

    @staticmethod
    def _delete(conn: psycopg.Connection, dossier_id: str) -> int:
        """One statement: the foreign keys cascade to components, pages and page_search."""
        return conn.execute("DELETE FROM dossiers WHERE id = %s", (_clean(dossier_id),)).rowcount

    @_guarded
    def delete_dossier(self, dossier_id: str) -> bool:
        if _has_nul(dossier_id):
            return False
        with self._conn() as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (LOCK_DOSSIER, dossier_id))
            return self._delete(conn, dossier_id) > 0

    # -- reads -------------------------------------------------------------------------------

    @_guarded
    def _read(self, queries: list[tuple[str, Sequence]]) -> list[list[tuple]]:
        with self._conn() as conn:
            return [conn.execute(sql, args).fetchall() for sql, args in queries]

    def _usable(self, *values: str | None) -> bool:
        return not _has_nul(*values)

    @_guarded
    def references(self, uris: list[str], *, exclude_dossier: str) -> dict[str, list[str]]:
        uris = [u for u in dict.fromkeys(uris) if not _has_nul(u)]
        if not uris:
            return {}
        with self._conn() as conn:
            rows = conn.execute(
                "SELECT object_uri, id FROM components WHERE object_uri = ANY(%s) AND dossier_id <> %s ORDER BY id",
                (uris, _clean(exclude_dossier)),
            ).fetchall()
        out: dict[str, list[str]] = {}
        for uri, cid in rows:
            out.setdefault(uri, []).append(cid)
        return out

    @_guarded
    def _search(self, terms: list[Term], type: str | None, dossier: str | None, limit: int,
                offset: int) -> list[Hit]:
        needles = Needles(terms)
        with self._conn() as conn:

            def finder(all_exact: bool, cap: int, below: int | None) -> tuple[list[Candidate], bool]:
                def keep(row: tuple) -> bool:
                    words, folded_words = row[4], row[5]
                    return has_all(folded_words, needles) and (
                        not all_exact or all(x in words for x in needles.exact)
                    )

                query = tsquery(terms, exact=all_exact, type=type)
                rows = self._newest(conn, query, keep, dossier, cap + 1, below)
                found = [
                    measure(Candidate(rid, did, cid, n), words, folded_words, needles)
                    for rid, did, cid, n, words, folded_words in rows[:cap]
                ]
                return found, len(rows) > cap

            ranked = find(finder, terms, offset + limit)
            page = ranked[offset : offset + limit]
            shown = self._shown(conn, [r.best.id for r in page])
        return hits(page, shown, terms)

    @_guarded
    def search_type_counts(self, query: str, *, dossier: str | None = None,
                           cap: int = 1000) -> tuple[dict[str, int], bool]:
        terms = parse_query(query)
        if not terms or cap <= 0 or _has_nul(dossier):
            return {}, False
        only_dossier = " AND dossier_id = %s" if dossier is not None else ""
        with self._conn() as conn:
            # the GIN index answers it; a phrase of three words or more is counted by its word pairs
            rows = conn.execute(
                f"SELECT type, component_id FROM page_search WHERE terms @@ %s::tsquery{only_dossier}"
                " ORDER BY id DESC LIMIT %s",
                (tsquery(terms, exact=False, type=None), *([dossier] if dossier is not None else []), cap + 1),
            ).fetchall()
        pairs = set(rows[:cap])
        counts: dict[str, int] = {}
        for type_, _component in pairs:
            counts[type_] = counts.get(type_, 0) + 1
        return counts, len(rows) > cap

    _COLUMNS = "id, dossier_id, component_id, n, words, folded_words"

    def _newest(
        self,
        conn: psycopg.Connection,
        query: str,
        keep: Callable[[tuple], bool],
        dossier: str | None,
        want: int,
        below: int | None = None,
    ) -> list[tuple]:
        """The `want` newest rows (with an id below `below`, if given) that have every lexeme of
        `query` and pass `keep`.

        Newest first, in two steps whose cost stays small whatever the query:
        1. test the newest SCAN_NEWEST rows one by one, backwards by id: quick when matches are
           common (it stops after `want`), bounded when they are not;
        2. if that did not fill up, matches are rare, and the GIN index finds the older ones.
        PostgreSQL's planner cannot tell these cases apart from its statistics (words of a phrase
        are not independent), so each step fixes its plan with SET LOCAL.
        """
        top = below if below is not None else 2**63 - 1
        if dossier is not None:  # a dossier's rows are few: its index, then test each
            rows = conn.execute(
                f"SELECT {self._COLUMNS} FROM page_search WHERE dossier_id = %s AND id < %s"
                " AND terms @@ %s::tsquery ORDER BY id DESC",
                (dossier, top, query),
            ).fetchall()
            return [r for r in rows if keep(r)][:want]
        edge = conn.execute("SELECT id FROM page_search ORDER BY id DESC OFFSET %s LIMIT 1", (SCAN_NEWEST,)).fetchone()
        newest = edge[0] if edge else -1  # step 1 covers ids above this
        rows: list[tuple] = []
        if top > newest + 1:
            conn.execute("SET LOCAL enable_bitmapscan = off")
            rows = self._batches(conn, "id > %s", newest, query, keep, want, top)
            conn.execute("SET LOCAL enable_bitmapscan = on")
        if len(rows) >= want or edge is None:
            return rows
        conn.execute("SET LOCAL enable_indexscan = off; SET LOCAL enable_seqscan = off")
        try:
            return rows + self._batches(conn, "id <= %s", newest, query, keep, want - len(rows), top)
        finally:
            conn.execute("SET LOCAL enable_indexscan = on; SET LOCAL enable_seqscan = on")

    def _batches(
        self,
        conn: psycopg.Connection,
        bound: str,
        edge: int,
        query: str,
        keep: Callable[[tuple], bool],
        want: int,
        below: int,
    ) -> list[tuple]:
        """Newest rows within `bound` and below `below` matching `query`, until `want` pass
        `keep` (most do: only a phrase of 3+ words can have all its pairs and not be there)."""
        out: list[tuple] = []
        while True:
            batch = want - len(out) if not out else max(32, 2 * (want - len(out)))
            rows = conn.execute(
                f"SELECT {self._COLUMNS} FROM page_search WHERE {bound} AND id < %s AND terms @@ %s::tsquery"
                " ORDER BY id DESC LIMIT %s",
                (edge, below, query, batch),
            ).fetchall()
            out += [r for r in rows if keep(r)]
            if len(out) >= want or len(rows) < batch:
                return out[:want]
            below = rows[-1][0]

    @staticmethod
    def _shown(conn: psycopg.Connection, ids: list[int]) -> dict[int, Shown]:
        if not ids:
            return {}
        rows = conn.execute(
            "SELECT s.id, c.type, c.type_name, c.pages_json, s.text, s.meta, s.words, s.folded_words"
            " FROM page_search AS s JOIN components AS c ON c.id = s.component_id WHERE s.id = ANY(%s)",
            (ids,),
        ).fetchall()
        return {r[0]: Shown(r[1], r[2], json.loads(r[3]), *r[4:]) for r in rows}
