"""Per-page work and the page pool.

`process_page()` is the whole life of one page: decode or rasterise it, clean it, OCR it, and leave
its display JPEG and text layer in the work folder. `iter_pages()` runs it on a thread pool with
at most `workers` pages in flight, so memory holds a handful of page bitmaps whatever the dossier's
size; the threads mostly wait on pdftoppm and Tesseract subprocesses, which run on all cores.
"""

from __future__ import annotations

import resource
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

import cv2

from pipeline.digitise.text_layer import decide, with_layers
from pipeline.errors import InputError
from pipeline.imaging.cleaning import clean_page
from pipeline.ingest.budget import process_budget
from pipeline.ingest.inputs import PageRef, load_page, measured, page_plan
from pipeline.manifest import Page
from pipeline.ocr import mrz_zone
from pipeline.ocr.blanks import read_blanks
from pipeline.ocr.quality import page_quality
from pipeline.ocr.tesseract import ocr_image, osd_rotation, share_cores
from pipeline.ocr.words import Word
from pipeline.publish.jpegopt import optimised
from pipeline.publish.pdfout import PagePart, write_jpeg
from pipeline.settings import Settings
from pipeline.textnorm import nfc

T = TypeVar("T")
OCR_STARTED = threading.Event()  # set when a page's Tesseract first starts (`dossier.warm_up` waits for it)
# Re-codes a page's own JPEG (jpegtran) while that page's Tesseract runs: the OCR does not need it.
_BESIDE_OCR = ThreadPoolExecutor(max_workers=2, thread_name_prefix="sohoa-jpeg")


@dataclass
class PageOutput:
    page: Page
    part: PagePart | None  # None for blank pages
    words: list[Word] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    cpu: dict[str, float] = field(default_factory=dict)  # per stage, see `cpu_now` (bench/stages.py)


def cpu_now() -> float:
    """CPU seconds of this thread plus those of the child processes reaped so far (Tesseract, pdftoppm).

    Per page stage, the difference is exact when one page is in flight per process (the stage bench);
    in the thread pool children of other pages mix in.
    """
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.thread_time() + ru.ru_utime + ru.ru_stime


def children_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def own_text_page(ref: PageRef, settings: Settings) -> PageOutput | None:
    """The page as its PDF's own text layer when `text_layer.decide` keeps it (no image, no OCR), else None."""
    decision = decide(with_layers(ref), settings.ocr.text_layer)
    if decision is None or decision.used != "pdf":
        return None
    page = Page(n=ref.n, text_source="pdf", text=nfc(ref.pdf_text.strip()), ocr_confidence=1.0,
                text_layer=decision)
    return PageOutput(page, PagePart(source_pdf=ref.file, source_index=ref.index), seconds={"total": 0.0})


def process_page(ref: PageRef, settings: Settings, workdir: Path) -> PageOutput:
    """Decode, clean and OCR one page within the process's pixel budget (`pipeline.ingest.budget`).

    The page's pixels are known from its header before it is decoded; it waits until they fit in
    `limits.pixels_in_flight` beside the pages already in work, so peak memory follows the budget,
    not the number of threads.
    """
    limits = settings.limits
    ref = measured(ref)  # an image page made by hand (a worker's copy) learns its size from the header
    plan = page_plan(ref, settings.ocr.dpi, limits.max_pixels, limits.min_dpi)
    with process_budget(limits.in_flight).hold(plan.pixels):
        return _process_page(ref, settings, workdir)


