"""The dossier steps, as plain functions: ingest, pages, understand, publish, record.

`flows/` wraps each step in a Prefect task; `digitise()` runs them in order without Prefect (tests,
library use). Order matters for "never lose a scan": the original is stored first, component PDFs
next, the manifest after them, and the catalog is written last, so nothing is indexed that is not
stored and a failed dossier is indexed only as failed.
"""

from __future__ import annotations

import json
import mimetypes
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from pipeline.catalog.base import Catalog
from pipeline.digitise.pages import PageOutput
from pipeline.digitise.stream import process_pages
from pipeline.errors import SohoaError
from pipeline.ingest.inputs import DossierSource, open_dossier, safe_id, sha256_file
from pipeline.manifest import SCHEMA, Component, Manifest, Source, StoredObject
from pipeline.publish.pdfout import build_pdf
from pipeline.publish.reuse import find_reuse, free_key, pinned
from pipeline.settings import Settings
from pipeline.store.base import ObjectStore
from pipeline.understand.extract import extract_components
from pipeline.understand.model import page_classifier
from pipeline.understand.segment import PageInput, segment
from pipeline.understand.taxonomy import Taxonomy, load_taxonomy


@dataclass
class Draft:
    """A component before its PDF is stored."""

    index: int
    type: str
    type_name: str
    confidence: float
    needs_review: bool
    pages: list[int]
    metadata: object


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def original_key(dossier_id: str, file: Path, source: DossierSource) -> str:
    name = safe_id(file.stem) + file.suffix.lower()
    if source.kind == "folder":
        return f"originals/{dossier_id}/{safe_id(source.path.name)}/{name}"
    return f"originals/{dossier_id}/{name}"


def ingest(path: str | Path, settings: Settings, store: ObjectStore) -> DossierSource:
    """Open and validate the dossier, then keep the untouched original in the store."""
    source = open_dossier(path, max_pixels=settings.limits.max_pixels, max_pages=settings.limits.max_pages)
    for file in source.files:
        key = original_key(source.dossier_id, file, source)
        if store.exists(key) and store.stat(key).sha256 == sha256_file(file):
            continue
        store.put_file(key, file, content_type=mimetypes.guess_type(file.name)[0] or "application/octet-stream",
                       metadata={"dossier": source.dossier_id, "kind": "original"})
    return source


def pages(source: DossierSource, settings: Settings, workdir: Path,
          on_page: Callable[[PageOutput], None] | None = None) -> list[PageOutput]:
    return process_pages(source, settings, workdir, on_page)


def understand(outputs: list[PageOutput], settings: Settings, taxonomy: Taxonomy | None = None) -> list[Draft]:
    """Split the page stream into components, classify them, extract their fields.

    The trained page classifier is used when a model for this taxonomy exists under the data home
    (`sohoa train`); otherwise the title and layout rules decide, with a warning.
    """
    taxonomy = taxonomy or load_taxonomy(settings.taxonomy)
    inputs = [PageInput(n=o.page.n, text=o.page.text, blank=o.page.blank) for o in outputs]
    by_n = {o.page.n: o for o in outputs}
    segments = segment(inputs, taxonomy, settings.classify.review_threshold,
                       classifier=page_classifier(settings, taxonomy))
    texts = ["\n\n".join(by_n[n].page.text for n in seg.pages) for seg in segments]
    metas = extract_components(texts, [seg.type for seg in segments])
    drafts = []
    for i, (seg, meta) in enumerate(zip(segments, metas, strict=True)):
        review = seg.needs_review or any(by_n[n].page.needs_review for n in seg.pages)
        drafts.append(Draft(i + 1, seg.type, seg.type_name, round(float(seg.confidence), 4), review,
                            list(seg.pages), meta))
    return drafts


