"""What cleaning costs beside Tesseract, measured the way the pipeline runs: both on the same page,
in the same worker, at the same time as the other workers.

    python bench/cleaning_cost.py [--pages-per-group 3] [--seed 7] [--jobs 2] [--rounds 1]

The corpus is `bench/ocr_quality.py`'s (rendered once, shared cache). `--jobs` worker processes
(one per core, as `digitise.stream.process_pages` runs pages) each take a page, clean it with the full chain
(`cleaning.clean_page`, Tesseract OSD included when the chain asks for it) and OCR it with
`ocr.ocr_image` (one `tesseract -l vie` with `OMP_THREAD_LIMIT=1`, TSV + text-only PDF, the words
refined). Cleaning is the worker's own CPU time plus the OSD child's; Tesseract is the OCR child's
CPU time (`getrusage(RUSAGE_CHILDREN)`). No cache: every page is cleaned and OCRed in this run, so
both sides see the same load. Prints one table: per page kind and for all pages, the mean CPU per
page of each side and their ratio (the issue's budget: cleaning <= 15 % of Tesseract).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

os.environ["OMP_THREAD_LIMIT"] = "1"
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def _children_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def _one(path: str, dpi: float) -> tuple[float, float, list[str]]:
    """(cleaning CPU s, Tesseract CPU s, steps) for one page, in this worker."""
    import numpy as np
    from PIL import Image

    from pipeline.imaging import cleaning
    from pipeline.ocr.tesseract import ocr_image, osd_rotation

    pixels = np.asarray(Image.open(path).convert("RGB"))
    c0, t0 = _children_cpu(), time.thread_time()
    prep = cleaning.clean_page(pixels, dpi, osd=osd_rotation)
    clean = time.thread_time() - t0 + _children_cpu() - c0
    if prep.blank:
        return clean, 0.0, prep.steps
    with tempfile.TemporaryDirectory(prefix="sohoa-cost-") as tmp:
        c1 = _children_cpu()
        ocr_image(prep.ocr, prep.ocr_dpi, Path(tmp), "p", psm=prep.psm or 3)
        tess = _children_cpu() - c1
    return clean, tess, prep.steps


def main(argv: list[str] | None = None) -> int:
    from bench.ocr_quality import build_corpus

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pages-per-group", type=int, default=3)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--rounds", type=int, default=1, help="run the corpus this many times (means over all)")
    ap.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "sohoa" / "ocr_quality")
    args = ap.parse_args(argv)
    corpus = [p for p in build_corpus(args.cache / "corpus", args.seed, args.pages_per_group)]
    t0 = time.perf_counter()
    rows: list[tuple[str, float, float]] = []
    with ProcessPoolExecutor(args.jobs) as pool:
        for _ in range(args.rounds):
            futs = [(p, pool.submit(_one, str(p.path), p.dpi)) for p in corpus]
            for p, f in futs:
                clean, tess, _ = f.result()
                rows.append((p.kind, clean, tess))
    wall = time.perf_counter() - t0

    def line(name: str, rs: list[tuple[str, float, float]]) -> str:
        text = [r for r in rs if r[2] > 0]
        c = sum(r[1] for r in text)
        t = sum(r[2] for r in text)
        shares = [r[1] / r[2] for r in text]
        med = statistics.median(shares) if shares else float("nan")
        return (f"| {name} | {len(rs)} | {1000 * c / max(1, len(text)):.0f} | {1000 * t / max(1, len(text)):.0f} | "
                f"{100 * c / t if t else float('nan'):.1f} % | {100 * med:.1f} % |")

    print(f"Cleaning vs Tesseract CPU, {len(corpus)} pages x {args.rounds}, {args.jobs} workers at once "
          f"({wall:.0f} s wall)\n")
    print("| page kind | pages | cleaning ms/page | Tesseract ms/page | cleaning / Tesseract | median per page |")
    print("|---|---|---|---|---|---|")
    for kind in sorted({r[0] for r in rows if r[2] > 0}):
        print(line(kind, [r for r in rows if r[0] == kind and r[2] > 0]))
    blanks = [r for r in rows if r[2] == 0]
    print(line("**all text pages**", [r for r in rows if r[2] > 0]))
    if blanks:
        print(f"\nblank pages (no OCR): {len(blanks)}, cleaning {1000 * statistics.mean(r[1] for r in blanks):.0f} ms each")
    return 0


if __name__ == "__main__":
    sys.exit(main())
