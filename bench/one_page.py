"""`sohoa process` of one page beside that page's own OCR time: what a one-page run costs above Tesseract.

    python bench/one_page.py [IMAGE] [--runs 5] [--repo CHECKOUT ...]
    python bench/one_page.py --repo ../before --repo .     # before and after, round by round

The page (default: the first degraded page of `bench/stages.py`'s corpus, a stamped JPEG) is cleaned
as sohoa cleans it, and its OCR image is given to raw `tesseract -l vie` (OMP_THREAD_LIMIT=1, TSV + PDF
as sohoa asks): that is the page's own time, the floor. Then `sohoa process IMAGE` runs on the embedded
default (no Prefect server configured: a fresh data home, PREFECT_API_URL unset), the first time with an
empty data home and then again, alternating with the floor so both see the same load. Medians of wall
and CPU (user+sys of the process and all its children), the overhead (sohoa - floor), and peak RSS.
The target (issue 15): overhead wall <= 1 s.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ["OMP_THREAD_LIMIT"] = "1"
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def timed(cmd: list[str], env: dict | None = None, cwd: Path | None = None) -> tuple[float, float, float]:
    """(wall s, CPU s of the process and its reaped children, peak RSS MB of the largest of them)."""
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    err = proc.stderr.read() if proc.stderr else b""
    _, status, ru = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{cmd[:4]} failed:\n{err.decode(errors='replace')[-2000:]}")
    return wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss / 1024


def floor_image(image: Path, out: Path) -> tuple[Path, float]:
    """The page's OCR image as sohoa cleans it, in the format sohoa hands it to Tesseract, and its dpi."""
    import cv2

    from pipeline.imaging.cleaning import clean_page
    from pipeline.ingest.inputs import load_page, open_dossier
    from pipeline.ocr.tesseract import IMAGE_SUFFIX
    from pipeline.settings import Settings

    settings = Settings.load()
    ref = open_dossier(image).pages[0]
    page = load_page(ref, settings.ocr.dpi, max_pixels=settings.limits.max_pixels, min_dpi=settings.limits.min_dpi)
    prepared = clean_page(page.pixels, page.dpi, settings.cleaning, display_max_dpi=settings.display.max_dpi)
    dest = out / f"page.ocr{IMAGE_SUFFIX}"
    cv2.imwrite(str(dest), prepared.ocr)
    return dest, prepared.ocr_dpi


def default_image() -> Path:
    from bench.stages import build_corpus

    dossiers = build_corpus(Path.home() / ".cache" / "sohoa" / "stages", 4, 15, 5)
    folder = next(d for d in dossiers if d.is_dir())
    return sorted(folder.glob("*.jpg"), key=lambda p: int(p.stem))[0]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("image", nargs="?", type=Path)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--repo", type=Path, action="append",
                    help="a checkout whose `sohoa` is timed (several: run in turn, round by round); default this one")
    args = ap.parse_args(argv)
    repos = [r.resolve() for r in (args.repo or [REPO])]
    image = (args.image or default_image()).resolve()
    with tempfile.TemporaryDirectory(prefix="sohoa-one-") as tmp:
        tmp = Path(tmp)
        ocr, dpi = floor_image(image, tmp)
        tess = ["tesseract", str(ocr), str(tmp / "floor"), "-l", "vie", "--dpi", str(round(dpi)),
                "-c", "tessedit_create_tsv=1", "-c", "textonly_pdf=1", "pdf"]
        env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
        floor: list = []
        runs: dict[Path, list] = {r: [] for r in repos}
        fresh: dict[Path, tuple] = {}
        timed(tess)  # page cache warm for both
        for i in range(args.runs + 1):
            floor.append(timed(tess))
            for k, repo in enumerate(repos):
                home = {"SOHOA_HOME": str(tmp / f"home{k}"), "PREFECT_HOME": str(tmp / f"prefect{k}")}
                r = timed([sys.executable, "-m", "flows.cli", "process", str(image)], {**env, **home}, repo)
                if i == 0:
                    fresh[repo] = r
                else:
                    runs[repo].append(r)
        load = os.getloadavg()
    fl = [statistics.median(x[k] for x in floor) for k in range(3)]
    print(f"one page: {image.name}; {args.runs} runs (medians), round by round; load average {load[0]:.1f} "
          f"{load[1]:.1f} {load[2]:.1f} on {os.cpu_count()} cores\n")
    print("| | wall s | CPU s | peak RSS MB | overhead wall s | overhead CPU s |\n|---|---|---|---|---|---|")
    print(f"| page's own OCR (raw `tesseract -l vie` on its cleaned image) | {fl[0]:.2f} | {fl[1]:.2f} | {fl[2]:.0f} | | |")
    for repo in repos:
        med = [statistics.median(x[k] for x in runs[repo]) for k in range(3)]
        f = fresh[repo]
        print(f"| `sohoa process` from {repo}, fresh data home (one run) | {f[0]:.2f} | {f[1]:.2f} | {f[2]:.0f} | "
              f"{f[0] - fl[0]:+.2f} | {f[1] - fl[1]:+.2f} |")
        print(f"| `sohoa process` from {repo}, data home exists | {med[0]:.2f} | {med[1]:.2f} | {med[2]:.0f} | "
              f"**{med[0] - fl[0]:+.2f}** | **{med[1] - fl[1]:+.2f}** |")
    print(f"\nwall s per run: floor {' '.join(f'{x[0]:.2f}' for x in floor)}")
    for repo in repos:
        print(f"{repo}: {' '.join(f'{x[0]:.2f}' for x in runs[repo])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
