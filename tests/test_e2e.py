"""End to end on the committed samples, without Prefect: real OCR, real PDFs, real store and catalog."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import jsonschema
import pytest

from pipeline.catalog import open_catalog
from pipeline.digitise.dossier import digitise
from pipeline.manifest import json_schema
from pipeline.settings import Settings
from pipeline.store import open_store
from pipeline.textnorm import cer
from samples.generate import row_major_text
from tests.conftest import SAMPLES

pytestmark = [pytest.mark.slow, pytest.mark.ocr]

DOSSIERS = ["hs_0001.pdf", "hs_0002", "hs_0003.tiff", "hs_0004.png"]


def truth(name: str) -> dict:
    return json.loads((SAMPLES / f"{name.split('.')[0]}.truth.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    home = tmp_path_factory.mktemp("home")
    settings = Settings(home=home)
    store = open_store(settings)
    catalog = open_catalog(settings)
    manifests = {name: digitise(SAMPLES / name, settings, store, catalog) for name in DOSSIERS}
    yield settings, store, catalog, manifests
    catalog.close()


def pdf_page_text(pdf: str, page: int) -> str:
    # -raw keeps the text layer's own order (Tesseract's reading order), not pdftotext's re-layout
    return subprocess.run(["pdftotext", "-raw", "-f", str(page), "-l", str(page), pdf, "-"],
                          capture_output=True, text=True, check=True).stdout


def test_manifests_valid_and_done(run):
    _, store, _, manifests = run
    schema = json_schema()
    for name, m in manifests.items():
        data = m.model_dump(mode="json", by_alias=True)
        jsonschema.validate(data, schema)
        assert m.status == "done", m.error
        assert m.source.pages == len(truth(name)["pages"])
        # a fresh data home classifies with the default model shipped for the taxonomy
        assert all(c.classifier.startswith("title rules + model page_classifier-") for c in m.components)
        stored = json.loads(store.get_bytes(f"dossiers/{m.dossier_id}/manifest.json"))
        assert stored == data
        assert any(k.startswith(f"originals/{m.dossier_id}/") for k in store.list("originals/"))


def test_text_layer_cer_under_2_percent(run):
    *_, manifests = run
    errors = chars = 0
    for name, m in manifests.items():
        t = truth(name)
        for comp in m.components:
            pdf = comp.object.uri.removeprefix("file://")
            for i, n in enumerate(comp.pages, start=1):
                ref = row_major_text(t["pages"][n - 1]["lines"])
                e = cer(pdf_page_text(pdf, i), ref)
                assert e < 0.05, f"{name} page {n}: CER {e:.3f}"
                errors += e * len(ref)
                chars += len(ref)
    assert chars > 10_000
    assert errors / chars < 0.02, f"CER {errors / chars:.4f}"


def test_pages_turned_upright_and_components_split(run):
    *_, manifests = run
    for name, m in manifests.items():
        t = truth(name)
        assert [p.rotation for p in m.pages] == [p["rotation"] for p in t["pages"]]
        for page, tp in zip(m.pages, t["pages"], strict=True):
            assert abs(page.skew_deg - tp["skew_deg"]) <= 0.3, (name, page.n)
        assert [(c.type, c.pages) for c in m.components] == [(c["type"], c["pages"]) for c in t["components"]]


def test_component_pdfs_stored_with_info(run):
    _, store, _, manifests = run
    m = manifests["hs_0004.png"]
    comp = m.components[0]
    assert comp.object.key == "dossiers/hs_0004/01-quyet_dinh.pdf"
    assert store.stat(comp.object.key).sha256 == comp.sha256
    info = subprocess.run(["pdfinfo", comp.object.uri.removeprefix("file://")], capture_output=True, text=True,
                          check=True).stdout
    assert "Quyết định" in info and "hs_0004" in info


def test_every_component_pdf_is_pdfa_2b_and_a_jpeg_scan_goes_in_unchanged(run):
    from pypdf import PdfReader

    from pipeline.publish.pdfa import problems

    _, store, _, manifests = run
    for m in manifests.values():
        for comp in m.components:
            path = Path(comp.object.uri.removeprefix("file://"))
            assert problems(path) == [], (comp.id, problems(path))
    # hs_0002 is a folder of colour JPEG scans: each page's image in the PDF is the scan's own file
    scans = {p.read_bytes() for p in (SAMPLES / "hs_0002").glob("*.jpg")}
    for comp in manifests["hs_0002"].components:
        for page in PdfReader(comp.object.uri.removeprefix("file://")).pages:
            image = next(iter(page["/Resources"]["/XObject"].values())).get_object()
            assert image["/Filter"] == "/DCTDecode" and image._data in scans


def test_search_with_and_without_tone_marks(run):
    _, _, catalog, _ = run
    with_tones = catalog.search("chuyển mục đích sử dụng đất")
    without = catalog.search("chuyen muc dich su dung dat")
    assert with_tones and without
    assert {h.component_id for h in with_tones} == {h.component_id for h in without}
    assert "hs_0004-01" in {h.component_id for h in without}
    assert with_tones[0].exact
    assert catalog.search("quyet dinh", type="quyet_dinh")[0].type == "quyet_dinh"


def test_rerun_replaces_without_duplicates(run):
    settings, store, catalog, manifests = run
    before = catalog.stats()
    keys_before = sorted(store.list("dossiers/hs_0004/"))
    again = digitise(SAMPLES / "hs_0004.png", settings, store, catalog)
    assert again.status == "done"
    assert catalog.stats() == before
    assert sorted(store.list("dossiers/hs_0004/")) == keys_before


def test_bad_dossier_fails_alone_and_is_not_indexed(run, tmp_path):
    settings, store, catalog, _ = run
    bad = tmp_path / "hs_bad.pdf"
    bad.write_bytes(b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n")
    m = digitise(bad, settings, store, catalog)
    assert m.status == "failed" and "hs_bad.pdf" in m.error and m.components == []
    err = json.loads(store.get_bytes("quarantine/hs_bad/error.json"))
    assert err["error"] == m.error
    assert catalog.get_dossier("hs_bad").status == "failed"
    assert not catalog.search("hồ sơ", dossier="hs_bad")
    assert any(k.startswith("quarantine/hs_bad/original/") for k in store.list("quarantine/hs_bad/"))
