"""Backend-independent search pieces: query parsing, indexed metadata text, snippets.

Every catalog backend must agree on what a query means, so parsing lives here and backends only
translate `Term`s into their own match syntax. User input never reaches a query language verbatim:
it is cut into word tokens (letters and digits only), so `"`, `*`, `-`, `:`, `(`, `NEAR`, `OR`
are either dropped or searched as plain words and can never be a syntax error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pipeline.manifest import Component
from pipeline.textnorm import fold, nfc

TOKEN = re.compile(r"[^\W_]+")
"""A word: letters and digits. Matches how SQLite's unicode61 tokenizer splits text."""

MAX_TERMS = 16
"""More terms than this are ignored: a pasted page should not become a 500-way AND."""

SNIPPET_CHARS = 160


@dataclass(frozen=True)
class Term:
    """One required match: a single word, or a phrase (quoted, or words joined by punctuation)."""

    words: tuple[str, ...]  # NFC, lower-case: compared against the text as written
    folded: tuple[str, ...]  # fold()ed: compared against the tone-less copy


def parse_query(query: str | None) -> list[Term]:
    """Split a user query into AND-ed terms.

    `"…"` is a phrase; an unmatched quote is ignored. A chunk without spaces that holds several
    words (`1534/QĐ-UBND`, `QĐ-UBND`) is a phrase too, so document numbers match as written.
    """
    text = nfc(query or "")
    pieces = text.split('"')
    terms: list[Term] = []
    seen: set[tuple[str, ...]] = set()
    for i, piece in enumerate(pieces):
        quoted = i % 2 == 1 and i < len(pieces) - 1
        for chunk in [piece] if quoted else piece.split():
            words = tuple(w.lower() for w in TOKEN.findall(chunk))
            folded = tuple(f for f in (fold(w) for w in words) if f)
            if not words or not folded or words in seen:
                continue
            seen.add(words)
            terms.append(Term(words, folded))
    return terms[:MAX_TERMS]


def metadata_text(component: Component) -> str:
    """The extracted fields (and the type's name) as one searchable text, NFC.

    The date is given both as stored (`2023-05-12`) and as clerks write it (`12/05/2023`).
    """
    m = component.metadata
    parts: list[str] = [component.type_name]
    for value in (m.so_ky_hieu, m.co_quan, m.trich_yeu, m.ma_ho_so):
        if value:
            parts.append(value)
    if m.ngay:
        year, month, day = m.ngay.split("-")
        parts += [m.ngay, f"{day}/{month}/{year}"]
    parts += [v for v in m.cccd if v]
    parts += [v for v in m.ho_ten if v]
    return nfc("\n".join(p for p in parts if p))


def word_lists(text: str, folded: str | None = None) -> tuple[list[str], list[str]]:
    """The words of `text` as written (lower-case) and folded, one to one.

    `folded` is `fold(text)` when the caller has it. Folding the whole text once and splitting
    both is much faster than folding word by word; the two splits agree unless the text holds
    stray combining marks, and then each word is folded on its own.
    """
    exact = TOKEN.findall(text.lower())
    plain = TOKEN.findall(fold(text) if folded is None else folded)
    if len(plain) != len(exact):
        plain = [fold(w) for w in exact]
    return exact, plain


def joined(page: list[str], meta: list[str]) -> str:
    """Page words and field words as one string, ` w1 w2 … \n m1 m2 … `: a phrase is a substring
    ` a b ` of it, and never spans the page and the fields (no needle holds a newline)."""
    return " " + " ".join(page) + " \n " + " ".join(meta) + " "


def needle(words: tuple[str, ...]) -> str:
    """What `joined()` holds where a phrase occurs."""
    return " " + " ".join(words) + " "


Split = tuple[list[str], list[str]]
"""A text's words as written (lower-case) and folded, as `word_lists()` makes them."""


def split_joined(words: str, folded_words: str) -> tuple[Split, Split]:
    """(page, fields) word lists back out of two `joined()` strings."""
    page, _, meta = words.partition("\n")
    page_f, _, meta_f = folded_words.partition("\n")
    return (page.split(), page_f.split()), (meta.split(), meta_f.split())


def _match_spans(text: str, terms: list[Term], split: Split | None = None) -> list[tuple[int, int, bool]]:
    """Character spans of `text` matching a term after folding, each flagged exact or not.
    `split`: the text's `word_lists()` when the caller has them (stored beside the text)."""
    lowered, folded = split if split is not None else word_lists(text)
    firsts = {term.folded[0] for term in terms}
    if firsts.isdisjoint(folded):  # the common case for a field that does not match: no regex run
        return []
    tokens = list(TOKEN.finditer(text))
    if not len(lowered) == len(folded) == len(tokens):  # lower() changed how a word splits
        lowered = [t.group().lower() for t in tokens]
        folded = [fold(w) for w in lowered]
    where: dict[str, list[int]] = {}
    for i in [i for i, word in enumerate(folded) if word in firsts]:  # only the terms' first words
        where.setdefault(folded[i], []).append(i)
    spans: list[tuple[int, int, bool]] = []
    for term in terms:
        size = len(term.folded)
        for i in where.get(term.folded[0], ()):
            if tuple(folded[i : i + size]) == term.folded:
                exact = tuple(lowered[i : i + size]) == term.words
                spans.append((tokens[i].start(), tokens[i + size - 1].end(), exact))
    spans.sort()
    merged: list[tuple[int, int, bool]] = []
    for start, end, exact in spans:
        # Join overlapping spans and spans separated only by spaces: `[hồ sơ]`, not `[hồ] [sơ]`.
        if merged and (start <= merged[-1][1] or not text[merged[-1][1] : start].strip()):
            prev = merged[-1]
            merged[-1] = (prev[0], max(prev[1], end), prev[2] and exact)
        else:
            merged.append((start, end, exact))
    return merged


def snippet(text: str, terms: list[Term], width: int = SNIPPET_CHARS, split: Split | None = None) -> str | None:
    """About `width` characters around the first (preferably exact) match, matches in `[...]`.

    None when nothing in `text` matches, so the caller can try another field.
    """
    spans = _match_spans(text, terms, split)
    if not spans:
        return None
    focus = next((s for s in spans if s[2]), spans[0])
    start = max(0, focus[0] - width // 3)
    end = min(len(text), max(focus[1], start + width))
    if start > 0:  # do not cut a word in half
        space = text.rfind(" ", 0, start)
        start = space + 1 if space >= 0 and start - space < 20 else start
    if end < len(text):
        space = text.find(" ", end)
        end = space if space >= 0 and space - end < 20 else end
    out: list[str] = []
    pos = start
    for s, e, _ in spans:
        if e <= start or s >= end:
            continue
        s, e = max(s, start), min(e, end)
        out += [text[pos:s], "[", text[s:e], "]"]
        pos = e
    out.append(text[pos:end])
    body = " ".join("".join(out).split())
    return ("…" if start > 0 else "") + body + ("…" if end < len(text) else "")


def best_snippet(
    text: str,
    meta: str,
    terms: list[Term],
    width: int = SNIPPET_CHARS,
    splits: tuple[Split, Split] | None = None,
) -> str:
    """Snippet from the page text, else from the metadata, else the start of the page.
    `splits`: `split_joined()` of the row's word strings, to skip re-splitting the texts."""
    for source, split in zip((text, meta), splits or (None, None), strict=True):
        found = snippet(source, terms, width, split)
        if found is not None:
            return found
    plain = " ".join((text or meta).split())
    return plain[:width] + ("…" if len(plain) > width else "")
