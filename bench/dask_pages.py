"""Page fan-out: the local thread pool beside a Dask cluster with the same number of threads.

    python bench/dask_pages.py [DOSSIER ...] [--threads N]

Both sides OCR the same pages of each dossier (`pipeline.digitise.pages.iter_pages`): the thread pool with
`workers = N`, and a `distributed.LocalCluster` of N worker processes x 1 thread on loopback (its
start-up not timed). On one machine Dask cannot be faster; the table shows what the fan-out costs
(sending source bytes, shipping JPEG and text layer back) so that spare machines can be weighed
against it. Prints one table; one run per cell.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pipeline.digitise.dask_pages import close_clients  # noqa: E402
from pipeline.digitise.pages import iter_pages  # noqa: E402
from pipeline.ingest.inputs import open_dossier  # noqa: E402
from pipeline.settings import Settings  # noqa: E402


def default_dossiers() -> list[Path]:
    root = REPO / "samples" / "dossiers"
    return sorted(p for p in root.iterdir() if not p.name.endswith(".json") and not p.name.startswith("."))


def timed(path: Path, settings: Settings) -> tuple[float, list[str]]:
    refs = open_dossier(path).pages
    with tempfile.TemporaryDirectory() as work:
        t = time.perf_counter()
        outs = sorted(iter_pages(refs, settings, Path(work)), key=lambda o: o.page.n)
        return time.perf_counter() - t, [o.page.text for o in outs]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dossiers", nargs="*", type=Path)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    dossiers = args.dossiers or default_dossiers()
    from distributed import LocalCluster

    with tempfile.TemporaryDirectory() as home, \
            LocalCluster(n_workers=args.threads, threads_per_worker=1, processes=True, host="127.0.0.1",
                         dashboard_address=None) as cluster:
        local = Settings(home=Path(home), workers=args.threads)
        dask = local.model_copy(update={"run": local.run.model_copy(
            update={"dask_address": cluster.scheduler_address})})
        timed(dossiers[0], dask)  # warm the workers' imports (OpenCV, Tesseract data), not timed
        rows = []
        for d in dossiers:
            t_local, text_local = timed(d, local)
            t_dask, text_dask = timed(d, dask)
            rows.append((d.name, len(text_local), t_local, t_dask, text_local == text_dask))
        close_clients()
    print(f"{'dossier':<14} {'pages':>5} {'threads s':>10} {'dask s':>8} {'dask/threads':>12} {'same text':>9}")
    for name, pages, t_local, t_dask, same in rows:
        print(f"{name:<14} {pages:>5} {t_local:>10.1f} {t_dask:>8.1f} {t_dask / t_local:>12.2f} {str(same):>9}")
    total_l, total_d = sum(r[2] for r in rows), sum(r[3] for r in rows)
    print(f"{'total':<14} {sum(r[1] for r in rows):>5} {total_l:>10.1f} {total_d:>8.1f} {total_d / total_l:>12.2f}")


if __name__ == "__main__":
    main()
