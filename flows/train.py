"""`sohoa train` and `sohoa review`: the page classifier's training data and the clerks' corrections.

Training data comes from two places:
- the project's own generator (`samples.generate.make_dossier`): dossiers of every procedure are
  rendered, degraded like scans, and read by the real page pipeline (clean + Tesseract), so the
  model learns from real OCR errors. The OCR text of each generated dossier is cached on disk
  (keyed by seed and index), so a corpus is read once;
- staff corrections, `<home>/corrections/*.jsonl`, written by `sohoa review` (pipeline.understand.review).

`--synthetic` trains without OCR, on the generator's text passed through simulated OCR damage
(lost tones, confused letters, merged columns): it builds a usable model in about a minute.

Wiring (flows/cli.py): `add_parser(subparsers, [common])` adds `train`, `add_review_parser(subparsers,
[common])` adds `review`; both set `func(args) -> exit code`. Until then, the same commands run as
`python -m flows.train train|review|ocr …` (`ocr` only fills a corpus cache).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from flows.options import common_parser, settings_of
from pipeline.settings import Settings

log = logging.getLogger("sohoa.train")

CORPUS_VERSION = 2  # bump when the way a corpus dossier is drawn or read changes
# Procedures and degradations cycled through a corpus, so every N consecutive dossiers cover all.
DEGRADES = ("light", "mixed")
FORMATS = ("pdf", "jpg-folder", "tiff")
TRAIN_SEED = 20250101
BENCH_SEED = 777


def procedures() -> list[str]:
    from samples.content import PROCEDURES

    return sorted(PROCEDURES)


@dataclass(frozen=True)
class CorpusItem:
    """One generated dossier of a corpus: everything needed to draw it again."""

    seed: int
    index: int
    procedure: str
    degrade: str
    fmt: str
    dpi: int = 300

    @property
    def key(self) -> str:
        return f"v{CORPUS_VERSION}-s{self.seed}-{self.index:04d}-{self.procedure}-{self.degrade}-{self.fmt}-{self.dpi}"


def corpus_items(seed: int, count: int, dpi: int = 300) -> list[CorpusItem]:
    """`count` dossiers, procedures and degradations in turn; formats drawn from the seed."""
    rng = random.Random(seed)
    procs = procedures()
    out = []
    for i in range(count):
        out.append(CorpusItem(seed, i, procs[i % len(procs)], DEGRADES[(i // len(procs)) % len(DEGRADES)],
                              rng.choice(FORMATS), dpi))
    return out


def make_item(item: CorpusItem):
    """The generated dossier of one corpus item (deterministic)."""
    from samples.generate import make_dossier

    rng = random.Random(f"{item.seed}/{item.index}")
    return make_dossier(rng, item.procedure, item.dpi, item.degrade, dossier_id=f"c{item.seed}_{item.index:04d}")


def _truth_light(truth: dict) -> dict:
    """The truth without line boxes (the cache keeps text, types, components, metadata)."""
    pages = [{k: v for k, v in p.items() if k != "lines"} for p in truth["pages"]]
    return {**truth, "pages": pages}


def ocr_item(item: CorpusItem, cache: Path, settings: Settings) -> dict:
    """Render, write and read one corpus dossier with the real page pipeline; cached as JSON."""
    path = cache / f"{item.key}.json"
    if path.exists():
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            path.unlink(missing_ok=True)
    from pipeline.digitise.stream import process_pages
    from pipeline.ingest.inputs import open_dossier
    from samples.generate import truth_dict, write_dossier

    dossier = make_item(item)
    work = Path(tempfile.mkdtemp(prefix="sohoa-corpus-"))
    try:
        src_path = write_dossier(dossier, work / "in", item.fmt, quality=85)
        source = open_dossier(src_path)
        outputs = process_pages(source, settings, work / "pages")
        pages = [{"n": o.page.n, "text": o.page.text, "blank": o.page.blank, "needs_review": o.page.needs_review,
                  "ocr_confidence": o.page.ocr_confidence} for o in outputs]
        record = {"key": item.key, "item": item.__dict__, "truth": _truth_light(truth_dict(dossier, item.fmt)),
                  "pages": pages}
    finally:
        shutil.rmtree(work, ignore_errors=True)
    cache.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, path)
    return record


def ocr_corpus(items: list[CorpusItem], cache: Path, settings: Settings, *, progress: bool = True) -> Iterator[dict]:
    """Every item's cached record, reading the missing ones (at most `settings.workers` OCR at once)."""
    t0 = time.perf_counter()
    for k, item in enumerate(items, start=1):
        cached = (cache / f"{item.key}.json").exists()
        record = ocr_item(item, cache, settings)
        if progress and not cached:
            print(f"  ocr {k}/{len(items)} {item.key}: {len(record['pages'])} pages "
                  f"({time.perf_counter() - t0:.0f} s)", file=sys.stderr, flush=True)
        yield record


