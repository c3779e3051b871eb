"""Catalog interface: what was processed, and full-text search over it (SQLite or PostgreSQL).

Logical schema every backend keeps (names are the same in each so tools can read either):

    dossiers    (id, status, error, source_path, source_sha256, pages, settings_version,
                 created_at, indexed_at, manifest_json)
    components  (id, dossier_id, seq, type, type_name, confidence, needs_review, pages_json,
                 metadata_json, object_uri, sha256, reused_from, ngay)
                `ngay` = metadata.ngay (ISO date or NULL), indexed for date ranges; `object_uri`
                is indexed too, to find the components that point at a stored object
    component_owners (cccd, component_id, dossier_id)
                one row per CCCD number in a component's metadata: documents by owner
    component_signatures (component_id, dossier_id, seq, file, field, signer, organisation,
                signed_at, intact, valid, covers_whole_file, later_changes, stored_as)
                one row per digital signature over a component's source PDF (`Component.signatures`);
                `stored_as` = the component's: `signed_original` when the stored object is the
                signed file byte for byte. `signatures(component_id)` returns them.
    pages       (dossier_id, n, component_id, blank, text)
    page_search (id, dossier_id, component_id, n, type, text, folded, meta, meta_folded,
                 words, folded_words)
                one row per page of each component; `folded` = fold(text) so tone-less queries
                and `đ`→`d` work; `meta` = the component's extracted fields, on every page row
                so a query may combine a document number with words of any page; `type` = the
                component's type, for filtering; `id` grows with indexing order; `words` and
                `folded_words` = the words of page and fields as written (lower-case) and
                folded, space-separated (`query.joined`), so that which terms a candidate
                matches, and where, is a substring test (`rank.measure`).
    schema_version (version, applied_at)   numbered migrations applied to this catalog
    users, sessions, audit                 the web application's staff (`accounts.py`)

Backends add their own search structures beside these (SQLite: the FTS5 table `page_fts`;
PostgreSQL: the `terms` tsvector column with its GIN index). See docs/catalog.md.

Search semantics (the contract, tested against every backend): all terms must match after
folding (AND); results are one per component (its best page); components whose page matches more
terms in their exact written form (tones included, case ignored) come first, then by relevance.
Relevance and the best page are decided in `rank.py`, the same for every backend.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from types import TracebackType

from pipeline.catalog.accounts import Accounts
from pipeline.catalog.query import Term, joined, metadata_text, parse_query, word_lists
from pipeline.errors import SohoaError
from pipeline.manifest import Manifest
from pipeline.textnorm import fold, nfc


@dataclass
class Hit:
    """One matching component. `page` is its best-matching page; `score`: higher is better."""

    dossier_id: str
    component_id: str
    type: str
    type_name: str
    pages: list[int] = field(default_factory=list)
    page: int = 0
    snippet: str = ""
    score: float = 0.0
    exact: bool = False


class CatalogUnavailable(SohoaError):
    """The catalog's database cannot be reached or refused us; says where, and what to check."""


