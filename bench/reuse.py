"""Reuse on generated pairs: is the same paper, scanned again, stored once, and are different papers never merged?

    python bench/reuse.py [--pairs 60] [--negatives 30] [--seed 4242] [--jobs 2] [--per-dossier 1]
                          [--keep DIR] [--replay DIR] [--details]

Each "paper" is one generated document (ID card, land-use certificate, decision, marriage and birth
certificates, business registration, building permit, notice, request form, contract) rendered
once and scanned twice with different scanner draws: the first scan at 300 or 200 dpi, light
degradation; the second under one of the conditions below. Hard negatives are papers of the same
type and the same owner (same CCCD) that must never be merged with the paper they resemble:
- `other`: another document of that type for that owner (new numbers, dates and body; for an ID card
  the re-issued card: same number, new dates);
- `number`: the same text except one number (the parcel number, the card's issue date, or the
  document number; every other one with a digit added, 826 -> 8266, rather than another value),
  rendered with the same layout seed.

The first scans go through the real pipeline (`pipeline.digitise.dossier.digitise`, temporary data home,
local store, SQLite catalog) as the first batch; then the second scans and the negatives as the
second batch (shuffled). A pair is detected when the second scan's component says `reused_from` the
first scan's component. A false merge is any second-batch component reused from a component of
another paper. Prints one table, by document type and by scan condition, and every miss with why.

`--keep DIR` keeps the data home and the ground truth; `--replay DIR` re-decides reuse for the
kept OCR output with the current `pipeline/publish/reuse.py` (no page OCR: seconds), to iterate on the rule;
the second look at differing numbers crops the kept PDFs, so it only applies where the kept run
stored the second scan's PDF (a run kept under a looser rule that reused it did not).
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import json
import random
import re
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pipeline.catalog import SqliteCatalog, open_catalog  # noqa: E402
from pipeline.digitise.dossier import digitise  # noqa: E402
from pipeline.manifest import Component, Manifest  # noqa: E402
from pipeline.publish.reuse import compatible, find_reuse, identifiers, number_conflicts, similarity  # noqa: E402
from pipeline.settings import Settings  # noqa: E402
from pipeline.store import open_store  # noqa: E402
from pipeline.store.local import LocalStore  # noqa: E402
from samples import content  # noqa: E402
from samples.generate import Component as TruthComponent  # noqa: E402
from samples.generate import Dossier, PageImage, damage, degrade, render_document, write_dossier  # noqa: E402

# (procedure, part) of each document type measured; mostly one page, the contract three
KINDS: list[tuple[str, str]] = [
    ("chuyen_nhuong_qsdd", "can_cuoc:applicant"),
    ("chuyen_nhuong_qsdd", "giay_chung_nhan_qsdd"),
    ("chuyen_muc_dich_su_dung_dat", "quyet_dinh"),
    ("dang_ky_khai_sinh", "giay_chung_nhan_ket_hon"),
    ("dang_ky_khai_sinh", "giay_chung_sinh"),
    ("dang_ky_ho_kinh_doanh", "giay_chung_nhan_dang_ky_kinh_doanh"),
    ("cap_phep_xay_dung", "giay_phep_xay_dung"),
    ("van_ban_ket_qua", "thong_bao"),
    ("chuyen_nhuong_qsdd", "don_de_nghi"),
    ("chuyen_nhuong_qsdd", "hop_dong"),
]
# how the second scan differs from the first (the first: light degradation at 300 or 200 dpi)
CONDITIONS = ("rescan", "dpi", "medium", "photocopy", "stamp")
CONDITION_NAMES = {
    "rescan": "same dpi, new draw",
    "dpi": "other dpi (300 <-> 200)",
    "medium": "skew <= 3 deg, noise, JPEG 35-55",
    "photocopy": "photocopy of the paper",
    "stamp": "certified copy: stamp over text",
}


@dataclass
class Item:
    """One scan to digitise: which paper, which batch, how it was scanned, where its pages went."""

    paper: str  # paper id; a rescan has its first scan's paper id
    type: str
    role: str  # first | second | other | number
    condition: str
    dpi: int
    dossier: str = ""
    pages: list[int] = field(default_factory=list)
    mutation: str = ""
    truth_text: str = ""


# -- generation ---------------------------------------------------------------------------------


def build(case: content.Case, procedure: str, part: str) -> content.DocSpec:
    return content.build_documents(case, procedure, [part])[0]


def text_of(doc: content.DocSpec) -> str:
    return "\n".join(pg.text for pg in render_document(doc, 100, random.Random(0)))


def other_document(case: content.Case, procedure: str, part: str, rng: random.Random) -> content.DocSpec:
    """Another document of the same type for the same owner: new numbers, dates and draws."""
    c = copy.deepcopy(case)
    c.rng = random.Random(rng.getrandbits(32))
    c.seq = {}
    pc = c.parcel
    pc.so_thua = rng.randint(12, 980)
    pc.to_ban_do = rng.randint(1, 48)
    pc.area = round(rng.uniform(60, 320) * 2) / 2
    pc.gcn_book = f"CS {rng.randint(1, 9999):05d}"
    pc.gcn_serial = f"{rng.choice(['AB', 'BV', 'CĐ', 'DA', 'CS'])} {rng.randint(100000, 999999)}"
    pc.gcn_date = pc.gcn_date - timedelta(days=rng.randint(200, 900))
    c.received = c.received - timedelta(days=rng.randint(40, 400))
    c.contract = c.received - timedelta(days=rng.randint(3, 25))
    c.applicant.cccd_issued = c.applicant.cccd_issued - timedelta(days=rng.randint(400, 1400))  # the older card
    return build(c, procedure, part)


def _so_thua(c: content.Case, insert: bool) -> None:
    p = c.parcel
    p.so_thua = p.so_thua * 10 + p.so_thua % 10 if insert else p.so_thua + 1 + p.so_thua % 7


def _card_issued(c: content.Case, insert: bool) -> None:
    c.applicant.cccd_issued -= timedelta(days=366)


def _received(c: content.Case) -> None:
    c.received -= timedelta(days=3)


def swap(obj: object, old: str, new: str) -> object:
    """Replace the number `old` by `new` in every string of a document spec (not inside longer numbers)."""
    if isinstance(obj, str):
        return re.sub(rf"(?<!\d){re.escape(old)}(?!\d)", new, obj)
    if isinstance(obj, list):
        return [swap(x, old, new) for x in obj]
    if isinstance(obj, tuple) and not hasattr(obj, "_fields"):
        return tuple(swap(x, old, new) for x in obj)
    if isinstance(obj, dict):
        return {k: swap(v, old, new) for k, v in obj.items()}
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        for f in dataclasses.fields(obj):
            object.__setattr__(obj, f.name, swap(getattr(obj, f.name), old, new))
    return obj


def number_variant(case: content.Case, procedure: str, part: str, original: str,
                   insert: bool = False) -> tuple[content.DocSpec, str]:
    """The same document but for one number: the parcel number, the card's issue date, the document
    number, or the date, whichever comes first and changes its text; `insert`: a digit added
    (826 -> 8266) rather than another value. The case's random state is copied, so every other
    draw, and the layout seed, are the same."""
    extra = " (digit added)" if insert else ""
    for name, mutate in (("parcel number", _so_thua), ("card issue date", _card_issued)):
        c = copy.deepcopy(case)
        mutate(c, insert)
        doc = build(c, procedure, part)
        if text_of(doc) != original:
            return doc, name + (extra if name == "parcel number" else "")
    doc = build(copy.deepcopy(case), procedure, part)
    number = re.match(r"\d+", doc.metadata.get("so_ky_hieu") or "")
    if number:
        old = number.group()
        bumped = old + old[-1] if insert else str(int(old) + 1).zfill(len(old))
        return swap(doc, old, bumped), "document number" + extra  # type: ignore[return-value]
    c = copy.deepcopy(case)
    _received(c)
    doc = build(c, procedure, part)
    if text_of(doc) == original:
        raise RuntimeError(f"no number of {part} could be changed")
    return doc, "date"


def scan(doc: content.DocSpec, dpi: int, condition: str, rng: random.Random) -> list:
    """Render the paper at `dpi` (same layout seed: the same sheet) and scan it under `condition`."""
    pages = render_document(doc, dpi, random.Random(0))
    for pg in pages:
        img = pg.image
        if condition == "stamp":
            img, _ = damage(img, "stamp", rng, dpi=dpi)
        kind = "medium" if condition == "medium" else "light"
        img, pg.rotation, pg.skew_deg, pg.ops = degrade(img, kind, rng, dpi=dpi)
        if condition == "photocopy":
            img, _ = damage(img, "photocopy", rng, dpi=dpi)
        pg.image = img
    return pages


def generate(pairs: int, negatives: int, seed: int, out: Path, per_dossier: int) -> list[Item]:
    """Write both batches under `out/first` and `out/second`; return every item with its pages."""
    rng = random.Random(seed)
    jobs: list[tuple[Item, content.DocSpec]] = []
    second: list[tuple[Item, content.DocSpec]] = []
    for i in range(pairs):
        procedure, part = KINDS[i % len(KINDS)]
        case = content.make_case(random.Random(rng.getrandbits(32)))
        probe = copy.deepcopy(case)
        doc = build(probe, procedure, part)
        pid = f"p{i:03d}"
        dpi_a = 300 if (i // len(KINDS)) % 2 == 0 else 200
        condition = CONDITIONS[(i + i // len(KINDS)) % len(CONDITIONS)]
        dpi_b = (500 - dpi_a) if condition == "dpi" else dpi_a
        jobs.append((Item(pid, doc.type, "first", "first", dpi_a), doc))
        second.append((Item(pid, doc.type, "second", condition, dpi_b), doc))
        if i < negatives:
            kind = "other" if i % 2 == 0 else "number"
            if kind == "other":
                neg, mutation = other_document(case, procedure, part, rng), "other document"
            else:
                neg, mutation = number_variant(case, procedure, part, text_of(doc), insert=(i // 2) % 2 == 1)
            second.append((Item(f"{pid}{kind[0]}", neg.type, kind, "rescan", dpi_a, mutation=mutation), neg))
    rng.shuffle(second)
    for batch, entries in (("first", jobs), ("second", second)):
        entries = sorted(entries, key=lambda e: e[0].dpi)  # a dossier is scanned at one resolution
        for start in range(0, len(entries), per_dossier):
            chunk = entries[start:start + per_dossier]
            did = f"{batch[0]}{start // per_dossier:03d}"
            pages: list[PageImage] = []
            comps: list[TruthComponent] = []
            for k, (item, doc) in enumerate(chunk):
                item.dossier = did
                item.truth_text = text_of(doc)
                scanned = scan(doc, item.dpi, item.condition, random.Random(rng.getrandbits(32)))
                item.pages = list(range(len(pages) + 1, len(pages) + len(scanned) + 1))
                for pg in scanned:
                    pg.component = k
                pages += scanned
                comps.append(TruthComponent(k, doc.type, item.pages, doc.metadata))
            quality = 85 if batch == "first" else 72
            write_dossier(Dossier(did, "bench", chunk[0][0].dpi, pages, comps), out / batch, "pdf", quality=quality)
    return [e[0] for e in jobs] + [e[0] for e in second]


# -- digitising and judging ---------------------------------------------------------------------


def digitise_batch(paths: list[Path], settings: Settings, jobs: int) -> None:
    store = open_store(settings)
    with open_catalog(settings) as catalog, ThreadPoolExecutor(jobs) as pool:
        done = list(pool.map(lambda p: digitise(p, settings, store, catalog), paths))
    failed = [m for m in done if m.status != "done"]
    for m in failed:
        print(f"FAILED {m.dossier_id}: {m.error}", file=sys.stderr)


def component_for(manifest: Manifest | None, pages: list[int]) -> Component | None:
    """The component holding most of the item's pages (its first, on a tie)."""
    if manifest is None:
        return None
    best, overlap = None, 0
    for c in manifest.components:
        k = len(set(c.pages) & set(pages))
        if k > overlap:
            best, overlap = c, k
    return best