def publish(source: DossierSource, outputs: list[PageOutput], drafts: list[Draft], store: ObjectStore,
            workdir: Path, catalog: Catalog | None = None) -> list[Component]:
    """Build one searchable PDF per component and store it; drop PDFs a previous run left behind.

    With a catalog, a component that is the same document as one already stored (see
    `pipeline.publish.reuse`) is not stored again: it points at the stored object and says `reused_from`;
    and this dossier's PDFs that other dossiers point at are neither overwritten nor deleted.
    """
    by_n = {o.page.n: o for o in outputs}
    components: list[Component] = []
    keep: set[str] = set()
    pins = pinned(store, catalog, source.dossier_id)
    for d in drafts:
        cid = f"{source.dossier_id}-{d.index:02d}"
        key = f"dossiers/{source.dossier_id}/{d.index:02d}-{d.type}.pdf"
        out = workdir / f"{d.index:02d}-{d.type}.pdf"
        parts = [by_n[n].part for n in d.pages if by_n[n].part is not None]
        build_pdf(parts, out, {"Title": f"{d.type_name} — {source.dossier_id}", "Subject": d.type_name,
                               "Keywords": f"{source.dossier_id}, {d.type}", "Creator": "sohoa",
                               "Author": getattr(d.metadata, "co_quan", None) or ""})
        digest = sha256_file(out)
        text = "\n".join(by_n[n].page.text for n in d.pages)
        match = (find_reuse(d.type, d.metadata, text, digest, catalog, source.dossier_id, out.read_bytes(), store)
                 if catalog else None)
        if match is not None:
            components.append(Component(
                id=cid, type=d.type, type_name=d.type_name, confidence=d.confidence, needs_review=d.needs_review,
                pages=d.pages, metadata=d.metadata, object=match.component.object,
                sha256=match.component.sha256, reused_from=match.component.id,
            ))
            continue
        owners = ",".join(getattr(d.metadata, "cccd", []) or [])
        key = free_key(key, digest, pins, store)
        info = store.put_file(key, out, content_type="application/pdf",
                              metadata={"dossier": source.dossier_id, "type": d.type, "component": cid,
                                        **({"owner": owners} if owners else {})})
        keep.add(key)
        components.append(Component(
            id=cid, type=d.type, type_name=d.type_name, confidence=d.confidence, needs_review=d.needs_review,
            pages=d.pages, metadata=d.metadata,
            object=StoredObject(backend=store.backend, bucket=store.bucket, key=key, uri=store.uri(key)),
            sha256=info.sha256 or digest, reused_from=None,
        ))
    for old in list(store.list(f"dossiers/{source.dossier_id}/")):
        if old.endswith(".pdf") and old not in keep and old not in pins:
            store.delete(old)
    return components


def record(manifest: Manifest, store: ObjectStore, catalog: Catalog) -> Manifest:
    """Store the manifest beside the PDFs, then index it (store first, then index)."""
    data = manifest.to_json(indent=2).encode("utf-8")
    store.put_bytes(f"dossiers/{manifest.dossier_id}/manifest.json", data, content_type="application/json")
    if manifest.status == "failed":
        err = json.dumps({"dossier_id": manifest.dossier_id, "error": manifest.error,
                          "source": manifest.source.path, "at": manifest.created_at}, ensure_ascii=False)
        store.put_bytes(f"quarantine/{manifest.dossier_id}/error.json", err.encode(), content_type="application/json")
    else:
        key = f"quarantine/{manifest.dossier_id}/error.json"
        if store.exists(key):
            store.delete(key)
    catalog.index_dossier(manifest)
    return manifest


def build_manifest(source: DossierSource, outputs: list[PageOutput], components: list[Component],
                   settings: Settings, timings: dict[str, float]) -> Manifest:
    return Manifest(
        schema=SCHEMA, dossier_id=source.dossier_id, status="done", error=None,
        source=Source(path=str(source.path), sha256=source.sha256, pages=source.page_count),
        pages=[o.page for o in outputs], components=components,
        timings={k: round(v, 3) for k, v in timings.items()},
        settings_version=settings.version, created_at=now_iso(),
    )


