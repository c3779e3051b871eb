"""Understanding on real OCR: generated pages rendered at 300 dpi, scanned-looking, read by Tesseract
through the page pipeline; and staff review corrections on a dossier digitised end to end.

Kept small (4 generated pages, one 3-page sample dossier): the full measurement is bench/understand.py.
"""

from __future__ import annotations

import json
import random
import subprocess

import pytest
from pypdf import PdfReader

from flows.train import add_review_parser, synthetic_examples, unknown_examples
from pipeline.catalog import open_catalog
from pipeline.digitise.dossier import digitise
from pipeline.digitise.stream import process_pages
from pipeline.ingest.inputs import open_dossier
from pipeline.settings import Settings
from pipeline.store import open_store
from pipeline.understand import review
from pipeline.understand.extract import extract_components
from pipeline.understand.model import HybridClassifier, train_model
from pipeline.understand.segment import PageInput, segment
from pipeline.understand.taxonomy import load_taxonomy
from samples.generate import make_dossier, truth_dict, write_dossier
from tests.conftest import SAMPLES, correct

pytestmark = [pytest.mark.slow, pytest.mark.ocr]

TX = load_taxonomy()


@pytest.fixture(scope="module")
def scanned(tmp_path_factory):
    """A letter over two pages (no page numbers), a blank separator sheet, then a notice; real OCR."""
    work = tmp_path_factory.mktemp("scan")
    d = make_dossier(random.Random(1), "van_ban_ket_qua", 300, "light", parts=["cong_van", "thong_bao"],
                     blank_separator=True, dossier_id="vb_0001")
    path = write_dossier(d, work, "tiff", quality=80)
    outputs = process_pages(open_dossier(path), Settings(home=work, workers=2), work / "pages")
    return truth_dict(d, "tiff"), [PageInput(o.page.n, o.page.text, o.page.blank) for o in outputs]


def _check(truth: dict, pages: list[PageInput], classifier=None) -> None:
    segs = segment(pages, TX, 0.6, classifier=classifier)
    want = [(c["type"], c["pages"]) for c in truth["components"]]
    assert [(s.type, s.pages) for s in segs] == want
    assert not any(s.needs_review for s in segs)
    by_n = {p.n: p.text for p in pages}
    metas = extract_components(["\n\n".join(by_n[n] for n in s.pages) for s in segs], [s.type for s in segs])
    for meta, comp in zip(metas, truth["components"], strict=True):
        for field in ("so_ky_hieu", "ngay", "co_quan", "trich_yeu"):
            assert getattr(meta, field) == comp["metadata"][field], (comp["type"], field)
        printed = "".join(truth["pages"][n - 1]["text"] for n in comp["pages"])
        assert set(meta.cccd) == set(comp["metadata"]["cccd"]) and all(c in printed for c in meta.cccd)


def test_real_ocr_pages_with_rules(scanned):
    truth, pages = scanned
    assert [p.blank for p in pages] == [p["blank"] for p in truth["pages"]] == [False, False, True, False]
    _check(truth, pages)


def test_real_ocr_pages_with_rules_and_model(scanned):
    truth, pages = scanned
    model = train_model(synthetic_examples(seed=5, count=14) + unknown_examples(seed=6, count=24), TX)
    _check(truth, pages, HybridClassifier(TX, model))


# --------------------------------------------------------------------------- review corrections


@pytest.fixture(scope="module")
def digitised(tmp_path_factory):
    """hs_0003: a power of attorney (pages 1-2, page 2 scanned upside down) and an ID card copy (page 3)."""
    home = tmp_path_factory.mktemp("home")
    settings = Settings(home=home, workers=2)
    with open_catalog(settings) as catalog:
        manifest = digitise(SAMPLES / "hs_0003.tiff", settings, open_store(settings), catalog)
    assert manifest.status == "done", manifest.error
    assert [(c.type, c.pages) for c in manifest.components] == [("giay_uy_quyen", [1, 2]), ("can_cuoc", [3])]
    return settings