def comp_text(manifest: Manifest, comp: Component) -> str:
    by_n = {p.n: p.text for p in manifest.pages}
    return "\n".join(by_n.get(n, "") for n in comp.pages)


def why_missed(a: tuple[Manifest, Component] | None, b: tuple[Manifest, Component] | None, catalog) -> str:
    if a is None or b is None:
        return "a scan failed or has no component"
    (ma, ca), (mb, cb) = a, b
    if ca.type != cb.type:
        return f"types differ: {ca.type} / {cb.type}"
    ia, ib = identifiers(ca.metadata), identifiers(cb.metadata)
    sim = similarity(comp_text(ma, ca), comp_text(mb, cb))
    if not ib:
        return f"no identifier read in the second scan (similarity {sim:.1f})"
    if not compatible(ca.metadata, cb.metadata):
        return f"identifiers disagree: {ia} / {ib} (similarity {sim:.1f})"
    conflicts = number_conflicts(comp_text(ma, ca), comp_text(mb, cb))
    return f"identifiers agree, similarity {sim:.1f}, numbers differing {conflicts[:4]}"


def judge(items: list[Item], catalog) -> dict:
    manifests: dict[str, Manifest | None] = {}
    for it in items:
        if it.dossier not in manifests:
            manifests[it.dossier] = catalog.get_dossier(it.dossier)
    located: dict[int, tuple[Manifest, Component] | None] = {}
    paper_of: dict[str, str] = {}  # component id -> paper id
    for k, it in enumerate(items):
        m = manifests[it.dossier]
        c = component_for(m, it.pages)
        located[k] = (m, c) if m is not None and c is not None else None
        if c is not None:
            paper_of.setdefault(c.id, it.paper if it.role in ("first", "second") else f"{it.paper}!")
    first = {it.paper: located[k] for k, it in enumerate(items) if it.role == "first"}
    rows: dict[str, dict[str, list]] = {"type": defaultdict(lambda: [0, 0, 0, 0]),
                                        "condition": defaultdict(lambda: [0, 0, 0, 0])}
    misses: list[str] = []
    merges: list[str] = []
    near: list[float] = []
    negatives: list[str] = []
    for k, it in enumerate(items):
        if it.role == "first":
            continue
        got = located[k]
        comp = got[1] if got else None
        reused = comp.reused_from if comp else None
        wrong = reused is not None and paper_of.get(reused) != it.paper
        for key, label in (("type", it.type), ("condition", it.condition if it.role == "second" else "negative")):
            row = rows[key][label]
            if it.role == "second":
                row[0] += 1
                row[1] += int(reused is not None and not wrong)
            else:
                row[2] += 1
            row[3] += int(wrong)
        a = first.get(it.paper if it.role == "second" else it.paper[:-1])
        if wrong:
            merges.append(f"{it.role} {it.paper} ({it.type}, {it.mutation or it.condition}) in {it.dossier}: "
                          f"reused from {reused} ({paper_of.get(reused)})")
        elif it.role == "second" and reused is None:
            misses.append(f"{it.paper} {it.type} [{it.condition}] {a[1].id if a else '-'} -> "
                          f"{comp.id if comp else '-'}: {why_missed(a, got, catalog)}")
        if (it.role in ("other", "number") and a is not None and got is not None
                and a[1].type == got[1].type and compatible(a[1].metadata, got[1].metadata)):
            sim = similarity(comp_text(*a), comp_text(*got))
            near.append(sim)
            negatives.append(f"{it.paper} {it.type} ({it.mutation}): similarity {sim:.1f}, numbers differing "
                             f"{number_conflicts(comp_text(*a), comp_text(*got))[:4]}")
    return {"rows": rows, "misses": misses, "merges": merges, "near": near, "negatives": negatives}


