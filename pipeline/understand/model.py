"""Trained page classifier: TF-IDF n-grams of the OCR text + logistic regression, beside the title rules.

Why both: the title rules (`pipeline.understand.classify.RuleClassifier`) are exact when a page shows a
clear title, and know every type of the taxonomy, including types never seen in training. The
model reads the whole page (body wording, form labels, layout words), so it recognises pages
whose title OCR garbled, forms without a title line, card copies, and continuation pages.

Features (all robust to OCR damage): character n-grams (2-5, inside word boundaries) of the
tone-folded text and of the NFC text, word uni/bigrams of the folded text, and character n-grams
of the top of the page (header + title zone) on their own, so the title weighs more than one line
of body. Two heads share them: the type (multinomial logistic regression; its probabilities are
the confidence, checked for calibration by `bench/understand.py`) and "a document starts here"
(binary logistic regression).

`HybridClassifier.classify_page` combines them (see its docstring). A model file is tied to the
taxonomy fingerprint and the scikit-learn version it was trained with; `load_model` refuses a
stale or unreadable file with a logged warning, and `page_classifier()` then falls back to the
rules alone.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.settings import Settings
from pipeline.textnorm import fold, nfc
from pipeline.understand.classify import CLEAR, PageGuess, RuleClassifier, readable_share, rule_classifier
from pipeline.understand.overlays import split_overlays
from pipeline.understand.taxonomy import FALLBACK, Taxonomy

log = logging.getLogger("sohoa.model")

FORMAT = 1  # layout of the saved bundle; bump when it changes
MODEL_NAME = "page_classifier.joblib"
MAX_CHARS = 12_000  # text read per page (the first pages' worth of an OCR dump)
TOP_LINES = 14  # lines of the header/title zone
RULE_CLEAR = 0.88  # rule score of a clear title match (sim ≥ CLEAR); the rules decide the type
RULE_FAIR = 0.6  # a rule guess from a fuzzy title, a title line or "V/v" (not from cue words alone)
CONFLICT = 0.15
UNKNOWN_TITLE = 0.45  # at most this score for a page whose readable title the taxonomy does not know  # taken off the score when rules and model name different types
MODEL_START = 0.5  # P(start) from which the model says a document starts
MODEL_VETO = 0.15  # below this P(start), header lines without a title do not start a document
OOD_KNOWN = 0.35  # below this share of known words a page is "not like anything trained": khac
_WORD = re.compile(r"[a-z0-9đ]+")


def model_path(settings: Settings) -> Path:
    """Default location: `<home>/models/page_classifier.joblib`."""
    return Path(settings.home) / "models" / MODEL_NAME


def sklearn_version() -> str | None:
    try:
        import sklearn
    except ImportError:
        return None
    return sklearn.__version__


# --------------------------------------------------------------------------- text views


def _clip(text: str) -> str:
    """The page text the model reads: signature boxes and stamps laid over the page left out (they
    are on documents of every type, so they only blur the types apart)."""
    return split_overlays(nfc((text or "")[:MAX_CHARS])).text


def view_folded(text: str) -> str:
    return " ".join(fold(_clip(text)).split())


def view_nfc(text: str) -> str:
    return " ".join(_clip(text).lower().split())


def view_top(text: str) -> str:
    lines = [x for x in _clip(text).splitlines() if x.strip()][:TOP_LINES]
    return " ".join(fold(" ".join(lines)).split())


def _vectorizers():
    from sklearn.feature_extraction.text import TfidfVectorizer

    common = {"sublinear_tf": True, "min_df": 2, "dtype": _float32()}
    return {
        "folded_char": TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), max_features=60_000, **common),
        "folded_word": TfidfVectorizer(analyzer="word", ngram_range=(1, 2), token_pattern=r"(?u)\b\w\w+\b",
                                       max_features=30_000, **common),
        "nfc_char": TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), max_features=40_000, **common),
        "top_char": TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), max_features=30_000, **common),
    }


def _float32():
    import numpy as np

    return np.float32


_VIEWS = {"folded_char": view_folded, "folded_word": view_folded, "nfc_char": view_nfc, "top_char": view_top}


class Features:
    """The four TF-IDF views side by side (one sparse matrix)."""

    def __init__(self) -> None:
        self.vectorizers = _vectorizers()
        self.vocabulary: frozenset[str] = frozenset()

    def fit_transform(self, texts: Sequence[str]):
        from scipy.sparse import hstack

        views = {name: [_VIEWS[name](t) for t in texts] for name in self.vectorizers}
        mats = [vec.fit_transform(views[name]) for name, vec in self.vectorizers.items()]
        words: dict[str, int] = {}
        for t in views["folded_word"]:
            for w in set(_WORD.findall(t)):
                words[w] = words.get(w, 0) + 1
        self.vocabulary = frozenset(w for w, c in words.items() if c >= 2 and len(w) >= 2)
        return hstack(mats).tocsr()

    def transform(self, texts: Sequence[str]):
        from scipy.sparse import hstack

        mats = [vec.transform([_VIEWS[name](t) for t in texts]) for name, vec in self.vectorizers.items()]
        return hstack(mats).tocsr()

    def known_share(self, text: str) -> float:
        """Share of the page's words (2+ letters) seen in training: low for another language or noise."""
        words = [w for w in _WORD.findall(view_folded(text)) if len(w) >= 2]
        if not words:
            return 0.0
        return sum(1 for w in words if w in self.vocabulary) / len(words)


