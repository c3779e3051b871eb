"""Vietnamese text normalisation: NFC with one tone-placement convention, tone folding, CER.

Vietnamese can be written with the same letters in several code-point sequences (precomposed or
combining marks) and with two tone-placement conventions (`hòa`/`hoà`, `thủy`/`thuỷ`). Everything
sohoa stores goes through `nfc()` so that equal words are equal strings; search also folds tones
away (`fold()`), so `ho so` finds `hồ sơ`.
"""

from __future__ import annotations

import re
import unicodedata

from rapidfuzz.distance import Levenshtein

# Combining tone marks (the five Vietnamese tones); other marks (circumflex, breve, horn) are
# part of the vowel letter.
_TONES = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}
_VOWELS = set("aăâeêioôơuưy")
_MODIFIED = set("ăâêôơư")
_WORD = re.compile(r"\w+", re.UNICODE)


def _split_tone(word: str) -> tuple[str, str | None]:
    """Return the word with its tone removed (NFC) and the tone mark, if exactly one."""
    decomposed = unicodedata.normalize("NFD", word)
    tones = [c for c in decomposed if c in _TONES]
    if len(tones) != 1:
        return word, None
    bare = unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in _TONES))
    return bare, tones[0]


def _tone_index(bare: str) -> int | None:
    """Index of the vowel that carries the tone in the traditional convention (hòa, thủy, ủy)."""
    low = bare.lower()
    start = 0
    if low.startswith("qu") or (low.startswith("gi") and len(low) > 2 and low[2] in _VOWELS):
        start = 2
    i = start
    while i < len(low) and low[i] not in _VOWELS:
        i += 1
    j = i
    while j < len(low) and low[j] in _VOWELS:
        j += 1
    if i == j:
        # "gì", "quỳ": the i/u of the initial is the only vowel left
        return start - 1 if start else None
    if j < len(low) and not low[j:].isalpha():
        return None
    cluster = range(i, j)
    modified = [k for k in cluster if low[k] in _MODIFIED]
    if modified:
        return modified[-1]  # ươ -> ơ, ê in uyê
    if j < len(low):  # closed syllable: last vowel of the cluster
        return j - 1
    n = j - i
    if n == 1:
        return i
    if n == 2:
        return i
    return i + 1


def normalise_tone(word: str) -> str:
    """Put the tone mark of one syllable where the traditional convention puts it."""
    bare, tone = _split_tone(word)
    if tone is None:
        return word
    idx = _tone_index(bare)
    if idx is None or idx >= len(bare):
        return word
    placed = bare[:idx] + unicodedata.normalize("NFC", bare[idx] + tone) + bare[idx + 1 :]
    return unicodedata.normalize("NFC", placed)


def nfc(text: str) -> str:
    """NFC, `Ð` (U+00D0, often typed for Đ) as `Đ`, and one tone-placement convention."""
    if not text:
        return ""
    text = unicodedata.normalize("NFC", text).replace("\u00d0", "\u0110")
    return _WORD.sub(lambda m: normalise_tone(m.group(0)), text)


def strip_marks(text: str) -> str:
    """Remove tones and vowel marks, keep case: `Hồ Sơ Đất` -> `Ho So Dat`."""
    decomposed = unicodedata.normalize("NFD", text)
    stripped = "".join(c for c in decomposed if unicodedata.category(c) != "Mn")
    return stripped.translate(_D)


_D = str.maketrans({"đ": "d", "Đ": "D", "ð": "d", "Ð": "D"})


def fold(text: str) -> str:
    """Lower-case and strip tones and vowel marks: `Hồ sơ Đất` -> `ho so dat`."""
    return strip_marks(text.lower())


def words(text: str) -> list[str]:
    return _WORD.findall(text)


def squash(text: str) -> str:
    """Collapse whitespace; used before comparing texts."""
    return " ".join(text.split())


def cer(hypothesis: str, reference: str) -> float:
    """Character error rate of `hypothesis` against `reference` after NFC and whitespace squashing."""
    ref = squash(nfc(reference))
    hyp = squash(nfc(hypothesis))
    if not ref:
        return 0.0 if not hyp else 1.0
    return Levenshtein.distance(hyp, ref) / len(ref)