def print_table(res: dict, header: str) -> None:
    print(f"\n{header}\n")
    print("| | pairs | reused | rate | hard negatives | false merges |")
    print("|---|---|---|---|---|---|")
    for key, title in (("type", "type"), ("condition", "second scan")):
        for label, (n, ok, neg, bad) in sorted(res["rows"][key].items()):
            name = CONDITION_NAMES.get(label, label) if key == "condition" else label
            rate = f"{ok / n:.1%}" if n else "-"
            print(f"| {title}: {name} | {n or '-'} | {ok if n else '-'} | {rate} | {neg or '-'} | {bad} |")
        if key == "type":
            print("| | | | | | |")
    n = sum(r[0] for r in res["rows"]["type"].values())
    ok = sum(r[1] for r in res["rows"]["type"].values())
    neg = sum(r[2] for r in res["rows"]["type"].values())
    bad = sum(r[3] for r in res["rows"]["type"].values())
    print(f"| **all** | **{n}** | **{ok}** | **{ok / max(n, 1):.1%}** (target ≥ 95 %) | **{neg}** | **{bad}** (must be 0) |")
    if res["near"]:
        print(f"\nhard negatives with the same type and agreeing identifiers: {len(res['near'])}, "
              f"text similarity max {max(res['near']):.1f}, median {sorted(res['near'])[len(res['near']) // 2]:.1f}")


