"""Reuse: the same paper scanned again is stored once; different papers of one owner never merge."""

from __future__ import annotations

import shutil

import cv2
import numpy as np
import pytest

from pipeline.catalog import open_catalog
from pipeline.dossier import digitise
from pipeline.manifest import SCHEMA, Component, Manifest, Metadata, Page, Source, StoredObject
from pipeline.reuse import compatible, find_reuse, number_conflicts, numbers
from pipeline.settings import Settings
from pipeline.store import open_store
from tests.test_e2e import SAMPLES


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    home = tmp_path_factory.mktemp("reuse")
    settings = Settings(home=home)
    store = open_store(settings)
    with open_catalog(settings) as catalog:
        first = digitise(SAMPLES / "hs_0004.png", settings, store, catalog)
        yield home, settings, store, catalog, first


def rescan(src, dst, angle: float, seed: int) -> None:
    """The same paper through the scanner again: a slightly different angle, noise, JPEG."""
    img = cv2.imread(str(src), cv2.IMREAD_COLOR)
    h, w = img.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    img = cv2.warpAffine(img, m, (w, h), borderValue=(255, 255, 255))
    noise = np.random.default_rng(seed).normal(0, 6, img.shape)
    img = np.clip(img.astype(np.float64) + noise, 0, 255).astype(np.uint8)
    cv2.imwrite(str(dst), img, [cv2.IMWRITE_JPEG_QUALITY, 70])


def test_identical_copy_is_stored_once(env, tmp_path):
    home, settings, store, catalog, first = env
    copy = tmp_path / "hs_0104.png"
    shutil.copy(SAMPLES / "hs_0004.png", copy)
    again = digitise(copy, settings, store, catalog)
    comp, orig = again.components[0], first.components[0]
    assert comp.reused_from == orig.id
    assert comp.object == orig.object and comp.sha256 == orig.sha256
    assert not list(store.list("dossiers/hs_0104/01-"))  # no second PDF


@pytest.mark.parametrize(("angle", "seed"), [(0.8, 1), (-1.3, 2)])
def test_rescanned_paper_is_reused(env, tmp_path, angle, seed):
    _, settings, store, catalog, first = env
    path = tmp_path / f"hs_rescan_{seed}.jpg"
    rescan(SAMPLES / "hs_0004.png", path, angle, seed)
    again = digitise(path, settings, store, catalog)
    assert again.status == "done"
    assert again.components[0].type == "quyet_dinh"
    assert again.components[0].reused_from == first.components[0].id


def _manifest(dossier: str, text: str, meta: Metadata, kind: str = "giay_chung_nhan_qsdd") -> Manifest:
    key = f"dossiers/{dossier}/01-{kind}.pdf"
    comp = Component(id=f"{dossier}-01", type=kind, type_name="Giấy chứng nhận", confidence=0.95,
                     needs_review=False, pages=[1], metadata=meta, sha256="0" * 64,
                     object=StoredObject(backend="local", bucket="sohoa", key=key, uri=f"file:///{key}"))
    return Manifest(schema=SCHEMA, dossier_id=dossier, status="done",
                    source=Source(path=f"{dossier}.pdf", sha256="1" * 64, pages=1),
                    pages=[Page(n=1, text=text, text_source="ocr")], components=[comp])


def test_two_certificates_of_one_owner_never_merge(env):
    *_, catalog, _ = env
    owner = ["031162591625"]
    text_a = ("GIẤY CHỨNG NHẬN QUYỀN SỬ DỤNG ĐẤT Số vào sổ cấp GCN: CS 05528 Thửa đất số 48, tờ bản đồ số 10, "
              "diện tích 150,5 m2, tại Thôn 1, xã Xuân Đám, huyện Cát Hải. Người sử dụng đất: Lê Minh Yến")
    text_b = text_a.replace("CS 05528", "CS 07741").replace("48", "112").replace("150,5", "96,0")
    catalog.index_dossier(_manifest("hs_gcn_a", text_a, Metadata(so_ky_hieu="CS 05528", cccd=owner)))
    meta_b = Metadata(so_ky_hieu="CS 07741", cccd=owner)
    assert not compatible(meta_b, Metadata(so_ky_hieu="CS 05528", cccd=owner))
    assert find_reuse("giay_chung_nhan_qsdd", meta_b, text_b, None, catalog, "hs_gcn_b") is None
    # the same certificate (same number and owner), read again with OCR noise: reused
    noisy = text_a.replace("Thửa", "Thừa").replace("diện", "dien")
    match = find_reuse("giay_chung_nhan_qsdd", Metadata(so_ky_hieu="CS 05528", cccd=owner), noisy, None, catalog,
                       "hs_gcn_c")
    assert match is not None and match.component.id == "hs_gcn_a-01"
    # same owner, same type, no document number and a different text: not reused
    other = "ĐƠN ĐỀ NGHỊ cấp đổi giấy chứng nhận do bị rách, người đề nghị Lê Minh Yến, xã Xuân Đám"
    assert find_reuse("giay_chung_nhan_qsdd", Metadata(cccd=owner), other, None, catalog, "hs_x") is None


