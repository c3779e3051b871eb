"""Real-documents benchmark: type, số ký hiệu, ngày, trích yếu on `../shared/corpora/real-vbhc`.

    python bench/real.py [--corpus DIR] [--cache /tmp/sohoa-real-cache] [--workers 2]
                         [--process] [--write-doc docs/real-documents.md] [--only vbhc_01,vbhc_19]

Every page of every PDF is rasterised (the project's input code: pdftoppm), cleaned and OCRed
(the project's cleaning chain and Tesseract wrapper), whatever its own text layer says: most of
these PDFs are signed scans whose text layer holds only the signature boxes. The OCR result of
each page (text, words with boxes and confidences, the OCR image) is cached under `--cache`, so a
rerun only re-does the understanding step (seconds). Then the project's segment / classify /
extract run on the text, as `pipeline.dossier.understand()` does (the first component of each PDF
is the document: one document per PDF).

`--process` runs the real `digitise()` end to end instead (no cache; slow): what a user gets.

Measures (one row per document in labels.csv):
- type: the first component's type is the label's;
- số ký hiệu / ngày: exact, or null with the field flagged for review ("exact-or-flagged");
- trích yếu: rapidfuzz ratio of the folded texts (label "Về việc" / "V/v" prefixes ignored);
- wrong and unflagged: a field (type, số ký hiệu, ngày) with a wrong value and no review flag for it,
  over all fields;
- CER of the born-digital documents' pages when rasterised and OCRed, against `text/<id>_p<N>.txt`.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import re
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import cv2  # noqa: E402
from rapidfuzz import fuzz  # noqa: E402

from pipeline.settings import Settings  # noqa: E402
from pipeline.textnorm import cer, fold, nfc, squash  # noqa: E402

DEFAULT_CORPUS = REPO.parent / "shared" / "corpora" / "real-vbhc"
CACHE_VERSION = 1
# The code a cached page's OCR image and words come from, and a page's blank re-reads: a cache entry made
# by other code is made again (a stale OCR cache made the cached table disagree with `--process`).
OCR_CODE = ("pipeline/imaging", "pipeline/ingest/inputs.py", "pipeline/ingest/pdfimage.py", "pipeline/ingest/poppler.py",
            "pipeline/ingest/budget.py", "pipeline/ocr/tesseract.py", "pipeline/ocr/words.py", "pipeline/ocr/quality.py",
            "pipeline/settings.py")
BLANKS_CODE = ("pipeline/ocr/blanks.py", "pipeline/ocr/blank_anchors.py", "pipeline/ocr/handdigits.py",
               "pipeline/ocr/tesseract.py")
TYPE_CODES = {  # labels.csv doc_type -> taxonomy code
    "QUYET_DINH": "quyet_dinh", "CHI_THI": "chi_thi", "TO_TRINH": "to_trinh", "THONG_BAO": "thong_bao",
    "CONG_VAN": "cong_van", "BAO_CAO": "bao_cao",
}
TARGETS = {"type": 0.95, "so": 0.95, "so_exact": 0.80, "ngay": 0.95, "ngay_exact": 0.85, "wrong_unflagged": 0.02}


@dataclass
class Row:
    """One document: label and what sohoa made of it."""

    id: str
    label: dict
    type: str | None = None
    type_flagged: bool = False
    confidence: float = 0.0
    so: str | None = None
    so_flagged: bool = False
    ngay: str | None = None
    ngay_flagged: bool = False
    trich_yeu: str | None = None
    components: int = 0
    reasons: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- OCR with a disk cache


def _page_cache(cache: Path, doc: str, n: int) -> Path:
    return cache / doc / f"p{n:02d}.json"


def code_version(paths: tuple[str, ...], root: Path = REPO) -> str:
    """A short hash of the source files (folders: their .py files) a cached result was made by, so a cache
    filled by an older checkout is not read as this one's."""
    h = hashlib.sha1()
    for rel in paths:
        p = root / rel
        for f in sorted(p.rglob("*.py")) if p.is_dir() else [p]:
            if f.exists():
                h.update(f.relative_to(root).as_posix().encode() + b"\0" + f.read_bytes())
    return h.hexdigest()[:12]


