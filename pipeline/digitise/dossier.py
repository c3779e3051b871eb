"""The dossier steps, as plain functions: ingest, pages, understand, publish, record.

`flows/` wraps each step in a Prefect task; `digitise()` runs them in order without Prefect (tests,
library use). Order matters for "never lose a scan": the original is stored first, component PDFs
next, the manifest after them, and the catalog is written last, so nothing is indexed that is not
stored and a failed dossier is indexed only as failed.
"""

from __future__ import annotations

import importlib
import json
import mimetypes
import shutil
import stat
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.digitise.pages import OCR_STARTED, PageOutput
from pipeline.digitise.stream import process_pages
from pipeline.errors import SohoaError
from pipeline.ingest.entries import stored_names
from pipeline.ingest.inputs import DossierSource, Entry, list_entries, open_dossier, safe_id, sha256_file
from pipeline.ingest.signatures import dossier_signatures, earliest
from pipeline.manifest import SCHEMA, Component, InputFile, Manifest, Signature, Source, StoredObject
from pipeline.settings import Settings

if TYPE_CHECKING:
    from pipeline.catalog.base import Catalog
    from pipeline.store.base import ObjectStore
    from pipeline.understand.taxonomy import Taxonomy

# What the steps after the pages need (understand, publish): imported by `warm_up` while the first page's
# Tesseract runs, so a one-page run does not wait for them (~0.3 s of imports and the taxonomy).
LATER_MODULES = ("pipeline.understand.extract", "pipeline.understand.model", "pipeline.understand.number_date",
                 "pipeline.understand.segment", "pipeline.understand.taxonomy", "pipeline.publish.pdfa",
                 "pipeline.publish.pdfout", "pipeline.publish.reuse",
                 "scipy.sparse")  # the page model's features (~0.17 s to import), else paid after the OCR
_TAXONOMIES: dict[tuple[str, int], Taxonomy] = {}
_WARM = threading.Lock()


def taxonomy_of(settings: Settings) -> Taxonomy:
    """The settings' taxonomy, parsed once per file version (YAML parsing costs ~0.2 s a time)."""
    from pipeline.understand.taxonomy import load_taxonomy

    path = settings.taxonomy
    try:
        version = Path(path).stat().st_mtime_ns if path is not None else 0
    except OSError:
        version = -1  # load_taxonomy says what is wrong
    key = (str(path), version)
    if key not in _TAXONOMIES:
        _TAXONOMIES[key] = load_taxonomy(path)
    return _TAXONOMIES[key]


def _warm_hand_reader(settings: Settings) -> None:
    """The header blanks' handwritten-digit reader (scikit-learn, ~0.6-1 s to import, and its model),
    loaded beside Tesseract when a trained copy is cached: a page with a blank then does not wait for
    it. Never trained here (a page without blanks would pay for nothing)."""
    from pipeline.ocr import handdigits

    handdigits.warm(Path(settings.home) / "models")


def warm_up(settings: Settings, wait_s: float = 30.0) -> threading.Thread:
    """Import the later steps' modules and load the taxonomy and page model in a daemon thread, once
    the first page's Tesseract has started (before that it would only compete with decoding and cleaning)."""

    def run() -> None:
        OCR_STARTED.wait(wait_s)
        with _WARM:
            try:
                for name in LATER_MODULES:
                    importlib.import_module(name)
                from pipeline.understand import extract
                from pipeline.understand.model import page_classifier

                page_classifier(settings, taxonomy_of(settings))
                extract.warm()
            except Exception:  # noqa: BLE001 - only a head start: the step itself reports any problem
                return
        try:  # outside the lock: the understanding step waits for the lock, and needs no digit reader
            _warm_hand_reader(settings)
        except Exception:  # noqa: BLE001 - as above
            return

    thread = threading.Thread(target=run, name="sohoa-warm-up", daemon=True)
    thread.start()
    return thread


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
    classifier: str = ""  # what classified it (`classifier_name`)


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def original_key(dossier_id: str, entry: Entry | Path, source: DossierSource) -> str:
    """Where an original is kept: its unique stored name (`pipeline.ingest.entries.stored_names`);
    `entry` may be the source file itself."""
    if isinstance(entry, Path):
        entry = next(e for e in source.entries if e.file == entry)
    if source.kind == "folder":
        return f"originals/{dossier_id}/{safe_id(source.path.name)}/{entry.stored_name}"
    return f"originals/{dossier_id}/{entry.stored_name}"


