"""Backlog throughput and memory: `sohoa backlog` on generated dossiers beside raw Tesseract.

    python bench/backlog.py [--sizes 50 200] [--jobs N] [--parts 2]

For each size: generate that many dossiers (varied procedures, `--parts` component documents each,
light degradation, PDF / JPEG-folder / TIFF mixed; generation is not timed), run raw Tesseract on the
same pages (rendered beforehand at 300 dpi, one single-threaded process per page, N at a time), then
`sohoa backlog` on the tree with a fresh data home (Prefect start-up included). Peak RSS is the
high-water mark of the sohoa process itself (Tesseract's own processes are per page and short).
Prints one table; ratios are from one run.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.throughput import render_pages, time_raw_tesseract  # noqa: E402
from samples import content  # noqa: E402
from samples.generate import make_dossier, write_dossier  # noqa: E402

FORMATS = ["pdf", "jpg-folder", "tiff"]


def generate(n: int, out: Path, parts: int, seed: int) -> list[Path]:
    rng = random.Random(seed)
    paths = []
    for i in range(n):
        procedure = rng.choice(sorted(content.PROCEDURE_PARTS))
        chosen = content.choose_parts(rng, procedure)[:parts]
        d = make_dossier(rng, procedure, dpi=300, degrade="light", dossier_id=f"hs_{i:05d}", parts=chosen,
                         blank_separator=False)
        paths.append(write_dossier(d, out, FORMATS[i % len(FORMATS)], colour="grey", quality=80))
    for truth in out.glob("*.truth.json"):
        truth.unlink()
    return paths


def peak_rss_mb(pid: int, stop: threading.Event, peak: list[float]) -> None:
    while not stop.is_set():
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak[0] = max(peak[0], int(line.split()[1]) / 1024)
        except OSError:
            return
        time.sleep(0.2)


def run_backlog(tree: Path, home: Path, jobs: int) -> tuple[float, float, dict]:
    env = {**os.environ, "SOHOA_HOME": str(home), "SOHOA_WORKERS": str(jobs)}
    env.pop("PREFECT_API_URL", None)
    t = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "flows.cli", "backlog", str(tree), "--json"], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    stop, peak = threading.Event(), [0.0]
    watcher = threading.Thread(target=peak_rss_mb, args=(proc.pid, stop, peak), daemon=True)
    watcher.start()
    out, err = proc.communicate()
    wall = time.perf_counter() - t
    stop.set()
    if proc.returncode not in (0, 1):
        raise SystemExit(f"sohoa backlog failed:\n{err[-3000:]}")
    return wall, peak[0], json.loads(out.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[50, 200])
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--parts", type=int, default=2)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    rows = []
    for n in args.sizes:
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            (tmp / "tree").mkdir()
            (tmp / "pages").mkdir()
            (tmp / "raw").mkdir()
            dossiers = generate(n, tmp / "tree", args.parts, args.seed)
            pages = render_pages(dossiers, tmp / "pages")
            raw = time_raw_tesseract(pages, args.jobs, tmp / "raw")
            wall, rss, report = run_backlog(tmp / "tree", tmp / "home", args.jobs)
        rows.append((n, len(pages), raw, wall, rss, report))
    print(f"{args.jobs} jobs, {os.cpu_count()} cores; sohoa = `sohoa backlog` end to end incl. Prefect start-up")
    print(f"{'dossiers':>8} {'pages':>6} {'raw s':>7} {'raw p/min':>9} {'sohoa s':>8} {'sohoa p/min':>11} "
          f"{'x raw':>6} {'peak RSS MB':>11} {'done':>5} {'failed':>6}")
    for n, p, raw, wall, rss, rep in rows:
        print(f"{n:8d} {p:6d} {raw:7.1f} {p / raw * 60:9.1f} {wall:8.1f} {p / wall * 60:11.1f} "
              f"{wall / raw:6.2f} {rss:11.0f} {rep['done']:5d} {rep['failed']:6d}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