def page_version() -> str:
    return f"{CACHE_VERSION}/{code_version(OCR_CODE)}"


def ocr_page(ref, settings: Settings, cache: Path, doc: str) -> dict:
    """Rasterise, clean and OCR one PDF page, ignoring its text layer; cached as JSON (+ the OCR image)."""
    path = _page_cache(cache, doc, ref.n)
    if path.exists():
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("version") == page_version():
            return data
    from pipeline.imaging.cleaning import clean_page
    from pipeline.ingest.inputs import load_page
    from pipeline.ocr.quality import page_quality
    from pipeline.ocr.tesseract import ocr_image, osd_rotation

    cfg = settings.cleaning
    image = load_page(ref, settings.ocr.dpi, max_pixels=settings.limits.max_pixels)

    def osd(gray, dpi):
        return osd_rotation(gray, dpi, timeout_s=min(60.0, settings.ocr.timeout_s))

    prepared = clean_page(image.pixels, image.dpi, cfg, osd=osd if cfg.orientation_osd else None,
                          display_max_dpi=settings.display.max_dpi)
    data: dict = {"version": page_version(), "n": ref.n, "pdf_text": nfc(ref.pdf_text or ""), "blank": prepared.blank,
                  "rotation": prepared.rotation, "ocr_dpi": prepared.ocr_dpi, "text": "", "words": [],
                  "confidence": 0.0, "needs_review": False, "steps": prepared.steps}
    path.parent.mkdir(parents=True, exist_ok=True)
    if not prepared.blank:
        with tempfile.TemporaryDirectory(prefix="sohoa-real-") as tmp:
            result = ocr_image(prepared.ocr, prepared.ocr_dpi, Path(tmp), f"p{ref.n:03d}", lang=settings.ocr.lang,
                               psm=prepared.psm or settings.ocr.psm, timeout_s=settings.ocr.timeout_s)
        quality = page_quality(result.text, result.confidence, min_confidence=cfg.review_confidence,
                               min_plausibility=cfg.review_plausibility)
        data.update(text=result.text, confidence=result.confidence,
                    needs_review=bool(result.error) or quality.needs_review,
                    words=[[w.text, round(w.conf, 3), *w.box, w.block, w.par, w.line] for w in result.words])
        cv2.imwrite(str(path.with_suffix(".png")), prepared.ocr)  # for re-reads of crops without re-OCR
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return data


def _cached(path: Path) -> bool:
    try:
        return json.loads(path.read_text(encoding="utf-8")).get("version") == page_version()
    except (OSError, ValueError):
        return False


def ocr_corpus(corpus: Path, docs: list[dict], cache: Path, settings: Settings, workers: int) -> dict[str, list[dict]]:
    """Every page of every document, OCRed (from the cache when there)."""
    from pipeline.ingest.inputs import open_dossier

    jobs = []
    for d in docs:
        source = open_dossier(corpus / d["file"])
        jobs += [(d["id"], ref) for ref in source.pages]
    todo = sum(1 for doc, ref in jobs if not _cached(_page_cache(cache, doc, ref.n)))
    if todo:
        print(f"OCR of {todo} pages not in the cache {cache} ...", file=sys.stderr)
    out: dict[str, list[dict]] = {d["id"]: [] for d in docs}
    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        futures = [(doc, pool.submit(ocr_page, ref, settings, cache, doc)) for doc, ref in jobs]
        for i, (doc, fut) in enumerate(futures, 1):
            out[doc].append(fut.result())
            if todo:
                print(f"  {i}/{len(futures)} pages ({time.perf_counter() - t0:.0f} s)", file=sys.stderr, end="\r")
    if todo:
        print(file=sys.stderr)
    return out


# --------------------------------------------------------------------------- understanding


BLANKS_VERSION = 17