# -- replay: re-decide reuse on kept OCR output ----------------------------------------------------


def replay(keep: Path) -> tuple[list[Item], SqliteCatalog]:
    """Index the kept first batch into a fresh catalog, then re-decide every second-batch component
    with the current `find_reuse` (as `publish` does, without the PDF hash: rescans never match it)."""
    data = json.loads((keep / "bench.json").read_text())
    items = [Item(**it) for it in data["items"]]
    old = SqliteCatalog(keep / "home" / "catalog.sqlite")
    cat = SqliteCatalog(Path(tempfile.mkdtemp(prefix="reuse-replay-")) / "catalog.sqlite")
    store = LocalStore(keep / "home" / "store", "sohoa")  # both scans' PDFs, for the second look at numbers
    order = list(dict.fromkeys(it.dossier for it in items))
    for did in order:
        m = old.get_dossier(did)
        if m is None:
            continue
        if did.startswith("s") and m.status == "done":
            comps = []
            for c in m.components:
                pdf = store.get_bytes(c.object.key) if c.object is not None and not c.reused_from else None
                c = c.model_copy(update={"reused_from": None})
                match = find_reuse(c.type, c.metadata, comp_text(m, c), None, cat, did, pdf, store)
                if match is not None:
                    c = c.model_copy(update={"reused_from": match.component.id, "object": match.component.object,
                                             "sha256": match.component.sha256})
                comps.append(c)
            m = m.model_copy(update={"components": comps})
        cat.index_dossier(m)
    old.close()
    return items, cat


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python bench/reuse.py", description=__doc__.split("\n\n")[0])
    ap.add_argument("--pairs", type=int, default=60, help="papers scanned twice")
    ap.add_argument("--negatives", type=int, default=30, help="hard negatives (half 'other', half 'number')")
    ap.add_argument("--seed", type=int, default=4242)
    ap.add_argument("--jobs", type=int, default=2, help="dossiers digitised at once")
    ap.add_argument("--per-dossier", type=int, default=1, help="documents per generated dossier")
    ap.add_argument("--model", type=Path, help="a trained page classifier to copy into the data home")
    ap.add_argument("--keep", type=Path, help="keep the data home and ground truth here (for --replay)")
    ap.add_argument("--replay", type=Path, help="re-decide reuse on a kept run (no OCR)")
    ap.add_argument("--details", action="store_true", help="print every miss and false merge")
    args = ap.parse_args(argv)

    if args.replay:
        t0 = time.perf_counter()
        items, cat = replay(args.replay)
        res = judge(items, cat)
        cat.close()
        shutil.rmtree(cat.path.parent, ignore_errors=True)
        print_table(res, f"## reuse replayed on {args.replay} ({time.perf_counter() - t0:.1f} s, current reuse.py)")
    else:
        if args.negatives > args.pairs:
            ap.error("--negatives must be at most --pairs (each negative resembles one paper)")
        work = args.keep or Path(tempfile.mkdtemp(prefix="sohoa-reuse-"))
        if work.exists():
            shutil.rmtree(work)
        work.mkdir(parents=True)
        t0 = time.perf_counter()
        items = generate(args.pairs, args.negatives, args.seed, work / "scans", args.per_dossier)
        t_gen = time.perf_counter() - t0
        settings = Settings(home=work / "home", store="local", catalog="sqlite",
                            workers=max(1, 2 // max(1, args.jobs)))
        if args.model:
            (settings.home / "models").mkdir(parents=True, exist_ok=True)
            shutil.copy(args.model, settings.home / "models" / args.model.name)
        times = {}
        for batch in ("first", "second"):
            t = time.perf_counter()
            inputs = sorted((work / "scans" / batch).glob("*.pdf"))
            digitise_batch(inputs, settings, args.jobs)
            times[batch] = time.perf_counter() - t
        (work / "bench.json").write_text(json.dumps({"items": [asdict(i) for i in items]}, ensure_ascii=False))
        with open_catalog(settings) as catalog:
            res = judge(items, catalog)
            pages = catalog.stats()["pages"]
        print_table(res, f"## reuse on generated pairs: {args.pairs} papers scanned twice, {args.negatives} hard "
                         f"negatives, seed {args.seed}, {pages} pages ({args.per_dossier} document(s) per dossier)")
        print(f"\ngeneration {t_gen:.0f} s; first batch {times['first']:.0f} s; second batch {times['second']:.0f} s"
              f" ({args.jobs} dossiers at once)")
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    if args.details or res["merges"]:
        for line in res["merges"]:
            print("FALSE MERGE", line)
    if args.details:
        for line in res["misses"]:
            print("missed", line)
        for line in res["negatives"]:
            print("negative", line)
    elif res["misses"]:
        print(f"\n{len(res['misses'])} missed pairs (--details lists them)")
    return 0 if not res["merges"] else 1


if __name__ == "__main__":
    sys.exit(main())
