"""ID card pages: the text layer's CER and the Tesseract CPU of each page, for one or more checkouts.

    python bench/card_layers.py [--seeds 8] [--photos 6] [--repo ../before --repo .]

The pages: the card pages of the committed samples (hs_0001 p3, hs_0002 p3-4, hs_0003 p3), generated
card copies of the three card models (front and back on one page or the back alone, each damaged one
way in turn: photocopy, stamp, blur + JPEG, reduced, noise, shadow, speckle) and phone photos of card
copies and of cards alone (`samples.photo`). Each page goes through `pipeline.digitise.pages.
process_page` of each checkout (in a child process with that checkout first on the path), and its text
layer, as `pdftotext -raw` reads it, is compared with the truth read row by row (`row_major_text`, as
`tests/test_e2e.py` does). Printed: per page the steps that ran Tesseract again (`osd`, `mrz`…), the
page's Tesseract CPU and the CER, per checkout; then the means over the pages with a zone.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path

os.environ["OMP_THREAD_LIMIT"] = "1"
REPO = Path(__file__).resolve().parents[1]
# a child measures the checkout it is given (`--repo`): its packages first on the path
sys.path.insert(0, os.environ.get("CARD_LAYERS_REPO", str(REPO)))

DAMAGE = (None, "photocopy", "stamp", "blur_jpeg", "reduced", "noise", "shadow", "speckle")


def build(out: Path, seeds: int, photos: int) -> list[dict]:
    """The pages as files (one image each, or a sample dossier's page) with their truth text."""
    from samples import content
    from samples.generate import damage, render_document, row_major_text
    from samples.photo import card_alone, photograph

    marker = out / f"pages-{seeds}-{photos}.json"
    if marker.exists():
        return json.loads(marker.read_text())
    out.mkdir(parents=True, exist_ok=True)
    samples = REPO / "samples" / "dossiers"
    pages = []
    for name, numbers in (("hs_0001.pdf", [3]), ("hs_0002", [3, 4]), ("hs_0003.tiff", [3])):
        truth = json.loads((samples / f"{name.split('.')[0]}.truth.json").read_text(encoding="utf-8"))
        for n in numbers:
            pages.append({"id": f"{name.split('.')[0]}_p{n}", "path": str(samples / name), "index": n - 1,
                          "ref": row_major_text(truth["pages"][n - 1]["lines"])})
    i = 0
    for seed in range(seeds):
        for model in ("2021", "2024", "2016"):
            rng = random.Random(f"g{seed}{model}")
            case = content.make_case(rng)
            doc = content.doc_can_cuoc(case, case.applicant, model=model, back_alone=seed % 3 == 0)
            for j, pg in enumerate(render_document(doc, 200, rng)):
                kind = DAMAGE[i % len(DAMAGE)]
                i += 1
                img = damage(pg.image, kind, random.Random(i), dpi=200)[0] if kind else pg.image
                path = out / f"g{seed}_{model}_{j}_{kind}.png"
                img.convert("RGB").save(path, dpi=(200, 200))
                pages.append({"id": path.stem, "path": str(path), "index": 0, "ref": row_major_text(pg.lines)})
    for seed in range(photos):
        rng = random.Random(f"p{seed}")
        case = content.make_case(rng)
        model = ("2021", "2024")[seed % 2]
        doc = content.doc_can_cuoc(case, case.applicant, model=model, back_alone=False)
        if seed % 2:  # the card's two sides photographed alone, often sideways
            shots = [card_alone(b, 200) for b in doc.blocks[:2]]
        else:
            pg = render_document(doc, 200, rng)[0]
            shots = [(pg.image, pg.lines)]
        for j, (image, lines) in enumerate(shots):
            photo, _, _ = photograph(image, rng, long_side=2000 if seed % 2 else 3000,
                                     quarter=rng.choice((0, 90, 270)) if seed % 2 else None)
            path = out / f"ph{seed}_{model}_{j}.jpg"
            photo.convert("RGB").save(path, quality=90)
            pages.append({"id": path.stem, "path": str(path), "index": 0, "ref": row_major_text(lines)})
    marker.write_text(json.dumps(pages))
    return pages


def child(pages_json: str) -> None:
    """In a checkout's own interpreter path: every page through its `process_page`, one JSON line each."""
    from pipeline.digitise.pages import process_page
    from pipeline.ingest.inputs import open_dossier
    from pipeline.settings import Settings
    from pipeline.textnorm import cer

    pages = json.loads(Path(pages_json).read_text())
    with tempfile.TemporaryDirectory(prefix="sohoa-cards-") as tmp:
        settings = Settings(home=Path(tmp) / "home")
        (Path(tmp) / "work").mkdir()
        for pg in pages:
            ref = open_dossier(pg["path"]).pages[pg["index"]]
            out = process_page(ref, settings, Path(tmp) / "work")
            layer = out.part.textlayer if out.part is not None else None
            text = subprocess.run(["pdftotext", "-raw", str(layer), "-"], capture_output=True, text=True,
                                  check=True).stdout if layer is not None else ""
            again = [s for s in out.page.cleaning if s in ("osd",) or s.startswith("mrz")]
            print(json.dumps({"id": pg["id"], "cer": cer(text, pg["ref"]), "tesseract": out.cpu.get("tesseract", 0.0),
                              "again": again}), flush=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, default=8, help="generated card copies: seeds x 3 card models")
    ap.add_argument("--photos", type=int, default=6)
    ap.add_argument("--repo", type=Path, action="append", help="a checkout to measure (repeatable; default: this one)")
    ap.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "sohoa" / "card_layers")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        child(args.child)
        return 0
    pages = build(args.cache, args.seeds, args.photos)
    listing = args.cache / f"pages-{args.seeds}-{args.photos}.json"
    repos = [r.resolve() for r in (args.repo or [REPO])]
    results: list[dict[str, dict]] = []
    for repo in repos:
        proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child", str(listing)],
                              capture_output=True, text=True, cwd=repo, check=True,
                              env={**os.environ, "CARD_LAYERS_REPO": str(repo)})
        results.append({r["id"]: r for r in (json.loads(line) for line in proc.stdout.splitlines()
                                             if line.startswith("{"))})
    names = [str(r) for r in repos]
    print(f"{len(pages)} card pages; checkouts: " + ", ".join(f"({k + 1}) {n}" for k, n in enumerate(names)) + "\n")
    print("| page | " + " | ".join(f"({k + 1}) again | ({k + 1}) Tesseract s | ({k + 1}) CER" for k in range(len(repos)))
          + " |")
    print("|---|" + "---|---|---|" * len(repos))
    for pg in pages:
        cells = []
        for res in results:
            r = res[pg["id"]]
            cells += [" ".join(r["again"]) or "–", f"{r['tesseract']:.2f}", f"{r['cer']:.2%}"]
        print(f"| {pg['id']} | " + " | ".join(cells) + " |")
    zoned = [pg["id"] for pg in pages if any(any(s.startswith("mrz") for s in res[pg["id"]]["again"]) for res in results)]
    cells = []
    for res in results:
        n = max(1, len(zoned))
        cells += [f"{len(zoned)} pages", f"{sum(res[i]['tesseract'] for i in zoned):.1f}",
                  f"{sum(res[i]['cer'] for i in zoned) / n:.2%}"]
    print("| **pages with a zone: sum / mean** | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
