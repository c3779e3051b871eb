"""Reuse: a component that is the same document as one already stored is not stored twice.

"The same document" is decided conservatively, because merging two different papers of one citizen
would be far worse than storing a copy twice:
- same type, and the same identifiers wherever both have them (số ký hiệu, CCCD numbers, mã hồ sơ),
  with at least one identifier shared (`compatible`; OCR tolerance: letters cut or added at the
  end of a số ký hiệu, a CCCD one reading lacks — never another digit, never another CCCD); and
- either the PDF is byte-identical, or the text is near-identical after folding tones and spacing
  (the same paper scanned again reads the same, give or take OCR noise) **and its numbers agree**
  (`numbers_agree`): two papers of one owner that differ only in a parcel number, a date or a
  document number read almost the same words, so the words alone cannot tell them apart; the
  numbers do. The one slip tolerated is an identifier read with a digit or two lost or added
  (under a stamp), since identifiers are compared on their own.
When near-identical texts disagree only in one or two numbers, both PDFs' page images are looked
at again where those numbers are (`pipeline.publish.reuse_crops.same_ink`): crops that read alike were an
OCR slip. Components with no identifier are never matched. `bench/reuse.py` measures this on generated
pairs of scans and hard negatives (docs/reuse.md).

A reused component points at the object another dossier stored. That object is *pinned* while any
component of another dossier points at it: re-processing or correcting the dossier that stored it
never overwrites or deletes it (`pinned`, `free_key`); a new PDF for the same place is stored
beside it under a name with its digest, and the pinned object is deleted by a later run of its own
dossier once nothing points at it any more. So a reused component's `object` and `sha256` stay
true; its `reused_from` names the component that first stored the object.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from difflib import SequenceMatcher

from rapidfuzz import fuzz

from pipeline.catalog.base import Catalog
from pipeline.manifest import Component, Metadata
from pipeline.publish.reuse_crops import same_ink
from pipeline.store.base import ObjectNotFound, ObjectStore
from pipeline.textnorm import fold, squash

TEXT_SIMILARITY = 92.0  # rapidfuzz ratio (0..100) on folded text

_TOKEN = re.compile(r"[^\W_]+")
_DIGITS = re.compile(r"\d+")
_RUNS = re.compile(r"\d+|\D+")
GARBLED = 60.0  # below this rapidfuzz ratio, the words around differing numbers are a misread region
_AS_DIGIT = str.maketrans({"o": "0", "l": "1", "i": "1", "g": "6"})
"""The letters OCR reads for digits (`2G` is 26, `2o24` is 2024), inside a word of digits."""


@dataclass(frozen=True)
class ReuseMatch:
    component: Component
    dossier_id: str
    similarity: float
    identical: bool


def identifiers(meta: Metadata) -> dict[str, set[str]]:
    """Số ký hiệu and mã hồ sơ folded, letters and digits only (`4931qdubnd`); CCCD numbers."""
    ids: dict[str, set[str]] = {}
    if meta.so_ky_hieu:
        ids["so_ky_hieu"] = {_alnum(meta.so_ky_hieu)}
    if meta.cccd:
        ids["cccd"] = set(meta.cccd)
    if meta.ma_ho_so:
        ids["ma_ho_so"] = {_alnum(meta.ma_ho_so)}
    return ids


def _alnum(value: str) -> str:
    return "".join(_TOKEN.findall(fold(value)))


def same_reference(a: str, b: str) -> bool:
    """Two readings of one số ký hiệu / mã hồ sơ (as `identifiers` gives them): the same digits, and
    letters that agree but for what OCR adds or drops at the end (`2200gcs` / `2200gcsc`,
    `791qdubnd` / `791qdubndngh`: a neighbouring word read into the field)."""
    if a == b:
        return True
    if not a or not b or _DIGITS.findall(a) != _DIGITS.findall(b):
        return False
    return a.startswith(b) or b.startswith(a)


def compatible(a: Metadata, b: Metadata) -> bool:
    """Identifiers agree wherever both documents have them, and at least one is shared. OCR
    tolerance: a số ký hiệu or mã hồ sơ may differ by letters cut or added at its end (never by a
    digit), and one document may lack a CCCD number the other has (never have another one)."""
    ia, ib = identifiers(a), identifiers(b)
    common = set(ia) & set(ib)
    if not common:
        return False
    for key in common:
        if key == "cccd":
            if not (ia[key] <= ib[key] or ib[key] <= ia[key]):
                return False
        elif not same_reference(next(iter(ia[key])), next(iter(ib[key]))):
            return False
    return True


def similarity(text_a: str, text_b: str) -> float:
    return float(fuzz.ratio(squash(fold(text_a)), squash(fold(text_b))))


def tokens(text: str, mark_misread: bool = False) -> list[str]:
    """The words and numbers of a text in reading order, folded; numbers as `#` and their digits.
    A word of digits and at most as many letters OCR reads for digits is one number (`2G` is 26,
    `166G` is 1666, `2o24` is 2024); other words mixing letters and digits are split (`38h88` is
    38, h, 88). With `mark_misread`, a number read amid characters no Vietnamese text is written
    with (`Z3€N`, `/⁄⁄4`, `6Ñ`, `Hụ9$`: Tesseract reading a stamp or a signature as text) is
    marked `~` instead of `#` (`misread_chunk`)."""
    out: list[str] = []
    for chunk in text.split():
        mark = "~" if mark_misread and misread_chunk(chunk) else "#"
        for token in _TOKEN.findall(fold(chunk)):
            digits = sum(c.isdigit() for c in token)
            letters = [c for c in token if not c.isdigit()]
            if not digits:
                out.append(token)
            elif letters and all(c in "olig" for c in letters) and len(letters) <= digits:
                out.append(mark + token.translate(_AS_DIGIT))
            else:
                out += [(mark + part) if part[0].isdigit() else part for part in _RUNS.findall(token)]
    return out


_VIETNAMESE_LETTERS = frozenset(
    "aàáảãạăằắẳẵặâầấẩẫậbcdđeèéẻẽẹêềếểễệfghiìíỉĩịjklmnoòóỏõọôồốổỗộơờớởỡợpqrstuùúủũụưừứửữựvwxyỳýỷỹỵz"
)
_TEXT_MARKS = frozenset(".,;:/-–—()[]%+&'\"“”‘’…°²³_@#*!?=<>")


def misread_chunk(chunk: str) -> bool:
    """A word holding a character that no Vietnamese document is typed with: a letter outside the
    alphabet (`Ñ`, `Š`) or a symbol outside ordinary punctuation (`€`, `„`, `⁄`, `$`, `|`, `{`).
    Tesseract writes these where it reads ink that is no text (a seal, a signature, a smudge)."""
    for c in unicodedata.normalize("NFC", chunk):
        if c.isdigit() or c in _TEXT_MARKS:
            continue
        if c.isalpha():
            if c.lower() not in _VIETNAMESE_LETTERS:
                return True
            continue
        return True
    return False


def numbers(text: str) -> list[str]:
    """The numbers of a text in reading order (see `tokens`)."""
    return [t[1:] for t in tokens(text) if t.startswith("#")]


def digits_lost(a: str, b: str) -> bool:
    """One reading is the other with one or two digits lost (`618` / `8` under a stamp,
    `079083667834` / `79083667834`, `013566` / `01366`): how OCR misreads a number it half sees,
    unlike a different number, which reads as other digits."""
    short, long = sorted((a.replace(" ", ""), b.replace(" ", "")), key=len)
    if not short or len(long) - len(short) not in (1, 2):
        return False
    rest = iter(long)
    return all(c in rest for c in short)


def numbers_agree(text_a: str, text_b: str, identifier_numbers: set[str] | frozenset[str] = frozenset(),
                  cccds: set[str] | frozenset[str] = frozenset()) -> bool:
    """No number differs between the texts, but for at most one slip: a reading of an identifier
    both documents agree on with digits lost (`digits_lost`; identifiers are checked on their
    own, by `compatible`), or a CCCD number misread to another length (`cccd_misread`). Two
    documents that differ only in a parcel number, a date or a document number disagree here
    however similar their words are."""
    conflicts = number_conflicts(text_a, text_b)
    if not conflicts:
        return True
    if len(conflicts) > 1:
        return False
    a, b = (x.replace(" ", "") for x in conflicts[0])
    return digits_lost(a, b) and (a in identifier_numbers or b in identifier_numbers) or cccd_misread(a, b, cccds)


def cccd_misread(a: str, b: str, cccds: set[str]) -> bool:
    """One reading is a CCCD number of the documents, the other that number with a digit or two
    lost or added: not 12 digits, so no CCCD at all (another person's would be 12 digits)."""
    return digits_lost(a, b) and (a in cccds and len(b) != 12 or b in cccds and len(a) != 12)


def identifier_numbers(a: Metadata, b: Metadata) -> set[str]:
    """The numbers of the identifiers both documents have and agree on (`compatible`): digit runs of
    their số ký hiệu and mã hồ sơ, their shared CCCD numbers. Only a reading of one of these may
    slip (`numbers_agree`): a number only one side extracted proves nothing (`80` / `800` may be
    two certificates)."""
    out: set[str] = set(a.cccd) & set(b.cccd)
    for x, y in ((a.so_ky_hieu, b.so_ky_hieu), (a.ma_ho_so, b.ma_ho_so)):
        if x and y and _DIGITS.findall(_alnum(x)) == _DIGITS.findall(_alnum(y)):
            out.update(_DIGITS.findall(x))
    return out


def number_conflicts(text_a: str, text_b: str) -> list[tuple[str, str]]:
    """Numbers read at the same place of both texts that differ: the texts' words and numbers are
    aligned, and where they differ, the numbers of each side are compared. No conflict: numbers
    only one text has (a line the other scan lost), numbers split differently (`4931` / `49 31`),
    and digits amid words that differ too (a stamp or a signature read as `Z519N HAI`), which are
    no number of the document's."""
    ta, tb = tokens(text_a, mark_misread=True), tokens(text_b, mark_misread=True)
    return [(" ".join(na), " ".join(nb)) for na, nb, _, _ in _conflicts(ta, tb)]


def conflict_sites(text_a: str, text_b: str) -> list[tuple[str, int, str, int]] | None:
    """Where the numbers of `number_conflicts` are: (number on A, how many times that number came
    before it in A's numbers, number on B, likewise), to find their words on the page images; None
    when a conflict is not one number against one number."""
    ta, tb = tokens(text_a, mark_misread=True), tokens(text_b, mark_misread=True)
    out: list[tuple[str, int, str, int]] = []
    for na, nb, i, j in _conflicts(ta, tb):
        if len(na) != 1 or len(nb) != 1:
            return None
        out.append((na[0], _count(ta[:i], na[0]), nb[0], _count(tb[:j], nb[0])))
    return out


def _count(toks: list[str], number: str) -> int:
    """How many times `number` occurs among the tokens, marked either way (`tokens`)."""
    return toks.count("#" + number) + toks.count("~" + number)


def _conflicts(ta: list[str], tb: list[str]) -> list[tuple[list[str], list[str], int, int]]:
    out: list[tuple[list[str], list[str], int, int]] = []
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, ta, tb, autojunk=False).get_opcodes():
        if tag != "replace":
            continue
        na = [t[1:] for t in ta[i1:i2] if t[0] in "#~"]
        nb = [t[1:] for t in tb[j1:j2] if t[0] in "#~"]
        if not na or not nb or "".join(na) == "".join(nb):
            continue
        if not any(t[0] == "#" for t in ta[i1:i2] + tb[j1:j2]):
            continue  # every differing number read amid symbols on both scans: a seal or a signature
        if impossible_date(ta, i1, i2) or impossible_date(tb, j1, j2):
            continue  # `ngày 37 tháng 8`: a misreading of the other side's day, not another date
        wa = [t for t in ta[i1:i2] if t[0] not in "#~"]
        wb = [t for t in tb[j1:j2] if t[0] not in "#~"]
        if not garbled(wa, wb):
            i = i1 + next(k for k, t in enumerate(ta[i1:i2]) if t[0] in "#~")
            j = j1 + next(k for k, t in enumerate(tb[j1:j2]) if t[0] in "#~")
            out.append((na, nb, i, j))
    return out


