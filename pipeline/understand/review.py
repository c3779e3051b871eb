"""Staff review of understood dossiers: list what needs a look, correct it, keep the correction.

A correction (`Review.set_type`, `split`, `merge`) changes the stored dossier the way a fresh run would:
components are renumbered in page order, their fields are extracted again for the (new) type,
their PDFs are rebuilt from the pages already stored in the old component PDFs (no new OCR,
no original needed), the manifest is stored, then the catalog re-indexed (store first, then
index, as `pipeline.digitise.dossier` does). A corrected component has confidence 1.0 and needs no review.

Every correction is also appended to `<home>/corrections/<yyyy-mm>.jsonl` with the text of the
pages concerned (and who made it), so `sohoa train` learns from it (see `flows.train.read_corrections`).
`set_fields` (a person's values for extracted fields) and `accept` (the component is right as it
is) go the same way; fields a person set are kept by later corrections of other components, whose
fields are not extracted again.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from pipeline.catalog.base import Catalog
from pipeline.errors import SohoaError
from pipeline.ingest.inputs import sha256_file
from pipeline.manifest import Component, Manifest, Metadata, StoredObject
from pipeline.publish.pdfa import archival_record
from pipeline.publish.pdfout import PagePart, build_pdf
from pipeline.publish.reuse import free_key, pinned
from pipeline.store.base import ObjectStore
from pipeline.textnorm import nfc
from pipeline.understand.extract import extract_components
from pipeline.understand.taxonomy import FALLBACK, Taxonomy

MANIFEST = "manifest.json"


class ReviewError(SohoaError):
    """A correction that cannot be applied (unknown dossier, component, page or type)."""

    def __init__(self, problem: str, hint: str = "", path: object = "review"):
        super().__init__(problem, path=path, hint=hint)


@dataclass(frozen=True)
class ReviewItem:
    """One thing a person should look at: a component, or a page the OCR read badly."""

    dossier_id: str
    component_id: str | None
    type: str | None
    confidence: float | None
    pages: list[int]
    reason: str


# --------------------------------------------------------------------------- reading


def manifest_key(dossier_id: str) -> str:
    return f"dossiers/{dossier_id}/{MANIFEST}"


def load_manifest(store: ObjectStore, dossier_id: str) -> Manifest:
    key = manifest_key(dossier_id)
    if not store.exists(key):
        raise ReviewError(f"no dossier {dossier_id!r} in the store", "see `sohoa review --list`")
    return Manifest.model_validate_json(store.get_bytes(key))


def stored_manifests(store: ObjectStore):
    """Every manifest under `dossiers/*/manifest.json`, in key order."""
    for key in sorted(store.list("dossiers/")):
        parts = key.split("/")
        if len(parts) == 3 and parts[2] == MANIFEST:
            try:
                yield Manifest.model_validate_json(store.get_bytes(key))
            except ValueError:
                continue  # a manifest of another schema version: not ours to review


def review_items(store: ObjectStore) -> list[ReviewItem]:
    """Components flagged for review, and OCR-flagged pages, of every stored dossier."""
    items: list[ReviewItem] = []
    for m in stored_manifests(store):
        if m.status != "done":
            continue
        in_flagged: set[int] = set()
        for c in m.components:
            if c.needs_review:
                why = "unknown type" if c.type == FALLBACK else f"confidence {c.confidence:.2f}"
                low = [p.n for p in m.pages if p.n in c.pages and p.needs_review]
                if low:
                    why += f"; OCR unsure on page {', '.join(map(str, low))}"
                if c.metadata.review:
                    why += "; " + "; ".join(c.metadata.review)
                items.append(ReviewItem(m.dossier_id, c.id, c.type, c.confidence, list(c.pages), why))
                in_flagged.update(c.pages)
        for p in m.pages:
            if p.needs_review and p.n not in in_flagged:
                items.append(ReviewItem(m.dossier_id, None, None, None, [p.n],
                                        "; ".join(p.warnings) or f"OCR confidence {p.ocr_confidence:.2f}"))
    return items


def split_component_id(component_id: str) -> tuple[str, int]:
    """"hs_0001-03" -> ("hs_0001", 3)."""
    dossier_id, sep, index = component_id.rpartition("-")
    if not sep or not index.isdigit():
        raise ReviewError(f"{component_id!r} is not a component id", "ids look like hs_0001-03")
    return dossier_id, int(index)


# --------------------------------------------------------------------------- corrections


@dataclass
class _Plan:
    """A component after the correction: type, pages, whether a person decided it, and its fields
    when they are kept as they are (None: extracted again)."""

    type: str
    pages: list[int]
    confidence: float
    needs_review: bool
    corrected: bool
    metadata: Metadata | None = None


def _plans(manifest: Manifest) -> list[_Plan]:
    return [_Plan(c.type, list(c.pages), c.confidence, c.needs_review, False, c.metadata)
            for c in manifest.components]


EDITABLE_FIELDS = ("so_ky_hieu", "ngay", "co_quan", "trich_yeu", "cccd", "ho_ten", "ma_ho_so")
"""Metadata fields a person may set; `cccd` and `ho_ten` are lists (one value a line, or commas)."""


def _field_value(name: str, value: str | list[str] | None) -> str | list[str] | None:
    if name in ("cccd", "ho_ten"):
        items = value if isinstance(value, list) else (value or "").replace(",", "\n").splitlines()
        return [nfc(v).strip() for v in items if v and v.strip()]
    text = nfc(value if isinstance(value, str) else "").strip()
    return text or None


class Review:
    """The corrections desk, handed what it changes: the store, the catalog, the taxonomy and the
    folder the corrections (training data) go to. `by` names the person (kept with the correction)."""

    def __init__(self, store: ObjectStore, catalog: Catalog, taxonomy: Taxonomy, home: Path):
        self.store, self.catalog, self.taxonomy, self.home = store, catalog, taxonomy, Path(home)

    def _check_type(self, type_code: str | None) -> None:
        if type_code is not None and self.taxonomy.get(type_code) is None:
            raise ReviewError(f"unknown type {type_code!r}", "use a code of the taxonomy, e.g. " +
                              ", ".join(self.taxonomy.codes[:6]) + ", …")

    def set_type(self, component_id: str, type_code: str, *, by: str | None = None) -> Manifest:
        """Give a component its right type."""
        self._check_type(type_code)
        dossier_id, _ = split_component_id(component_id)
        manifest = load_manifest(self.store, dossier_id)
        plans = _plans(manifest)
        index = next((i for i, c in enumerate(manifest.components) if c.id == component_id), None)
        if index is None:
            raise ReviewError(f"no component {component_id!r} in dossier {dossier_id}",
                              f"components: {', '.join(c.id for c in manifest.components)}")
        old = plans[index].type
        plans[index] = _Plan(type_code, plans[index].pages, 1.0, False, True)
        return self._apply(manifest, plans, "set-type", {"component_id": component_id, "from": old, "to": type_code},
                           [index], by)

    def _locate(self, component_id: str) -> tuple[Manifest, list[_Plan], int]:
        dossier_id, _ = split_component_id(component_id)
        manifest = load_manifest(self.store, dossier_id)
        index = next((i for i, c in enumerate(manifest.components) if c.id == component_id), None)
        if index is None:
            raise ReviewError(f"no component {component_id!r} in dossier {dossier_id}",
                              f"components: {', '.join(c.id for c in manifest.components)}")
        return manifest, _plans(manifest), index

    def set_fields(self, component_id: str, values: dict[str, str | list[str] | None], *,
                   by: str | None = None) -> Manifest:
        """A person's values for extracted fields (`EDITABLE_FIELDS`; empty clears one). The component
        counts as reviewed; its type and pages stay."""
        unknown = sorted(set(values) - set(EDITABLE_FIELDS))
        if unknown:
            raise ReviewError(f"unknown field {unknown[0]!r}", "fields: " + ", ".join(EDITABLE_FIELDS))
        manifest, plans, index = self._locate(component_id)
        before = manifest.components[index].metadata
        update = {k: _field_value(k, v) for k, v in values.items()}
        try:
            metadata = Metadata.model_validate({**before.model_dump(), **update})
        except ValueError as exc:
            raise ReviewError(f"a field value is not valid: {str(exc).splitlines()[-1].strip()}",
                              "dates are YYYY-MM-DD") from None
        changed = {k: {"from": getattr(before, k), "to": getattr(metadata, k)} for k in update
                   if getattr(before, k) != getattr(metadata, k)}
        plans[index] = _Plan(plans[index].type, plans[index].pages, 1.0, False, True, metadata)
        return self._apply(manifest, plans, "set-fields", {"component_id": component_id, "fields": changed},
                           [index], by)

    def accept(self, component_id: str, *, by: str | None = None) -> Manifest:
        """The component is right as it is: it leaves the review queue (confidence 1.0)."""
        manifest, plans, index = self._locate(component_id)
        plan = plans[index]
        plans[index] = _Plan(plan.type, plan.pages, 1.0, False, True, plan.metadata)
        return self._apply(manifest, plans, "accept", {"component_id": component_id, "type": plan.type}, [index], by)

    def split(self, dossier_id: str, at_page: int, type_code: str | None = None, *,
              by: str | None = None) -> Manifest:
        """A new component starts at page `at_page` (it was inside another one); `type_code` is its type
        (default: the type of the component it is split from)."""
        self._check_type(type_code)
        manifest = load_manifest(self.store, dossier_id)
        plans = _plans(manifest)
        index = next((i for i, p in enumerate(plans) if at_page in p.pages), None)
        if index is None:
            raise ReviewError(f"page {at_page} is in no component of {dossier_id}",
                              "blank pages belong to no component; see the manifest's pages")
        pages = plans[index].pages
        if pages[0] == at_page:
            raise ReviewError(f"a component already starts at page {at_page}", "nothing to split")
        head = [n for n in pages if n < at_page]
        tail = [n for n in pages if n >= at_page]
        first = plans[index]
        new_type = type_code or first.type
        plans[index:index + 1] = [_Plan(first.type, head, 1.0, False, True), _Plan(new_type, tail, 1.0, False, True)]
        return self._apply(manifest, plans, "split", {"page": at_page, "type": new_type}, [index, index + 1], by)

    def merge(self, dossier_id: str, at_page: int, type_code: str | None = None, *,
              by: str | None = None) -> Manifest:
        """The component that starts at page `at_page` continues the one before it: join them.
        The joined component keeps the first one's type unless `type_code` is given."""
        self._check_type(type_code)
        manifest = load_manifest(self.store, dossier_id)
        plans = _plans(manifest)
        index = next((i for i, p in enumerate(plans) if p.pages and p.pages[0] == at_page), None)
        if index is None:
            raise ReviewError(f"no component of {dossier_id} starts at page {at_page}",
                              "give the first page of the component to join to the one before it")
        if index == 0:
            raise ReviewError(f"the component at page {at_page} is the first one", "there is nothing before it")
        prev, cur = plans[index - 1], plans[index]
        joined = _Plan(type_code or prev.type, sorted(prev.pages + cur.pages), 1.0, False, True)
        plans[index - 1:index + 1] = [joined]
        return self._apply(manifest, plans, "merge", {"page": at_page, "type": joined.type}, [index - 1], by)

    def _apply(self, manifest: Manifest, plans: list[_Plan], action: str, detail: dict, changed: list[int],
               by: str | None) -> Manifest:
        """Rebuild components, PDFs, manifest and catalog rows; log the correction."""
        store, taxonomy = self.store, self.taxonomy
        text = {p.n: p.text for p in manifest.pages}
        pins = pinned(store, self.catalog, manifest.dossier_id)  # PDFs other dossiers reuse stay as they are
        work = Path(tempfile.mkdtemp(prefix=f"review-{manifest.dossier_id}-"))
        try:
            # where each page is now: (local copy of its old component PDF, index in it)
            located: dict[int, tuple[Path, int]] = {}
            for c in manifest.components:
                if c.object is None:
                    continue
                local = store.download(c.object.key, work / "old" / Path(c.object.key).name)
                for k, n in enumerate(c.pages):
                    located[n] = (local, k)
            components: list[Component] = []
            keep: set[str] = set()
            extracted = extract_components(["\n\n".join(text.get(n, "") for n in plan.pages) for plan in plans],
                                           [plan.type for plan in plans])
            metas = [plan.metadata if plan.metadata is not None else meta
                     for plan, meta in zip(plans, extracted, strict=True)]
            for i, (plan, metadata) in enumerate(zip(plans, metas, strict=True), start=1):
                cid = f"{manifest.dossier_id}-{i:02d}"
                key = f"dossiers/{manifest.dossier_id}/{i:02d}-{plan.type}.pdf"
                name = taxonomy.name(plan.type)
                parts = [PagePart(source_pdf=located[n][0], source_index=located[n][1]) for n in plan.pages
                         if n in located]
                obj = digest = None
                if parts:  # no stored page at all (an earlier failed publish): the manifest still says what it is
                    out = work / "new" / f"{i:02d}-{plan.type}.pdf"
                    out.parent.mkdir(parents=True, exist_ok=True)
                    build_pdf(parts, out, archival_record(manifest.dossier_id, cid, plan.type, name, metadata,
                                                          len(parts)))
                    key = free_key(key, sha256_file(out), pins, store)
                    info = store.put_file(key, out, content_type="application/pdf",
                                          metadata={"dossier": manifest.dossier_id, "type": plan.type,
                                                    "component": cid})
                    keep.add(key)
                    obj = StoredObject(backend=store.backend, bucket=store.bucket, key=key, uri=store.uri(key))
                    digest = info.sha256
                components.append(Component(
                    id=cid, type=plan.type, type_name=name, confidence=round(plan.confidence, 4),
                    needs_review=plan.needs_review, pages=plan.pages, metadata=metadata, object=obj,
                    sha256=digest, reused_from=None,
                ))
            updated = manifest.model_copy(update={"components": components})
            store.put_bytes(manifest_key(manifest.dossier_id), updated.to_json(indent=2).encode("utf-8"),
                            content_type="application/json")
            for old in list(store.list(f"dossiers/{manifest.dossier_id}/")):
                if old.endswith(".pdf") and old not in keep and old not in pins:
                    store.delete(old)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        self.catalog.index_dossier(updated)
        # the audit log (who, when, what) the web application shows on the dossier page
        self.catalog.add_audit(by or "?", action, dossier_id=manifest.dossier_id,
                               component_id=detail.get("component_id"),
                               detail={k: v for k, v in detail.items() if k != "component_id"})
        record_correction(self.home, action, manifest.dossier_id, {**detail, **({"by": by} if by else {})},
                          [components[i] for i in changed], text)
        return updated


def record_correction(home: Path, action: str, dossier_id: str, detail: dict, components: list[Component],
                      text: dict[int, str]) -> Path:
    """Append one correction, with the text of its pages (training data), to `<home>/corrections/`."""
    now = datetime.now(UTC)
    folder = Path(home) / "corrections"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{now:%Y-%m}.jsonl"
    record = {
        "at": now.isoformat(timespec="seconds"), "action": action, "dossier_id": dossier_id, **detail,
        "components": [{"id": c.id, "type": c.type, "pages": [{"n": n, "text": text.get(n, "")} for n in c.pages]}
                       for c in components],
    }
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(record, ensure_ascii=False) + "\n")
    return path