# --------------------------------------------------------------------------- the trained model


@dataclass
class Example:
    """One labelled page: its OCR text, type code and whether a document starts on it."""

    text: str
    type: str
    start: bool
    weight: float = 1.0
    source: str = "generated"


class PageModel:
    """Features + type head + start head, with the metadata that says what it was trained for."""

    def __init__(self, features: Features, type_clf: Any, start_clf: Any, labels: list[str], meta: dict):
        self.features = features
        self.type_clf = type_clf
        self.start_clf = start_clf
        self.labels = labels
        self.meta = meta

    def predict(self, texts: Sequence[str]) -> list[tuple[dict[str, float], float, float]]:
        """Per text: {type: probability}, P(start), share of known words."""
        x = self.features.transform(texts)
        types = self.type_clf.predict_proba(x)
        classes = list(self.type_clf.classes_)
        starts = self.start_clf.predict_proba(x)
        start_col = list(self.start_clf.classes_).index(1) if 1 in self.start_clf.classes_ else None
        out = []
        for i, text in enumerate(texts):
            probs = {str(classes[j]): float(types[i, j]) for j in range(len(classes))}
            p_start = float(starts[i, start_col]) if start_col is not None else 0.0
            out.append((probs, p_start, self.features.known_share(text)))
        return out