def corpus_settings(workers: int = 2) -> Settings:
    """Page-pipeline settings for corpus OCR: packaged defaults, `workers` pages at once."""
    return Settings(workers=workers)


# --------------------------------------------------------------------------- training examples


def _words(text: str) -> list[str]:
    from pipeline.textnorm import fold

    return [w for w in "".join(c if c.isalnum() else " " for c in fold(text)).split() if len(w) >= 2]


def ocr_agrees(ocr: str, truth: str) -> float:
    """Share of the OCR's words that are in the printed text: low when OCR read nonsense (page upside down)."""
    got = _words(ocr)
    if not got:
        return 0.0
    want = set(_words(truth))
    return sum(1 for w in got if w in want) / len(got)


def examples_from_records(records: list[dict], *, tone_copies: bool = True):
    """Labelled pages of OCRed corpus dossiers. A page the OCR could not read (under half its words
    printed) is a `khac` example that starts a document: that is what the pipeline should make of it."""
    from pipeline.textnorm import strip_marks
    from pipeline.understand.model import Example

    out: list[Example] = []
    for rec in records:
        truth = {p["n"]: p for p in rec["truth"]["pages"]}
        firsts = {c["pages"][0] for c in rec["truth"]["components"]}
        for page in rec["pages"]:
            t = truth.get(page["n"])
            if t is None or t["blank"] or page["blank"] or not page["text"].strip():
                continue
            if ocr_agrees(page["text"], t["text"]) < 0.5:
                out.append(Example(page["text"], "khac", True, 1.0, "generated-unreadable"))
                continue
            out.append(Example(page["text"], t["type"], page["n"] in firsts, 1.0, "generated"))
            if tone_copies:  # the same page as an OCR that lost every tone mark
                out.append(Example(strip_marks(page["text"]), t["type"], page["n"] in firsts, 0.5, "generated"))
    return out


_CONFUSE = {"ư": "u", "ơ": "o", "â": "a", "ê": "e", "ô": "o", "ă": "a", "đ": "d", "Đ": "D", "l": "I", "0": "O",
            "rn": "m", "m": "rn", "e": "c", "c": "e", "h": "b", "i": "l", "1": "l", "5": "S", "8": "B"}


def ocr_noise(text: str, rng: random.Random, level: float) -> str:
    """Simulated Tesseract damage: lost tones, confused letters, merged or split words, dropped lines."""
    from pipeline.textnorm import strip_marks

    out_lines = []
    for line in text.splitlines():
        if rng.random() < 0.03 * level:
            continue
        words = []
        for w in line.split():
            r = rng.random()
            if r < 0.15 * level:
                w = strip_marks(w)
            elif r < 0.22 * level:
                keys = [k for k in _CONFUSE if k in w]
                if keys:
                    k = rng.choice(keys)
                    w = w.replace(k, _CONFUSE[k], 1)
            words.append(w)
        if len(words) > 2 and rng.random() < 0.05 * level:
            i = rng.randrange(len(words) - 1)
            words[i:i + 2] = [words[i] + words[i + 1]]
        out_lines.append(" ".join(words))
    return "\n".join(out_lines)


def synthetic_examples(seed: int, count: int, *, dpi: int = 72):
    """Labelled pages of generated dossiers without OCR: the printed text in Tesseract's row order,
    passed through `ocr_noise` (one light and one heavier copy). Fast: no Tesseract at all.

    Each page's damage is drawn from its own stream: a change to one page (a signature box drawn on it)
    leaves every other page's examples as they were."""
    from pipeline.understand.model import Example
    from samples.generate import make_dossier, row_major_text

    procs = procedures()
    out: list[Example] = []
    for i in range(count):
        d = make_dossier(random.Random(f"syn/{seed}/{i}"), procs[i % len(procs)], dpi, "none")
        firsts = {c.pages[0] for c in d.components}
        for n, page in enumerate(d.pages, start=1):
            if page.blank:
                continue
            text = row_major_text(page.lines)
            rng = random.Random(f"noise/{seed}/{i}/{n}")
            for level in (0.5, 1.5):
                out.append(Example(ocr_noise(text, rng, level), page.type, n in firsts, 0.7, "synthetic"))
    return out


