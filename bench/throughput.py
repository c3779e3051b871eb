"""Throughput: `sohoa process` on the samples beside raw Tesseract and OCRmyPDF on the same pages.

    python bench/throughput.py [DOSSIER ...] [--jobs N]

Raw Tesseract is the floor: the same pages, pre-rendered at 300 dpi (not timed), one
single-threaded `tesseract -l vie` process per page, N at a time. sohoa is timed end to end as a
user runs it (a fresh data home, Prefect's local mode start-up included) and also from its own
per-dossier timings (without the one-off start-up). Prints one table; ratios are from one run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pipeline.ingest.inputs import load_page, open_dossier  # noqa: E402
from pipeline.publish.pdfout import write_jpeg  # noqa: E402


def default_dossiers() -> list[Path]:
    root = REPO / "samples" / "dossiers"
    return sorted(p for p in root.iterdir() if not p.name.endswith(".json") and not p.name.startswith("."))


def render_pages(dossiers: list[Path], out: Path) -> list[Path]:
    pages: list[Path] = []
    for d in dossiers:
        src = open_dossier(d)
        for ref in src.pages:
            img = load_page(ref, 300)
            path = out / f"{src.dossier_id}-{ref.n:03d}.png"
            import cv2

            cv2.imwrite(str(path), img.pixels if img.pixels.ndim == 2 else cv2.cvtColor(img.pixels, cv2.COLOR_RGB2BGR))
            pages.append(path)
    return pages


def time_raw_tesseract(pages: list[Path], jobs: int, out: Path) -> float:
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}

    def one(p: Path) -> None:
        subprocess.run(["tesseract", str(p), str(out / p.stem), "-l", "vie", "--dpi", "300", "txt", "pdf"],
                       env=env, check=True, capture_output=True)

    t = time.perf_counter()
    with ThreadPoolExecutor(jobs) as pool:
        list(pool.map(one, pages))
    return time.perf_counter() - t


def as_pdf(d: Path, out: Path) -> Path:
    if d.suffix.lower() == ".pdf":
        return d
    import img2pdf

    src = open_dossier(d)
    jpgs = []
    for ref in src.pages:
        img = load_page(ref, 300)
        jpgs.append(write_jpeg(img.pixels, out / f"{src.dossier_id}-{ref.n}.jpg", 90))
    pdf = out / f"{src.dossier_id}.pdf"
    pdf.write_bytes(img2pdf.convert([str(j) for j in jpgs], layout_fun=img2pdf.get_fixed_dpi_layout_fun((300, 300))))
    return pdf


def time_ocrmypdf(dossiers: list[Path], jobs: int, out: Path) -> float | None:
    if not shutil.which("ocrmypdf"):
        return None
    inputs = [as_pdf(d, out) for d in dossiers]
    t = time.perf_counter()
    for i, pdf in enumerate(inputs):
        subprocess.run(["ocrmypdf", "-q", "-l", "vie", "--jobs", str(jobs), str(pdf), str(out / f"o{i}.pdf")],
                       check=True, capture_output=True)
    return time.perf_counter() - t


def time_sohoa(dossiers: list[Path], jobs: int, home: Path) -> tuple[float, float]:
    env = {**os.environ, "SOHOA_HOME": str(home), "SOHOA_WORKERS": str(jobs)}
    sohoa = [sys.executable, "-m", "flows.cli"]
    t = time.perf_counter()
    proc = subprocess.run([*sohoa, "process", "--json", *map(str, dossiers)], env=env, cwd=REPO,
                          capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t
    if proc.returncode != 0:
        raise SystemExit(f"sohoa process failed:\n{proc.stderr[-3000:]}")
    inner = sum(json.loads(line)["timings"]["total_s"] for line in proc.stdout.splitlines() if line.strip())
    return wall, inner


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dossiers", nargs="*", type=Path)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--no-ocrmypdf", action="store_true")
    args = ap.parse_args()
    dossiers = args.dossiers or default_dossiers()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for sub in ("pages", "raw", "ocrmypdf", "home"):
            (tmp / sub).mkdir()
        pages = render_pages(dossiers, tmp / "pages")
        n = len(pages)
        raw = time_raw_tesseract(pages, args.jobs, tmp / "raw")
        wall, inner = time_sohoa(dossiers, args.jobs, tmp / "home")
        omp = None if args.no_ocrmypdf else time_ocrmypdf(dossiers, args.jobs, tmp / "ocrmypdf")
    rows = [("raw tesseract (floor)", raw), ("sohoa process (end to end)", wall),
            ("sohoa, dossier steps only", inner)]
    if omp is not None:
        rows.append((f"ocrmypdf -l vie --jobs {args.jobs}", omp))
    print(f"{len(dossiers)} dossiers, {n} pages, {args.jobs} jobs, {os.cpu_count()} cores")
    print(f"{'method':34} {'seconds':>8} {'pages/min':>10} {'x raw':>7}")
    for name, secs in rows:
        print(f"{name:34} {secs:8.1f} {n / secs * 60:10.1f} {secs / raw:7.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