def page_blanks(page: dict, cache: Path, doc: str) -> list:
    """`pipeline.ocr.blanks.read_blanks` on the cached OCR image and words (cached beside them)."""
    from pipeline.manifest import BlankRead
    from pipeline.ocr.blanks import read_blanks
    from pipeline.ocr.handdigits import READER_VERSION
    from pipeline.ocr.words import Word

    # the digit reader's probabilities are in the reads; the page's OCR image and words are their input
    version = f"{BLANKS_VERSION}/{READER_VERSION}/{code_version(BLANKS_CODE)}/{page['version']}"
    path = _page_cache(cache, doc, page["n"]).with_suffix(".blanks.json")
    if path.exists():
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("version") == version:
            return [BlankRead(**b) for b in data["blanks"]]
    image = cv2.imread(str(path.with_suffix("").with_suffix(".png")), cv2.IMREAD_GRAYSCALE)
    words = [Word(w[0], w[1], tuple(w[2:6]), w[6], w[7], w[8]) for w in page["words"]]
    blanks = read_blanks(image, words) if image is not None else []
    path.write_text(json.dumps({"version": version, "blanks": [b.model_dump() for b in blanks]}), encoding="utf-8")
    return blanks


def understand_pages(pages: list[dict], settings: Settings, cache: Path, doc: str, signed: str | None = None):
    """Segment, classify, extract as `pipeline.dossier.understand()` does, on cached OCR pages.

    The evidence for the number and date: the header blanks re-read (`pipeline.ocr.blanks`, as the page
    step does) and the earliest signing time of the PDF's digital signatures (`pipeline.ingest.signatures`,
    as `Page.signed_at`).
    Returns (segments, metadata list)."""
    from pipeline.understand.extract import extract_components
    from pipeline.understand.model import page_classifier
    from pipeline.understand.number_date import Evidence, signing_times
    from pipeline.understand.segment import PageInput, segment
    from pipeline.understand.taxonomy import load_taxonomy

    taxonomy = load_taxonomy(settings.taxonomy)
    inputs = [PageInput(n=p["n"], text=p["text"], blank=p["blank"]) for p in pages]
    by_n = {p["n"]: p for p in pages}
    segs = segment(inputs, taxonomy, settings.classify.review_threshold,
                   classifier=page_classifier(settings, taxonomy))
    texts = ["\n\n".join(by_n[n]["text"] for n in s.pages) for s in segs]
    evidence = [Evidence(page_blanks(by_n[s.pages[0]], cache, doc), signing_times(signed)) for s in segs]
    metas = extract_components(texts, [s.type for s in segs], evidence)
    return segs, metas


def _field_flagged(meta, name: str) -> bool:
    reasons = getattr(meta, "review", None) or []
    return any(r.split(":", 1)[0].strip() == name for r in reasons)


def row_from(doc: dict, segs, metas) -> Row:
    row = Row(doc["id"], doc, components=len(segs))
    if not segs:
        return row
    seg, meta = segs[0], metas[0]
    row.type, row.confidence, row.type_flagged = seg.type, seg.confidence, seg.needs_review
    row.so, row.so_flagged = meta.so_ky_hieu, _field_flagged(meta, "so_ky_hieu")
    row.ngay, row.ngay_flagged = meta.ngay, _field_flagged(meta, "ngay")
    row.trich_yeu = meta.trich_yeu
    row.reasons = list(getattr(meta, "review", None) or [])
    return row


def row_from_manifest(doc: dict, manifest) -> Row:
    row = Row(doc["id"], doc, components=len(manifest.components))
    if manifest.status != "done" or not manifest.components:
        row.reasons = [manifest.error or "no component"]
        return row
    c = manifest.components[0]
    row.type, row.confidence, row.type_flagged = c.type, c.confidence, c.needs_review
    row.so, row.so_flagged = c.metadata.so_ky_hieu, _field_flagged(c.metadata, "so_ky_hieu")
    row.ngay, row.ngay_flagged = c.metadata.ngay, _field_flagged(c.metadata, "ngay")
    row.trich_yeu = c.metadata.trich_yeu
    row.reasons = list(getattr(c.metadata, "review", None) or [])
    return row


# --------------------------------------------------------------------------- scoring