_ENGLISH = (
    "The committee reviewed the annual budget and approved the proposal for the new library building.",
    "Please find attached the invoice for the services rendered during the month of March.",
    "This agreement is made between the parties named below and shall be governed by the laws of the state.",
    "Meeting notes: attendance, action items, next steps and the schedule for the coming quarter.",
    "Dear Sir or Madam, we are writing to inform you that your application has been received.",
    "Total amount due, payment terms thirty days, bank transfer details are listed on the reverse side.",
)
_OTHER = (
    "中华人民共和国 这是一个测试页面 文件 申请 日期 地址 电话 合同 双方 签字",
    "Liebe Kolleginnen und Kollegen, anbei finden Sie das Protokoll der letzten Sitzung.",
    "Le présent contrat est conclu entre les parties soussignées pour une durée indéterminée.",
    "ສາທາລະນະລັດ ປະຊາທິປະໄຕ ປະຊາຊົນລາວ ສັນຕິພາບ ເອກະລາດ",
    "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore.",
)


def unknown_examples(seed: int, count: int = 60):
    """Pages that are none of the types: other languages, noise, stray notes. They teach `khac`."""
    from pipeline.understand.model import Example

    rng = random.Random(seed)
    out: list[Example] = []
    junk = "@#$%&*~|/\\<>{}[]^_=+0123456789lIoO"
    for i in range(count):
        kind = i % 4
        if kind == 0:
            text = "\n".join(rng.choice(_ENGLISH) for _ in range(rng.randint(3, 25)))
        elif kind == 1:
            text = "\n".join(rng.choice(_OTHER) for _ in range(rng.randint(2, 20)))
        elif kind == 2:
            text = "\n".join("".join(rng.choice(junk + "abcxyz ") for _ in range(rng.randint(5, 60)))
                             for _ in range(rng.randint(2, 40)))
        else:
            text = "\n".join(rng.choice(["Ghi chú", "Bản photo", "Trang trắng", "Ảnh chụp", "Sơ đồ", "Hình 1"])
                             + " " + str(rng.randint(1, 99)) for _ in range(rng.randint(1, 4)))
        out.append(Example(text, "khac", True, 1.0, "unknown"))
    return out


def read_corrections(home: Path):
    """Pages relabelled by staff (`<home>/corrections/*.jsonl`, see pipeline.understand.review): weight 3."""
    from pipeline.understand.model import Example

    out: list[Example] = []
    folder = Path(home) / "corrections"
    for path in sorted(folder.glob("*.jsonl")) if folder.is_dir() else []:
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                rec = json.loads(line)
            except ValueError:
                log.warning("%s: skipping a line that is not JSON", path)
                continue
            for comp in rec.get("components", []):
                for k, page in enumerate(comp.get("pages", [])):
                    text = page.get("text") or ""
                    if text.strip() and comp.get("type"):
                        out.append(Example(text, comp["type"], k == 0, 3.0, "correction"))
    return out


# --------------------------------------------------------------------------- sohoa train


def build_examples(settings: Settings, *, corpus: int, synthetic: int, seed: int, cache: Path | None,
                   corrections: bool = True, workers: int = 2):
    examples = []
    if corpus:
        cache = cache or settings.home / "cache" / "corpus"
        items = corpus_items(seed, corpus)
        records = list(ocr_corpus(items, cache / f"seed-{seed}", corpus_settings(workers)))
        examples += examples_from_records(records)
    if synthetic:
        examples += synthetic_examples(seed + 1, synthetic)
    examples += unknown_examples(seed + 2)
    if corrections:
        examples += read_corrections(settings.home)
    return examples