def kept(entry: Entry) -> bool:
    """Entries stored as originals: pages, and skipped regular files that are not hidden."""
    return entry.file is not None and (entry.status == "pages"
                                       or (entry.status == "skipped" and not entry.name.startswith(".")))


def ingest(path: str | Path, settings: Settings, store: ObjectStore) -> DossierSource:
    """Open and validate the dossier, then keep the untouched originals in the store.

    Every page file and every skipped file that is not hidden is stored under its own unique name,
    so no scan is lost, even one sohoa cannot read; refused entries (links, devices) are not read.
    """
    source = open_dossier(path, max_pixels=settings.limits.max_pixels, max_pages=settings.limits.max_pages,
                          dpi=settings.ocr.dpi, min_dpi=settings.limits.min_dpi)
    source.signatures = dossier_signatures(source.files, pages_by_file(source))
    for entry in source.entries:
        if not kept(entry):
            continue
        file = entry.file
        key = original_key(source.dossier_id, entry, source)
        if store.exists(key) and store.stat(key).sha256 == sha256_file(file):
            continue
        store.put_file(key, file, content_type=mimetypes.guess_type(file.name)[0] or "application/octet-stream",
                       metadata={"dossier": source.dossier_id, "kind": "original"})
    return source


def pages_by_file(source: DossierSource) -> dict[Path, list[int]]:
    """Each source file's dossier page numbers, in order."""
    out: dict[Path, list[int]] = {}
    for ref in source.pages:
        out.setdefault(ref.file, []).append(ref.n)
    return out


def input_files(source: DossierSource) -> list[InputFile]:
    """The manifest's account of every file the dossier was given."""
    pages = pages_by_file(source)
    return [InputFile(name=e.name, status=e.status, reason=e.reason,
                      pages=pages.get(e.file, []) if e.status == "pages" and e.file is not None else [],
                      original_key=original_key(source.dossier_id, e, source) if kept(e) else None)
            for e in source.entries]


def pages(source: DossierSource, settings: Settings, workdir: Path,
          on_page: Callable[[PageOutput], None] | None = None) -> list[PageOutput]:
    """Every page read; pages of a signed PDF carry its earliest signing time (`Page.signed_at`)."""
    outputs = process_pages(source, settings, workdir, on_page)
    for out in outputs:
        sigs = [s for s in source.signatures if out.page.n in s.pages]
        out.page.signed_at = earliest(sigs)
    return outputs


def understand(outputs: list[PageOutput], settings: Settings, taxonomy: Taxonomy | None = None) -> list[Draft]:
    """Split the page stream into components, classify them, extract their fields.

    The trained page classifier is used when a model for this taxonomy exists (trained under the data
    home, or the default shipped for the taxonomy); otherwise the title and layout rules decide, with a warning.
    """
    from pipeline.understand.extract import extract_components
    from pipeline.understand.model import classifier_name, page_classifier
    from pipeline.understand.number_date import Evidence, signing_times
    from pipeline.understand.segment import PageInput, segment

    with _WARM:  # a warm-up still importing: wait for it rather than import beside it
        pass
    taxonomy = taxonomy or taxonomy_of(settings)
    inputs = [PageInput(n=o.page.n, text=o.page.text, blank=o.page.blank) for o in outputs]
    by_n = {o.page.n: o for o in outputs}
    classifier = page_classifier(settings, taxonomy)
    segments = segment(inputs, taxonomy, settings.classify.review_threshold, classifier=classifier)
    texts = ["\n\n".join(by_n[n].page.text for n in seg.pages) for seg in segments]
    # Evidence for the number and date beyond the text: the first page's re-read blanks and the signing
    # time of the PDF's digital signatures (signature boxes read on the page count when it has none).
    evidence = [Evidence(blanks=list(by_n[seg.pages[0]].page.blanks),
                         signed_at=signing_times(by_n[seg.pages[0]].page.signed_at)) for seg in segments]
    metas = extract_components(texts, [seg.type for seg in segments], evidence)
    drafts = []
    for i, (seg, meta) in enumerate(zip(segments, metas, strict=True)):
        review = seg.needs_review or bool(meta.review) or any(by_n[n].page.needs_review for n in seg.pages)
        drafts.append(Draft(i + 1, seg.type, seg.type_name, round(float(seg.confidence), 4), review,
                            list(seg.pages), meta, classifier_name(classifier)))
    return drafts