class Catalog(Accounts, ABC):
    """Index of processed dossiers. Safe to re-index: a dossier's rows are replaced, never added to.
    Staff accounts, sessions and the audit log of the web application come with it (`accounts.py`)."""

    @abstractmethod
    def index_dossier(self, manifest: Manifest) -> None:
        """Replace everything known about `manifest.dossier_id` in one transaction.

        A failed manifest is recorded (status, error, manifest) with no component or page rows,
        so partial results of a failed run are never searchable.
        """

    # How the backend's driver names a parameter, and the collation that makes text compare by bytes.
    MARK = "?"
    BYTE_ORDER = ""

    @abstractmethod
    def _read(self, queries: list[tuple[str, Sequence]]) -> list[list[tuple]]:
        """Run read-only queries on one connection (a consistent view); the rows of each."""

    def _usable(self, *values: str | None) -> bool:
        """Whether these values can be looked up at all (PostgreSQL text cannot hold NUL)."""
        return True

    def _one(self, sql: str, args: Sequence) -> tuple | None:
        rows = self._read([(sql, args)])[0]
        return rows[0] if rows else None

    def get_dossier(self, dossier_id: str) -> Manifest | None:
        """The manifest as last indexed, or None."""
        if not self._usable(dossier_id):
            return None
        row = self._one(f"SELECT manifest_json FROM dossiers WHERE id = {self.MARK}", (dossier_id,))
        return Manifest.model_validate_json(row[0]) if row else None

    def get_component(self, component_id: str) -> dict | None:
        """The component's catalog row (pages and metadata decoded), or None."""
        if not self._usable(component_id):
            return None
        row = self._one(f"SELECT {', '.join(COMPONENT_COLUMNS)} FROM components WHERE id = {self.MARK}",
                        (component_id,))
        return None if row is None else component_row(row)

    def components(self, component_ids: list[str]) -> dict[str, dict]:
        """The catalog rows of these components by id, read in one query (ids not found are left out)."""
        ids = [c for c in dict.fromkeys(component_ids) if self._usable(c)]
        if not ids:
            return {}
        marks = ", ".join([self.MARK] * len(ids))
        rows = self._read([(f"SELECT {', '.join(COMPONENT_COLUMNS)} FROM components WHERE id IN ({marks})", ids)])[0]
        return {row[0]: component_row(row) for row in rows}

    def signatures(self, component_id: str) -> list[dict]:
        """The digital signatures over the component's source PDF, in file order ([] when none):
        seq, file, field, signer, organisation, signed_at, intact, valid, covers_whole_file,
        later_changes, stored_as."""
        if not self._usable(component_id):
            return []
        rows = self._read([(f"SELECT {', '.join(SIGNATURE_COLUMNS[2:])} FROM component_signatures"
                            f" WHERE component_id = {self.MARK} ORDER BY seq", (component_id,))])[0]
        return signature_rows(rows)

    @abstractmethod
    def delete_dossier(self, dossier_id: str) -> bool:
        """Forget a dossier; True if it was known."""

    def search(self, query: str, *, type: str | None = None, dossier: str | None = None, limit: int = 20,
               offset: int = 0) -> list[Hit]:
        """Components matching every term of `query` (see the module docstring); never raises on
        odd input — a query with no words returns []."""
        check_page_window(limit, offset)
        terms = parse_query(query)
        if not terms or limit == 0 or not self._usable(type, dossier):
            return []
        return self._search(terms, type, dossier, limit, offset)

    @abstractmethod
    def _search(self, terms: list[Term], type: str | None, dossier: str | None, limit: int,
                offset: int) -> list[Hit]:
        """`search` once the query is parsed and the window checked."""

    def documents(self, *, owner: str | None = None, date_from: date | None = None, date_to: date | None = None,
                  type: str | None = None, dossier: str | None = None, limit: int = 50,
                  offset: int = 0) -> list[dict]:
        """Components of done dossiers passing every filter given, newest dossier first (then dossier
        id, then position): `owner` a CCCD in the metadata, `date_from`/`date_to` bounds (inclusive)
        on metadata.ngay (a component without a date is outside any range). Rows as
        `get_component` gives them, plus the dossier's `created_at`. Answered by indexes, not by
        reading every row."""
        check_page_window(limit, offset)
        if not self._usable(owner, type, dossier):
            return []
        sql, args = documents_sql(self.MARK, owner=owner, date_from=date_from, date_to=date_to, type=type,
                                  dossier=dossier, collate=self.BYTE_ORDER)
        return [component_row(r) for r in self._read([(sql, [*args, limit, offset])])[0]]

    @abstractmethod
    def references(self, uris: list[str], *, exclude_dossier: str) -> dict[str, list[str]]:
        """For each stored object URI given, the ids of components of other dossiers than
        `exclude_dossier` that point at it (URIs nobody else points at are left out)."""

    def figures(self, since: date | None = None, until: date | None = None) -> dict:
        """The centre's figures over the dossiers digitised from `since` to `until` (inclusive, the
        local date of `created_at`), as `pipeline.publish.report.figures` computes them from manifests."""
        queries, args = figures_sql(self.MARK, since, until)
        dossiers, components, failures = self._read([(q, args) for q in queries])
        return figures_dict(since, until, dossiers[0], components[0], failures)

    def stats(self) -> dict[str, int]:
        """Counts: dossiers, done, failed, components, pages."""
        row = self._one(
            "SELECT (SELECT COUNT(*) FROM dossiers),"
            " (SELECT COUNT(*) FROM dossiers WHERE status = 'done'),"
            " (SELECT COUNT(*) FROM dossiers WHERE status = 'failed'),"
            " (SELECT COUNT(*) FROM components),"
            " (SELECT COUNT(*) FROM pages)", ())
        assert row is not None
        return dict(zip(("dossiers", "done", "failed", "components", "pages"), map(int, row), strict=True))

    @abstractmethod
    def close(self) -> None:
        """Release the connection; idempotent."""

    # -- what the review queue and the search page count ----------------------------------------

    def review_queue(self, *, type: str | None = None, limit: int = 50, offset: int = 0) -> list[dict]:
        """Components that need review, least confident first (then dossier, then position); rows as
        `Catalog.documents` gives them. Answered by the index on (needs_review, confidence)."""
        where, args = ["c.needs_review = ?"], [True]
        if type is not None:
            where.append("c.type = ?")
            args.append(type)
        columns = ", ".join(f"c.{c}" for c in COMPONENT_COLUMNS)
        rows = self._rows(self._sql(
            f"SELECT {columns}, d.created_at FROM components AS c JOIN dossiers AS d ON d.id = c.dossier_id"
            f" WHERE {' AND '.join(where)} ORDER BY c.needs_review, c.confidence, c.dossier_id, c.seq"
            " LIMIT ? OFFSET ?"), [*args, limit, offset])
        return [component_row(r) for r in rows]

    def review_count(self) -> int:
        return int(self._rows(self._sql("SELECT COUNT(*) FROM components WHERE needs_review = ?"), (True,))[0][0])

    @abstractmethod
    def search_type_counts(self, query: str, *, dossier: str | None = None,
                           cap: int = 1000) -> tuple[dict[str, int], bool]:
        """Components per type among those matching `query` (as `search` matches, without ranking
        or snippets), counted over the `cap` newest matching pages; and whether more pages matched
        (the counts are then a lower bound)."""

    def recent_dossiers(self, limit: int = 20) -> list[dict]:
        """The newest dossiers (done or failed) with their page and component counts, from the
        index on created_at: what the web's search page shows before anything is asked."""
        rows = self._rows(self._sql(
            "SELECT d.id, d.status, d.pages, d.created_at, d.error,"
            " (SELECT COUNT(*) FROM components AS c WHERE c.dossier_id = d.id)"
            " FROM dossiers AS d ORDER BY d.created_at DESC, d.id LIMIT ?"), (limit,))
        return [dict(zip(("id", "status", "pages", "created_at", "error", "components"), r, strict=True))
                for r in rows]

    def type_counts(self, *, dossier: str | None = None) -> dict[str, int]:
        """Components per type code, over everything or one dossier."""
        where, args = ("WHERE dossier_id = ?", [dossier]) if dossier is not None else ("", [])
        rows = self._rows(self._sql(f"SELECT type, COUNT(*) FROM components {where} GROUP BY type"), args)
        return {t: int(n) for t, n in rows}

    def __enter__(self) -> Catalog:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def check_page_window(limit: int, offset: int) -> None:
    """Shared argument check so every backend rejects the same bad pagination."""
    if limit < 0 or offset < 0:
        raise ValueError(f"limit and offset must be >= 0 (got limit={limit}, offset={offset})")


