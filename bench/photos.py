"""Phone photos: OCR and ID-card fields with and without photo straightening.

    python bench/photos.py [--pages 12] [--seed 1] [--long-side 3000] [--jobs 2]

Generated pages (dossier documents and ID-card copies, front and back, of the three card models) are
put into phone photos (`samples.photo.photograph`: perspective, any turn, a textured table, uneven
light, JPEG). Each page is read three ways, through the cleaning chain and Tesseract `vie`:

- `scan`: the page as a flatbed would give it (the reference the photo should come close to);
- `before`: the photo with `cleaning.photo` off, and the card fields as the extraction read them
  before issue 12 (the generic CCCD and name finders, no MRZ re-read; birth dates were not read);
- `after`: the photo straightened and evenly lit, the MRZ re-read, the card read with
  `pipeline.understand.idcard` (front checked against the MRZ).

The photo's dpi is what the pipeline assumes for an image without one (A4 over the long side).
Printed: CER per way, corner error of the straightening, and card field accuracy (CCCD, name,
birth date) before and after.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402

from pipeline.imaging import photo  # noqa: E402
from pipeline.imaging.cleaning import clean_page  # noqa: E402
from pipeline.ingest.inputs import sane_dpi  # noqa: E402
from pipeline.ocr import mrz_zone  # noqa: E402
from pipeline.ocr.tesseract import ocr_image  # noqa: E402
from pipeline.ocr.words import words_to_text  # noqa: E402
from pipeline.settings import CleaningSettings  # noqa: E402
from pipeline.textnorm import cer, fold  # noqa: E402
from pipeline.understand.extract import cccd, extract_fields, ho_ten  # noqa: E402
from samples import content  # noqa: E402
from samples.generate import render_document, row_major_text  # noqa: E402
from samples.photo import card_alone, photograph  # noqa: E402

DOCS = [("uy_quyen", "giay_uy_quyen"), ("chuyen_nhuong_qsdd", "don_de_nghi"), ("dang_ky_khai_sinh", "to_khai"),
        ("chuyen_muc_dich_su_dung_dat", "quyet_dinh"), ("chuyen_nhuong_qsdd", "phieu_tiep_nhan")]
MODELS = ("2021", "2024", "2016")


def corpus(n: int, seed: int, long_side: int) -> list[dict]:
    """n photos: documents, card copies (front and back on one A4 page), and cards photographed
    alone (front and back, two photos of one card, often sideways)."""
    pages = []
    i = 0
    while len(pages) < n:
        rng = random.Random(f"{seed}-{i}")
        case = content.make_case(rng)
        kind = ("card", "doc", "alone", "doc")[i % 4]
        if kind == "doc":
            proc, part = DOCS[(i // 2) % len(DOCS)]
            doc = content.build_documents(case, proc, [part])[0]
        else:
            doc = content.doc_can_cuoc(case, case.applicant, model=MODELS[(i // 2) % 3], back_alone=False)
        if kind == "alone":
            shots = [card_alone(b, 200) for b in doc.blocks[:2]]
        else:
            pg = render_document(doc, 200, rng)[0]
            shots = [(pg.image, pg.lines)]
        for j, (image, lines) in enumerate(shots):
            img, corners, desc = photograph(image, rng, long_side=long_side if kind != "alone" else long_side * 2 // 3,
                                            quarter=rng.choice((0, 90, 270)) if kind == "alone" else None)
            pages.append({"id": f"{i:02d}{'ab'[j] if kind == 'alone' else ''}-{kind if kind != 'doc' else doc.type}",
                          "group": i, "card": kind != "doc", "meta": doc.metadata,
                          "scan": np.asarray(image.convert("RGB")), "photo": np.asarray(img),
                          "corners": np.array(corners), "ref": row_major_text(lines), "desc": desc})
        i += 1
    return pages


def read(px: np.ndarray, dpi: float, cfg: CleaningSettings, work: Path, stem: str, zone: bool) -> tuple[str, list[str]]:
    p = clean_page(px, dpi, cfg)
    if p.ocr is None:
        return "", p.steps
    r = ocr_image(p.ocr, p.ocr_dpi, work, stem)
    words = r.words
    if zone:
        zone = mrz_zone.reread(p.ocr, p.ocr_dpi, words)
        words = zone.words if zone else words
    return words_to_text(words), p.steps


def card_fields(text: str, new: bool) -> dict:
    if new:
        m = extract_fields(text, "can_cuoc")
        return {"cccd": m.cccd[:1], "name": m.ho_ten[:1], "birth": m.ngay_sinh, "review": m.review}
    return {"cccd": cccd(text)[:1], "name": ho_ten(text)[:1], "birth": None, "review": []}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pages", type=int, default=12)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--long-side", type=int, default=3000, help="pixels of the photo's long side")
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    pages = corpus(args.pages, args.seed, args.long_side)
    on, off = CleaningSettings(), CleaningSettings(photo=False)
    work = Path(tempfile.mkdtemp(prefix="sohoa-photos-"))

    def one(pg: dict) -> dict:
        dpi = sane_dpi(None, pg["photo"].shape[1::-1])[0]
        found = photo.find_page(pg["photo"])
        err = (max(float(np.min(np.linalg.norm(found - c, axis=1))) for c in pg["corners"])
               if found is not None else None)
        scan, _ = read(pg["scan"], 200, on, work, pg["id"] + "s", pg["card"])
        before, _ = read(pg["photo"], dpi, off, work, pg["id"] + "b", False)
        after, steps = read(pg["photo"], dpi, on, work, pg["id"] + "a", pg["card"])
        return {"pg": pg, "err": err, "steps": steps, "text": {"before": before, "after": after},
                "cer": {k: cer(t, pg["ref"]) for k, t in (("scan", scan), ("before", before), ("after", after))}}

    with ThreadPoolExecutor(args.jobs) as pool:
        results = list(pool.map(one, pages))
    cards = []  # one card: its page, or its two photos read as one component
    for group in sorted({r["pg"]["group"] for r in results if r["pg"]["card"]}):
        rs = [r for r in results if r["pg"]["group"] == group]
        fields = {way: card_fields("\n\n".join(r["text"][way] for r in rs), way == "after") for way in ("before", "after")}
        cards.append({"pg": rs[0]["pg"], "fields": fields})
    print(f"{len(results)} photos ({sum(r['pg']['card'] for r in results)} of ID cards), {len(cards)} cards\n")
    print("| page | photo | corner error px | CER scan | CER photo before | CER photo after | steps |")
    print("|---|---|---|---|---|---|---|")
    for r in results:
        c = r["cer"]
        e = f"{r['err']:.1f}" if r["err"] is not None else "not found"
        print(f"| {r['pg']['id']} | {r['pg']['desc']} | {e} | {c['scan']:.2%} | {c['before']:.2%} | {c['after']:.2%} | "
              f"{' '.join(r['steps'])} |")
    n = len(results)
    mean = {k: sum(r["cer"][k] for r in results) / n for k in ("scan", "before", "after")}
    found = [r["err"] for r in results if r["err"] is not None]
    print(f"\n{n} photos: corners found {len(found)}/{n}, error mean {np.mean(found):.1f} px, max {max(found):.1f} px")
    print(f"mean CER: scan {mean['scan']:.2%}, photo before {mean['before']:.2%}, photo after {mean['after']:.2%}")
    if cards:
        print("\n| card fields | before | after |\n|---|---|---|")
        for key, truth in (("cccd", lambda m: m["cccd"][:1]), ("name", lambda m: m["ho_ten"][:1]),
                           ("birth", lambda m: m["ngay_sinh"])):
            row = []
            for way in ("before", "after"):
                ok = 0
                for r in cards:
                    got, want = r["fields"][way][key], truth(r["pg"]["meta"])
                    if key == "name":
                        got, want = [fold(x) for x in got], [fold(x) for x in want]
                    ok += got == want
                row.append(f"{ok}/{len(cards)}")
            print(f"| {key} | {row[0]} | {row[1]} |")
        flagged = sum(bool(r["fields"]["after"]["review"]) for r in cards)
        print(f"\ncards flagged for review after: {flagged}/{len(cards)}")
        for r in cards:
            for why in r["fields"]["after"]["review"]:
                print(f"- {r['pg']['id']}: {why}")
    cmd = "python bench/photos.py " + " ".join(argv if argv is not None else sys.argv[1:])
    print(f"\n{n} pages, {time.perf_counter() - t0:.0f} s; `{cmd.strip()}`", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
