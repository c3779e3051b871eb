"""The default page-classifier model shipped with the code: it exists for config/taxonomy.yaml, is the
`make model` recipe's, and a fresh data home classifies with it (no "no trained page classifier" warning)."""

from __future__ import annotations

import logging

from flows.train import TRAIN_SEED
from pipeline.settings import Settings
from pipeline.understand.model import SHIPPED_DIR, HybridClassifier, page_classifier, shipped_model_path
from pipeline.understand.taxonomy import load_taxonomy
from tests.test_classify import DECISION

TX = load_taxonomy()


def test_the_shipped_model_fits_the_taxonomy():
    path = shipped_model_path(TX)
    assert path.exists(), (f"no default model for config/taxonomy.yaml (fingerprint {TX.fingerprint[:12]}): "
                           f"the taxonomy changed, run `make model` and commit {path.name}")
    assert sorted(p.name for p in SHIPPED_DIR.glob("*.npz")) == [path.name], "stale models: run `make model`"


def test_the_shipped_model_is_the_make_model_recipe_and_classifies_on_a_fresh_home(tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger="sohoa.model")
    clf = page_classifier(Settings(home=tmp_path), TX)
    assert caplog.text == ""
    assert isinstance(clf, HybridClassifier)
    meta = clf.model.meta
    assert (meta["taxonomy"], meta["corpus"], meta["synthetic"], meta["seed"], meta["corrections"]) == (
        TX.fingerprint, 0, 140, TRAIN_SEED, False)
    assert clf.classify_page(DECISION).code == "quyet_dinh"
    # a page without its title: the model still knows the contract by its wording
    text = ("Điều 1. Bên A đồng ý chuyển nhượng cho Bên B quyền sử dụng thửa đất số 112, tờ bản đồ số 7.\n"
            "Điều 2. Giá chuyển nhượng là 500.000.000 đồng; Bên B thanh toán cho Bên A một lần.\n"
            "Điều 3. Bên A có nghĩa vụ giao thửa đất và giấy tờ cho Bên B đúng thời hạn.")
    assert clf.classify_page(text).code == "hop_dong"