def failed_manifest(path: str | Path, error: BaseException, settings: Settings,
                    source: DossierSource | None = None, timings: dict[str, float] | None = None) -> Manifest:
    """A manifest that says why a dossier failed; it carries no pages or components."""
    p = Path(path)
    if source is not None:
        src = Source(path=str(source.path), sha256=source.sha256, pages=source.page_count)
        dossier_id = source.dossier_id
    else:
        digest = ""
        if p.is_file():
            try:
                digest = sha256_file(p)
            except OSError:
                digest = ""
        src = Source(path=str(p), sha256=digest, pages=0)
        dossier_id = safe_id(p.name if p.is_dir() else p.stem)
    message = str(error) if isinstance(error, SohoaError) else f"{p}: {error.__class__.__name__}: {error}"
    return Manifest(schema=SCHEMA, dossier_id=dossier_id, status="failed", error=message, source=src,
                    timings={k: round(v, 3) for k, v in (timings or {}).items()},
                    settings_version=settings.version, created_at=now_iso())


def quarantine_original(path: str | Path, dossier_id: str, store: ObjectStore) -> None:
    """Keep a copy of an input that could not even be opened, so no scan is lost."""
    p = Path(path)
    files = [p] if p.is_file() else sorted(f for f in p.rglob("*") if f.is_file()) if p.is_dir() else []
    for f in files:
        rel = f.name if p.is_file() else f.relative_to(p).as_posix()
        key = f"quarantine/{dossier_id}/original/{'/'.join(safe_id(x) for x in rel.split('/'))}"
        try:
            store.put_file(key, f, metadata={"dossier": dossier_id, "kind": "original"})
        except OSError:
            continue


def workdir_for(settings: Settings, dossier_id: str) -> Path:
    base = settings.home / "work"
    base.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f"{dossier_id}-", dir=base))


def _call(step: Callable, *args, **kwargs):
    return step(*args, **kwargs)


def relabel(manifest: Manifest, local: str | Path, origin: str) -> Manifest:
    """A dossier digitised from a downloaded copy is recorded, and its error told, under `origin`."""
    error = manifest.error.replace(str(local), origin.rstrip("/")) if manifest.error else manifest.error
    return manifest.model_copy(update={"source": manifest.source.model_copy(update={"path": origin}),
                                       "error": error})


def digitise(path: str | Path, settings: Settings, store: ObjectStore, catalog: Catalog,
             on_page: Callable[[PageOutput], None] | None = None, taxonomy: Taxonomy | None = None,
             run_step: Callable = _call, origin: str | None = None) -> Manifest:
    """Run every step for one dossier. Never raises for a bad dossier: the manifest says what failed.

    `run_step(fn, *args)` runs one step; the default calls it, `flows/` passes one that runs it as
    a Prefect task, so the order, timings and failure handling live here once. `origin` names where
    the source lives when `path` is a local copy of it (an `s3://` URL).
    """
    t0 = time.perf_counter()
    timings: dict[str, float] = {}
    source = None
    workdir = None
    try:
        source = run_step(ingest, path, settings, store)
        timings["ingest_s"] = time.perf_counter() - t0
        workdir = workdir_for(settings, source.dossier_id)
        t = time.perf_counter()
        outputs = run_step(pages, source, settings, workdir, on_page)
        timings["pages_s"] = time.perf_counter() - t
        t = time.perf_counter()
        drafts = run_step(understand, outputs, settings, taxonomy)
        timings["understand_s"] = time.perf_counter() - t
        t = time.perf_counter()
        components = run_step(publish, source, outputs, drafts, store, workdir, catalog)
        timings["publish_s"] = time.perf_counter() - t
        timings["total_s"] = time.perf_counter() - t0
        manifest = build_manifest(source, outputs, components, settings, timings)
    except Exception as exc:  # noqa: BLE001 - a bad dossier must not stop the others
        timings["total_s"] = time.perf_counter() - t0
        manifest = failed_manifest(path, exc, settings, source, timings)
        if source is None:
            quarantine_original(path, manifest.dossier_id, store)
    finally:
        if workdir is not None:
            shutil.rmtree(workdir, ignore_errors=True)
    if origin is not None:
        manifest = relabel(manifest, path, origin)
    return run_step(record, manifest, store, catalog)

