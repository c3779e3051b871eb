"""Reuse: a component that is the same document as one already stored is not stored twice.

"The same document" is decided conservatively, because merging two different papers of one citizen
would be far worse than storing a copy twice:
- same type, and the same identifiers wherever both have them (số ký hiệu, CCCD numbers, mã hồ sơ),
  with at least one identifier shared; and
- either the PDF is byte-identical, or the text is near-identical after folding tones and spacing
  (the same paper scanned again reads the same, give or take OCR noise).
Components with no identifier are never matched.

A reused component points at the object another dossier stored. That object is *pinned* while any
component of another dossier points at it: re-processing or correcting the dossier that stored it
never overwrites or deletes it (`pinned`, `free_key`); a new PDF for the same place is stored
beside it under a name with its digest, and the pinned object is deleted by a later run of its own
dossier once nothing points at it any more. So a reused component's `object` and `sha256` stay
true; its `reused_from` names the component that first stored the object.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import SequenceMatcher

from rapidfuzz import fuzz

from pipeline.catalog.base import Catalog
from pipeline.manifest import Component, Metadata
from pipeline.store.base import ObjectNotFound, ObjectStore
from pipeline.textnorm import fold, squash

TEXT_SIMILARITY = 92.0  # rapidfuzz ratio (0..100) on folded text


@dataclass(frozen=True)
class ReuseMatch:
    component: Component
    dossier_id: str
    similarity: float
    identical: bool


def identifiers(meta: Metadata) -> dict[str, set[str]]:
    ids: dict[str, set[str]] = {}
    if meta.so_ky_hieu:
        ids["so_ky_hieu"] = {fold(meta.so_ky_hieu).replace(" ", "")}
    if meta.cccd:
        ids["cccd"] = set(meta.cccd)
    if meta.ma_ho_so:
        ids["ma_ho_so"] = {meta.ma_ho_so}
    return ids


def compatible(a: Metadata, b: Metadata) -> bool:
    """Identifiers agree wherever both documents have them, and at least one is shared."""
    ia, ib = identifiers(a), identifiers(b)
    common = set(ia) & set(ib)
    return bool(common) and all(ia[k] == ib[k] for k in common)


def similarity(text_a: str, text_b: str) -> float:
    return float(fuzz.ratio(squash(fold(text_a)), squash(fold(text_b))))


_TOKEN = re.compile(r"[^\W_]+")
_DIGITS = re.compile(r"\d+")
_AS_DIGIT = str.maketrans({"o": "0", "l": "1", "i": "1"})  # OCR's usual letters for digits


def numbers(text: str) -> list[str]:
    """The numbers of a text in reading order: digit runs, with `o`/`l`/`i` read as digits inside a
    word that is mostly digits (`2o24` is 2024, as OCR sometimes reads it)."""
    out: list[str] = []
    for token in _TOKEN.findall(fold(text)):
        digits = sum(c.isdigit() for c in token)
        if not digits:
            continue
        letters = [c for c in token if not c.isdigit()]
        if letters and all(c in "oli" for c in letters) and len(letters) < digits:
            out.append(token.translate(_AS_DIGIT))
        else:
            out += _DIGITS.findall(token)
    return out


def number_conflicts(text_a: str, text_b: str) -> list[tuple[str, str]]:
    """Numbers read at the same place of both texts that differ. Numbers only one text has are no
    conflict (a line the other scan lost, a stamp read as digits); numbers split differently
    (`4931` / `49 31`) are none either."""
    na, nb = numbers(text_a), numbers(text_b)
    out: list[tuple[str, str]] = []
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, na, nb, autojunk=False).get_opcodes():
        if tag == "replace" and "".join(na[i1:i2]) != "".join(nb[j1:j2]):
            out.append((" ".join(na[i1:i2]), " ".join(nb[j1:j2])))
    return out


def find_reuse(type_code: str, meta: Metadata, text: str, sha256: str | None, catalog: Catalog,
               exclude_dossier: str) -> ReuseMatch | None:
    """The stored component this one duplicates, or None. Candidates come from the catalog's search."""
    if type_code == "khac":
        return None
    ids = identifiers(meta)
    queries = [v for key in ("so_ky_hieu", "ma_ho_so", "cccd") for v in sorted(getattr_list(meta, key))]
    if not ids or not queries:
        return None
    seen: set[str] = set()
    best: ReuseMatch | None = None
    for q in queries[:4]:
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
            pages = {p.n: p.text for p in manifest.pages}
            sim = 100.0 if identical else similarity(text, "\n".join(pages.get(n, "") for n in comp.pages))
            if (identical or sim >= TEXT_SIMILARITY) and (best is None or sim > best.similarity):
                best = ReuseMatch(comp, manifest.dossier_id, sim, identical)
    return best


def getattr_list(meta: Metadata, key: str) -> list[str]:
    value = getattr(meta, key)
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


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
