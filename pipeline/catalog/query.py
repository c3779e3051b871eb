"""Backend-independent search pieces: query parsing, indexed metadata text, snippets.

Every catalog backend must agree on what a query means, so parsing lives here and backends only
translate `Term`s into their own match syntax. User input never reaches a query language verbatim:
it is cut into word tokens (letters and digits only), so `"`, `*`, `-`, `:`, `(`, `NEAR`, `OR`
are either dropped or searched as plain words and can never be a syntax error.
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import chain

from pipeline.manifest import Component
from pipeline.textnorm import fold, nfc

TOKEN = re.compile(r"[^\W_]+")
"""A word: letters and digits. Matches how SQLite's unicode61 tokenizer splits text."""

MAX_TERMS = 16
"""More terms than this are ignored: a pasted page should not become a 500-way AND."""

SNIPPET_CHARS = 160

_SKIPS = [(n, re.compile(rf"(?:[\W_]*+[^\W_]++){{{n}}}")) for n in (64, 16, 4, 1)]
"""Regexes that pass over n words (as TOKEN splits them) in one match; possessive, so a word is
never split to make up the count."""


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

Joined = tuple[str, str]
"""A text's words as written and folded, each as one string ` w1 w2 … ` (one side of `joined()`)."""


def split_joined(words: str, folded_words: str) -> tuple[Split, Split]:
    """(page, fields) word lists back out of two `joined()` strings."""
    page, _, meta = words.partition("\n")
    page_f, _, meta_f = folded_words.partition("\n")
    return (page.split(), page_f.split()), (meta.split(), meta_f.split())


def halves(words: str, folded_words: str) -> tuple[Joined, Joined]:
    """(page, fields) of two `joined()` strings, still as strings: nothing is split."""
    page, _, meta = words.partition("\n")
    page_f, _, meta_f = folded_words.partition("\n")
    return (page, page_f), (meta, meta_f)


def _match_spans(text: str, terms: list[Term], split: Split | None = None) -> list[tuple[int, int, bool]]:
    """Character spans of `text` matching a term after folding, each flagged exact or not, merged.
    Reads every word of `text`: the fallback of `_Located` (which reads only up to the snippet)."""
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
    return list(_merged(text, spans))


def _merged(text: str, spans) -> Iterator[tuple[int, int, bool]]:
    """Sorted spans with overlapping ones and ones separated only by spaces joined (`[hồ sơ]`, not
    `[hồ] [sơ]`); a joined span is exact when all its parts are. Lazy: read as far as needed."""
    current: tuple[int, int, bool] | None = None
    for start, end, exact in spans:
        if current is not None and (start <= current[1] or not text[current[1] : start].strip()):
            current = (current[0], max(current[1], end), current[2] and exact)
        else:
            if current is not None:
                yield current
            current = (start, end, exact)
    if current is not None:
        yield current


class _Misread(Exception):
    """The stored words do not line up with the text's own words: read the whole text instead."""


def _word_spans(words: Joined, terms: list[Term]) -> Iterator[tuple[int, int, bool, Term]]:
    """(first word, last word, exact, term) of each place a term occurs, by word number, in order:
    found by substring search in the word strings (no word list is built), and only as far as read."""
    exact_words, folded_words = words

    def places(term: Term) -> Iterator[tuple[int, int, bool, Term]]:
        size = len(term.folded)
        exact = _word_numbers(exact_words, needle(term.words)) if len(term.words) == size else iter(())
        next_exact = next(exact, None)
        for i in _word_numbers(folded_words, needle(term.folded)):
            while next_exact is not None and next_exact < i:
                next_exact = next(exact, None)
            yield i, i + size - 1, i == next_exact, term

    found = [places(t) for t in terms if needle(t.folded) in folded_words]
    if len(found) == 1:
        return found[0]
    return heapq.merge(*found, key=lambda place: place[:3])


def has_exact(words: Joined, terms: list[Term]) -> bool:
    """Whether some term occurs as written (which implies folded, the same word for word)."""
    return any(len(t.words) == len(t.folded) and needle(t.words) in words[0] for t in terms)


def _word_numbers(words: str, phrase: str) -> Iterator[int]:
    """Where `phrase` (a `needle()`) occurs in ` w0 w1 … `, as the number of its first word."""
    number, counted = 0, 0
    at = words.find(phrase)
    while at >= 0:
        number += words.count(" ", counted, at)  # the space before word k is the k-th space
        counted = at
        yield number
        at = words.find(phrase, at + 1)