@dataclass
class IndexRows:
    """The rows one manifest becomes, computed once so every backend indexes the same thing."""

    dossier: dict
    components: list[dict]
    pages: list[dict]
    search: list[dict]
    owners: list[dict] = field(default_factory=list)
    signatures: list[dict] = field(default_factory=list)


SIGNATURE_COLUMNS = ("component_id", "dossier_id", "seq", "file", "field", "signer", "organisation", "signed_at",
                     "intact", "valid", "covers_whole_file", "later_changes", "stored_as")


def signature_rows(rows: list[tuple] | list[list]) -> list[dict]:
    """`component_signatures` rows (SIGNATURE_COLUMNS after component_id and dossier_id) as dicts."""
    out = []
    for row in rows:
        item = dict(zip(SIGNATURE_COLUMNS[2:], row, strict=True))
        for flag in ("intact", "valid", "covers_whole_file"):
            item[flag] = bool(item[flag])
        out.append(item)
    return out


COMPONENT_COLUMNS = ("id", "dossier_id", "seq", "type", "type_name", "confidence", "needs_review", "pages_json",
                     "metadata_json", "object_uri", "sha256", "reused_from")


def documents_sql(
    mark: str,
    *,
    owner: str | None,
    date_from: date | None,
    date_to: date | None,
    type: str | None,
    dossier: str | None,
    collate: str = "",
) -> tuple[str, list]:
    """The `documents()` query with `mark` as the placeholder (`?` SQLite, `%s` psycopg), ending in
    LIMIT/OFFSET placeholders; the same SQL for every backend, so they list in the same order
    (`collate`: PostgreSQL's ` COLLATE "C"`, to order text by code point as SQLite does)."""
    where = ["TRUE"]  # only done dossiers have component rows (`plan_rows`)
    args: list = []
    source = "components AS c JOIN dossiers AS d ON d.id = c.dossier_id"
    if owner is not None:
        source = "component_owners AS o JOIN components AS c ON c.id = o.component_id JOIN dossiers AS d ON d.id = c.dossier_id"
        where.append(f"o.cccd = {mark}")
        args.append(owner)
    for column, value in (("c.type", type), ("c.dossier_id", dossier)):
        if value is not None:
            where.append(f"{column} = {mark}")
            args.append(value)
    if date_from is not None:
        where.append(f"c.ngay >= {mark}")
        args.append(date_from.isoformat())
    if date_to is not None:
        where.append(f"c.ngay <= {mark}")
        args.append(date_to.isoformat())
    columns = ", ".join(f"c.{c}" for c in COMPONENT_COLUMNS)
    sql = (f"SELECT {columns}, d.created_at FROM {source} WHERE {' AND '.join(where)}"
           f" ORDER BY d.created_at{collate} DESC, c.dossier_id{collate}, c.seq LIMIT {mark} OFFSET {mark}")
    return sql, args