def train_model(examples: Sequence[Example], taxonomy: Taxonomy, *, c_type: float = 20.0, c_start: float = 5.0,
                info: dict | None = None) -> PageModel:
    """Fit the features and both heads on labelled pages (deterministic for the same examples)."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    if not examples:
        raise ValueError("no training examples")
    known = set(taxonomy.codes)
    rows = [e for e in examples if e.type in known]
    texts = [e.text for e in rows]
    y_type = np.array([e.type for e in rows])
    y_start = np.array([1 if e.start else 0 for e in rows])
    weights = np.array([e.weight for e in rows], dtype=np.float64)
    if len(set(y_type)) < 2:
        raise ValueError("training needs pages of at least two types")
    features = Features()
    x = features.fit_transform(texts)
    type_clf = LogisticRegression(C=c_type, max_iter=3000, class_weight="balanced")
    type_clf.fit(x, y_type, sample_weight=weights)
    start_clf = LogisticRegression(C=c_start, max_iter=3000, class_weight="balanced")
    start_clf.fit(x, y_start, sample_weight=weights)
    counts: dict[str, int] = {}
    for e in rows:
        counts[e.type] = counts.get(e.type, 0) + 1
    meta = {
        "format": FORMAT,
        "taxonomy": taxonomy.fingerprint,
        "sklearn": sklearn_version(),
        "trained_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "pages": len(rows),
        "per_type": dict(sorted(counts.items())),
        "sources": sorted({e.source for e in rows}),
        **(info or {}),
    }
    return PageModel(features, type_clf, start_clf, sorted(set(y_type)), meta)


def save_model(model: PageModel, path: Path) -> Path:
    import joblib

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    bundle = {"format": FORMAT, "meta": model.meta, "labels": model.labels, "features": model.features,
              "type_clf": model.type_clf, "start_clf": model.start_clf}
    tmp = path.with_name(f".{path.name}.tmp")
    joblib.dump(bundle, tmp, compress=3)
    os.replace(tmp, path)
    return path


def load_model(path: Path, taxonomy: Taxonomy) -> PageModel | None:
    """The model at `path` if it fits this taxonomy and scikit-learn; else None, with a warning why."""
    path = Path(path)
    if not path.exists():
        log.warning("no trained page classifier at %s: classifying by title rules only (run `sohoa train`)", path)
        return None
    version = sklearn_version()
    if version is None:
        log.warning("scikit-learn is not installed: classifying by title rules only")
        return None
    try:
        import joblib

        bundle = joblib.load(path)
    except Exception as exc:  # noqa: BLE001 - a broken file must not stop digitising
        log.warning("cannot read page classifier %s (%s): classifying by title rules only", path, exc)
        return None
    if not isinstance(bundle, dict) or bundle.get("format") != FORMAT:
        log.warning("page classifier %s has an unknown format: classifying by title rules only (run `sohoa train`)",
                    path)
        return None
    meta = bundle.get("meta", {})
    if meta.get("taxonomy") != taxonomy.fingerprint:
        log.warning("page classifier %s was trained for another taxonomy: classifying by title rules only "
                    "(run `sohoa train` after changing the taxonomy)", path)
        return None
    if meta.get("sklearn") != version:
        log.warning("page classifier %s was trained with scikit-learn %s, this is %s: classifying by title rules "
                    "only (run `sohoa train`)", path, meta.get("sklearn"), version)
        return None
    return PageModel(bundle["features"], bundle["type_clf"], bundle["start_clf"], bundle["labels"], meta)


# --------------------------------------------------------------------------- rules + model


class HybridClassifier:
    """`PageClassifier` of title rules and the trained model (the table in docs/understanding.md).

    - A clear title (rule score ≥ 0.88) decides the type and the start; the model corroborates:
      when it gives that type almost no chance and another almost all, the score drops to 0.5.
    - Otherwise the model decides the type and its probability is the score; when the rules name
      the same type the higher score counts, when a fuzzy title or "V/v" names another type the
      surer one wins, 0.15 less sure.
    - A start needs the rules' header evidence (Quốc hiệu, "Số:", date line) or the model's
      P(start) for a type it knows, never a visible continuation ("Trang 2/3", "Điều 4.", a
      sentence cut mid-way); a very low P(start) vetoes a header that has no title.
    - `khac`, flagged: a page unlike anything trained (another language, noise, OCR of a page
      upside down) and a page whose readable title is no title of the taxonomy.
    """

    def __init__(self, taxonomy: Taxonomy, model: PageModel, rules: RuleClassifier | None = None):
        self.taxonomy = taxonomy
        self.model = model
        self.rules = rules or rule_classifier(taxonomy)

    def classify_page(self, text: str) -> PageGuess:
        guess = self.rules.classify_page(text)
        try:
            ((probs, p_start, known),) = self.model.predict([text or ""])
        except Exception:  # noqa: BLE001 - the model must never stop a dossier
            log.exception("page classifier failed; using the title rules for this page")
            return guess
        return combine(guess, probs, p_start, known, self.taxonomy)

    def classify_pages(self, texts: Sequence[str]) -> list[PageGuess]:
        """All pages at once (one sparse matrix: faster on long dossiers)."""
        guesses = [self.rules.classify_page(t) for t in texts]
        try:
            preds = self.model.predict([t or "" for t in texts])
        except Exception:  # noqa: BLE001
            log.exception("page classifier failed; using the title rules for this dossier")
            return guesses
        return [combine(g, *p, self.taxonomy) for g, p in zip(guesses, preds, strict=True)]


def combine(guess: PageGuess, probs: dict[str, float], p_start: float, known: float,
            taxonomy: Taxonomy) -> PageGuess:
    """One page's rule guess and model output -> the final guess (see `HybridClassifier`)."""
    if "unreadable text" in guess.cues:
        return guess  # nonsense OCR (a page upside down, a photo): its own component, flagged
    probs = {c: p for c, p in probs.items() if taxonomy.get(c) is not None}
    best = max(probs, key=probs.get) if probs else FALLBACK
    p_best = probs.get(best, 0.0)
    cues = list(guess.cues)
    if guess.card_back and guess.code == "can_cuoc" and not guess.is_start:
        # an ID card's back alone (fingerprints, "Đặc điểm nhận dạng", the MRZ) has no title, and the
        # model saw few backs on a page of their own: the rules' reading of it stands
        cues.append(f"model: {best} ({p_best:.2f}); card back by its own marks")
        return PageGuess(guess.code, guess.score, guess.title, False, tuple(cues), True, guess.continuation)
    if guess.score >= RULE_CLEAR and guess.code != FALLBACK:
        p_rule = probs.get(guess.code)
        score = guess.score
        if p_rule is not None and p_rule < 0.02 and best != guess.code and p_best > 0.9:
            score = min(score, 0.5)  # the title says one thing, everything else another: a person looks
            cues.append(f"model: {best} ({p_best:.2f}) disagrees")
        elif p_rule is not None:
            cues.append(f"model: {guess.code} ({p_rule:.2f})")
        return PageGuess(guess.code, round(score, 3), guess.title, guess.is_start, tuple(cues), guess.card_back,
                         guess.continuation)
    if known < OOD_KNOWN and guess.code == FALLBACK:
        cues.append(f"model: unfamiliar text ({known:.2f} known words)")
        return PageGuess(FALLBACK, min(guess.score, 0.2), guess.title, guess.is_start, tuple(cues),
                         guess.card_back, guess.continuation)
    code, score = best, p_best
    if known < OOD_KNOWN:
        score *= known / OOD_KNOWN  # mostly unknown words: the model is guessing
    if guess.code != FALLBACK and guess.code == code:
        score = max(score, guess.score)  # two independent readings agree
    elif guess.code != FALLBACK and guess.score >= RULE_FAIR and taxonomy.get(guess.code) is not None:
        if guess.code not in probs:
            code, score = guess.code, guess.score  # a type the model never saw, named by a readable title
        else:  # a fuzzy title or a "V/v" says one type, the model another: the surer wins, less sure
            if guess.score > score:
                code, score = guess.code, guess.score
            score -= CONFLICT
            cues.append("rules and model disagree")
    if guess.code == FALLBACK and guess.is_start and guess.title and readable_share(guess.title)[0] >= 0.9:
        # A clean title under a header that is no title of the taxonomy ("GIẤY BÁO TỬ"): a type we do
        # not know. The model only knows the types it saw and would pick the nearest; a person decides.
        cues.append(f"title not in the taxonomy: {guess.title}; nearest known type {code} ({score:.2f})")
        code, score = FALLBACK, min(score, UNKNOWN_TITLE)
    cues.append(f"model: {code} ({score:.2f}), start {p_start:.2f}")
    if guess.card_back and code == "can_cuoc" or guess.continuation:
        starts = False
    elif guess.is_start and not guess.title and p_start < MODEL_VETO:
        starts = False  # a header line without a title ("Làm tại: xã …, ngày …" above a signature)
        cues.append("model: continuation, not a new document")
    else:  # the model's "starts here" counts only when it also knows what starts
        starts = guess.is_start or (p_start >= MODEL_START and code != FALLBACK)
    return PageGuess(code, round(min(0.99, max(0.0, score)), 3), guess.title, starts, tuple(cues),
                     guess.card_back, guess.continuation)


# --------------------------------------------------------------------------- loading for the pipeline

_LOADED: dict[tuple[str, float, str], PageModel | None] = {}


def page_classifier(settings: Settings, taxonomy: Taxonomy, path: Path | None = None):
    """The classifier `understand()` should use: rules + model when a fitting model exists, else rules.

    The model is loaded once per file version (path, mtime) and taxonomy.
    """
    path = Path(path) if path is not None else model_path(settings)
    try:
        mtime = path.stat().st_mtime
    except OSError:
        mtime = -1.0  # no file: remembered too, so the warning is logged once
    key = (str(path), mtime, taxonomy.fingerprint)
    if key not in _LOADED:
        if len(_LOADED) > 4:
            _LOADED.clear()
        _LOADED[key] = load_model(path, taxonomy)
    model = _LOADED[key]
    return rule_classifier(taxonomy) if model is None else HybridClassifier(taxonomy, model)


__all__ = ["CLEAR", "Example", "HybridClassifier", "PageModel", "combine", "load_model", "model_path",
           "page_classifier", "save_model", "train_model"]
