"""Per-page quality: Tesseract's word confidences and how Vietnamese the text looks.

Tesseract is often confident about garbage (table rules read as `|||`, a stamp read as letters),
and unsure about good text in bold titles, so its confidence alone is a weak signal. Vietnamese
gives a second, independent one: every word is a syllable with a strict structure,

    syllable = [onset] [medial o/u] nucleus [coda] + at most one tone mark

with a small set of onsets (b, ch, gh, ngh, qu, tr, ...), vowel nuclei (a, ươ, uyê, ...), codas
(c, ch, m, n, ng, nh, p, t, and the glides i/y/o/u), spelling rules (k before e/ê/i/y, c elsewhere;
gh and ngh before e/ê/i) and one phonological rule: syllables closed by a stop (c, ch, p, t) take
only the sắc or nặng tone. OCR garbage rarely passes all of these. `plausibility()` is the share of
a text's words that are valid syllables; no dictionary is needed.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from pipeline.textnorm import nfc

# combining tone marks: huyền, sắc, ngã, hỏi, nặng
GRAVE, ACUTE, TILDE, HOOK, DOT = "\u0300", "\u0301", "\u0303", "\u0309", "\u0323"
TONES = {GRAVE, ACUTE, TILDE, HOOK, DOT}
STOP_TONES = {ACUTE, DOT}  # the only tones a syllable closed by c, ch, p, t can carry

ONSETS = ("ngh", "ch", "gh", "gi", "kh", "ng", "nh", "ph", "qu", "th", "tr",
          "b", "c", "d", "đ", "g", "h", "k", "l", "m", "n", "p", "r", "s", "t", "v", "x")
FRONT = ("e", "ê", "i", "y")  # k, gh, ngh go before these; c, g, ng do not

# vowel groups that end a syllable (no consonant coda), glides included
OPEN = {
    "a", "e", "ê", "i", "o", "ô", "ơ", "u", "ư", "y",
    "ai", "ao", "au", "ay", "âu", "ây", "eo", "êu", "ia", "iu", "oa", "oe", "oi", "ôi", "ơi", "ua", "uê",
    "ui", "uy", "ưa", "ưi", "ưu", "uơ", "ya",
    "iêu", "yêu", "oai", "oay", "oao", "oeo", "uây", "uôi", "uya", "uyu", "ươi", "ươu", "oo",
}
# vowel nuclei (medial included) and the consonant codas they take
_ALL = ("m", "n", "p", "t")
CLOSED: dict[str, tuple[str, ...]] = {
    "a": ("c", "ch", "m", "n", "ng", "nh", "p", "t"),
    "ă": ("c", "k", "m", "n", "ng", "p", "t"),  # k: Đắk Lắk
    "â": ("c", "m", "n", "ng", "p", "t"),
    "e": ("c", "m", "n", "ng", "p", "t"),
    "ê": ("ch", "m", "n", "nh", "p", "t"),
    "i": ("ch", "m", "n", "nh", "p", "t"),
    "o": ("c", "m", "n", "ng", "p", "t"),
    "ô": ("c", "m", "n", "ng", "p", "t"),
    "ơ": ("m", "n", "p", "t"),
    "u": ("c", "m", "n", "ng", "p", "t"),
    "ư": ("c", "m", "n", "ng", "t"),
    "y": ("m", "n", "p", "t"),  # rare (ym, yn)
    "iê": ("c", "m", "n", "ng", "p", "t"),
    "yê": ("m", "n", "ng", "t"),
    "uô": ("c", "m", "n", "ng", "t"),
    "ươ": ("c", "m", "n", "ng", "p", "t"),
    "oa": ("c", "ch", "m", "n", "ng", "nh", "p", "t"),
    "oă": ("c", "m", "n", "ng", "t"),
    "oe": ("n", "t"),
    "oo": ("c", "ng"),  # xoong, quần soóc
    "uâ": ("n", "ng", "t"),
    "uê": ("ch", "n", "nh"),
    "uy": ("ch", "n", "nh", "p", "t"),
    "uyê": ("n", "t"),
}
CODAS = ("ng", "nh", "ch", "c", "k", "m", "n", "p", "t")
STOPS = {"c", "ch", "k", "p", "t"}
LETTERS = set("aăâbcdđeêghiklmnoôơpqrstuưvxy")
VOWELS = set("aăâeêioôơuưy")

_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


def split_tone(syllable: str) -> tuple[str, list[str]]:
    """(the syllable lower-cased without tone marks (NFC), the tone marks found)."""
    decomposed = unicodedata.normalize("NFD", syllable.lower())
    tones = [c for c in decomposed if c in TONES]
    bare = unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in TONES))
    return bare, tones


def _rhyme_ok(rest: str, tone: str | None) -> bool:
    """`rest` is vowel group + coda."""
    if rest in OPEN:
        return True
    for coda in CODAS:
        if rest.endswith(coda) and len(rest) > len(coda):
            nucleus = rest[: -len(coda)]
            if coda in CLOSED.get(nucleus, ()):
                return not (coda in STOPS and tone is not None and tone not in STOP_TONES)
            return False
    return False


def is_syllable(word: str) -> bool:
    """True when `word` is a well-formed Vietnamese syllable (upper or lower case, any tone)."""
    bare, tones = split_tone(nfc(word))
    if not bare or len(tones) > 1 or len(bare) > 7 or any(c not in LETTERS for c in bare):
        return False
    tone = tones[0] if tones else None
    onsets = [o for o in ONSETS if bare.startswith(o)] + [""]
    for onset in onsets:  # longest first; "gi" and "qu" may also be g + i..., q never alone
        rest = bare[len(onset) :]
        if not rest:
            continue
        if onset == "gi" and rest[0] not in VOWELS:
            continue  # gìn, gì: g + i
        if onset == "qu" and rest[0] in ("u", "o"):
            continue
        if onset == "" and bare[0] not in VOWELS:
            continue
        first = rest[0]
        if onset in ("k", "gh", "ngh") and first not in FRONT:
            continue
        if onset in ("c", "ng") and first in FRONT:
            continue
        if onset == "g" and first in ("e", "ê"):
            continue
        if _rhyme_ok(rest, tone):
            return True
    return False


_ROMAN = re.compile(r"^[IVXLC]+$")


def _is_abbreviation(token: str) -> bool:
    """UBND, QĐ, TTr, CCCD, roman numerals: capitals that are no syllable, neither good nor bad."""
    if _ROMAN.match(token):
        return True
    return 2 <= len(token) <= 6 and token[:2].isupper() and not is_syllable(token)


def plausibility(text: str) -> tuple[float | None, int]:
    """(share of the words of `text` that are valid Vietnamese syllables, words counted).

    Single letters and all-capital abbreviations are not counted; None when nothing is left.
    """
    good = total = 0
    for token in _WORD.findall(nfc(text)):
        if len(token) < 2:
            continue
        ok = is_syllable(token)
        if not ok and _is_abbreviation(token):
            continue
        total += 1
        good += ok
    return (good / total if total else None), total


_HAS_ALNUM = re.compile(r"[^\W_]", re.UNICODE)
MAX_SYMBOL_SHARE = 0.03  # real pages: < 0.5 % of their characters in tokens of symbols alone


def symbol_share(text: str) -> float:
    """Share of the characters of `text` in tokens without a letter or digit (`.....`, `|~-`): the
    dotted leaders, rules and specks Tesseract read as punctuation."""
    tokens = text.split()
    total = sum(len(t) for t in tokens)
    return sum(len(t) for t in tokens if not _HAS_ALNUM.search(t)) / total if total else 0.0


@dataclass
class PageQuality:
    confidence: float  # Tesseract, character-weighted mean of word confidences, 0..1
    plausibility: float | None  # share of valid Vietnamese syllables, None when no words
    words: int  # words counted for plausibility
    symbols: float  # share of characters in symbol-only tokens
    needs_review: bool
    reason: str = ""


def page_quality(text: str, confidence: float, *, min_confidence: float = 0.7, min_plausibility: float = 0.5,
                 min_words: int = 8) -> PageQuality:
    """The signals and the verdict: a page needs review when Tesseract is unsure of it, when too few
    of its words are Vietnamese syllables (checked once there are `min_words` words), or when much
    of what was read is symbols. On the OCR bench no page read with a CER under 2 % is flagged."""
    plaus, n = plausibility(text)
    symbols = symbol_share(text)
    reasons = []
    if not text.strip():
        reasons.append("no text recognised")
    elif confidence < min_confidence:
        reasons.append(f"OCR confidence {confidence:.2f} < {min_confidence:.2f}")
    if plaus is not None and n >= min_words and plaus < min_plausibility:
        reasons.append(f"only {plaus:.0%} of words are Vietnamese syllables")
    if symbols > MAX_SYMBOL_SHARE:
        reasons.append(f"{symbols:.0%} of the text is stray symbols")
    return PageQuality(round(confidence, 4), None if plaus is None else round(plaus, 4), n, round(symbols, 4),
                       bool(reasons), "; ".join(reasons))


# --------------------------------------------------------------------------------------------
# Text layers of PDFs

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f\ufffd\ue000-\uf8ff]")
_VIET_ONLY = set("ăâđêôơưĂÂĐÊÔƠƯ")


# A text layer drawn over a page-sized image is somebody's OCR: it must read as well as ours does
# (our Tesseract pages read cleanly score 0.95+; Tesseract `eng` on a Vietnamese page scores ~0.7)
OCR_LAYER_PLAUSIBILITY = 0.85
# ... and carry Vietnamese diacritics: over half the syllables of real text have a mark or a
# letter like ă/ơ/đ; an OCR engine without Vietnamese drops them ("CONG HOA XA HOI")
OCR_LAYER_MARKED = 0.25
_MARKED = set("ăâđêôơư")


def marked_share(text: str) -> tuple[float | None, int]:
    """(share of the words of `text` (2+ letters) carrying a Vietnamese mark or letter, words counted)."""
    total = marked = 0
    for token in _WORD.findall(nfc(text)):
        if len(token) < 2:
            continue
        total += 1
        bare, tones = split_tone(token)
        marked += bool(tones) or any(c in _MARKED for c in bare)
    return (marked / total if total else None), total


@dataclass
class LayerVerdict:
    """Whether a PDF page's own text is worth keeping, its syllable share, and why not."""

    real: bool
    plausibility: float | None
    reason: str = ""