def _pdf_pages(settings: Settings, key: str) -> int:
    return len(PdfReader(open_store(settings).open(key)).pages)


def _pdf_text(settings: Settings, key: str) -> str:
    data = open_store(settings).get_bytes(key)
    return subprocess.run(["pdftotext", "-", "-"], input=data, capture_output=True, check=True).stdout.decode()


def _corrections(settings: Settings) -> list[dict]:
    lines = []
    for path in sorted((settings.home / "corrections").glob("*.jsonl")):
        lines += [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]
    return lines


def test_split_merge_set_type_update_store_catalog_and_training_data(digitised):
    settings = digitised
    store = open_store(settings)
    # split: page 2 becomes its own component (as a clerk would if it were another document)
    m = correct(settings, "split", "hs_0003", 2, "khac")
    assert [(c.id, c.type, c.pages, c.needs_review) for c in m.components] == [
        ("hs_0003-01", "giay_uy_quyen", [1], False), ("hs_0003-02", "khac", [2], False),
        ("hs_0003-03", "can_cuoc", [3], False)]
    keys = sorted(k for k in store.list("dossiers/hs_0003/") if k.endswith(".pdf"))
    assert keys == ["dossiers/hs_0003/01-giay_uy_quyen.pdf", "dossiers/hs_0003/02-khac.pdf",
                    "dossiers/hs_0003/03-can_cuoc.pdf"]
    assert [_pdf_pages(settings, k) for k in keys] == [1, 1, 1]
    assert "ỦY QUYỀN" in _pdf_text(settings, keys[0]).upper()  # the text layer came along
    with open_catalog(settings) as catalog:
        assert [c.type for c in catalog.get_dossier("hs_0003").components] == ["giay_uy_quyen", "khac", "can_cuoc"]
    stored = review.load_manifest(store, "hs_0003")
    assert stored.components == m.components
    # merge it back
    m = correct(settings, "merge", "hs_0003", 2)
    assert [(c.type, c.pages) for c in m.components] == [("giay_uy_quyen", [1, 2]), ("can_cuoc", [3])]
    assert _pdf_pages(settings, "dossiers/hs_0003/01-giay_uy_quyen.pdf") == 2
    assert not store.exists("dossiers/hs_0003/03-can_cuoc.pdf")
    # set-type: fields are extracted again for the new type
    m = correct(settings, "set_type", "hs_0003-02", "ho_chieu")
    assert (m.components[1].type, m.components[1].type_name) == ("ho_chieu", "Hộ chiếu")
    assert store.exists("dossiers/hs_0003/02-ho_chieu.pdf") and not store.exists("dossiers/hs_0003/02-can_cuoc.pdf")
    with open_catalog(settings) as catalog:
        hits = catalog.search("căn cước", type="ho_chieu")
        assert [h.component_id for h in hits] == ["hs_0003-02"]
    corrections = _corrections(settings)
    assert [c["action"] for c in corrections] == ["split", "merge", "set-type"]
    assert corrections[2]["from"] == "can_cuoc" and corrections[2]["to"] == "ho_chieu"
    assert corrections[0]["components"][1]["type"] == "khac"
    assert all(p["text"] for c in corrections for comp in c["components"] for p in comp["pages"])


