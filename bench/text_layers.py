"""Text layers and signatures of the real documents: which pages go to OCR, which keep their text.

    python bench/text_layers.py [--corpus ../shared/corpora/real-vbhc]

For every PDF of the corpus: its pages, its signature fields (pyHanko: signer organisation, how
many are intact, whether the last covers the whole file), what its text layer is made of (page
geometry from `pipeline.ingest.pdf_layers`) and the decision per page under `ocr.text_layer` =
`keep` (the rule before issue 12: any text that reads as text is kept) and `auto`. Nothing is
OCRed, so the whole corpus takes seconds. Prints a Markdown table and the totals.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pipeline.digitise.text_layer import decide, with_layers  # noqa: E402
from pipeline.ingest.inputs import open_dossier  # noqa: E402
from pipeline.ingest.signatures import read_signatures  # noqa: E402


def short(kind: str) -> str:
    return {"stub_over_image": "stub", "born_digital": "born", "ocr_layer": "ocr-layer",
            "text_over_image": "text/img", "unusable": "bad", "none": "-"}.get(kind, kind)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=REPO.parent / "shared" / "corpora" / "real-vbhc")
    args = ap.parse_args()
    pdfs = sorted((args.corpus / "pdf").glob("*.pdf"))
    if not pdfs:
        sys.exit(f"no PDFs under {args.corpus / 'pdf'}")
    print("| doc | pages | /Sig | intact | last covers file | text layer per page | keep: OCR pages | auto: OCR pages | ms |")
    print("|---|---|---|---|---|---|---|---|---|")
    totals: Counter = Counter()
    kinds: Counter = Counter()
    for pdf in pdfs:
        t0 = time.perf_counter()
        source = open_dossier(pdf)
        sigs = read_signatures(pdf, [r.n for r in source.pages])
        refs = [with_layers(r) for r in source.pages]
        keep = [decide(r, "keep") for r in refs]
        auto = [decide(r, "auto") for r in refs]
        ms = (time.perf_counter() - t0) * 1000
        kinds.update(d.kind for d in auto)
        n = len(refs)
        keep_ocr = sum(d.used == "ocr" for d in keep)
        auto_ocr = sum(d.used == "ocr" for d in auto)
        totals.update(pages=n, keep_ocr=keep_ocr, auto_ocr=auto_ocr, signed=bool(sigs), sigs=len(sigs),
                      intact=sum(s.intact for s in sigs), docs=1)
        last = ("yes" if sigs[-1].covers_whole_file else "no") if sigs else ""
        layers = " ".join(short(d.kind) for d in auto)
        print(f"| {pdf.stem} | {n} | {len(sigs)} | {sum(s.intact for s in sigs)}/{len(sigs)} | {last} | {layers} "
              f"| {keep_ocr}/{n} | {auto_ocr}/{n} | {ms:.0f} |")
    print()
    print(f"documents: {totals['docs']}, with /Sig signatures: {totals['signed']}, signatures: {totals['sigs']} "
          f"({totals['intact']} intact)")
    print(f"pages: {totals['pages']}; OCRed with keep: {totals['keep_ocr']}, with auto: {totals['auto_ocr']}; "
          f"kept as text with auto: {totals['pages'] - totals['auto_ocr']}")
    print("page kinds (auto): " + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())))


if __name__ == "__main__":
    main()
