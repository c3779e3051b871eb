"""Backend-independent ranking: which page stands for a component, and the order of components.

A backend finds candidate rows of `page_search` (pages of components whose words match every
term after folding) and reports, for each, how many terms match as written (`exact`), how many
match in the component's extracted fields (`meta`) and how many in the page text itself
(`page`). Everything after that is here, so SQLite and PostgreSQL order results the same way:

  components: most terms as written first (the contract in `base.py`), then most terms in the
              extracted fields (document number, names, type name, summary), then the most
              recently indexed dossier, then the component's order in its dossier;
  best page:  most terms as written, then most terms in the page text, then the first page.

Candidate cap: when more than `cap` pages match (`CANDIDATES`, or more for deep pages of
results), the ranking considers the `cap` most recently indexed matching pages, plus, when they
hold too few exact matches, the `cap` most recent pages that match every term as written (see
`find`); so exact matches still come first, and the rest is newest first. A query that matches
fewer pages is ranked over all of them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pipeline.catalog.base import Hit
from pipeline.catalog.query import Term, best_snippet, halves, needle

CANDIDATES = 100
"""Pages a search ranks at most (per tier) before it answers; keeps broad queries fast."""


@dataclass(slots=True)
class Candidate:
    """One matching row of `page_search`. `id` grows with indexing order."""

    id: int
    dossier_id: str
    component_id: str
    n: int
    exact: int = 0  # terms found as written (tones included, case ignored), page or fields
    meta: int = 0  # terms found in the component's extracted fields (folded)
    page: int = 0  # terms found in the page text itself (folded)


@dataclass(slots=True)
class Ranked:
    """A component in result order, with the page that represents it."""

    best: Candidate
    score: float
    exact: bool


Finder = Callable[[bool, int, int | None], tuple[list[Candidate], bool]]
"""`finder(all_exact, cap, below)` -> (the `cap` newest matching rows, measured, with an id below
`below` if given; whether more matched). `all_exact`: rows that also have every term as written."""


def rank(rows: list[Candidate], terms: int) -> list[Ranked]:
    """One entry per component, best page chosen, in result order."""
    best: dict[str, Candidate] = {}
    first_id: dict[str, int] = {}  # component order within a dossier: rows are written in seq order
    dossier_id: dict[str, int] = {}  # dossier recency
    for row in rows:
        cur = best.get(row.component_id)
        if cur is None or (row.exact, row.page, -row.n) > (cur.exact, cur.page, -cur.n):
            best[row.component_id] = row
        first_id[row.component_id] = min(first_id.get(row.component_id, row.id), row.id)
        dossier_id[row.dossier_id] = max(dossier_id.get(row.dossier_id, row.id), row.id)
    order = sorted(
        best.values(),
        key=lambda c: (-c.exact, -c.meta, -dossier_id[c.dossier_id], c.dossier_id, first_id[c.component_id]),
    )
    return [Ranked(c, c.exact + c.meta / (terms + 1), c.exact == terms) for c in order]


class Needles:
    """The substrings of `page_search.words` / `folded_words` that show where each term is."""

    def __init__(self, terms: list[Term]):
        self.exact = [needle(t.words) for t in terms]
        self.folded = [needle(t.folded) for t in terms]


def measure(row: Candidate, words: str, folded_words: str, needles: Needles) -> Candidate:
    """Fill in which terms `row` has as written, in the fields and in its page text."""
    cut = folded_words.find("\n")
    page, fields = folded_words[:cut], folded_words[cut:]
    row.exact = sum(1 for x in needles.exact if x in words)
    row.meta = sum(1 for x in needles.folded if x in fields)
    row.page = sum(1 for x in needles.folded if x in page)
    return row


def has_all(folded_words: str, needles: Needles) -> bool:
    """Every term is in the page text or the fields, folded (what the folded search promises)."""
    return all(x in folded_words for x in needles.folded)


def find(finder: Finder, terms: list[Term], want: int) -> list[Ranked]:
    """Rank the candidates of a query so that the first `want` components are right.

    The newest `cap` matching pages are ranked. If more pages matched, the query has tone or
    vowel marks, and fewer than `want` of the components found match every term as written,
    the newest `cap` pages that do join them (they rank first, whatever their age); the first
    look already holds those newer than its oldest row, so the second starts below it. (A query
    typed without marks skips the second look, which would mostly scan the index for nothing:
    its exact matches rank first among the candidates.) If the cap cut off so much that fewer
    than `want` components are left, the cap grows.
    """
    marked = any(t.words != t.folded for t in terms)
    count = len(terms)
    cap = max(CANDIDATES, 2 * want)
    while True:
        rows, more = finder(False, cap, None)
        ranked = rank(rows, count)
        if more and marked and sum(1 for r in ranked if r.exact) < want:
            known = [r for r in rows if r.exact == count]
            if len(known) < cap:
                older, _ = finder(True, cap - len(known), min(r.id for r in rows))
                ranked = rank(rows + older, count)
        if not more or len(ranked) >= want:
            return ranked
        cap *= 4


@dataclass(slots=True)
class Shown:
    """What a hit shows, read for the few rows on the page of results only."""

    type: str
    type_name: str
    pages: list[int]
    text: str
    meta: str
    words: str
    folded_words: str


def hits(ranked: list[Ranked], shown: dict[int, Shown], terms: list[Term]) -> list[Hit]:
    """The page of results as `Hit`s; a row deleted since it was ranked is left out."""
    out: list[Hit] = []
    for r in ranked:
        s = shown.get(r.best.id)
        if s is None:
            continue
        out.append(
            Hit(
                dossier_id=r.best.dossier_id,
                component_id=r.best.component_id,
                type=s.type,
                type_name=s.type_name,
                pages=s.pages,
                page=r.best.n,
                snippet=best_snippet(s.text, s.meta, terms, words=halves(s.words, s.folded_words)),
                score=r.score,
                exact=r.exact,
            )
        )
    return out