_LABEL_PREFIX = re.compile(r"^(?:v\s*/\s*v|ve viec|ve)\s*[:.]?\s*")


def subject_key(text: str | None) -> str:
    """A trích yếu compared without its "Về việc"/"V/v" label, case, tones and punctuation."""
    f = " ".join(re.sub(r"[^\w/ ]+", " ", fold(nfc(text or ""))).split())
    f = re.sub(r"\[.*$", "", f)
    return _LABEL_PREFIX.sub("", f).strip()


def subject_ratio(got: str | None, want: str) -> float:
    want_key = subject_key(re.sub(r"\[[^\]]*\]", "", want))
    return fuzz.ratio(subject_key(got), want_key) / 100.0 if got else 0.0


def score(rows: list[Row]) -> dict:
    n = len(rows)
    type_ok = sum(r.type == TYPE_CODES.get(r.label["doc_type"]) for r in rows)
    so_exact = sum(r.so == r.label["so_ky_hieu"] for r in rows)
    so_null = sum(r.so is None and r.so_flagged for r in rows)
    ngay_exact = sum(r.ngay == r.label["ngay_ban_hanh"] for r in rows)
    ngay_null = sum(r.ngay is None and r.ngay_flagged for r in rows)
    wrong_unflagged = []
    for r in rows:
        if r.type != TYPE_CODES.get(r.label["doc_type"]) and not r.type_flagged:
            wrong_unflagged.append((r.id, "type", r.type))
        if r.so is not None and r.so != r.label["so_ky_hieu"] and not r.so_flagged:
            wrong_unflagged.append((r.id, "so_ky_hieu", r.so))
        if r.ngay is not None and r.ngay != r.label["ngay_ban_hanh"] and not r.ngay_flagged:
            wrong_unflagged.append((r.id, "ngay", r.ngay))
        # A null with no flag is no wrong value, but it is no "flagged" null either: it counts as a miss above.
    ratios = [subject_ratio(r.trich_yeu, r.label["trich_yeu"]) for r in rows]
    return {
        "n": n, "type": type_ok, "so_exact": so_exact, "so_null": so_null, "ngay_exact": ngay_exact,
        "ngay_null": ngay_null, "wrong_unflagged": wrong_unflagged, "fields": 3 * n,
        "subject_mean": sum(ratios) / n if n else 0.0, "subject_90": sum(x >= 0.9 for x in ratios),
        "ratios": ratios,
    }


def born_digital_cer(corpus: Path, pages: dict[str, list[dict]]) -> list[tuple[str, float]]:
    out = []
    for ref in sorted((corpus / "text").glob("*_p*.txt")):
        doc, n = ref.stem.rsplit("_p", 1)
        page = next((p for p in pages.get(doc, []) if p["n"] == int(n)), None)
        if page is not None:
            out.append((ref.stem, cer(page["text"], ref.read_text(encoding="utf-8"))))
    return out


def _pct(k: int, n: int) -> str:
    return f"{k}/{n} ({k / n:.0%})" if n else "-"


