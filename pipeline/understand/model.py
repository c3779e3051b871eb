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

`HybridClassifier.classify_page` combines them (see its docstring).

Where the model comes from (`page_classifier()`): a model trained here (`sohoa train`, in
`<home>/models/page_classifier.npz`), else the default model shipped with the code for this taxonomy
(`pipeline/understand/models/page_classifier-<fingerprint>.npz`, made by `make model`: generated
dossiers with simulated OCR damage, deterministic). A model file is plain arrays (terms, idf,
coefficients; numpy's .npz, no pickle), so any scikit-learn version — or none — reads it; it is tied
to the taxonomy fingerprint it was trained for. `load_model` refuses a stale or unreadable file with
a logged warning; with no fitting model the rules decide alone.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import re
import zipfile
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pipeline.settings import Settings
from pipeline.textnorm import fold, nfc
from pipeline.understand.classify import CLEAR, PageGuess, RuleClassifier, readable_share, rule_classifier
from pipeline.understand.overlays import split_overlays
from pipeline.understand.taxonomy import FALLBACK, Taxonomy

log = logging.getLogger("sohoa.model")

FORMAT = 2  # layout of the saved arrays; bump when it changes (format 1 was a joblib pickle)
MODEL_NAME = "page_classifier.npz"
SHIPPED_DIR = Path(__file__).with_name("models")  # the default models made by `make model`, one per taxonomy
MAX_CHARS = 12_000  # text read per page (the first pages' worth of an OCR dump)
TOP_LINES = 14  # lines of the header/title zone
RULE_CLEAR = 0.88  # rule score of a clear title match (sim ≥ CLEAR); the rules decide the type
RULE_FAIR = 0.6  # a rule guess from a fuzzy title, a title line or "V/v" (not from cue words alone)
CONFLICT = 0.15
UNKNOWN_TITLE = 0.45  # at most this score for a page whose readable title the taxonomy does not know  # taken off the score when rules and model name different types
MODEL_START = 0.5  # P(start) from which the model says a document starts
MODEL_START_TYPE = 0.5  # ... when it is at least this sure of the type that starts (else it knows neither)
MODEL_VETO = 0.15  # below this P(start), header lines without a title do not start a document
OOD_KNOWN = 0.35  # below this share of known words a page is "not like anything trained": khac
_WORD = re.compile(r"[a-z0-9đ]+")
_TOKEN = re.compile(r"(?u)\b\w\w+\b")


def model_path(settings: Settings) -> Path:
    """A model trained here (`sohoa train`): `<home>/models/page_classifier.npz`."""
    return Path(settings.home) / "models" / MODEL_NAME


def shipped_model_path(taxonomy: Taxonomy) -> Path:
    """The default model for this taxonomy, shipped with the code: named by the taxonomy's fingerprint,
    so a changed taxonomy finds none until `make model` trains one."""
    return SHIPPED_DIR / f"page_classifier-{taxonomy.fingerprint[:12]}.npz"


def sklearn_version() -> str | None:
    try:
        import sklearn
    except ImportError:
        return None
    return sklearn.__version__


# --------------------------------------------------------------------------- text views and n-grams


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


def char_wb_ngrams(text: str, lo: int, hi: int) -> list[str]:
    """Character n-grams inside word boundaries (each word padded with a space), as scikit-learn's
    `char_wb` analyser makes them: the model's own, so a saved model needs no scikit-learn to run."""
    out: list[str] = []
    for word in text.lower().split():
        w = f" {word} "
        size = len(w)
        for n in range(lo, hi + 1):
            if n > size:
                if n == lo:
                    out.append(w)  # a word shorter than the smallest n-gram counts once, whole
                break
            out.extend(w[i:i + n] for i in range(size - n + 1))
            if size - n == 0:
                break
    return out


def word_ngrams(text: str, lo: int, hi: int) -> list[str]:
    """Word uni/bigrams of 2+ letter tokens (scikit-learn's default word analyser)."""
    tokens = _TOKEN.findall(text.lower())
    out = list(tokens) if lo == 1 else []
    for n in range(max(lo, 2), hi + 1):
        out.extend(" ".join(tokens[i:i + n]) for i in range(len(tokens) - n + 1))
    return out


@dataclass(frozen=True)
class ViewSpec:
    """One TF-IDF view of the page: which text, which n-grams, how many features at most."""

    name: str
    text: Callable[[str], str]
    analyzer: Callable[[str], list[str]]
    max_features: int


VIEWS = (
    ViewSpec("folded_char", view_folded, lambda t: char_wb_ngrams(t, 2, 5), 60_000),
    ViewSpec("folded_word", view_folded, lambda t: word_ngrams(t, 1, 2), 30_000),
    ViewSpec("nfc_char", view_nfc, lambda t: char_wb_ngrams(t, 2, 4), 40_000),
    ViewSpec("top_char", view_top, lambda t: char_wb_ngrams(t, 2, 5), 30_000),
)


@dataclass
class View:
    """A fitted view: its terms (column order) and their idf."""

    spec: ViewSpec
    terms: list[str]
    idf: np.ndarray
    index: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.index = {t: i for i, t in enumerate(self.terms)}

    def transform(self, texts: Sequence[str]):
        """Sublinear tf × idf, each row scaled to unit length (TfidfVectorizer's defaults)."""
        from scipy.sparse import csr_matrix

        indptr, cols, vals = [0], [], []
        for text in texts:
            counts = Counter(j for j in map(self.index.get, self.spec.analyzer(self.spec.text(text)))
                             if j is not None)
            row = sorted(counts.items())
            cols += [j for j, _ in row]
            vals += [c for _, c in row]
            indptr.append(len(cols))
        data = np.asarray(vals, dtype=np.float64)
        col = np.asarray(cols, dtype=np.int64)
        data = (np.log(data) + 1.0) * self.idf[col] if len(data) else data
        mat = csr_matrix((data.astype(np.float32), col, np.asarray(indptr)), shape=(len(texts), len(self.terms)))
        norms = np.sqrt(np.asarray(mat.multiply(mat).sum(axis=1)).ravel())
        norms[norms == 0] = 1.0
        mat.data /= np.repeat(norms, np.diff(mat.indptr)).astype(np.float32)
        return mat


def known_share(vocabulary: frozenset[str], text: str) -> float:
    """Share of the page's words (2+ letters) seen in training: low for another language or noise."""
    words = [w for w in _WORD.findall(view_folded(text)) if len(w) >= 2]
    if not words:
        return 0.0
    return sum(1 for w in words if w in vocabulary) / len(words)


# --------------------------------------------------------------------------- the trained model


@dataclass
class Example:
    """One labelled page: its OCR text, type code and whether a document starts on it."""

    text: str
    type: str
    start: bool
    weight: float = 1.0
    source: str = "generated"


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


class PageModel:
    """The fitted arrays — views (terms, idf), the type head and the start head (logistic regression
    coefficients) — with the metadata that says what it was trained for. Plain arrays, so a model file
    is read by numpy alone, whatever scikit-learn version trained it (none is needed to classify)."""

    def __init__(self, views: list[View], labels: list[str], type_coef: np.ndarray, type_intercept: np.ndarray,
                 start_coef: np.ndarray, start_intercept: np.ndarray, vocabulary: frozenset[str], meta: dict,
                 ident: str = "in memory"):
        self.views = views
        self.labels = labels
        self.type_coef = type_coef
        self.type_intercept = type_intercept
        self.start_coef = start_coef
        self.start_intercept = start_intercept
        self.vocabulary = vocabulary
        self.meta = meta
        self.ident = ident  # what the manifest names: file and content hash

    def features(self, texts: Sequence[str]):
        from scipy.sparse import hstack

        return hstack([v.transform(texts) for v in self.views]).tocsr()

    def predict(self, texts: Sequence[str]) -> list[tuple[dict[str, float], float, float]]:
        """Per text: {type: probability}, P(start), share of known words."""
        x = self.features(texts)
        z = np.asarray(x @ self.type_coef.T, dtype=np.float64) + self.type_intercept
        if z.shape[1] == 1:  # two types: one binary head, for the second label
            p1 = _sigmoid(z[:, 0])
            types = np.stack([1.0 - p1, p1], axis=1)
        else:
            types = _softmax(z)
        starts = _sigmoid(np.asarray(x @ self.start_coef.T, dtype=np.float64)[:, 0] + self.start_intercept[0])
        out = []
        for i, text in enumerate(texts):
            probs = {self.labels[j]: float(types[i, j]) for j in range(len(self.labels))}
            out.append((probs, float(starts[i]), known_share(self.vocabulary, text)))
        return out

    def arrays(self) -> dict[str, np.ndarray]:
        """Everything the model is, as named arrays (what `save_model` writes)."""
        out: dict[str, np.ndarray] = {
            "meta": _text_array(json.dumps(self.meta, ensure_ascii=False, sort_keys=True)),
            "labels": _text_array("\n".join(self.labels)),
            "type_coef": self.type_coef, "type_intercept": self.type_intercept,
            "start_coef": self.start_coef, "start_intercept": self.start_intercept,
            "vocabulary": _text_array("\n".join(sorted(self.vocabulary))),
        }
        for v in self.views:
            out[f"{v.spec.name}.terms"] = _text_array("\n".join(v.terms))
            out[f"{v.spec.name}.idf"] = v.idf
        return out


def _text_array(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-8"), dtype=np.uint8)


def _text_of(arr: np.ndarray) -> str:
    return arr.tobytes().decode("utf-8")


def _lines_of(arr: np.ndarray) -> list[str]:
    text = _text_of(arr)
    return text.split("\n") if text else []


def train_model(examples: Sequence[Example], taxonomy: Taxonomy, *, c_type: float = 20.0, c_start: float = 5.0,
                info: dict | None = None) -> PageModel:
    """Fit the views and both heads on labelled pages (deterministic for the same examples).

    Coefficients are kept as float16 (the model file's precision) and idf as float32, so the model in
    memory is the model a file gives back."""
    from sklearn.feature_extraction.text import TfidfVectorizer
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
    views: list[View] = []
    mats = []
    from scipy.sparse import hstack

    view_texts: dict = {}
    for spec in VIEWS:
        key = spec.text
        if key not in view_texts:
            view_texts[key] = [spec.text(t) for t in texts]
        vec = TfidfVectorizer(analyzer=spec.analyzer, sublinear_tf=True, min_df=2, max_features=spec.max_features,
                              dtype=np.float32)
        vec.fit(view_texts[key])
        terms = [str(t) for t in vec.get_feature_names_out()]
        views.append(View(spec, terms, vec.idf_.astype(np.float32)))
    for v in views:
        mats.append(v.transform(texts))
    x = hstack(mats).tocsr()
    words: dict[str, int] = {}
    for t in view_texts[view_folded]:
        for w in set(_WORD.findall(t)):
            words[w] = words.get(w, 0) + 1
    vocabulary = frozenset(w for w, c in words.items() if c >= 2 and len(w) >= 2)
    type_clf = LogisticRegression(C=c_type, max_iter=3000, class_weight="balanced")
    type_clf.fit(x, y_type, sample_weight=weights)
    start_clf = LogisticRegression(C=c_start, max_iter=3000, class_weight="balanced")
    start_clf.fit(x, y_start, sample_weight=weights)
    if list(start_clf.classes_) != [0, 1]:
        raise ValueError("training needs pages that start a document and pages that do not")
    counts: dict[str, int] = {}
    for e in rows:
        counts[e.type] = counts.get(e.type, 0) + 1
    meta = {
        "format": FORMAT,
        "taxonomy": taxonomy.fingerprint,
        "sklearn": sklearn_version(),
        "pages": len(rows),
        "per_type": dict(sorted(counts.items())),
        "sources": sorted({e.source for e in rows}),
        **(info or {}),
    }
    return PageModel(views, [str(c) for c in type_clf.classes_], type_clf.coef_.astype(np.float16),
                     type_clf.intercept_.astype(np.float32), start_clf.coef_.astype(np.float16),
                     start_clf.intercept_.astype(np.float32), vocabulary, meta)


def save_model(model: PageModel, path: Path) -> Path:
    """The model's arrays in one .npz (no pickle), byte for byte the same for the same model."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with zipfile.ZipFile(tmp, "w") as zf:
        for name, arr in model.arrays().items():
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.ascontiguousarray(arr), allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            zf.writestr(info, buf.getvalue(), compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
    os.replace(tmp, path)
    return path


def read_model(path: Path) -> PageModel:
    """The model in a file written by `save_model` (raises on anything else)."""
    path = Path(path)
    data = path.read_bytes()
    with np.load(io.BytesIO(data), allow_pickle=False) as z:
        meta = json.loads(_text_of(z["meta"]))
        if meta.get("format") != FORMAT:
            raise ValueError(f"format {meta.get('format')}, this code reads {FORMAT}")
        views = [View(spec, _lines_of(z[f"{spec.name}.terms"]), z[f"{spec.name}.idf"].astype(np.float32))
                 for spec in VIEWS]
        coef = z["type_coef"]
        model = PageModel(views, _lines_of(z["labels"]), coef, z["type_intercept"], z["start_coef"],
                          z["start_intercept"], frozenset(_lines_of(z["vocabulary"])), meta,
                          f"{path.name} sha256:{hashlib.sha256(data).hexdigest()[:12]}")
    width = sum(len(v.terms) for v in views)
    if coef.shape != (1 if len(model.labels) == 2 else len(model.labels), width) or \
            model.start_coef.shape != (1, width):
        raise ValueError("arrays of inconsistent shapes")
    return model


def load_model(path: Path, taxonomy: Taxonomy, *, missing_ok: bool = False) -> PageModel | None:
    """The model at `path` if it fits this taxonomy; else None, with a warning why."""
    path = Path(path)
    if not path.exists():
        if not missing_ok:
            log.warning("no trained page classifier at %s: classifying by title rules only (run `sohoa train`)",
                        path)
        return None
    try:
        model = read_model(path)
    except Exception as exc:  # noqa: BLE001 - a broken file must not stop digitising
        log.warning("cannot read page classifier %s (%s): classifying by title rules only (run `sohoa train`)",
                    path, exc)
        return None
    if model.meta.get("taxonomy") != taxonomy.fingerprint:
        log.warning("page classifier %s was trained for another taxonomy: not used "
                    "(run `sohoa train` after changing the taxonomy)", path)
        return None
    return model


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
    else:  # the model's "starts here" counts only when it also knows what starts: a page of a kind it
        # never saw (a real chỉ thị's second page) gets a high P(start) as often as not
        starts = guess.is_start or (p_start >= MODEL_START and code != FALLBACK and score >= MODEL_START_TYPE)
    return PageGuess(code, round(min(0.99, max(0.0, score)), 3), guess.title, starts, tuple(cues),
                     guess.card_back, guess.continuation)


# --------------------------------------------------------------------------- loading for the pipeline

_LOADED: dict[tuple, PageModel | None] = {}


def _stat(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return -1.0


def _find_model(settings: Settings, taxonomy: Taxonomy, path: Path | None) -> PageModel | None:
    if path is not None:
        return load_model(path, taxonomy)
    home, shipped = model_path(settings), shipped_model_path(taxonomy)
    model = load_model(home, taxonomy, missing_ok=True)  # a stale one is said, then the default is used
    if model is None:
        model = load_model(shipped, taxonomy, missing_ok=True)
    if model is None and not shipped.exists():
        log.warning("no trained page classifier for this taxonomy (%s, %s): classifying by title rules only "
                    "(run `sohoa train`, or `make model` in a checkout)", home, shipped.name)
    return model


def page_classifier(settings: Settings, taxonomy: Taxonomy, path: Path | None = None):
    """The classifier `understand()` should use: rules + model when a fitting model exists, else rules.

    The model is `path`, else the one trained in the data home, else the default shipped for this
    taxonomy; it is loaded once per file version (path, mtime) and taxonomy.
    """
    paths = [Path(path)] if path is not None else [model_path(settings), shipped_model_path(taxonomy)]
    key = (tuple((str(p), _stat(p)) for p in paths), taxonomy.fingerprint)
    if key not in _LOADED:
        if len(_LOADED) > 4:
            _LOADED.clear()
        _LOADED[key] = _find_model(settings, taxonomy, Path(path) if path is not None else None)
    model = _LOADED[key]
    return rule_classifier(taxonomy) if model is None else HybridClassifier(taxonomy, model)


def classifier_name(classifier) -> str:
    """What the manifest records as the classifier of a component: the rules, or the rules and which model."""
    model = getattr(classifier, "model", None)
    return "title rules" if model is None else f"title rules + model {model.ident}"


__all__ = ["CLEAR", "Example", "HybridClassifier", "PageModel", "classifier_name", "combine", "load_model",
           "model_path", "page_classifier", "read_model", "save_model", "shipped_model_path", "train_model"]
