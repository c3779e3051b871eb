"""A trained RBF support-vector classifier as plain arrays, read with numpy alone.

The handwritten-digit reader is trained with scikit-learn's `SVC(probability=True)` (libsvm), but
reading a blank needs only its support vectors, coefficients and Platt sigmoids. Importing
scikit-learn to unpickle the model costs ~1.6 s of CPU (it pulls in SciPy and pandas), which a
one-page run paid while its page waited for the reader; these arrays load in milliseconds, and no
pickle is read. The probabilities are libsvm's own (`svm_predict_probability`): one-against-one
decision values, each pair's sigmoid, then pairwise coupling (Wu, Lin and Weng 2004, libsvm's
`multiclass_probability`), so a blank reads as it did with scikit-learn (`tests/test_handdigits.py`
compares them).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

MIN_PROB = 1e-7  # libsvm clips each pair's probability into [MIN_PROB, 1 - MIN_PROB]


@dataclass(frozen=True)
class SvcArrays:
    classes: np.ndarray  # (k,) labels in libsvm's order (sorted, as scikit-learn keeps them)
    support_vectors: np.ndarray  # (n_sv, d), grouped by class
    n_support: np.ndarray  # (k,) support vectors of each class
    dual_coef: np.ndarray  # (k - 1, n_sv), libsvm's sv_coef
    intercept: np.ndarray  # (k (k - 1) / 2,) = -rho, pairs (0,1), (0,2) … (1,2) …
    prob_a: np.ndarray  # (pairs,) Platt sigmoid slopes
    prob_b: np.ndarray  # (pairs,) and offsets
    gamma: float

    @classmethod
    def from_svc(cls, svc) -> SvcArrays:
        """The arrays of a fitted multi-class `sklearn.svm.SVC(kernel="rbf", probability=True)`."""
        k = len(svc.classes_)
        if svc.kernel != "rbf" or k < 3 or len(getattr(svc, "_probA", ())) != k * (k - 1) // 2:
            raise ValueError("only a multi-class RBF SVC with probability=True is supported")
        return cls(classes=np.asarray(svc.classes_), support_vectors=np.asarray(svc.support_vectors_, np.float64),
                   n_support=np.asarray(svc.n_support_, np.int64), dual_coef=np.asarray(svc._dual_coef_, np.float64),
                   intercept=np.asarray(svc._intercept_, np.float64), prob_a=np.asarray(svc._probA, np.float64),
                   prob_b=np.asarray(svc._probB, np.float64), gamma=float(svc._gamma))

    def save(self, path: Path) -> None:
        """Uncompressed (compressing 4 MB took ~0.4 s, on a fresh data home's first page); the support
        vectors as float32 when that loses nothing (the reader's features are float32)."""
        sv = self.support_vectors
        if np.array_equal(sv.astype(np.float32), sv):
            sv = sv.astype(np.float32)
        with open(path, "wb") as f:
            np.savez(f, classes=self.classes, support_vectors=sv,
                                n_support=self.n_support, dual_coef=self.dual_coef, intercept=self.intercept,
                                prob_a=self.prob_a, prob_b=self.prob_b, gamma=np.array(self.gamma))

    @classmethod
    def load(cls, path: Path) -> SvcArrays:
        with np.load(path, allow_pickle=False) as z:
            return cls(**{k: z[k] for k in ("classes", "n_support", "dual_coef", "intercept", "prob_a", "prob_b")},
                       support_vectors=z["support_vectors"].astype(np.float64), gamma=float(z["gamma"]))

    def decision_values(self, x: np.ndarray) -> np.ndarray:
        """(n, pairs) one-against-one decision values, libsvm's `svm_predict_values`."""
        x = np.asarray(x, np.float64)
        sv = self.support_vectors
        sq = (x * x).sum(1)[:, None] + (sv * sv).sum(1)[None, :] - 2.0 * x @ sv.T
        kernel = np.exp(-self.gamma * np.maximum(sq, 0.0))  # (n, n_sv)
        start = np.concatenate([[0], np.cumsum(self.n_support)])
        k = len(self.classes)
        out = np.empty((x.shape[0], k * (k - 1) // 2))
        p = 0
        for i in range(k):
            for j in range(i + 1, k):
                si, sj = slice(start[i], start[i + 1]), slice(start[j], start[j + 1])
                out[:, p] = (kernel[:, si] @ self.dual_coef[j - 1, si] + kernel[:, sj] @ self.dual_coef[i, sj]
                             + self.intercept[p])
                p += 1
        return out

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """(n, k) class probabilities in the order of `classes`, as libsvm gives them."""
        dec = self.decision_values(x)
        f = dec * self.prob_a + self.prob_b
        pair = np.where(f >= 0, np.exp(-np.abs(f)) / (1.0 + np.exp(-np.abs(f))), 1.0 / (1.0 + np.exp(-np.abs(f))))
        pair = np.clip(pair, MIN_PROB, 1.0 - MIN_PROB)
        k = len(self.classes)
        out = np.empty((x.shape[0], k))
        for n in range(x.shape[0]):
            r = np.empty((k, k))
            p = 0
            for i in range(k):
                for j in range(i + 1, k):
                    r[i, j], r[j, i] = pair[n, p], 1.0 - pair[n, p]
                    p += 1
            out[n] = coupled(r)
        return out


def coupled(r: np.ndarray) -> np.ndarray:
    """Class probabilities from pairwise ones (`r[i, j]`: P(i | i or j)), libsvm's
    `multiclass_probability`, step for step (the same fixed-point iteration, tolerance and order)."""
    k = r.shape[0]
    q = np.zeros((k, k))
    for t in range(k):
        for j in range(t):
            q[t, t] += r[j, t] * r[j, t]
            q[t, j] = q[j, t]
        for j in range(t + 1, k):
            q[t, t] += r[j, t] * r[j, t]
            q[t, j] = -r[j, t] * r[t, j]
    p = np.full(k, 1.0 / k)
    eps = 0.005 / k
    for _ in range(max(100, k)):
        qp = q @ p
        pqp = float(p @ qp)
        if np.abs(qp - pqp).max() < eps:
            break
        for t in range(k):
            diff = (-qp[t] + pqp) / q[t, t]
            p[t] += diff
            pqp = (pqp + diff * (diff * q[t, t] + 2 * qp[t])) / (1 + diff) / (1 + diff)
            qp = (qp + diff * q[t]) / (1 + diff)
            p /= 1 + diff
    return p