def render(rows: list[Row], res: dict, cers: list[tuple[str, float]], mode: str) -> str:
    n = res["n"]
    wu = len(res["wrong_unflagged"])

    def mark(value: float, key: str, lower: bool = False) -> str:
        target = TARGETS[key]
        ok = value <= target if lower else value >= target
        return "ok" if ok else "BELOW" if not lower else "ABOVE"

    so_ok = res["so_exact"] + res["so_null"]
    ng_ok = res["ngay_exact"] + res["ngay_null"]
    out = [f"## real-vbhc: {n} documents ({mode})", "",
           "| figure | value | target |", "|---|---|---|",
           f"| type accuracy | {_pct(res['type'], n)} | ≥ 95 % {mark(res['type'] / n, 'type')} |",
           f"| số ký hiệu exact or null + flagged | {_pct(so_ok, n)} | ≥ 95 % {mark(so_ok / n, 'so')} |",
           f"| số ký hiệu exact | {_pct(res['so_exact'], n)} | ≥ 80 % {mark(res['so_exact'] / n, 'so_exact')} |",
           f"| ngày exact or null + flagged | {_pct(ng_ok, n)} | ≥ 95 % {mark(ng_ok / n, 'ngay')} |",
           f"| ngày exact | {_pct(res['ngay_exact'], n)} | ≥ 85 % {mark(res['ngay_exact'] / n, 'ngay_exact')} |",
           f"| trích yếu fuzzy ratio (mean; ≥ 0.90) | {res['subject_mean']:.2f}; {_pct(res['subject_90'], n)} | |",
           f"| wrong value with no review flag (type, số, ngày) | {_pct(wu, res['fields'])} | ≤ 2 % "
           f"{mark(wu / res['fields'], 'wrong_unflagged', lower=True)} |"]
    if cers:
        mean = sum(c for _, c in cers) / len(cers)
        out.append(f"| CER of born-digital pages rasterised + OCRed (mean of {len(cers)}) | {mean:.1%} | |")
        out += ["", "CER per page: " + ", ".join(f"{k} {c:.1%}" for k, c in cers)]
    out += ["", "| doc | type | số ký hiệu | ngày | trích yếu ratio |", "|---|---|---|---|---|"]
    for r, ratio in zip(rows, res["ratios"], strict=True):
        want_t = TYPE_CODES.get(r.label["doc_type"])

        def cell(got, want, flagged):
            if got == want:
                return "ok"
            tag = " (flagged)" if flagged else ""
            return f"**{got}**{tag} ≠ {want}" if got is not None else f"null{tag} ≠ {want}"

        out.append(f"| {r.id} | {cell(r.type, want_t, r.type_flagged)} | {cell(r.so, r.label['so_ky_hieu'], r.so_flagged)}"
                   f" | {cell(r.ngay, r.label['ngay_ban_hanh'], r.ngay_flagged)} | {ratio:.2f} |")
    fails = []
    for r, ratio in zip(rows, res["ratios"], strict=True):
        want_t = TYPE_CODES.get(r.label["doc_type"])
        bits = []
        if r.type != want_t:
            bits.append(f"type {r.type} ({r.confidence:.2f}{', flagged' if r.type_flagged else ''}), want {want_t}")
        if r.so != r.label["so_ky_hieu"]:
            bits.append(f"số ký hiệu {r.so!r}{' flagged' if r.so_flagged else ''}, want {r.label['so_ky_hieu']}")
        if r.ngay != r.label["ngay_ban_hanh"]:
            bits.append(f"ngày {r.ngay!r}{' flagged' if r.ngay_flagged else ''}, want {r.label['ngay_ban_hanh']}")
        if ratio < 0.9:
            bits.append(f"trích yếu {ratio:.2f}: {squash(r.trich_yeu or '')[:120]!r}")
        if bits:
            why = f" — review: {'; '.join(r.reasons)}" if r.reasons else ""
            fails.append(f"- {r.id} ({r.label['capture']}, {r.components} components): " + "; ".join(bits) + why)
    if fails:
        out += ["", "### Failures, one by one", "", *fails]
    return "\n".join(out)


# --------------------------------------------------------------------------- main


def load_labels(corpus: Path, only: set[str] | None) -> list[dict]:
    with open(corpus / "labels.csv", encoding="utf-8", newline="") as fh:
        docs = [{k: nfc(v) for k, v in row.items()} for row in csv.DictReader(fh)]
    return [d for d in docs if not only or d["id"] in only]