def signed_files(source: DossierSource, drafts: list[Draft]) -> dict[int, Path]:
    """Drafts that are exactly one signed source PDF: draft index -> that file.

    A draft is when all its pages come from one PDF that carries a digital signature and no other
    draft has a page of that PDF; such a component is stored as the signed file itself, byte for byte.
    """
    file_of = {ref.n: ref.file for ref in source.pages}
    signed = {s.file for s in source.signatures}
    owners: dict[Path, set[int]] = {}
    for d in drafts:
        for n in d.pages:
            owners.setdefault(file_of[n], set()).add(d.index)
    out: dict[int, Path] = {}
    for d in drafts:
        files = {file_of[n] for n in d.pages}
        if len(files) == 1:
            (file,) = files
            if file.name in signed and owners[file] == {d.index}:
                out[d.index] = file
    return out


def _signatures_of(source: DossierSource, pages: list[int]) -> list[Signature]:
    wanted = set(pages)
    return [s for s in source.signatures if wanted & set(s.pages)]


def publish(source: DossierSource, outputs: list[PageOutput], drafts: list[Draft], store: ObjectStore,
            workdir: Path, catalog: Catalog | None = None) -> list[Component]:
    """Store one PDF per component; drop PDFs a previous run left behind.

    A component that is exactly one digitally signed source PDF is stored as that file, byte for
    byte (re-rendering would break the signature); its OCR text goes to the catalog through the
    manifest. Any other component becomes a searchable PDF built from its pages; when its pages
    come from a signed PDF, `signed_original` points at that PDF as ingest stored it.

    With a catalog, a component that is the same document as one already stored (see
    `pipeline.publish.reuse`) is not stored again: it points at the stored object and says `reused_from`
    (a signed original only when the stored copy is the same file); and this dossier's PDFs that
    other dossiers point at are neither overwritten nor deleted.
    """
    from pipeline.publish.pdfa import archival_record
    from pipeline.publish.pdfout import build_pdf
    from pipeline.publish.reuse import find_reuse, free_key, pinned

    by_n = {o.page.n: o for o in outputs}
    components: list[Component] = []
    keep: set[str] = set()
    pins = pinned(store, catalog, source.dossier_id)
    originals = signed_files(source, drafts)
    file_of = {ref.n: ref.file for ref in source.pages}
    for d in drafts:
        cid = f"{source.dossier_id}-{d.index:02d}"
        key = f"dossiers/{source.dossier_id}/{d.index:02d}-{d.type}.pdf"
        signatures = _signatures_of(source, d.pages)
        signed = originals.get(d.index)
        if signed is not None:
            out = signed  # a signed original is stored as it came (its signature must still verify)
        else:
            out = workdir / f"{d.index:02d}-{d.type}.pdf"
            parts = [by_n[n].part for n in d.pages if by_n[n].part is not None]
            build_pdf(parts, out, archival_record(source.dossier_id, cid, d.type, d.type_name, d.metadata,
                                                  len(parts)))
        digest = sha256_file(out)
        text = "\n".join(by_n[n].page.text for n in d.pages)
        match = (find_reuse(d.type, d.metadata, text, digest, catalog, source.dossier_id, out.read_bytes(), store)
                 if catalog else None)
        if match is not None and signed is not None and match.component.sha256 != digest:
            match = None  # a signed file is only ever the same document as the same file
        kept_original = None
        if signatures and signed is None:
            first = file_of[d.pages[0]] if d.pages else None
            okey = original_key(source.dossier_id, first, source) if first is not None else None
            if okey is not None and store.exists(okey):
                kept_original = StoredObject(backend=store.backend, bucket=store.bucket, key=okey, uri=store.uri(okey))
        extra = {"stored_as": "signed_original" if signed is not None else "searchable_pdf",
                 "signatures": signatures}
        if match is not None:
            components.append(Component(
                id=cid, type=d.type, type_name=d.type_name, confidence=d.confidence, needs_review=d.needs_review,
                pages=d.pages, classifier=d.classifier, metadata=d.metadata, object=match.component.object,
                sha256=match.component.sha256, reused_from=match.component.id,
                signed_original=match.component.object if signed is not None else kept_original, **extra,
            ))
            continue
        owners = ",".join(getattr(d.metadata, "cccd", []) or [])
        key = free_key(key, digest, pins, store)
        info = store.put_file(key, out, content_type="application/pdf",
                              metadata={"dossier": source.dossier_id, "type": d.type, "component": cid,
                                        **({"owner": owners} if owners else {}),
                                        **({"signed": "original"} if signed is not None else {})})
        keep.add(key)
        stored = StoredObject(backend=store.backend, bucket=store.bucket, key=key, uri=store.uri(key))
        components.append(Component(
            id=cid, type=d.type, type_name=d.type_name, confidence=d.confidence, needs_review=d.needs_review,
            pages=d.pages, classifier=d.classifier, metadata=d.metadata, object=stored,
            sha256=info.sha256 or digest, reused_from=None,
            signed_original=stored if signed is not None else kept_original, **extra,
        ))
    for old in list(store.list(f"dossiers/{source.dossier_id}/")):
        if old.endswith(".pdf") and old not in keep and old not in pins:
            store.delete(old)
    return components