def test_review_list_and_refusals(digitised, capsys, monkeypatch):
    import argparse

    settings = digitised
    store = open_store(settings)
    m = review.load_manifest(store, "hs_0003")
    flagged = m.model_copy(update={"components": [m.components[0].model_copy(update={"needs_review": True,
                                                                                       "confidence": 0.41})]
                                   + m.components[1:]})
    store.put_bytes("dossiers/hs_0003/manifest.json", flagged.to_json().encode("utf-8"))
    items = review.review_items(store)
    assert [(i.component_id, i.pages) for i in items] == [("hs_0003-01", [1, 2])]
    assert "0.41" in items[0].reason
    monkeypatch.setenv("SOHOA_HOME", str(settings.home))  # the command sets it; restored after the test
    parser = argparse.ArgumentParser()
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--home")
    common.add_argument("--config")
    add_review_parser(parser.add_subparsers(dest="command"), [common])
    args = parser.parse_args(["review", "--list", "--json", "--home", str(settings.home)])
    assert args.func(args) == 0
    (line,) = capsys.readouterr().out.splitlines()
    assert json.loads(line)["component_id"] == "hs_0003-01"
    args = parser.parse_args(["review", "set-type", "hs_0003-01", "giay_uy_quyen", "--home", str(settings.home)])
    assert args.func(args) == 0
    assert review.review_items(store) == []
    with pytest.raises(review.ReviewError, match="unknown type"):
        correct(settings, "set_type", "hs_0003-01", "not_a_type")
    with pytest.raises(review.ReviewError, match="no dossier"):
        correct(settings, "split", "hs_9999", 2)
    with pytest.raises(review.ReviewError, match="already starts"):
        correct(settings, "split", "hs_0003", 3)
    with pytest.raises(review.ReviewError, match="first one"):
        correct(settings, "merge", "hs_0003", 1)
    with pytest.raises(review.ReviewError, match="no component"):
        correct(settings, "set_type", "hs_0003-07", "khac")


def test_set_fields_and_accept_through_the_command_line(digitised, capsys):
    import argparse

    settings = digitised
    store = open_store(settings)
    parser = argparse.ArgumentParser()
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--home")
    common.add_argument("--config")
    add_review_parser(parser.add_subparsers(dest="command"), [common])

    def run(*argv: str) -> int:
        args = parser.parse_args(["review", *argv, "--home", str(settings.home)])
        return args.func(args)

    card = review.load_manifest(store, "hs_0003").components[1].id
    assert run("set-field", card, "so_ky_hieu=AB 1234/ĐK", "ngay=2021-03-04", "ho_ten=Lê Văn Tâm, Đỗ Thị Hoa",
               "--by", "linh") == 0
    meta = review.load_manifest(store, "hs_0003").components[1].metadata
    assert (meta.so_ky_hieu, meta.ngay, meta.ho_ten) == ("AB 1234/ĐK", "2021-03-04", ["Lê Văn Tâm", "Đỗ Thị Hoa"])
    with open_catalog(settings) as catalog:
        assert [h.component_id for h in catalog.search("AB 1234")] == [card]  # indexed again
    last = _corrections(settings)[-1]
    assert last["action"] == "set-fields" and last["by"] == "linh" and last["fields"]["ngay"]["to"] == "2021-03-04"
    with open_catalog(settings) as catalog:  # and the audit log the web application shows
        entry = catalog.audit(dossier_id="hs_0003")[0]
    assert (entry["user_name"], entry["action"], entry["component_id"]) == ("linh", "set-fields", card)
    # a later correction of another component keeps the fields a person set
    first = review.load_manifest(store, "hs_0003").components[0]
    flagged = review.load_manifest(store, "hs_0003")
    flagged.components[0] = first.model_copy(update={"needs_review": True, "confidence": 0.33})
    with open_catalog(settings) as catalog:
        from pipeline.digitise.dossier import record

        record(flagged, store, catalog)
        assert catalog.review_count() == 1
    assert run("accept", first.id) == 0
    m = review.load_manifest(store, "hs_0003")
    assert (m.components[0].needs_review, m.components[0].confidence) == (False, 1.0)
    assert m.components[1].metadata.so_ky_hieu == "AB 1234/ĐK"
    with open_catalog(settings) as catalog:
        assert catalog.review_count() == 0
    assert _corrections(settings)[-1]["action"] == "accept"
    capsys.readouterr()
    with pytest.raises(review.ReviewError, match="not valid"):
        correct(settings, "set_fields", card, {"ngay": "04/03/2021"})
    with pytest.raises(review.ReviewError, match="unknown field"):
        correct(settings, "set_fields", card, {"ten": "x"})
    assert run("set-field", card, "no-equals-sign") == 2