def figures_sql(mark: str, since: date | None, until: date | None) -> tuple[list[str], list]:
    """The queries of `figures()`, each filtered to dossiers created in the period (ISO text: the
    date is its first ten characters, so a range on the text is a range on the local date), and
    their arguments (the same for each)."""
    where, args = ["TRUE"], []
    if since is not None:
        where.append(f"d.created_at >= {mark}")
        args.append(since.isoformat())
    if until is not None:
        where.append(f"d.created_at < {mark}")
        args.append((until + timedelta(days=1)).isoformat())
    if since is not None or until is not None:
        where.append("d.created_at <> ''")
    period = " AND ".join(where)
    return [
        "SELECT COUNT(*), COALESCE(SUM(CASE WHEN d.status = 'done' THEN 1 ELSE 0 END), 0),"
        " COALESCE(SUM(CASE WHEN d.status = 'done' THEN d.pages ELSE 0 END), 0),"
        " COALESCE(SUM(CASE WHEN d.status = 'done' AND EXISTS (SELECT 1 FROM components AS c WHERE c.dossier_id = d.id)"
        " AND NOT EXISTS (SELECT 1 FROM components AS c WHERE c.dossier_id = d.id AND c.object_uri IS NULL)"
        f" THEN 1 ELSE 0 END), 0) FROM dossiers AS d WHERE {period}",
        "SELECT COUNT(*), COALESCE(SUM(CASE WHEN c.reused_from IS NOT NULL THEN 1 ELSE 0 END), 0),"
        " COALESCE(SUM(CASE WHEN c.needs_review THEN 1 ELSE 0 END), 0)"
        f" FROM components AS c JOIN dossiers AS d ON d.id = c.dossier_id WHERE {period}",
        f"SELECT d.id, d.error FROM dossiers AS d WHERE d.status = 'failed' AND {period} ORDER BY d.id",
    ], args


def figures_dict(since: date | None, until: date | None, dossiers: tuple, components: tuple,
                 failures: list[tuple]) -> dict:
    """`pipeline.publish.report.figures`' answer from the rows of `figures_sql`' queries."""
    received, digitised, pages, complete = (int(v) for v in dossiers)
    documents, reused, review = (int(v) for v in components)
    return {
        "since": since.isoformat() if since else None,
        "until": until.isoformat() if until else None,
        "dossiers_received": received,
        "dossiers_digitised": digitised,
        "dossiers_failed": received - digitised,
        "share_all_components_attached": round(complete / digitised, 4) if digitised else 0.0,
        "documents": documents,
        "documents_reused": reused,
        "reuse_rate": round(reused / documents, 4) if documents else 0.0,
        "pages": pages,
        "review_queue": review,
        "failures": [{"dossier_id": i, "error": e} for i, e in failures],
    }


def component_row(row: tuple | list) -> dict:
    """A `COMPONENT_COLUMNS` row (plus `created_at` if present) with pages and metadata decoded."""
    names = (*COMPONENT_COLUMNS, "created_at")[: len(row)]
    out = dict(zip(names, row, strict=True))
    out["needs_review"] = bool(out["needs_review"])
    out["pages"] = json.loads(out.pop("pages_json"))
    out["metadata"] = json.loads(out.pop("metadata_json"))
    return out