def test_a_reused_object_outlives_its_dossier_being_redone(tmp_path):
    """B reuses A's PDF; A is then corrected in review, and digitised again from a new scan: B's
    object stays where it was, with the bytes B recorded, until nothing points at it any more."""
    from pipeline import review

    settings = Settings(home=tmp_path / "home")
    store = open_store(settings)
    a_src, b_src = tmp_path / "a" / "hs_a.png", tmp_path / "b" / "hs_b.png"
    for p in (a_src, b_src):
        p.parent.mkdir()
        shutil.copy(SAMPLES / "hs_0004.png", p)
    with open_catalog(settings) as catalog:
        assert digitise(a_src, settings, store, catalog).status == "done"
        b = digitise(b_src, settings, store, catalog)
    shared = b.components[0]
    assert shared.reused_from == "hs_a-01" and shared.object.key == "dossiers/hs_a/01-quyet_dinh.pdf"

    def intact() -> bool:
        return store.exists(shared.object.key) and store.stat(shared.object.key).sha256 == shared.sha256

    # a correction renames A's PDF: the old one is kept, B still points at it
    fixed = review.set_type(settings, "hs_a-01", "khac")
    assert fixed.components[0].object.key == "dossiers/hs_a/01-khac.pdf" and intact()
    review.set_type(settings, "hs_a-01", "quyet_dinh")  # the same key again, other bytes: written beside
    assert intact()
    # A digitised again from another scan of the paper: new bytes, never over the pinned object
    rescan(SAMPLES / "hs_0004.png", tmp_path / "a" / "hs_a.jpg", 0.6, 9)
    (tmp_path / "a" / "hs_a.png").unlink()
    with open_catalog(settings) as catalog:
        again = digitise(tmp_path / "a" / "hs_a.jpg", settings, store, catalog)
        assert again.status == "done" and again.components[0].reused_from is None
        new_key = again.components[0].object.key
        assert new_key != shared.object.key and store.stat(new_key).sha256 == again.components[0].sha256
        assert intact()
        pdfs = sorted(k for k in store.list("dossiers/hs_a/") if k.endswith(".pdf"))
        assert pdfs == sorted({shared.object.key, new_key})  # the correction's leftovers are gone
        # once B no longer points at it, A's next run takes the place back and drops the rest
        catalog.delete_dossier("hs_b")
        last = digitise(tmp_path / "a" / "hs_a.jpg", settings, store, catalog)
    assert last.components[0].object.key == shared.object.key
    assert store.stat(shared.object.key).sha256 == last.components[0].sha256 != shared.sha256
    assert [k for k in store.list("dossiers/hs_a/") if k.endswith(".pdf")] == [shared.object.key]


def test_numbers_read_from_ocr_text():
    text = "Số: 4931/QĐ-UBND ngày 15/03/2O24; thửa 12O, CCCD 038193944662, CS 05528, mã 38H8818924"
    assert numbers(text) == ["4931", "15", "03", "2024", "120", "038193944662", "05528", "38", "8818924"]
    a = "Thửa đất số 826; tờ bản đồ số 12, ngày 15/03/2024"
    assert number_conflicts(a, a.replace("826", "827")) == [("826", "827")]
    assert number_conflicts(a, a.replace("15/03/2024", "15/03/2023")) == [("2024", "2023")]
    # a number lost, or split, or a stray one from a stamp: no conflict
    assert number_conflicts(a, a.replace("tờ bản đồ số 12", "tờ bản đồ số")) == []
    assert number_conflicts(a, a.replace("826", "8 26") + " 7") == []