def run_process(corpus: Path, docs: list[dict], settings: Settings) -> list[Row]:
    """The real `digitise()` per document into a throwaway store and catalog."""
    from pipeline.catalog.sqlite import SqliteCatalog
    from pipeline.digitise.dossier import digitise
    from pipeline.store.local import LocalStore

    rows = []
    with tempfile.TemporaryDirectory(prefix="sohoa-real-process-") as tmp:
        store = LocalStore(Path(tmp) / "store", "sohoa")
        catalog = SqliteCatalog(Path(tmp) / "catalog.db")
        for d in docs:
            t = time.perf_counter()
            manifest = digitise(corpus / d["file"], settings, store, catalog)
            print(f"  {d['id']}: {time.perf_counter() - t:.0f} s", file=sys.stderr)
            rows.append(row_from_manifest(d, manifest))
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python bench/real.py", description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", type=Path, default=Path(os.environ.get("SOHOA_REAL_CORPUS", DEFAULT_CORPUS)),
                    help="the real-vbhc folder (default: the checkout's sibling shared/corpora/real-vbhc)")
    ap.add_argument("--cache", type=Path, default=Path("/tmp/sohoa-real-cache"), help="OCR cache folder")
    ap.add_argument("--workers", type=int, default=2, help="pages OCRed at once")
    ap.add_argument("--only", help="comma-separated document ids")
    ap.add_argument("--process", action="store_true", help="run `digitise()` end to end (no cache)")
    ap.add_argument("--ocr-only", action="store_true", help="fill the cache, measure nothing")
    ap.add_argument("--write-doc", type=Path, help="also write the table to this Markdown file")
    args = ap.parse_args(argv)
    if not (args.corpus / "labels.csv").is_file():
        print(f"no labels.csv in {args.corpus}: pass --corpus", file=sys.stderr)
        return 2
    settings = Settings()
    docs = load_labels(args.corpus, set(args.only.split(",")) if args.only else None)
    t0 = time.perf_counter()
    cers: list[tuple[str, float]] = []
    if args.process:
        rows = run_process(args.corpus, docs, settings)
        mode = "`digitise()` end to end"
    else:
        pages = ocr_corpus(args.corpus, docs, args.cache, settings, args.workers)
        if args.ocr_only:
            return 0
        t1 = time.perf_counter()
        from pipeline.ingest.signatures import earliest, read_signatures

        rows = [row_from(d, *understand_pages(pages[d["id"]], settings, args.cache, d["id"],
                                              earliest(read_signatures(args.corpus / d["file"]))))
                for d in docs]
        print(f"understanding: {time.perf_counter() - t1:.1f} s", file=sys.stderr)
        cers = born_digital_cer(args.corpus, pages)
        mode = "every page rasterised and OCRed, cached"
    res = score(rows)
    text = render(rows, res, cers, mode)
    print(text)
    print(f"\n({time.perf_counter() - t0:.0f} s)", file=sys.stderr)
    if args.write_doc:
        write_doc(args.write_doc, text, "process" if args.process else "ocr")
    return 0


DOC_HEAD = """# Real documents

`bench/real.py` measures sohoa on `../shared/corpora/real-vbhc` — 24 real administrative documents of a
provincial People's Committee (signed scans, handwritten numbers, a 1999 typewritten page, three
born-digital PDFs; see that folder's README). It is a development set: the same build is also measured on
real documents of other offices that are not in the repository, so what is fixed here must be fixed for
every office (no rule for one document).

    python bench/real.py --corpus ../shared/corpora/real-vbhc --process --write-doc docs/real-documents.md
    python bench/real.py --corpus ../shared/corpora/real-vbhc --write-doc docs/real-documents.md

The first table is what `digitise()` makes of each PDF (text-layer decision, signatures, OCR, understanding);
the second OCRs every page whatever its text layer (the born-digital ones too, for the CER line) and is
the one to rerun while working on understanding: its OCR is cached, a rerun takes seconds.

"""


def write_doc(path: Path, table: str, key: str = "ocr") -> None:
    """Put the table between this mode's markers in the doc (created with a head if missing); the rest
    of the doc, written by hand, is kept."""
    path = path if path.is_absolute() else REPO / path
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    marker = f"<!-- bench/real.py table: {key} -->"
    body = f"{marker}\n{table}\n{marker}\n"
    if marker in old:
        head, _, rest = old.partition(marker)
        _, _, tail = rest.partition(marker)
        new = head + body + tail.lstrip("\n")
    elif old:
        at = old.find("<!-- bench/real.py table")  # another mode's table: this one goes before it
        new = old[:at] + body + "\n" + old[at:] if at >= 0 else old.rstrip("\n") + "\n\n" + body
    else:
        new = DOC_HEAD + body
    path.write_text(new, encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
