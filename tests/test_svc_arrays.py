"""The reader's SVC as plain arrays (pipeline.ocr.svc_arrays) gives libsvm's probabilities: the same as
scikit-learn's `predict_proba` of the SVC it came from, on real handwritten digits it never saw."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings

import numpy as np
import pytest
from sklearn.svm import SVC

from pipeline.ocr import handdigits
from pipeline.ocr.svc_arrays import SvcArrays, coupled

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def digits():
    x, y = handdigits.mnist()
    train, held = handdigits.split()
    pick = np.random.default_rng(0).choice(train, 800, replace=False)  # small: trains in ~1 s, same arithmetic
    fx = handdigits.features([handdigits.normalise(x[i] > 127) for i in pick])
    hx = handdigits.features([handdigits.normalise(x[i] > 127) for i in held[:300]])
    return fx, y[pick], hx


def test_arrays_give_libsvms_probabilities(digits, tmp_path):
    fx, fy, hx = digits
    svc = SVC(C=8.0, gamma=0.15, probability=True, random_state=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        svc.fit(fx, fy)
        want = svc.predict_proba(hx)
    arrays = SvcArrays.from_svc(svc)
    got = arrays.predict_proba(hx)
    assert got.shape == want.shape == (300, 10)
    assert np.abs(got - want).max() < 1e-6
    assert (got.argmax(1) == want.argmax(1)).all()
    svc.decision_function_shape = "ovo"  # libsvm's own one-against-one values, pair by pair
    assert np.allclose(arrays.decision_values(hx), svc.decision_function(hx), atol=1e-9)
    arrays.save(tmp_path / "m.npz")
    again = SvcArrays.load(tmp_path / "m.npz")
    assert np.array_equal(again.predict_proba(hx), got)


def test_pairwise_coupling_of_consistent_pairs():
    """Pairwise probabilities made from a true distribution couple back to it."""
    p = np.array([0.6, 0.25, 0.1, 0.05])
    r = p[:, None] / (p[:, None] + p[None, :])
    assert np.abs(coupled(r) - p).max() < 0.01


def test_reading_a_blank_imports_no_scikit_learn(tmp_path):
    """The cached reader loads and reads without importing scikit-learn (~1.6 s of CPU a run)."""
    handdigits.model()  # trained and cached (the user's cache) when not there yet
    code = ("import sys, numpy as np; from pipeline.ocr import handdigits; "
            "p = handdigits.classify([np.zeros((28, 28))]); "
            "assert p.shape == (1, 10); print(any(m == 'sklearn' or m.startswith('sklearn.') for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "SOHOA_HOME": str(tmp_path)})
    assert out.stdout.strip() == "False"