def impossible_date(toks: list[str], i: int, j: int) -> bool:
    """`toks[i:j]` is one number that cannot be where it is: the day of `ngày … tháng` above 31,
    or the month of `tháng … năm` above 12 (or either 0)."""
    if j - i != 1 or not toks[i].startswith("#") or i == 0 or j >= len(toks):
        return False
    value = int(toks[i][1:])
    limit = {("ngay", "thang"): 31, ("thang", "nam"): 12}.get((toks[i - 1], toks[j]))
    return limit is not None and not 1 <= value <= limit


def garbled(words_a: list[str], words_b: list[str]) -> bool:
    """The words around differing numbers are a misread region (a stamp, a signature): several
    words on one side, a few letters in all, and hardly alike. A single word misread next to a
    number (`Số: 32` / `b 0 822`) is not: the numbers there are the document's."""
    a, b = " ".join(words_a), " ".join(words_b)
    return (max(len(words_a), len(words_b)) >= 2 and len(a.replace(" ", "")) + len(b.replace(" ", "")) >= 6
            and fuzz.ratio(a, b) < GARBLED)


def find_reuse(type_code: str, meta: Metadata, text: str, sha256: str | None, catalog: Catalog,
               exclude_dossier: str, pdf: bytes | None = None, store: ObjectStore | None = None) -> ReuseMatch | None:
    """The stored component this one duplicates, or None. Candidates come from the catalog's search.
    With this component's PDF and the store, numbers read differently on near-identical texts are
    looked at again on both page images (`pipeline.publish.reuse_crops.same_ink`)."""
    if type_code == "khac":
        return None
    ids = identifiers(meta)
    queries = candidate_queries(meta)
    if not ids or not queries:
        return None
    seen: set[str] = set()
    best: ReuseMatch | None = None
    for q in queries[:5]:
        for hit in catalog.search(f'"{q}"', type=type_code, limit=20):
            if hit.component_id in seen or hit.dossier_id == exclude_dossier:
                continue
            seen.add(hit.component_id)
            manifest = catalog.get_dossier(hit.dossier_id)
            if manifest is None or manifest.status != "done":
                continue
            comp = next((c for c in manifest.components if c.id == hit.component_id), None)
            if comp is None or comp.type != type_code or comp.object is None or not compatible(meta, comp.metadata):
                continue
            if comp.reused_from:  # point at the first stored copy, not at another reuse
                continue
            identical = bool(sha256) and comp.sha256 == sha256
            if identical:
                sim = 100.0
            else:
                pages = {p.n: p.text for p in manifest.pages}
                stored = "\n".join(pages.get(n, "") for n in comp.pages)
                sim = similarity(text, stored)
                agreed, cccds = identifier_numbers(meta, comp.metadata), set(meta.cccd) | set(comp.metadata.cccd)
                if sim < TEXT_SIMILARITY:
                    continue
                if not numbers_agree(text, stored, agreed, cccds) and not _same_ink(text, stored, pdf, store, comp):
                    continue
            if best is None or sim > best.similarity:
                best = ReuseMatch(comp, manifest.dossier_id, sim, identical)
    return best


