"""Handwritten blanks: the digit reader on held-out MNIST, and generated issued documents whose number and
day are written by hand (`samples.handwriting`), through the real page step and the understanding step.

    python bench/handwriting.py [--docs 12] [--seed 0]

Prints one table: the reader's held-out accuracy, then for the generated documents the số ký hiệu and the
ngày exact / empty and flagged / wrong with a flag / wrong without one, read as an unsigned scan and as the
same scan digitally signed on its date or up to two days later (the signing date is evidence for the day).
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402

from pipeline.digitise.stream import process_pages  # noqa: E402
from pipeline.ingest.inputs import open_dossier  # noqa: E402
from pipeline.ocr import handdigits  # noqa: E402
from pipeline.settings import Settings  # noqa: E402
from pipeline.understand.extract import extract_fields  # noqa: E402
from pipeline.understand.number_date import Evidence  # noqa: E402
from samples.generate import make_dossier, write_dossier  # noqa: E402


def held_out_accuracy() -> float:
    x, y = handdigits.mnist()
    _, held = handdigits.split()
    probs = handdigits.classify([handdigits.normalise(x[i] > 127) for i in held])
    return float(np.mean(probs.argmax(axis=1) == y[held]))


def outcome(got: str | None, want: str, flagged: bool) -> str:
    if got == want:
        return "exact"
    if got is None:
        return "flagged" if flagged else "missing"
    return "wrong, flagged" if flagged else "WRONG"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--docs", type=int, default=12)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    t0, c0 = time.perf_counter(), time.process_time()
    acc = held_out_accuracy()
    counts: dict[tuple[str, str], dict[str, int]] = {}
    with tempfile.TemporaryDirectory(prefix="sohoa-hand-") as tmp:
        work = Path(tmp)
        for i in range(args.docs):
            seed = args.seed * 1000 + i
            d = make_dossier(random.Random(seed), "van_ban_ket_qua", 300, "light", parts=["quyet_dinh"],
                             blank_separator=False, dossier_id=f"hw_{seed}", handwritten=1.0)
            path = write_dossier(d, work, "tiff", quality=85)
            first = process_pages(open_dossier(path), Settings(home=work, workers=1), work / f"p{seed}")[0]
            truth = d.components[0].metadata
            signed = dt.datetime.fromisoformat(truth["ngay"]) + dt.timedelta(days=seed % 3, hours=10)
            for mode, ev in (("unsigned", Evidence(list(first.page.blanks))),
                             ("signed", Evidence(list(first.page.blanks), [signed]))):
                meta = extract_fields(first.page.text, "quyet_dinh", ev)
                for field in ("so_ky_hieu", "ngay"):
                    flagged = any(r.split(":", 1)[0] == field for r in meta.review)
                    key = outcome(getattr(meta, field), truth[field], flagged)
                    row = counts.setdefault((field, mode), {})
                    row[key] = row.get(key, 0) + 1
    print(f"## Handwritten blanks ({args.docs} generated quyết định, seed {args.seed})\n")
    print(f"Reader accuracy on the {handdigits.HELD_OUT} held-out MNIST digits: {acc:.1%}\n")
    cols = ["exact", "flagged", "wrong, flagged", "WRONG", "missing"]
    print("| field | scan | " + " | ".join(cols) + " |")
    print("|---|---|" + "---|" * len(cols))
    for (field, mode), row in counts.items():
        print(f"| {field} | {mode} | " + " | ".join(str(row.get(c, 0)) for c in cols) + " |")
    print(f"\n({time.perf_counter() - t0:.0f} s wall, {time.process_time() - c0:.0f} s CPU in this process)",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