def _process_page(ref: PageRef, settings: Settings, workdir: Path) -> PageOutput:
    """Decode, clean and OCR one page; the bitmaps are dropped before returning.

    A PDF page keeps its own text layer or is OCRed as `pipeline.digitise.text_layer` decides (a
    born-digital page keeps its exact text; signature boxes over a scan, a poor scanner OCR layer,
    garbage or fonts with no Unicode mapping are OCRed, page by page). The cleaning chain (`pipeline.imaging.cleaning`) gives
    the OCR image and the display image; the page quality (`pipeline.ocr.quality`: Tesseract confidence
    and the share of valid Vietnamese syllables) sets `needs_review`.
    """
    t0, c0 = time.perf_counter(), cpu_now()
    # One page per core next to single-threaded Tesseracts: OpenCV's own worker threads would only add
    # synchronisation (the bench measures 15-20 % more CPU with them). Per process, cheap to repeat.
    cv2.setNumThreads(1)
    cfg = settings.cleaning
    warnings: list[str] = []
    ref = with_layers(ref)
    decision = decide(ref, settings.ocr.text_layer)
    if decision is not None and decision.used == "pdf":
        return own_text_page(ref, settings)
    if decision is not None and decision.kind == "unusable" and len(ref.pdf_text.strip()) >= 20:
        warnings.append(f"the PDF's own text layer is unusable: {decision.reason}")
    image = load_page(ref, settings.ocr.dpi, max_pixels=settings.limits.max_pixels,
                      min_dpi=settings.limits.min_dpi)
    t1, c1 = time.perf_counter(), cpu_now()
    cpu = {"load": c1 - c0, "osd": 0.0}
    osd = None
    if cfg.orientation and cfg.orientation_osd:
        def osd(gray, dpi):
            before = cpu_now()
            try:
                return osd_rotation(gray, dpi, timeout_s=min(60.0, settings.ocr.timeout_s))
            finally:
                cpu["osd"] += cpu_now() - before
    # The scan's own JPEG goes into the PDF as it is, drawn upright and straight by the page matrix,
    # unless the PDF is to show the cleaned image or the scan is finer than the display needs: then
    # the cleaning makes no display image.
    own_jpeg = (image.jpeg if image.jpeg is not None and cfg.pdf_image != "cleaned"
                and image.dpi <= settings.display.max_dpi else None)
    try:
        prepared = clean_page(image.pixels, image.dpi, cfg, osd=osd, display_max_dpi=settings.display.max_dpi,
                              display=own_jpeg is None)
    except ValueError as exc:
        raise InputError(f"the page image cannot be cleaned ({exc})", path=ref.file, page=ref.n,
                         hint="The file may be damaged; rescan the page") from exc
    warnings += list(image.warnings) + prepared.warnings
    source_dpi = image.dpi
    del image
    t2, c2 = time.perf_counter(), cpu_now()
    cpu["clean"] = c2 - c1 - cpu["osd"]
    if prepared.blank:
        page = Page(n=ref.n, blank=True, text_source="none", cleaning=prepared.steps, warnings=warnings,
                    text_layer=decision)
        return PageOutput(page, None, seconds={"load": t1 - t0, "clean": t2 - t1, "total": t2 - t0}, cpu=cpu)
    stem = f"p{ref.n:05d}"
    jpeg = workdir / f"{stem}.jpg"
    recoded: Future[tuple[float, float]] | None = None
    if own_jpeg is not None:  # same pixels; a scanner's standard Huffman tables re-made beside Tesseract
        recoded = _BESIDE_OCR.submit(_write_optimised, own_jpeg, jpeg)
        part = PagePart(jpeg=jpeg, dpi=source_dpi, rotation=prepared.rotation, skew_deg=prepared.skew_deg)
    else:
        write_jpeg(prepared.display, jpeg, settings.display.jpeg_quality)
        part = PagePart(jpeg=jpeg, dpi=prepared.display_dpi)
    c3 = cpu_now()
    cpu["jpeg"] = c3 - c2
    k3 = children_cpu()
    OCR_STARTED.set()
    try:
        result = ocr_image(prepared.ocr, prepared.ocr_dpi, workdir, stem, lang=settings.ocr.lang,
                           psm=prepared.psm or settings.ocr.psm, timeout_s=settings.ocr.timeout_s)
    finally:
        beside = 0.0  # jpegtran's CPU, reaped beside Tesseract's: counted as the JPEG's
        if recoded is not None:
            own, beside = recoded.result()
            cpu["jpeg"] += own + beside
    steps = list(prepared.steps)
    if result.words and not result.error:
        # an ID card's machine-readable zone, read again alone with its own alphabet (check digits need
        # it exact): one small Tesseract run, its lines put into the page's words and text layer
        zone = mrz_zone.reread(prepared.ocr, prepared.ocr_dpi, result.words, timeout_s=min(30.0, settings.ocr.timeout_s))
        if zone is not None and zone.rows:
            result = mrz_zone.relayer(prepared.ocr_dpi, prepared.ocr.shape[0], result, zone, workdir, stem)
            steps.append("mrz")
        elif zone is not None:
            steps.append("mrz:kept")  # read again, no better: the page OCR's reading kept
    t3 = time.perf_counter()
    cpu["tesseract"] = children_cpu() - k3 - beside
    cpu["ocr_post"] = cpu_now() - c3 - cpu["tesseract"] - beside
    if result.error:
        warnings.append(result.error)
    quality = page_quality(result.text, result.confidence, min_confidence=cfg.review_confidence,
                           min_plausibility=cfg.review_plausibility)
    if quality.needs_review and not result.error:
        warnings.append(f"needs review: {quality.reason}")
    # The number and day written into the header's blanks, re-read alone (a handful of tiny crops,
    # only on a page with a "Số: … /…" or "ngày … tháng … năm" line and a doubtful reading).
    c4 = cpu_now()
    blanks = read_blanks(prepared.ocr, result.words, timeout_s=min(30.0, settings.ocr.timeout_s),
                         models_dir=Path(settings.home) / "models")
    cpu["blanks"] = cpu_now() - c4
    page = Page(
        n=ref.n, blank=False, rotation=prepared.rotation, skew_deg=prepared.skew_deg,
        ocr_confidence=result.confidence, text_source="ocr" if result.words else "none", text=result.text,
        needs_review=bool(result.error) or quality.needs_review, warnings=warnings, cleaning=steps,
        text_layer=decision,
        blanks=blanks,
    )
    part = replace(part, textlayer=result.textlayer_pdf)
    return PageOutput(page, part, result.words,
                      {"load": t1 - t0, "clean": t2 - t1, "ocr": t3 - t2, "total": time.perf_counter() - t0}, cpu)