def plan_rows(manifest: Manifest, indexed_at: str) -> IndexRows:
    """Turn a manifest into catalog rows, NFC everywhere; refuses manifests that would clash."""
    ids = [c.id for c in manifest.components]
    if len(set(ids)) != len(ids):
        raise ValueError(f"{manifest.dossier_id}: component ids are not unique: {ids}")
    numbers = [p.n for p in manifest.pages]
    if len(set(numbers)) != len(numbers):
        raise ValueError(f"{manifest.dossier_id}: page numbers are not unique")
    dossier = {
        "id": manifest.dossier_id,
        "status": manifest.status,
        "error": manifest.error,
        "source_path": manifest.source.path,
        "source_sha256": manifest.source.sha256,
        "pages": manifest.source.pages,
        "settings_version": manifest.settings_version,
        "created_at": manifest.created_at,
        "indexed_at": indexed_at,
        "manifest_json": manifest.to_json(),
    }
    if manifest.status != "done":
        return IndexRows(dossier, [], [], [])

    texts = {p.n: nfc(p.text) for p in manifest.pages}
    # what search reads: the page's text, and the PDF's own words kept beside its OCR (signature boxes)
    searched = {p.n: nfc(f"{p.text}\n{p.text_layer.text}") if p.text_layer and p.text_layer.text else texts[p.n]
                for p in manifest.pages}
    folded_pages: dict[int, str] = {}
    split_pages: dict[int, tuple[list[str], list[str]]] = {}
    owner: dict[int, str] = {}
    components: list[dict] = []
    owners: list[dict] = []
    signatures: list[dict] = []
    search: list[dict] = []
    for seq, comp in enumerate(manifest.components, start=1):
        components.append(
            {
                "id": comp.id,
                "dossier_id": manifest.dossier_id,
                "seq": seq,
                "type": comp.type,
                "type_name": nfc(comp.type_name),
                "confidence": comp.confidence,
                "needs_review": comp.needs_review,
                "pages_json": json.dumps(comp.pages),
                "metadata_json": json.dumps(comp.metadata.model_dump(mode="json"), ensure_ascii=False),
                "object_uri": comp.object.uri if comp.object else None,
                "sha256": comp.sha256,
                "reused_from": comp.reused_from,
                "ngay": comp.metadata.ngay,
            }
        )
        owners.extend({"cccd": number, "component_id": comp.id, "dossier_id": manifest.dossier_id}
                      for number in dict.fromkeys(n for n in comp.metadata.cccd if n))
        signatures.extend(
            {"component_id": comp.id, "dossier_id": manifest.dossier_id, "seq": i, "file": nfc(sig.file),
             "field": nfc(sig.field), "signer": nfc(sig.signer) if sig.signer else None,
             "organisation": nfc(sig.organisation) if sig.organisation else None, "signed_at": sig.signed_at,
             "intact": sig.intact, "valid": sig.valid, "covers_whole_file": sig.covers_whole_file,
             "later_changes": sig.later_changes, "stored_as": comp.stored_as}
            for i, sig in enumerate(comp.signatures, start=1))
        meta = metadata_text(comp)
        meta_folded = fold(meta)
        meta_words, meta_plain = word_lists(meta, meta_folded)
        for n in dict.fromkeys(comp.pages):  # a page listed twice is indexed once
            owner.setdefault(n, comp.id)
            text = searched.get(n, "")
            folded = folded_pages.get(n)
            if folded is None:
                folded = folded_pages[n] = fold(text)
                split_pages[n] = word_lists(text, folded)
            page_words, page_plain = split_pages[n]
            search.append(
                {
                    "dossier_id": manifest.dossier_id,
                    "component_id": comp.id,
                    "type": comp.type,
                    "n": n,
                    "text": text,
                    "folded": folded,
                    "meta": meta,
                    "meta_folded": meta_folded,
                    "words": joined(page_words, meta_words),
                    "folded_words": joined(page_plain, meta_plain),
                }
            )
    pages = [
        {
            "dossier_id": manifest.dossier_id,
            "n": p.n,
            "component_id": owner.get(p.n),
            "blank": p.blank,
            "text": texts[p.n],
        }
        for p in manifest.pages
    ]
    return IndexRows(dossier, components, pages, search, owners, signatures)
