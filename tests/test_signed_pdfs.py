"""Signed PDFs stay signed: a PDF signed here with a throwaway certificate goes through
`sohoa process` (Prefect, real OCR), is stored byte for byte, still verifies with pyHanko, is served
as is by the API, and its signature is in the manifest and the catalog."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from pipeline.api import create_app
from pipeline.api.keys import ApiKeyStore
from pipeline.catalog import open_catalog
from pipeline.digitise.dossier import Draft, signed_files
from pipeline.ingest.inputs import open_dossier
from pipeline.ingest.signatures import read_signatures
from pipeline.manifest import Manifest
from pipeline.settings import Settings
from pipeline.store import open_store
from tests.conftest import cli, serve_app
from tests.signed_pdfs import ORGANISATION, SIGNER, scan_pdf, sign_pdf, throwaway_signer, verify


@pytest.fixture(scope="module")
def processed(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("signed")
    home = tmp / "home"
    signed = sign_pdf(scan_pdf(tmp), tmp / "qd_signed.pdf")
    before = datetime.now(UTC)
    proc = cli("process", "--json", str(signed), home=home)
    assert proc.returncode == 0, proc.stderr[-3000:]
    manifest = Manifest.model_validate(json.loads(proc.stdout.splitlines()[-1]))
    return home, signed, manifest, before


@pytest.mark.slow
@pytest.mark.ocr
def test_manifest_carries_the_signature(processed):
    _, signed, m, before = processed
    assert m.status == "done", m.error
    (sig,) = m.source.signatures
    assert sig.signer == SIGNER and sig.organisation == ORGANISATION and sig.file == signed.name
    assert sig.intact and sig.valid and sig.covers_whole_file and sig.later_changes == "none"
    signed_at = datetime.fromisoformat(sig.signed_at)
    assert before - timedelta(minutes=5) <= signed_at <= datetime.now(UTC)
    assert m.pages[0].signed_at == sig.signed_at  # evidence for the document date, per page
    (comp,) = m.components
    assert comp.signatures == [sig] and comp.stored_as == "signed_original"
    assert comp.signed_original == comp.object


@pytest.mark.slow
@pytest.mark.ocr
def test_the_scan_under_the_signature_box_was_ocred(processed):
    _, _, m, _ = processed
    page = m.pages[0]
    assert page.text_source == "ocr" and page.text_layer.kind == "stub_over_image"
    assert "chứng nhận quyền sử dụng đất" in page.text  # the scanned content, read
    assert "Ky boi: " + SIGNER in page.text_layer.text  # the box, kept as data
    assert "signature boxes" in page.text_layer.reason


@pytest.mark.slow
@pytest.mark.ocr
def test_stored_bytes_are_the_signed_original_and_verify(processed):
    home, signed, m, _ = processed
    store = open_store(Settings(home=home))
    data = store.get_bytes(m.components[0].object.key)
    assert data == signed.read_bytes()
    (status,) = verify(data)
    assert status.intact and status.valid and status.coverage.name == "ENTIRE_FILE"
    assert m.components[0].sha256 == store.stat(m.components[0].object.key).sha256


@pytest.mark.slow
@pytest.mark.ocr
def test_catalog_has_signature_and_ocr_text(processed):
    home, _, m, _ = processed
    with open_catalog(Settings(home=home)) as catalog:
        (row,) = catalog.signatures(m.components[0].id)
        assert row["signer"] == SIGNER and row["stored_as"] == "signed_original" and row["intact"]
        assert m.components[0].id in [h.component_id for h in catalog.search("quyền sử dụng đất")]  # the OCR text
        assert m.components[0].id in [h.component_id for h in catalog.search("Hoa An")]  # the box text


@pytest.mark.slow
@pytest.mark.ocr
def test_api_serves_the_signed_original(processed):
    home, signed, m, _ = processed
    settings = Settings(home=home)
    with ApiKeyStore(home / "apikeys.sqlite") as keys:
        _, key = keys.create("read", "signed test")
    url, stop = serve_app(create_app(settings))
    try:
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=60) as client:
            doc = client.get(f"/v1/documents/{m.components[0].id}").json()
            assert doc["stored_as"] == "signed_original" and doc["signatures"][0]["signer"] == SIGNER
            pdf = client.get(f"/v1/documents/{m.components[0].id}/pdf", params={"redirect": "false"})
            assert pdf.status_code == 200 and pdf.content == signed.read_bytes()
    finally:
        stop()


@pytest.mark.slow
def test_text_layer_flag_reaches_the_flow(tmp_path):
    """`--text-layer keep` (the rule before) takes the signature box for the page: no OCR at all."""
    signed = sign_pdf(scan_pdf(tmp_path), tmp_path / "kept.pdf")
    proc = cli("process", "--json", "--text-layer", "keep", str(signed), home=tmp_path / "home")
    assert proc.returncode == 0, proc.stderr[-3000:]
    page = json.loads(proc.stdout.splitlines()[-1])["pages"][0]
    assert page["text_source"] == "pdf" and page["text_layer"]["setting"] == "keep"
    assert page["text"].startswith("Ky boi: " + SIGNER)


def test_a_countersigned_pdf_reports_both_signatures(tmp_path):
    """Signed by the issuer, then by the office that publishes it (as real documents are)."""
    once = sign_pdf(scan_pdf(tmp_path), tmp_path / "once.pdf")
    publisher = throwaway_signer("Trung tam Cong bao va Tin hoc tinh Lam Dong", "UBND tinh Lam Dong")
    twice = sign_pdf(once, tmp_path / "twice.pdf", signer=publisher, field="Signature2", box=(40, 760, 260, 835))
    first, second = read_signatures(twice, [1])
    assert first.signer == SIGNER and second.signer.startswith("Trung tam Cong bao")
    assert first.intact and not first.covers_whole_file and first.later_changes == "form_filling"
    assert second.intact and second.covers_whole_file and second.later_changes == "none"
    assert first.signed_at <= second.signed_at


def test_tampered_bytes_are_not_intact(tmp_path):
    signed = sign_pdf(scan_pdf(tmp_path), tmp_path / "signed.pdf")
    data = bytearray(signed.read_bytes())
    at = data.index(b"/Image")  # a byte inside the signed range, outside the signature
    data[at + 1:at + 6] = b"Imagf"
    tampered = tmp_path / "tampered.pdf"
    tampered.write_bytes(bytes(data))
    (sig,) = read_signatures(tampered, [1])
    assert not sig.intact and sig.error is None  # read, and found broken


def test_a_change_appended_after_signing_is_reported(tmp_path):
    from pyhanko.pdf_utils.generic import NameObject, pdf_string
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    signed = sign_pdf(scan_pdf(tmp_path), tmp_path / "signed.pdf")
    changed = tmp_path / "changed.pdf"
    with open(signed, "rb") as inf, open(changed, "wb") as outf:
        writer = IncrementalPdfFileWriter(inf, strict=False)
        writer.root[NameObject("/Lang")] = pdf_string("vi")
        writer.update_root()
        writer.write(outf)
    (sig,) = read_signatures(changed, [1])
    assert sig.intact and not sig.covers_whole_file and sig.later_changes not in (None, "none")


def test_only_a_whole_signed_file_is_stored_as_the_original(tmp_path):
    folder = tmp_path / "hs"
    folder.mkdir()
    sign_pdf(scan_pdf(tmp_path, "a.pdf"), folder / "1_signed.pdf")
    scan_pdf(folder, "2_scan.pdf")
    source = open_dossier(folder)
    source.signatures = read_signatures(folder / "1_signed.pdf", [1])

    def drafts(*groups: list[int]) -> list[Draft]:
        return [Draft(i, "khac", "Khác", 0.5, False, pages, None) for i, pages in enumerate(groups, start=1)]

    assert signed_files(source, drafts([1], [2])) == {1: folder / "1_signed.pdf"}
    assert signed_files(source, drafts([1, 2])) == {}  # a component larger than the signed file
