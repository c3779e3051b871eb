"""The handwritten-digit reader alone on the real header blanks of `../shared/corpora/real-vbhc`.

    python bench/handdigits_real.py [--corpus DIR] [--cache /tmp/sohoa-real-cache] [--crops DIR] [-v]

The blanks are cut by the project's own code (`pipeline.ocr.blanks.read_blanks`) from the first page's
cached OCR image and words (the cache `bench/real.py` writes); every crop it hands to the digit reader is
kept (under `--crops`, reused on a rerun: the reader can then be measured without Tesseract) and read again
here by the current `pipeline.ocr.handdigits`. The truth is labels.csv: the number before the first "/" of
`so_ky_hieu`, the day and month of `ngay_ban_hanh` (a day or month may be written "5" or "05": the form
with the reading's length counts). This set is for measuring, never for training.

Prints per blank the truth, the reading and its digit probabilities, then a table: blanks read exactly,
digits read right where the reader found the right number of digits, blanks with too many / too few digits.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import cv2  # noqa: E402

from pipeline.ocr import handdigits  # noqa: E402

DEFAULT_CORPUS = REPO.parent / "shared" / "corpora" / "real-vbhc"


def truths(label: dict) -> dict[str, list[str]]:
    """The digits each blank should hold (the forms a writer may use)."""
    out: dict[str, list[str]] = {}
    number = label["so_ky_hieu"].split("/")[0].strip()
    if number.isdigit():
        out["so"] = [number]
    date = label["ngay_ban_hanh"]
    if len(date) == 10:
        for name, part in (("day", date[8:10]), ("month", date[5:7])):
            out[name] = sorted({part, str(int(part))})
    return out


def cut_crops(corpus: Path, cache: Path, crops: Path) -> None:
    """The crops the reader is given on each document's first page, written as `<doc>_<field>.png`
    (with the crop's white margin in the name's JSON sidecar)."""
    from pipeline.ocr import blanks
    from pipeline.ocr.words import Word

    crops.mkdir(parents=True, exist_ok=True)
    seen: list[tuple[object, int]] = []
    real = handdigits.read_digits

    def spy(crop, models_dir=None, margin=0):
        seen.append((crop.copy(), margin))
        return real(crop, models_dir, margin)

    with open(corpus / "labels.csv", encoding="utf-8") as f:
        docs = [r["id"] for r in csv.DictReader(f)]
    handdigits.read_digits = spy
    try:
        for doc in docs:
            page = cache / doc / "p01.json"
            image = cv2.imread(str(page.with_suffix(".png")), cv2.IMREAD_GRAYSCALE)
            if not page.exists() or image is None:
                continue
            data = json.loads(page.read_text(encoding="utf-8"))
            words = [Word(w[0], w[1], tuple(w[2:6]), w[6], w[7], w[8]) for w in data["words"]]
            seen.clear()
            reads = blanks.read_blanks(image, words)
            given = [r for r in reads if r.hand or r.rereads]  # the blanks whose crop went to the reader
            for read, (crop, margin) in zip(given, seen, strict=False):
                cv2.imwrite(str(crops / f"{doc}_{read.field}.png"), crop)
                (crops / f"{doc}_{read.field}.json").write_text(json.dumps({"margin": margin}))
    finally:
        handdigits.read_digits = real


def evaluate(crops: Path, labels: dict[str, dict], verbose: bool = False) -> dict[str, dict[str, int]]:
    """Every kept crop read by the current reader against its label; counts per blank kind and "all"."""
    stats = {f: {"blanks": 0, "exact": 0, "digits": 0, "right": 0, "more": 0, "fewer": 0, "none": 0}
             for f in ("so", "day", "month")}
    for png in sorted(crops.glob("*.png")):
        doc, field = png.stem.rsplit("_", 1)
        want = truths(labels.get(doc, {"so_ky_hieu": "", "ngay_ban_hanh": ""})).get(field)
        if not want:
            continue
        margin = json.loads(png.with_suffix(".json").read_text())["margin"]
        read = handdigits.read_digits(cv2.imread(str(png), cv2.IMREAD_GRAYSCALE), margin=margin)
        got = read.text if read is not None else ""
        s = stats[field]
        s["blanks"] += 1
        s["exact"] += got in want
        same = [w for w in want if len(w) == len(got)]
        if not got:
            s["none"] += 1
        elif same:
            s["digits"] += len(got)
            s["right"] += sum(a == b for a, b in zip(same[0], got, strict=True))
        elif len(got) > max(map(len, want)):
            s["more"] += 1
        else:
            s["fewer"] += 1
        if verbose or got not in want:
            probs = " ".join(f"{max(p):.2f}" for p in read.probs) if read else ""
            mark = "ok " if got in want else "BAD"
            print(f"{mark} {doc:8} {field:5} want {'/'.join(want):6} read {got or '–':5} ({probs})")
    stats["all"] = {k: sum(s[k] for s in stats.values()) for k in stats["so"]}
    return stats


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument("--cache", type=Path, default=Path("/tmp/sohoa-real-cache"))
    ap.add_argument("--crops", type=Path, default=Path("/tmp/sohoa-real-crops"))
    ap.add_argument("--recut", action="store_true", help="cut the crops again (after a change to blanks.py)")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args(argv)
    if args.recut or not any(args.crops.glob("*.png")):
        cut_crops(args.corpus, args.cache, args.crops)
    with open(args.corpus / "labels.csv", encoding="utf-8") as f:
        labels = {r["id"]: r for r in csv.DictReader(f)}
    handdigits.model()  # trained or loaded before the clock starts
    t0, c0 = time.perf_counter(), time.process_time()
    stats = evaluate(args.crops, labels, args.verbose)
    print(f"\n## Handwritten-digit reader on the real blanks ({args.crops})\n")
    print("| blank | crops | exact | digits right | more digits | fewer digits | nothing |")
    print("|---|---|---|---|---|---|---|")
    for name, s in stats.items():
        digits = f"{s['right']}/{s['digits']}" + (f" ({s['right'] / s['digits']:.0%})" if s["digits"] else "")
        print(f"| {name} | {s['blanks']} | {s['exact']} | {digits} | {s['more']} | {s['fewer']} | {s['none']} |")
    print(f"\n({time.perf_counter() - t0:.1f} s wall, {time.process_time() - c0:.1f} s CPU reading)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