MAX_LOOKS = 2  # numbers looked at again on the page images; more differing numbers: another paper


def _same_ink(text: str, stored: str, pdf: bytes | None, store: ObjectStore | None, comp: Component) -> bool:
    """The numbers the texts disagree on read alike when cropped from both page images again."""
    if pdf is None or store is None or comp.object is None:
        return False
    sites = conflict_sites(text, stored)
    if not sites or len(sites) > MAX_LOOKS:
        return False
    try:
        other = store.get_bytes(comp.object.key)
    except ObjectNotFound:
        return False
    return same_ink(pdf, other, sites, numbers)


def candidate_queries(meta: Metadata) -> list[str]:
    """Catalog phrases that find the stored copy: each số ký hiệu / mã hồ sơ as read and, since OCR
    may add a letter at its end (`204/GPXD-Đ`), without its last word; then the CCCD numbers."""
    out: list[str] = []
    for value in (meta.so_ky_hieu, meta.ma_ho_so):
        words = _TOKEN.findall(value or "")
        if words:
            out.append(" ".join(words))
        if len(words) > 2:
            out.append(" ".join(words[:-1]))
    out += sorted(meta.cccd)
    return list(dict.fromkeys(out))


def pinned(store: ObjectStore, catalog: Catalog | None, dossier_id: str) -> dict[str, list[str]]:
    """The dossier's stored PDFs that components of other dossiers point at: key -> their ids."""
    if catalog is None:
        return {}
    keys = [k for k in store.list(f"dossiers/{dossier_id}/") if k.endswith(".pdf")]
    uris = {store.uri(k): k for k in keys}
    return {uris[u]: ids for u, ids in catalog.references(list(uris), exclude_dossier=dossier_id).items()}


def free_key(key: str, digest: str, pins: dict[str, list[str]], store: ObjectStore) -> str:
    """Where a new PDF meant for `key` goes: `key`, unless a pinned object with other bytes is
    there; then beside it, named by the new PDF's digest."""
    if key not in pins:
        return key
    try:
        if store.stat(key).sha256 == digest:
            return key
    except ObjectNotFound:
        return key
    return f"{key.removesuffix('.pdf')}.{digest[:16]}.pdf"