def judge_text_layer(text: str, *, over_image: bool = False, min_letters: int = 40) -> LayerVerdict:
    """Is a PDF page's own text layer real text worth keeping instead of OCR?

    Not for a missing or stub layer, for fonts without a Unicode mapping (control characters,
    private-use code points, U+FFFD), for mapped-but-wrong glyphs (letter salad) or implausible word
    lengths: Vietnamese text must be mostly valid syllables, other text must have words and vowels
    like a language. `over_image`: the layer lies over a page-sized image, so it is an OCR layer
    (a scanner's); it must then read like good OCR of Vietnamese: `OCR_LAYER_PLAUSIBILITY` of its
    words valid syllables and `OCR_LAYER_MARKED` of them with diacritics.
    """
    text = nfc(text)
    plaus, n = plausibility(text)
    letters = [c for c in text if c.isalpha()]
    if len(letters) < min_letters:
        return LayerVerdict(False, plaus, f"only {len(letters)} letters")
    visible = [c for c in text if not c.isspace()]
    if len(_CONTROL.findall(text)) > 0.01 * len(visible):
        return LayerVerdict(False, plaus, "glyphs with no Unicode mapping")
    if len(letters) < 0.5 * len(visible):
        return LayerVerdict(False, plaus, "mostly symbols and digits")
    words = _WORD.findall(text)
    tokens = text.split()
    if not words or sum(1 for w in words if len(w) > 25) > 0.05 * len(words):
        return LayerVerdict(False, plaus, "run-together words")
    if sum(1 for t in tokens if 1 <= len(t) <= 20) <= 0.8 * len(tokens):
        return LayerVerdict(False, plaus, "implausible word lengths")
    low = "".join(letters).lower()
    bare = unicodedata.normalize("NFD", low)
    vowels = sum(1 for c in bare if c in "aeiouy")
    if not 0.2 <= vowels / len(letters) <= 0.7:
        return LayerVerdict(False, plaus, "letter salad (vowel share)")
    vietnamese = sum(1 for c in text if c in _VIET_ONLY) >= 3 or any(
        c in TONES for c in unicodedata.normalize("NFD", text))
    if over_image and plaus is not None and n >= 10:
        if plaus < OCR_LAYER_PLAUSIBILITY and vietnamese:
            return LayerVerdict(False, plaus, f"only {plaus:.0%} of its words are Vietnamese syllables")
        marked, _ = marked_share(text)
        # syllable-shaped words (English scores ~0.2) with hardly a diacritic: stripped Vietnamese
        if plaus >= 0.6 and marked is not None and marked < OCR_LAYER_MARKED:
            return LayerVerdict(False, plaus, f"Vietnamese without its diacritics ({marked:.0%} of words marked)")
        return LayerVerdict(True, plaus)
    if vietnamese and plaus is not None and n >= 10 and plaus < 0.6:
        return LayerVerdict(False, plaus, f"only {plaus:.0%} of its words are Vietnamese syllables")
    return LayerVerdict(True, plaus)


def text_layer_is_real(text: str, min_letters: int = 40, *, over_image: bool = False) -> bool:
    """True when a PDF page's own text layer is real text worth keeping instead of OCR (`judge_text_layer`)."""
    return judge_text_layer(text, over_image=over_image, min_letters=min_letters).real