def cmd_train(args: argparse.Namespace) -> int:
    from pipeline.understand.model import SHIPPED_DIR, model_path, save_model, shipped_model_path, train_model
    from pipeline.understand.taxonomy import load_taxonomy

    settings = settings_of(args)
    taxonomy = load_taxonomy(settings.taxonomy)
    corrections = not (args.no_corrections or args.shipped)  # the shipped model is the recipe's alone
    t0 = time.perf_counter()
    examples = build_examples(settings, corpus=args.corpus, synthetic=args.synthetic, seed=args.seed,
                              cache=args.cache, corrections=corrections, workers=args.workers)
    t1 = time.perf_counter()
    model = train_model(examples, taxonomy, info={"corpus": args.corpus, "synthetic": args.synthetic,
                                                  "seed": args.seed, "corrections": corrections})
    if args.shipped:
        out = save_model(model, args.out or shipped_model_path(taxonomy))
        for old in SHIPPED_DIR.glob("page_classifier-*.npz") if args.out is None else ():
            if old != out:
                old.unlink()  # the default of a taxonomy that is no more
    else:
        out = save_model(model, args.out or model_path(settings))
    t2 = time.perf_counter()
    sources: dict[str, int] = {}
    for e in examples:
        sources[e.source] = sources.get(e.source, 0) + 1
    print(f"trained on {model.meta['pages']} pages ({', '.join(f'{k} {v}' for k, v in sorted(sources.items()))}), "
          f"{len(model.labels)} types; data {t1 - t0:.0f} s, fit {t2 - t1:.0f} s", file=sys.stderr)
    print(str(out))
    return 0


def add_parser(subparsers, parents: list | tuple = ()) -> argparse.ArgumentParser:
    """`sohoa train`: register the command on the CLI's subparsers (pass the common options parser)."""
    p = subparsers.add_parser("train", parents=list(parents), help="train the page classifier",
                              description="Train the page classifier on generated labelled dossiers (rendered and "
                                          "OCRed, cached) and on staff corrections (<home>/corrections/*.jsonl).")
    p.add_argument("--corpus", type=int, default=70, metavar="N",
                   help="generated dossiers read with real OCR (cached; first run ~8 s per dossier)")
    p.add_argument("--synthetic", type=int, default=0, metavar="N",
                   help="generated dossiers with simulated OCR errors instead (no Tesseract, fast)")
    p.add_argument("--seed", type=int, default=TRAIN_SEED, help="corpus seed (the benchmark uses another)")
    p.add_argument("--cache", type=Path, help="OCR cache folder (default <home>/cache/corpus)")
    p.add_argument("--workers", type=int, default=2, help="Tesseract processes at once")
    p.add_argument("--no-corrections", action="store_true", help="ignore <home>/corrections")
    p.add_argument("--out", type=Path, help="model file (default <home>/models/page_classifier.npz)")
    p.add_argument("--shipped", action="store_true",
                   help="write the default model shipped with the code for this taxonomy "
                        "(pipeline/understand/models/page_classifier-<fingerprint>.npz; no corrections): `make model`")
    p.set_defaults(func=cmd_train)
    return p


# --------------------------------------------------------------------------- sohoa review


def cmd_review(args: argparse.Namespace) -> int:
    from pipeline.store import open_store
    from pipeline.understand import review

    settings = settings_of(args)
    action = getattr(args, "action", None)
    if action is None or args.list:
        items = review.review_items(open_store(settings))
        for it in items:
            if args.json:
                print(json.dumps(it.__dict__, ensure_ascii=False))
            else:
                pages = ",".join(map(str, it.pages))
                conf = "" if it.confidence is None else f" {it.confidence:.2f}"
                print(f"{it.dossier_id}  {it.component_id or '-'}  {it.type or 'page'}{conf}  pages {pages}  "
                      f"{it.reason}")
        if not items and not args.json:
            print("nothing to review", file=sys.stderr)
        return 0
    from pipeline.catalog import open_catalog
    from pipeline.understand.taxonomy import load_taxonomy

    by = getattr(args, "by", None) or os.environ.get("SUDO_USER") or os.environ.get("USER")
    with open_catalog(settings) as catalog:
        desk = review.Review(open_store(settings), catalog, load_taxonomy(settings.taxonomy), settings.home)
        if action == "set-type":
            manifest = desk.set_type(args.component_id, args.type, by=by)
        elif action == "split":
            manifest = desk.split(args.dossier_id, args.at, args.type, by=by)
        elif action == "merge":
            manifest = desk.merge(args.dossier_id, args.at, args.type, by=by)
        elif action == "set-field":
            values: dict[str, str] = {}
            for item in args.values:
                name, sep, value = item.partition("=")
                if not sep:
                    print(f"sohoa review set-field: {item!r} is not FIELD=VALUE", file=sys.stderr)
                    return 2
                values[name.strip()] = value
            manifest = desk.set_fields(args.component_id, values, by=by)
        else:
            manifest = desk.accept(args.component_id, by=by)
    if args.json:
        print(manifest.to_json())
    else:
        for c in manifest.components:
            flag = "  (review)" if c.needs_review else ""
            print(f"{c.id}  {c.type}  pages {','.join(map(str, c.pages))}{flag}")
    return 0