def _write_optimised(own_jpeg: bytes, dest: Path) -> tuple[float, float]:
    """Write the scan's JPEG re-coded (`optimised`); the CPU seconds it took: (this thread, jpegtran)."""
    t0, k0 = time.thread_time(), children_cpu()
    dest.write_bytes(optimised(own_jpeg))
    return time.thread_time() - t0, children_cpu() - k0


def iter_pages(refs: list[PageRef], settings: Settings, workdir: Path) -> Iterator[PageOutput]:
    """Yield page outputs as they finish, from a local thread pool of `settings.worker_count` threads;
    a bounded window keeps memory flat. Tesseract runs at most `worker_count` at once in this process,
    however many dossiers' pools are open."""
    share_cores(settings.worker_count)
    with ThreadPoolExecutor(max_workers=settings.worker_count, thread_name_prefix="sohoa-page") as pool:
        for _, out in bounded(refs, lambda ref: pool.submit(process_page, ref, settings, workdir),
                              settings.worker_count):
            yield out


def bounded(items: Iterable[T], submit: Callable[[T], Future], window: int) -> Iterator[tuple[T, Any]]:
    """Submit `items` with at most `window` futures in flight; yield (item, result) as each finishes.

    A failure re-raises from the first failed result and cancels what is still queued.
    """
    owner: dict[Future, T] = {}
    try:
        for item in items:
            owner[submit(item)] = item
            if len(owner) >= window:
                done, _ = wait(owner, return_when=FIRST_COMPLETED)
                for fut in done:
                    yield owner.pop(fut), fut.result()
        while owner:
            done, _ = wait(owner, return_when=FIRST_COMPLETED)
            for fut in done:
                yield owner.pop(fut), fut.result()
    except BaseException:
        for fut in owner:
            fut.cancel()
        raise