def record(manifest: Manifest, store: ObjectStore, catalog: Catalog) -> Manifest:
    """Store the manifest beside the PDFs, then index it (store first, then index); a failed
    dossier's component PDFs from an earlier run are dropped last."""
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
    if manifest.status == "failed":
        drop_stale_components(manifest.dossier_id, store, catalog)
    return manifest


def drop_stale_components(dossier_id: str, store: ObjectStore, catalog: Catalog | None) -> list[str]:
    """A failed run leaves no component PDF behind: the ones an earlier run stored are deleted
    (after the catalog was told the dossier failed, so nothing indexed points at them), except
    those other dossiers' components point at (`pipeline.publish.reuse.pinned`)."""
    from pipeline.publish.reuse import pinned

    pins = pinned(store, catalog, dossier_id)
    dropped = []
    for key in list(store.list(f"dossiers/{dossier_id}/")):
        if key.endswith(".pdf") and key not in pins:
            store.delete(key)
            dropped.append(key)
    return dropped


def build_manifest(source: DossierSource, outputs: list[PageOutput], components: list[Component],
                   settings: Settings, timings: dict[str, float]) -> Manifest:
    return Manifest(
        schema=SCHEMA, dossier_id=source.dossier_id, status="done", error=None,
        source=Source(path=str(source.path), sha256=source.sha256, pages=source.page_count,
                      signatures=source.signatures),
        inputs=input_files(source), pages=[o.page for o in outputs], components=components,
        timings={k: round(v, 3) for k, v in timings.items()},
        settings_version=settings.version, created_at=now_iso(),
    )


def failed_manifest(path: str | Path, error: BaseException, settings: Settings,
                    source: DossierSource | None = None, timings: dict[str, float] | None = None) -> Manifest:
    """A manifest that says why a dossier failed; it carries no pages or components."""
    p = Path(path)
    inputs: list[InputFile] = []
    if source is not None:
        src = Source(path=str(source.path), sha256=source.sha256, pages=source.page_count)
        dossier_id = source.dossier_id
        inputs = input_files(source)
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
                    inputs=inputs, timings={k: round(v, 3) for k, v in (timings or {}).items()},
                    settings_version=settings.version, created_at=now_iso())


def quarantine_original(path: str | Path, dossier_id: str, store: ObjectStore) -> list[InputFile]:
    """Keep a copy of an input that could not even be opened, so no scan is lost.

    Only what is inside the dossier is copied: a folder is listed as `open_dossier` lists it (links,
    devices and FIFOs refused, unread), a single file only when it is a regular file. Returns the
    account of every entry, for the failed manifest.
    """
    p = Path(path)
    try:
        st = p.stat()
    except OSError:
        return []
    if stat.S_ISREG(st.st_mode):
        entries = [Entry(p.name, "pages", "", p, stored_names([p.name])[p.name])]
    elif stat.S_ISDIR(st.st_mode):
        try:
            entries = list_entries(p)
        except OSError:
            return []
    else:
        return [InputFile(name=p.name, status="refused", reason="not a regular file: not read")]
    out: list[InputFile] = []
    for e in entries:
        key = None
        if kept(e) or e.status == "sidecar":
            key = f"quarantine/{dossier_id}/original/{e.stored_name}"
            try:
                store.put_file(key, e.file, metadata={"dossier": dossier_id, "kind": "original"})
            except OSError:
                key = None
        out.append(InputFile(name=e.name, status=e.status, reason=e.reason, original_key=key))
    return out


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
    warm_up(settings)
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
            manifest.inputs = quarantine_original(path, manifest.dossier_id, store)
    finally:
        if workdir is not None:
            shutil.rmtree(workdir, ignore_errors=True)
    if origin is not None:
        manifest = relabel(manifest, path, origin)
    return run_step(record, manifest, store, catalog)