def add_review_parser(subparsers, parents: list | tuple = ()) -> argparse.ArgumentParser:
    """`sohoa review`: register the command on the CLI's subparsers (pass the common options parser)."""
    parents = list(parents)
    p = subparsers.add_parser(
        "review", parents=parents, help="list what needs review; correct types, splits and merges",
        description="Without an action (or with --list): components and pages that need a look. Corrections "
                    "update the stored PDFs, the manifest and the catalog, and are kept as training data.")
    p.add_argument("--list", action="store_true", help="list components and pages that need review")
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    actions = p.add_subparsers(dest="action", metavar="ACTION")
    # The common options again, after the action too; SUPPRESS keeps a value given before it.
    here = argparse.ArgumentParser(add_help=False)
    here.add_argument("--config", default=argparse.SUPPRESS, help="settings file (YAML)")
    here.add_argument("--home", default=argparse.SUPPRESS, help="data home")
    here.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="print the updated manifest")
    here.add_argument("--by", default=argparse.SUPPRESS,
                      help="who makes the correction, kept with the training data (default: the login name)")
    parents = [here]
    st = actions.add_parser("set-type", parents=parents, help="set a component's type")
    st.add_argument("component_id", help="e.g. hs_0001-03")
    st.add_argument("type", help="type code of the taxonomy, e.g. quyet_dinh")
    sp = actions.add_parser("split", parents=parents, help="start a new component at a page")
    sp.add_argument("dossier_id")
    sp.add_argument("--at", type=int, required=True, metavar="PAGE", help="first page of the new component")
    sp.add_argument("--type", help="type of the new component (default: the type it is split from)")
    mg = actions.add_parser("merge", parents=parents, help="join the component starting at a page to the one before")
    mg.add_argument("dossier_id")
    mg.add_argument("--at", type=int, required=True, metavar="PAGE", help="first page of the component to join")
    mg.add_argument("--type", help="type of the joined component (default: the first one's)")
    sf = actions.add_parser("set-field", parents=parents, help="set extracted fields of a component")
    sf.add_argument("component_id")
    sf.add_argument("values", nargs="+", metavar="FIELD=VALUE",
                    help="e.g. so_ky_hieu=123/QĐ-UBND ngay=2024-05-02 (fields: so_ky_hieu, ngay, co_quan, "
                         "trich_yeu, cccd, ho_ten, ma_ho_so; an empty value clears one)")
    ac = actions.add_parser("accept", parents=parents, help="the component is right as it is")
    ac.add_argument("component_id")
    for sub in (st, sp, mg, sf, ac):
        sub.set_defaults(list=False)
    p.set_defaults(func=cmd_review)
    return p


def main(argv: list[str] | None = None) -> int:
    """`python -m flows.train train|review|ocr …`: the commands without the `sohoa` wiring."""
    parser = argparse.ArgumentParser(prog="python -m flows.train")
    common = common_parser(verbose=False)
    sub = parser.add_subparsers(dest="command", required=True)
    add_parser(sub, [common])
    add_review_parser(sub, [common])
    o = sub.add_parser("ocr", help="fill a corpus OCR cache (no training)")
    o.add_argument("--seed", type=int, default=TRAIN_SEED)
    o.add_argument("--count", type=int, default=70)
    o.add_argument("--start", type=int, default=0)
    o.add_argument("--cache", type=Path, default=Path("/tmp/sohoa-understand-cache"))
    o.add_argument("--workers", type=int, default=2)
    o.set_defaults(func=_cmd_ocr)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    return args.func(args)


def _cmd_ocr(args: argparse.Namespace) -> int:
    items = corpus_items(args.seed, args.count)[args.start:]
    for _ in ocr_corpus(items, args.cache / f"seed-{args.seed}", corpus_settings(args.workers)):
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
