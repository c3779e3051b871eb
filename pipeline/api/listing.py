"""Finding documents (catalog components) for the API: search with filters, and lists without a query.

* without a query: `Catalog.documents()` answers every filter — `owner` (a CCCD in
  `metadata.cccd`), `from`/`to` (on `metadata.ngay`), `type`, `dossier` — from its indexes, newest
  dossier first, one page at a time;
* with a query: `Catalog.search()` answers the words with `type` and `dossier`; `owner` and
  `from`/`to` are applied here over its hits, taken in batches (the owner's number is added to the
  query as one more term, since the catalog indexes every component's CCCDs, which narrows the
  hits to components that mention it), each hit's row read with `get_component()`. Such a
  request scans at most `SCAN_CAP` hits; when that is not enough to fill its page the answer says
  `truncated`, and the client should narrow the query.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from pipeline.catalog.base import Catalog, Hit

BATCH = 200
SCAN_CAP = 5000
"""Search hits one request may look at when `owner` or dates are applied to a search."""


@dataclass(frozen=True)
class Filters:
    type: str | None = None
    dossier: str | None = None
    owner: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    needs_review: bool | None = None  # the web application's "needs review" filter

    @property
    def in_api_layer(self) -> bool:
        """True when some filter is not answered by the catalog itself."""
        return bool(self.owner or self.date_from or self.date_to or self.needs_review is not None)


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


def from_rows(rows: list[dict]) -> list[Doc | None]:
    """`Doc.from_row` of each row: `collect`'s decoder for catalog rows."""
    return [Doc.from_row(r) for r in rows]


def matches(doc: Doc, f: Filters) -> bool:
    """Every filter, checked on the decoded row (also those SQL already applied: cheap, and exact)."""
    if f.type and doc.type != f.type:
        return False
    if f.dossier and doc.dossier_id != f.dossier:
        return False
    if f.needs_review is not None and doc.needs_review != f.needs_review:
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


def collect(fetch: Callable[[int, int], list], decode: Callable[[list], list[Doc | None]], f: Filters,
            limit: int, offset: int, *, batch: int = BATCH, cap: int = SCAN_CAP) -> Page:
    """Page `offset`/`limit` of the candidates `fetch(offset, limit)` yields that pass `f`;
    `decode(rows)`: their documents, None for one gone meanwhile."""
    if not f.in_api_layer:
        # the backend filters everything itself: ask for exactly the page (and one more row)
        rows = fetch(offset, limit + 1)
        docs = [d for d in decode(rows) if d is not None and matches(d, f)]
        return Page(docs[:limit], len(rows) > limit, False, len(rows))
    wanted = offset + limit + 1
    found: list[Doc] = []
    scanned = 0
    exhausted = False
    while len(found) < wanted and scanned < cap:
        asked = min(batch, cap - scanned)
        rows = fetch(scanned, asked)
        scanned += len(rows)
        for doc in decode(rows):
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

    def decode(hits: list[Hit]) -> list[Doc | None]:
        rows = catalog.components([h.component_id for h in hits])  # one query for the batch
        # a hit whose component is gone since (re-indexed meanwhile) is left out
        return [Doc.from_row(rows[h.component_id], hit=h) if h.component_id in rows else None for h in hits]

    return collect(fetch, decode, f, limit, offset)


# -- without a query: the catalog's documents() ----------------------------------------------------


def listed(catalog: Catalog, f: Filters, limit: int, offset: int) -> Page:
    """Documents by filters alone: the catalog answers every filter from its indexes (`owner`
    from `component_owners`, `from`/`to` from `components.ngay`), newest dossier first; the
    needs-review filter is applied here over them."""
    if f.needs_review is not None:
        def fetch(off: int, n: int) -> list[dict]:
            return catalog.documents(owner=f.owner, date_from=f.date_from, date_to=f.date_to, type=f.type,
                                     dossier=f.dossier, limit=n, offset=off)

        return collect(fetch, from_rows, f, limit, offset)
    rows = catalog.documents(owner=f.owner, date_from=f.date_from, date_to=f.date_to, type=f.type,
                             dossier=f.dossier, limit=limit + 1, offset=offset)
    docs = [Doc.from_row(r) for r in rows]
    return Page(docs[:limit], len(docs) > limit, False, len(docs))


def all_listed(catalog: Catalog, f: Filters, cap: int, *, batch: int = 500) -> Page:
    """Every document the filters select, up to `cap` (then `truncated`)."""
    docs: list[Doc] = []
    while len(docs) <= cap:
        rows = catalog.documents(owner=f.owner, date_from=f.date_from, date_to=f.date_to, type=f.type,
                                 dossier=f.dossier, limit=min(batch, cap + 1 - len(docs)), offset=len(docs))
        docs += [Doc.from_row(r) for r in rows]
        if len(rows) < batch:
            break
    return Page(docs[:cap], len(docs) > cap, len(docs) > cap, len(docs))
