"""Understanding benchmark: segmentation, classification and field extraction on labelled dossiers.

    python bench/understand.py [--count 63] [--seed 777] [--model PATH | --rules-only]
                               [--cache /tmp/sohoa-understand-cache] [--details]

Dossiers of every procedure (land transfer, birth registration, construction permit, authorisation,
business household, change of land use, result documents) are generated with a seed that training
never uses, scanned-looking (light and mixed degradations, PDF / JPEG folder / TIFF), read by the
real page pipeline (cleaning + Tesseract `vie`, 2 pages at once, text cached by seed), then split,
classified and extracted exactly as `pipeline.digitise.dossier.understand()` does. Prints one table.

Measures:
- component type accuracy: share of true components whose first page opens a predicted component
  of the same type; "exact" also needs the same pages;
- split points: a split before page p (p not the dossier's first non-blank page), precision/recall/F1;
- per field, exact match on components with the right pages: counted where the truth or the output
  has a value (both empty is not counted); lists compare as sets;
- CCCD numbers output that are not printed on the component's pages (must be 0);
- share of components flagged for review, and how many of the others have the right type.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from flows.train import BENCH_SEED, corpus_items, corpus_settings, ocr_corpus  # noqa: E402
from pipeline.settings import Settings  # noqa: E402
from pipeline.understand.extract import extract_components  # noqa: E402
from pipeline.understand.segment import PageInput, segment  # noqa: E402
from pipeline.understand.taxonomy import load_taxonomy  # noqa: E402

FIELDS = ("so_ky_hieu", "ngay", "cccd", "co_quan", "trich_yeu", "ho_ten", "ma_ho_so")
BUCKETS = (0.9, 0.8, 0.6, 0.4, 0.0)  # confidence bands, high to low
TARGETS = {"split_f1": 0.97, "type_acc": 0.97, "so_ky_hieu": 0.95, "ngay": 0.95, "cccd": 0.95, "unflagged": 0.99}


def evaluate(records: list[dict], classifier, review_threshold: float, details: bool = False) -> dict:
    """All measures over cached corpus records (see the module docstring)."""
    taxonomy = load_taxonomy()
    n_comp = type_ok = exact = 0
    tp = fp = fn = 0
    field_hits: dict[str, list[int]] = {f: [0, 0] for f in FIELDS}
    cccd_invented = 0
    flagged = unflagged = unflagged_ok = 0
    per_type: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    problems: list[str] = []
    calib: dict[float, list[int]] = {b: [0, 0] for b in BUCKETS}
    for rec in records:
        truth = rec["truth"]
        pages = rec["pages"]
        inputs = [PageInput(p["n"], p["text"], p["blank"]) for p in pages]
        low_conf = {p["n"] for p in pages if p.get("needs_review")}
        segs = segment(inputs, taxonomy, review_threshold, classifier=classifier)
        by_n = {p["n"]: p for p in pages}
        truth_page_type = {p["n"]: p["type"] for p in truth["pages"]}
        truth_text = {p["n"]: p["text"] for p in truth["pages"]}
        t_comps = truth["components"]
        t_by_first = {c["pages"][0]: c for c in t_comps}
        p_by_first = {s.pages[0]: s for s in segs}
        # split points
        nonblank = [p["n"] for p in pages if not p["blank"]]
        first = nonblank[0] if nonblank else None
        t_starts = {c["pages"][0] for c in t_comps} - {first}
        p_starts = {s.pages[0] for s in segs} - {first}
        tp += len(t_starts & p_starts)
        fp += len(p_starts - t_starts)
        fn += len(t_starts - p_starts)
        for n in sorted(p_starts - t_starts):
            problems.append(f"{rec['key']}: extra split before page {n} ({truth_page_type.get(n)})")
        for n in sorted(t_starts - p_starts):
            problems.append(f"{rec['key']}: missed split before page {n} ({truth_page_type.get(n)})")
        # types
        for c in t_comps:
            n_comp += 1
            s = p_by_first.get(c["pages"][0])
            ok = s is not None and s.type == c["type"]
            type_ok += ok
            per_type[c["type"]][0] += 1
            per_type[c["type"]][1] += ok
            if s is not None and not ok:
                problems.append(f"{rec['key']}: pages {c['pages']} {c['type']} classified {s.type} ({s.confidence})")
            if ok and s.pages == c["pages"]:
                exact += 1
        # fields, invented CCCDs, review
        metas = extract_components(["\n\n".join(by_n[n]["text"] for n in s.pages) for s in segs],
                                   [s.type for s in segs])
        for s, md in zip(segs, metas, strict=True):
            review = s.needs_review or any(n in low_conf for n in s.pages)
            printed = "".join(truth_text.get(n, "") for n in s.pages).replace(" ", "")
            for number in md.cccd:
                if number not in printed:
                    cccd_invented += 1
                    problems.append(f"{rec['key']}: CCCD {number} is not on pages {s.pages}")
            types = [truth_page_type.get(n) for n in s.pages]
            majority = max(set(types), key=types.count) if types else None
            right = s.type == majority
            bucket = next(b for b in BUCKETS if s.confidence >= b)
            calib[bucket][0] += 1
            calib[bucket][1] += right
            if review:
                flagged += 1
            else:
                unflagged += 1
                unflagged_ok += right
                if not right:
                    problems.append(f"{rec['key']}: UNFLAGGED wrong: pages {s.pages} {s.type} ({s.confidence}) "
                                    f"truth {types}")
            c = t_by_first.get(s.pages[0])
            if c is None or c["pages"] != s.pages or c["type"] != s.type:
                continue
            tm = c["metadata"]
            for f in FIELDS:
                want, got = tm.get(f), getattr(md, f)
                if isinstance(want, list):
                    if not want and not got:
                        continue
                    hit = set(want) == set(got)
                else:
                    if want is None and got is None:
                        continue
                    hit = want == got
                field_hits[f][0] += 1
                field_hits[f][1] += hit
                if details and not hit:
                    problems.append(f"{rec['key']}: {c['type']} {f}: want {want!r} got {got!r}")
    prec = tp / (tp + fp) if tp + fp else 1.0
    rec_ = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * prec * rec_ / (prec + rec_) if prec + rec_ else 0.0
    total_segs = flagged + unflagged
    return {
        "dossiers": len(records),
        "pages": sum(len(r["pages"]) for r in records),
        "components": n_comp,
        "type_acc": type_ok / n_comp if n_comp else 0.0,
        "exact_acc": exact / n_comp if n_comp else 0.0,
        "split_precision": prec, "split_recall": rec_, "split_f1": f1,
        "fields": {f: (h[1] / h[0] if h[0] else None, h[0]) for f, h in field_hits.items()},
        "cccd_invented": cccd_invented,
        "flagged_share": flagged / total_segs if total_segs else 0.0,
        "unflagged": unflagged_ok / unflagged if unflagged else 1.0,
        "unflagged_n": unflagged,
        "per_type": {k: (v[1], v[0]) for k, v in sorted(per_type.items())},
        "calibration": {b: (v[1], v[0]) for b, v in calib.items()},
        "problems": problems,
    }


def print_table(res: dict, label: str) -> None:
    def mark(key: str, value: float) -> str:
        target = TARGETS.get(key)
        return "" if target is None else ("  ok" if value >= target else f"  BELOW {target:.0%}")

    print(f"\n## {label}: {res['dossiers']} dossiers, {res['pages']} pages, {res['components']} components\n")
    print("| measure | value | target |")
    print("|---|---|---|")
    print(f"| component type accuracy | {res['type_acc']:.1%} | ≥ 97%{mark('type_acc', res['type_acc'])} |")
    print(f"| components exact (type + pages) | {res['exact_acc']:.1%} | |")
    print(f"| split precision | {res['split_precision']:.1%} | |")
    print(f"| split recall | {res['split_recall']:.1%} | |")
    print(f"| split F1 | {res['split_f1']:.3f} | ≥ 0.97{mark('split_f1', res['split_f1'])} |")
    for f, (acc, n) in res["fields"].items():
        target = " ≥ 95%" + mark(f, acc or 0.0) if f in TARGETS else ""
        print(f"| field {f} exact (n={n}) | {'-' if acc is None else f'{acc:.1%}'} |{target} |")
    print(f"| CCCD output not on the page | {res['cccd_invented']} | 0{'  ok' if res['cccd_invented'] == 0 else '  FAIL'} |")
    print(f"| flagged for review | {res['flagged_share']:.1%} | |")
    print(f"| unflagged with the right type (n={res['unflagged_n']}) | {res['unflagged']:.1%} | "
          f"≥ 99%{mark('unflagged', res['unflagged'])} |")
    print("\nconfidence calibration (components right/total per confidence band): " + ", ".join(
        f"≥{b:.1f}: {ok}/{n}" + (f" ({ok / n:.0%})" if n else "") for b, (ok, n) in res["calibration"].items()))
    print("\nper type (right/total): " + ", ".join(f"{k} {ok}/{n}" for k, (ok, n) in res["per_type"].items()))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python bench/understand.py", description=__doc__.split("\n\n")[0])
    ap.add_argument("--count", type=int, default=63, help="dossiers (63 = 9 of each of the 7 procedures)")
    ap.add_argument("--seed", type=int, default=BENCH_SEED, help="corpus seed (training uses another)")
    ap.add_argument("--cache", type=Path, default=Path("/tmp/sohoa-understand-cache"))
    ap.add_argument("--model", type=Path, help="trained model (default: <SOHOA_HOME>/models/page_classifier.npz, else the shipped default)")
    ap.add_argument("--rules-only", action="store_true", help="title rules without the trained model")
    ap.add_argument("--both", action="store_true", help="print the rules-only table too")
    ap.add_argument("--details", action="store_true", help="list every miss")
    ap.add_argument("--workers", type=int, default=2, help="Tesseract processes at once for uncached dossiers")
    ap.add_argument("--cached-only", action="store_true", help="only the dossiers already in the cache")
    ap.add_argument("--worse-ocr", type=float, default=0.0, metavar="LEVEL",
                    help="stress test: damage the OCR text further (flows.train.ocr_noise, e.g. 2 or 3)")
    args = ap.parse_args(argv)

    from pipeline.understand.classify import rule_classifier
    from pipeline.understand.model import HybridClassifier, load_model, page_classifier

    settings = Settings()
    taxonomy = load_taxonomy()
    t0 = time.perf_counter()
    items = corpus_items(args.seed, args.count)
    cache = args.cache / f"seed-{args.seed}"
    if args.cached_only:
        items = [it for it in items if (cache / f"{it.key}.json").exists()]
    records = list(ocr_corpus(items, cache, corpus_settings(args.workers)))
    print(f"corpus ready in {time.perf_counter() - t0:.0f} s (cache {cache})",
          file=sys.stderr)
    if args.worse_ocr:
        import random

        from flows.train import ocr_noise

        rng = random.Random(args.seed)
        for rec in records:
            for page in rec["pages"]:
                page["text"] = ocr_noise(page["text"], rng, args.worse_ocr)
    runs = []
    if args.rules_only or args.both:
        runs.append(("title rules only", rule_classifier(taxonomy)))
    if not args.rules_only:
        model = load_model(args.model, taxonomy) if args.model else getattr(
            page_classifier(settings, taxonomy), "model", None)
        if model is None:
            print("no usable model: train one with `sohoa train` or pass --rules-only", file=sys.stderr)
            return 1
        runs.append((f"rules + model {model.ident} ({model.meta.get('pages')} training pages)",
                     HybridClassifier(taxonomy, model)))
    for label, clf in runs:
        t = time.perf_counter()
        res = evaluate(records, clf, settings.classify.review_threshold, details=args.details)
        print_table(res, label)
        print(f"\n(understand: {time.perf_counter() - t:.1f} s for {res['pages']} pages)")
        if args.details and res["problems"]:
            print("\nmisses:")
            for line in res["problems"]:
                print("  " + line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
