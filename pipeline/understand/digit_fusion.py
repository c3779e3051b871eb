"""One posterior over what a header blank says, from every reader of it.

A handwritten blank ("Số: 574 /UBND", "ngày 17") is read by several noisy observers: the page OCR,
the digit-only re-reads of its crop at three sizes (`pipeline.ocr.blanks`) and the handwritten-digit
reader's per-digit probabilities (`pipeline.ocr.handdigits`). Each is right most of the time and
wrong in known ways, so each is a channel with a confusion model, and Bayes' rule combines them into
the probability of every candidate value:

- **Tesseract** (page OCR and re-reads together: the same engine on the same ink, so one state) is in
  one of two states. *Reliable*: a glyph is read as itself, as a known confusion (a handwritten 1 as 4
  or 7, the crossed 7 as 1 or 4, 3/5/8, 4/9, 0/6 …), as a junk symbol (Ø, @, #, }), dropped or (rarely)
  added. *Lost*: what it reads says nothing of the value. Re-reads that disagree with each other
  (54/514/544) are unlikely under every value when reliable, so the lost state takes over and
  Tesseract's vote fades; unanimous ones weigh heavily.
- **The reader** likewise: *reliable*, its probabilities are the likelihood of each digit (relative
  to a uniform guess, per digit); *lost* (a digit cut, two digits merged, a stray mark read as a digit),
  it says nothing.
- **Prior**: uniform over the candidates, times an outside prior when one is known (the signing date
  for the day, `number_date`).

Every parameter is a property of the engines on handwriting in general, not of any document.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from itertools import product

P_OK = 0.7  # a glyph read as itself by reliable Tesseract
P_JUNK = 0.1  # ... as a symbol that is no digit ("Ø", "@", "}")
P_DROP = 0.1  # ... not read at all (a glyph dropped)
P_ADD = 0.03  # a glyph read where there is none (a dot, the dotted line)
P_OTHER = 0.005  # ... as an unrelated digit
# Tesseract's known misreadings of handwritten digits (the continental 1 with its up-stroke and the
# crossed 7 look like 4s; closed loops swap): P(read b | wrote a)
CONFUSION: dict[tuple[str, str], float] = {
    ("1", "4"): 0.2, ("1", "7"): 0.2, ("7", "1"): 0.05, ("7", "4"): 0.05, ("4", "1"): 0.05,
    ("4", "9"): 0.05, ("9", "4"): 0.05, ("3", "8"): 0.05, ("8", "3"): 0.05, ("3", "5"): 0.05,
    ("5", "3"): 0.05, ("5", "6"): 0.05, ("6", "5"): 0.05, ("0", "6"): 0.05, ("6", "0"): 0.05,
    ("8", "9"): 0.05, ("9", "8"): 0.05, ("2", "7"): 0.05, ("7", "2"): 0.05, ("0", "9"): 0.05,
}
P_LOST_GLYPH = 0.1  # lost Tesseract: any glyph, any digit
TESS_RELIABLE = 0.5  # prior of the reliable state
READER_RELIABLE = 0.8
MAX_DIGITS = 4
REREADS_SHARED = 0.5  # k re-reads of one crop weigh as k**(1 - this) independent readings (1: as one)


@dataclass
class Posterior:
    best: str  # the likeliest value ("" when there is no candidate)
    probability: float
    ranked: list[tuple[str, float]]  # every candidate, likeliest first


def _glyph(wrote: str, read: str) -> float:
    if not read.isdigit():
        return P_JUNK
    if read == wrote:
        return P_OK
    return CONFUSION.get((wrote, read), P_OTHER)


@lru_cache(maxsize=4096)
def tesseract_likelihood(reading: str, value: str) -> float:
    """P(reliable Tesseract reads `reading` | the ink says `value`): every alignment of glyphs,
    a glyph dropped or added (a forward pass over the two strings)."""
    n, m = len(value), len(reading)
    f = [[0.0] * (m + 1) for _ in range(n + 1)]
    f[0][0] = 1.0
    for i in range(n + 1):
        for j in range(m + 1):
            if i == j == 0:
                continue
            p = 0.0
            if i and j:
                p += f[i - 1][j - 1] * _glyph(value[i - 1], reading[j - 1])
            if i:
                p += f[i - 1][j] * P_DROP
            if j:
                p += f[i][j - 1] * P_ADD
            f[i][j] = p
    return f[n][m]


def explained(reading: str, value: str) -> bool:
    """A reading the value accounts for with Tesseract's usual errors only: each glyph read as itself,
    as a known confusion or as a junk symbol, or dropped, and junk symbols added (the page OCR reads
    pen strokes as "-", "{", "`"); never a digit added or an unrelated digit. A reading that needs
    those contradicts the value (the ink holds a digit the value lacks)."""
    reading = reading.replace(" ", "")
    n, m = len(value), len(reading)
    ok = [[False] * (m + 1) for _ in range(n + 1)]
    for i in range(n + 1):
        for j in range(m + 1):
            if i == j == 0:
                ok[i][j] = True
                continue
            b = reading[j - 1] if j else ""
            ok[i][j] = ((i > 0 and ok[i - 1][j])  # a glyph dropped
                        or (j > 0 and not b.isdigit() and ok[i][j - 1])  # a junk symbol added
                        or (i > 0 and j > 0 and ok[i - 1][j - 1]
                            and (value[i - 1] == b or not b.isdigit() or (value[i - 1], b) in CONFUSION)))
    return ok[n][m]


def _tesseract(page: str, weight: float, rereads: list[str], value: str) -> float:
    """Tesseract's readings given the value: the page OCR's, weighed by its confidence (an exponent:
    a reading Tesseract doubts counts for less), and the re-reads' (three sizes of one crop often fail
    together, dropping the same thin 1: k of them count as k^(1-REREADS_SHARED) readings)."""
    def joint(reads: list[str], like, power: float = 1.0) -> float:
        if not reads:
            return 1.0
        out = 1.0
        for r in reads:
            out *= like(r)
        return out ** (power / len(reads) ** REREADS_SHARED)

    pages = [page] if page else []
    reliable = (joint(pages, lambda r: tesseract_likelihood(r, value), weight)
                * joint(rereads, lambda r: tesseract_likelihood(r, value)))
    lost = (joint(pages, lambda r: P_LOST_GLYPH ** len(r) * P_DROP, weight)
            * joint(rereads, lambda r: P_LOST_GLYPH ** len(r) * P_DROP))  # as likely for every value
    return TESS_RELIABLE * reliable + (1 - TESS_RELIABLE) * lost


def _reader(hand: list[list[float]], value: str) -> float:
    lost = 1 - READER_RELIABLE
    if not hand:
        return 1.0
    if len(hand) != len(value):
        return lost
    like = 1.0
    for p, d in zip(hand, value, strict=True):
        like *= 10 * p[int(d)]
    return READER_RELIABLE * like + lost


def candidates(readings: list[str], hand: list[list[float]]) -> set[str]:
    """Values worth scoring: every reading (junk symbols as any digit), the reader's two best digits
    at each place, and each of those with one digit changed."""
    seeds: set[str] = set()
    for r in readings:
        r = r.replace(" ", "")
        if not r or len(r) > MAX_DIGITS:
            continue
        options = [c if c.isdigit() else "0123456789" for c in r]
        if sum(len(o) > 1 for o in options) <= 2:
            seeds.update("".join(t) for t in product(*options))
        digits = "".join(c for c in r if c.isdigit())
        if digits:
            seeds.add(digits)
    if hand and len(hand) <= MAX_DIGITS:
        tops = [sorted(range(10), key=lambda d, p=p: -p[d])[:2] for p in hand]
        seeds.update("".join(map(str, t)) for t in product(*tops))
    out = set(seeds)
    for s in seeds:
        for i in range(len(s)):
            out.update(s[:i] + d + s[i + 1:] for d in "0123456789")
    return out


def posterior(page: str, rereads: list[str], hand: list[list[float]], *, confidence: float = 1.0,
              key: Callable[[str], str | None] = lambda v: v, prior: Callable[[str], float] | None = None) -> Posterior:
    """The probability of each value given Tesseract's readings (the page OCR's `page` and the crop's
    `rereads`; empty ones say nothing and are left out; `confidence`: the page OCR's) and the reader's `hand` probabilities. `key`
    maps a written form to the value it means (None: impossible; "05" and "5" are one day); `prior`
    weighs values."""
    page = (page or "").replace(" ", "")[:MAX_DIGITS + 2]
    reads = [r.replace(" ", "") for r in rereads if r and r.strip()]
    scores: dict[str, float] = {}
    for form in candidates([page, *reads], hand):
        value = key(form)
        if value is None:
            continue
        p = _tesseract(page, max(0.0, min(1.0, confidence)), reads, form) * _reader(hand, form) * (prior(value) if prior else 1.0)
        scores[value] = max(scores.get(value, 0.0), p)  # a value is as likely as its likeliest form
    total = sum(scores.values())
    if not total:
        return Posterior("", 0.0, [])
    ranked = sorted(((v, p / total) for v, p in scores.items()), key=lambda t: -t[1])
    return Posterior(ranked[0][0], ranked[0][1], ranked)