class _Located:
    """The merged character spans of `_match_spans`, in order, from the stored word strings. The
    text is tokenised only as far as needed: up to the spans read, and once `limit` (the end of
    the snippet) is set, no further than it. Raises `_Misread` if a word read is not the word the
    strings say it is."""

    def __init__(self, text: str, terms: list[Term], words: Joined):
        self.text = text
        self.limit = len(text) + 1
        self._seen: dict[int, tuple[int, int]] = {}
        self._cursor = (0, 0)  # words read, and the character after the last one
        self.any_exact = has_exact(words, terms)
        self._spans = self._merged(_word_spans(words, terms))

    def __iter__(self) -> Iterator[tuple[int, int, bool]]:
        return self._spans

    def _token(self, k: int, bounded: bool = True) -> tuple[int, int] | None:
        """Token `k`'s span; None when `bounded` and it starts at or past `limit`."""
        span = self._seen.get(k)
        if span is None:
            done, pos = self._cursor if k >= self._cursor[0] else (0, 0)
            for size, skip in _SKIPS:  # whole runs of words skipped inside the regex engine
                while k - done >= size:
                    m = skip.match(self.text, pos)
                    if m is None:
                        raise _Misread()  # the text has fewer words than the strings
                    done, pos = done + size, m.end()
            m = TOKEN.search(self.text, pos)
            if m is None:
                raise _Misread()
            span = self._seen[k] = m.span()
            self._cursor = (k + 1, span[1])
        return None if bounded and span[0] >= self.limit else span

    def _place(self, first: int, last: int, term: Term) -> tuple[int, int] | None:
        """Characters of words `first`..`last`, checked against `term`; None past `limit`."""
        head = self._token(first)
        if head is None:
            return None
        where = [head] + [self._token(k, bounded=False) for k in range(first + 1, last + 1)]
        if tuple(fold(self.text[a:b]) for a, b in where) != term.folded:  # type: ignore[misc]
            raise _Misread()
        return head[0], where[-1][1]  # type: ignore[index]

    def _merged(self, raw: Iterator[tuple[int, int, bool, Term]]) -> Iterator[tuple[int, int, bool]]:
        """`_merged()` on word numbers: a span can only join the one before if they share a word or
        are next to each other, so a far span is never tokenised to decide it."""
        current: list = []  # start, end, exact, last word
        for first, last, exact, term in raw:
            if current and (first <= current[3] or first == current[3] + 1):
                place = self._place(first, last, term)
                if place is not None and (first <= current[3] or not self.text[current[1] : place[0]].strip()):
                    current[1:] = [max(current[1], place[1]), current[2] and exact, max(current[3], last)]
                    continue
            if current:
                yield current[0], current[1], current[2]
            place = self._place(first, last, term)
            if place is None:  # past the snippet: the reader stops here
                far = len(self.text) + 1
                yield far, far, exact
                return
            current = [place[0], place[1], exact, last]
        if current:
            yield current[0], current[1], current[2]


def snippet(text: str, terms: list[Term], width: int = SNIPPET_CHARS, words: Joined | None = None) -> str | None:
    """About `width` characters around the first (preferably exact) match, matches in `[...]`.

    None when nothing in `text` matches, so the caller can try another field. `words`: the text's
    words as `joined()` stores them (page or fields side); then only the text up to the end of the
    snippet is read, not every word of it.
    """
    if words is not None and "\u0130" not in text:  # İ lower-cases to two characters: its word splits apart
        try:
            return _cut(text, _Located(text, terms, words), width)
        except _Misread:
            pass
    return _cut(text, iter(_match_spans(text, terms)), width)


def _cut(text: str, located: _Located | Iterator[tuple[int, int, bool]], width: int) -> str | None:
    """The snippet around the first exact span (else the first), reading the spans only as far
    as the snippet reaches."""
    spans = iter(located)
    before: list[tuple[int, int, bool]] = []
    focus = None
    # (with no exact place at all, the first span is the focus: the text after it need not be read)
    any_exact = located.any_exact if isinstance(located, _Located) else True
    for span in spans:
        before.append(span)
        if span[2] or not any_exact:
            focus = span
            break
    if not before:
        return None
    if focus is None:  # no exact span: the first one
        focus = before[0]
    start = max(0, focus[0] - width // 3)
    end = min(len(text), max(focus[1], start + width))
    if start > 0:  # do not cut a word in half
        space = text.rfind(" ", 0, start)
        start = space + 1 if space >= 0 and start - space < 20 else start
    if end < len(text):
        space = text.find(" ", end)
        end = space if space >= 0 and space - end < 20 else end
    if isinstance(located, _Located):
        located.limit = end
    out: list[str] = []
    pos = start
    for s, e, _ in chain(before, spans):
        if s >= end:
            break
        if e <= start:
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
    words: tuple[Joined, Joined] | None = None,
) -> str:
    """Snippet from the page text, else from the metadata, else the start of the page.
    `words`: `halves()` of the row's word strings, so the texts need not be split again."""
    for source, source_words in zip((text, meta), words or (None, None), strict=True):
        found = snippet(source, terms, width, source_words)
        if found is not None:
            return found
    plain = " ".join((text or meta).split())
    return plain[:width] + ("…" if len(plain) > width else "")
