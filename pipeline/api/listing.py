"""Finding documents (catalog components) for the API: search with filters, and lists without a query.

The `Catalog` interface answers full-text queries with `type` and `dossier` filters. The API's other
filters — `owner` (a CCCD in `metadata.cccd`) and `from`/`to` (on `metadata.ngay`) — are not part of
it, so they are applied here, in the API layer, over candidates taken from the catalog in batches:

* with a query: `Catalog.search()` pages (the owner's number is added to the query as one more
  term, since the catalog indexes every component's CCCDs, which narrows the candidates to
  components that mention it), each hit's row read with `get_component()`, then filtered;
* without a query: the components of done dossiers, newest dossier first, read straight from the
  catalog's tables (their names and columns are the same in every backend, base.py), where `type`,
  `dossier` and a coarse owner test are SQL and the rest is checked here; a catalog backend this
  module does not know is listed from the manifests in the object store instead (slow, but right).

A request scans at most `SCAN_CAP` candidates; when that is not enough to fill its page the answer
says `truncated`, and the client should narrow the filters (or add a query).
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from urllib.request import pathname2url

from pipeline.catalog.base import Catalog, Hit
from pipeline.store.base import ObjectStore

BATCH = 200
SCAN_CAP = 5000
"""Candidates one request may look at when filters are applied in the API layer."""


@dataclass(frozen=True)
class Filters:
    type: str | None = None
    dossier: str | None = None
    owner: str | None = None
    date_from: date | None = None
    date_to: date | None = None

    @property
    def in_api_layer(self) -> bool:
        """True when some filter is not answered by the catalog itself."""
        return bool(self.owner or self.date_from or self.date_to)


@dataclass
class Doc:
    """One component as the API lists it (a catalog row, decoded)."""

    id: str
    dossier_id: str
    type: str
    type_name: str
    pages: list[int]
    metadata: dict
    needs_review: bool
    confidence: float
    has_pdf: bool
    sha256: str | None = None
    reused_from: str | None = None
    created_at: str | None = None  # the dossier's manifest time
    seq: int = 0
    hit: Hit | None = field(default=None, repr=False)

    @classmethod
    def from_row(cls, row: dict, created_at: str | None = None, hit: Hit | None = None) -> Doc:
        metadata = row.get("metadata")
        if metadata is None:
            metadata = json.loads(row.get("metadata_json") or "{}")
        pages = row.get("pages")
        if pages is None:
            pages = json.loads(row.get("pages_json") or "[]")
        return cls(id=row["id"], dossier_id=row["dossier_id"], type=row["type"], type_name=row["type_name"],
                   pages=list(pages), metadata=metadata, needs_review=bool(row["needs_review"]),
                   confidence=float(row["confidence"]), has_pdf=bool(row.get("object_uri")),
                   sha256=row.get("sha256"), reused_from=row.get("reused_from"),
                   created_at=created_at or row.get("created_at"), seq=int(row.get("seq") or 0), hit=hit)


def matches(doc: Doc, f: Filters) -> bool:
    """Every filter, checked on the decoded row (also those SQL already applied: cheap, and exact)."""
    if f.type and doc.type != f.type:
        return False
    if f.dossier and doc.dossier_id != f.dossier:
        return False
    if f.owner and f.owner not in (doc.metadata.get("cccd") or []):
        return False
    if f.date_from or f.date_to:
        ngay = doc.metadata.get("ngay")
        try:
            day = date.fromisoformat(ngay) if ngay else None
        except ValueError:
            day = None
        if day is None:
            return False
        if f.date_from and day < f.date_from:
            return False
        if f.date_to and day > f.date_to:
            return False
    return True


@dataclass
class Page:
    items: list[Doc]
    has_more: bool
    truncated: bool = False  # the scan cap was reached before the page was full
    scanned: int = 0


def collect(fetch: Callable[[int, int], list], decode: Callable[[object], Doc | None], f: Filters,
            limit: int, offset: int, *, batch: int = BATCH, cap: int = SCAN_CAP) -> Page:
    """Page `offset`/`limit` of the candidates `fetch(offset, limit)` yields that pass `f`."""
    if not f.in_api_layer:
        # the backend filters everything itself: ask for exactly the page (and one more row)
        rows = fetch(offset, limit + 1)
        docs = [d for d in (decode(r) for r in rows) if d is not None and matches(d, f)]
        return Page(docs[:limit], len(rows) > limit, False, len(rows))
    wanted = offset + limit + 1
    found: list[Doc] = []
    scanned = 0
    exhausted = False
    while len(found) < wanted and scanned < cap:
        asked = min(batch, cap - scanned)
        rows = fetch(scanned, asked)
        scanned += len(rows)
        for row in rows:
            doc = decode(row)
            if doc is not None and matches(doc, f):
                found.append(doc)
        if len(rows) < asked:
            exhausted = True
            break
    truncated = not exhausted and len(found) < wanted
    return Page(found[offset:offset + limit], len(found) > offset + limit or truncated, truncated, scanned)


# -- with a query: the catalog's search -----------------------------------------------------------


def search(catalog: Catalog, query: str, f: Filters, limit: int, offset: int) -> Page:
    q = f"{query} {f.owner}" if f.owner else query

    def fetch(off: int, n: int) -> list[Hit]:
        return catalog.search(q, type=f.type, dossier=f.dossier, limit=n, offset=off)

    def decode(hit: Hit) -> Doc | None:
        row = catalog.get_component(hit.component_id)
        return Doc.from_row(row, hit=hit) if row else None  # gone since: re-indexed meanwhile

    return collect(fetch, decode, f, limit, offset)


# -- without a query: the catalog's tables ----------------------------------------------------------

_COLUMNS = ("c.id, c.dossier_id, c.seq, c.type, c.type_name, c.confidence, c.needs_review, c.pages_json,"
            " c.metadata_json, c.object_uri, c.sha256, c.reused_from, d.created_at")
_NAMES = ("id", "dossier_id", "seq", "type", "type_name", "confidence", "needs_review", "pages_json",
          "metadata_json", "object_uri", "sha256", "reused_from", "created_at")


def _sql(f: Filters, mark: str) -> tuple[str, list]:
    """The listing query with `mark` as the placeholder (`?` SQLite, `%s` psycopg); JSON columns are
    text in every backend, so the owner test is a LIKE on the quoted number (a superset, made exact
    by `matches`)."""
    where = ["d.status = 'done'"]
    args: list = []
    if f.type:
        where.append(f"c.type = {mark}")
        args.append(f.type)
    if f.dossier:
        where.append(f"c.dossier_id = {mark}")
        args.append(f.dossier)
    if f.owner:
        where.append(f"c.metadata_json LIKE {mark}")
        args.append(f'%"{f.owner}"%')  # owner is validated digits: no LIKE wildcards in it
    sql = (f"SELECT {_COLUMNS} FROM components AS c JOIN dossiers AS d ON d.id = c.dossier_id"
           f" WHERE {' AND '.join(where)} ORDER BY d.created_at DESC, c.dossier_id, c.seq"
           f" LIMIT {mark} OFFSET {mark}")
    return sql, args


class Lister:
    """Components without a query, for one catalog backend."""

    def rows(self, f: Filters, offset: int, limit: int) -> list[dict]:
        raise NotImplementedError

    def page(self, f: Filters, limit: int, offset: int) -> Page:
        return collect(lambda off, n: self.rows(f, off, n), Doc.from_row, f, limit, offset)

    def close(self) -> None:
        pass


class SqliteLister(Lister):
    """Reads the catalog file through its own read-only connection (one per call: cheap, thread-safe)."""

    def __init__(self, path: Path):
        self.path = Path(path)

    def rows(self, f: Filters, offset: int, limit: int) -> list[dict]:
        sql, args = _sql(f, "?")
        uri = f"file:{pathname2url(str(self.path.resolve()))}?mode=ro"
        conn = sqlite3.connect(uri, uri=True, timeout=30)
        try:
            return [dict(zip(_NAMES, r, strict=True)) for r in conn.execute(sql, [*args, limit, offset])]
        finally:
            conn.close()


class PostgresLister(Lister):
    """One connection of its own to the catalog's database, reopened when it breaks."""

    def __init__(self, url: str):
        self.url = url
        self._lock = threading.Lock()
        self._conn = None

    def rows(self, f: Filters, offset: int, limit: int) -> list[dict]:
        import psycopg

        sql, args = _sql(f, "%s")
        with self._lock:
            for attempt in (1, 2):
                try:
                    if self._conn is None or self._conn.closed:
                        self._conn = psycopg.connect(self.url, connect_timeout=10, autocommit=True)
                    with self._conn.cursor() as cur:
                        cur.execute(sql, [*args, limit, offset])
                        return [dict(zip(_NAMES, r, strict=True)) for r in cur.fetchall()]
                except psycopg.OperationalError:
                    self.close_locked()
                    if attempt == 2:
                        raise
        return []  # pragma: no cover - the loop returns or raises

    def close_locked(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            finally:
                self._conn = None

    def close(self) -> None:
        with self._lock:
            self.close_locked()


class ManifestLister(Lister):
    """Any other catalog: the manifests in the object store (reads every manifest; slow on big stores)."""

    def __init__(self, store: ObjectStore):
        self.store = store

    def _all(self) -> Iterable[dict]:
        from pipeline.report import manifests

        rows = []
        for m in manifests(self.store):
            if m.status != "done":
                continue
            for seq, c in enumerate(m.components, start=1):
                rows.append({"id": c.id, "dossier_id": m.dossier_id, "seq": seq, "type": c.type,
                             "type_name": c.type_name, "confidence": c.confidence,
                             "needs_review": c.needs_review, "pages": c.pages,
                             "metadata": c.metadata.model_dump(mode="json"),
                             "object_uri": c.object.uri if c.object else None, "sha256": c.sha256,
                             "reused_from": c.reused_from, "created_at": m.created_at})
        rows.sort(key=lambda r: (r["dossier_id"], r["seq"]))
        rows.sort(key=lambda r: r["created_at"] or "", reverse=True)
        return rows

    def rows(self, f: Filters, offset: int, limit: int) -> list[dict]:
        rows = [r for r in self._all() if (not f.type or r["type"] == f.type)
                and (not f.dossier or r["dossier_id"] == f.dossier)]
        return rows[offset:offset + limit]


def lister_for(catalog: Catalog, settings_catalog: str, store: ObjectStore) -> Lister:
    from pipeline.catalog.sqlite import SqliteCatalog

    if isinstance(catalog, SqliteCatalog) and str(catalog.path) != ":memory:":
        return SqliteLister(catalog.path)
    spec = (settings_catalog or "").strip()
    if spec.startswith(("postgresql://", "postgres://")) and type(catalog).__name__ == "PostgresCatalog":
        return PostgresLister(spec)
    return ManifestLister(store)
