"""Reuse: a component that is the same document as one already stored is not stored twice.

"The same document" is decided conservatively, because merging two different papers of one citizen
would be far worse than storing a copy twice:
- same type, and the same identifiers wherever both have them (số ký hiệu, CCCD numbers, mã hồ sơ),
  with at least one identifier shared; and
- either the PDF is byte-identical, or the text is near-identical after folding tones and spacing
  (the same paper scanned again reads the same, give or take OCR noise).
Components with no identifier are never matched.
"""

from __future__ import annotations

from dataclasses import dataclass

from rapidfuzz import fuzz

from pipeline.catalog.base import Catalog
from pipeline.manifest import Component, Metadata
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
