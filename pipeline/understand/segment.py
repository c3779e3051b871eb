"""Split a dossier's page stream into component documents ("thành phần hồ sơ").

One pass over the pages (linear time): a page whose guess says a document starts here opens a new
component, other pages continue the current one. Errors are asymmetric: a wrong split shows up as
an extra component flagged for review, a wrong merge hides a document inside another one; so when
the evidence is unclear (after a blank page, an ID card followed by something that is not its back)
the rules split and flag rather than merge.

With the trained model (`pipeline.understand.model.HybridClassifier`) continuation pages have a type too, so
two more mistakes become visible: a later page of one document filed after another document
(pages out of order) starts its own, flagged component when it surely reads as another type, and
a component that took in a page surely of another type is capped under the review threshold.
A page the OCR could not read (upside down, a photo) is its own `khac` component, flagged.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from pipeline.understand.classify import PageClassifier, PageGuess, rule_classifier
from pipeline.understand.taxonomy import FALLBACK, Taxonomy

STRONG = 0.6  # a non-title page with at least this score may change the type (card back, công văn)
CARD_TYPES = frozenset({"can_cuoc"})  # one card = front (+ back): never more pages
FOREIGN = 0.85  # a continuation page of another type with at least this score starts its own component
ORPHAN = 0.5  # most confidence of a component that starts with a continuation page
FOREIGN_SURE = 0.7  # a joined page guessed as another type this surely ...
FOREIGN_CAP = 0.55  # ... caps its component's confidence (under the default review threshold)
AGREE_SAME = 1.0  # continuation page guessed as the component's type, or visibly continuing
AGREE_NEUTRAL = 0.8  # continuation page with no opinion (khac)
AGREE_OTHER = 0.4  # continuation page whose cues point at another type


@dataclass(frozen=True)
class PageInput:
    """One page as the segmenter needs it: position, OCR text, blank flag from page analysis."""

    n: int
    text: str
    blank: bool = False


@dataclass
class Segment:
    """One component: its type, how sure we are, and its pages (1-based numbers, input order)."""

    type: str
    type_name: str
    confidence: float
    needs_review: bool
    pages: list[int] = field(default_factory=list)
    title: str | None = None  # title of the first page, as OCR read it


@dataclass
class _Open:
    type: str
    first_score: float
    title: str | None
    pages: list[int]
    agreement: list[float]
    has_back: bool
    foreign: bool = False  # a joined page is, with a score ≥ FOREIGN_SURE, of another type


def _agreement(guess: PageGuess, type_code: str) -> float:
    if guess.code == type_code:
        return AGREE_SAME
    if guess.code != FALLBACK and guess.score >= 0.5:
        return AGREE_OTHER  # continues a document, but reads like another type (a page out of place?)
    if guess.continuation:
        return AGREE_SAME
    if guess.code == FALLBACK:
        return AGREE_NEUTRAL
    return AGREE_OTHER


def _opens(guess: PageGuess, current: _Open | None, after_blank: bool) -> bool:
    """Whether this (non-blank) page starts a new component."""
    if current is None or guess.is_start:
        return True
    if current.type in CARD_TYPES:
        # Only the back of the same card joins it; anything else after a card is a new document.
        return not (guess.card_back and not current.has_back and guess.code in (current.type, FALLBACK))
    if guess.code not in (current.type, FALLBACK) and guess.score >= (FOREIGN if guess.continuation else STRONG):
        # The type changes with strong evidence (a card back after a contract), or a page that continues
        # a document is surely of another type: a page out of order, whose first page is elsewhere.
        return True
    # A blank page may end a document: what follows joins only if it visibly continues it.
    return after_blank and not (guess.continuation or guess.code == current.type)


def _new(guess: PageGuess, n: int) -> _Open:
    typed = guess.is_start or guess.score >= STRONG
    code = guess.code if typed else FALLBACK
    score = guess.score if typed else min(guess.score, 0.3)
    if guess.continuation and not guess.is_start:
        score = min(score, ORPHAN)  # a document's later page without its first page: a person looks
    return _Open(code, score, guess.title, [n], [], guess.card_back)


def _close(item: _Open, taxonomy: Taxonomy, review_threshold: float) -> Segment:
    confidence = item.first_score
    if item.agreement:
        confidence *= 0.85 + 0.15 * (sum(item.agreement) / len(item.agreement))
    if item.foreign:
        confidence = min(confidence, FOREIGN_CAP)  # a page in it reads surely like another type
    confidence = round(min(1.0, max(0.0, confidence)), 3)
    return Segment(
        type=item.type,
        type_name=taxonomy.name(item.type),
        confidence=confidence,
        needs_review=confidence < review_threshold or item.type == FALLBACK,
        pages=item.pages,
        title=item.title,
    )


def _classify_all(classifier: PageClassifier, pages: list[PageInput]) -> dict[int, PageGuess]:
    """Every page's guess; a classifier with `classify_pages` (the trained model) reads them in one batch.
    A classifier bug must not lose the dossier: such a page gets `khac` at 0 and goes to review."""
    batch = getattr(classifier, "classify_pages", None)
    if batch is not None:
        try:
            guesses = batch([p.text or "" for p in pages])
            if len(guesses) == len(pages):
                return {p.n: g for p, g in zip(pages, guesses, strict=True)}
        except Exception:  # noqa: BLE001 - fall back to one page at a time
            pass
    out: dict[int, PageGuess] = {}
    for p in pages:
        try:
            out[p.n] = classifier.classify_page(p.text or "")
        except Exception:  # noqa: BLE001
            out[p.n] = PageGuess(FALLBACK, 0.0, cues=("classifier error",))
    return out


def segment(
    pages: Iterable[PageInput],
    taxonomy: Taxonomy,
    review_threshold: float = 0.6,
    classifier: PageClassifier | None = None,
) -> list[Segment]:
    """Group pages into components. Blank pages belong to none; an empty dossier gives []."""
    rules = classifier or rule_classifier(taxonomy)
    pages = list(pages)
    guesses = _classify_all(rules, [p for p in pages if not p.blank])
    out: list[Segment] = []
    current: _Open | None = None
    after_blank = False
    for page in pages:
        if page.blank:
            after_blank = current is not None
            continue
        guess = guesses[page.n]
        if taxonomy.get(guess.code) is None:
            guess = PageGuess(FALLBACK, min(guess.score, 0.3), guess.title, guess.is_start, guess.cues,
                              guess.card_back, guess.continuation)
        if _opens(guess, current, after_blank):
            if current is not None:
                out.append(_close(current, taxonomy, review_threshold))
            current = _new(guess, page.n)
        else:
            assert current is not None
            current.pages.append(page.n)
            current.agreement.append(_agreement(guess, current.type))
            current.foreign = current.foreign or (guess.code not in (current.type, FALLBACK)
                                                  and guess.score >= FOREIGN_SURE and not guess.card_back)
            current.has_back = current.has_back or guess.card_back
        after_blank = False
    if current is not None:
        out.append(_close(current, taxonomy, review_threshold))
    return out
