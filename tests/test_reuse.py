"""Reuse: the same paper scanned again is stored once; different papers of one owner never merge."""

from __future__ import annotations

import shutil

import cv2
import numpy as np
import pytest

from pipeline.catalog import open_catalog
from pipeline.digitise.dossier import digitise
from pipeline.manifest import SCHEMA, Component, Manifest, Metadata, Page, Source, StoredObject
from pipeline.publish.reuse import (
    compatible,
    digits_lost,
    find_reuse,
    identifier_numbers,
    number_conflicts,
    numbers,
    numbers_agree,
)
from pipeline.settings import Settings
from pipeline.store import open_store
from tests.conftest import SAMPLES, correct

pytestmark = [pytest.mark.ocr]


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


@pytest.mark.slow
def test_a_reused_object_outlives_its_dossier_being_redone(tmp_path):
    """B reuses A's PDF; A is then corrected in review, and digitised again from a new scan: B's
    object stays where it was, with the bytes B recorded, until nothing points at it any more."""

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
    fixed = correct(settings, "set_type", "hs_a-01", "khac")
    assert fixed.components[0].object.key == "dossiers/hs_a/01-khac.pdf" and intact()
    correct(settings, "set_type", "hs_a-01", "quyet_dinh")  # the same key again, other bytes: written beside
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
    text = "Số: 4931/QĐ-UBND ngày 15/03/2O24; thửa 12O, tờ 2G, CCCD 038193944662, CS 05528, mã 38H8818924"
    assert numbers(text) == ["4931", "15", "03", "2024", "120", "26", "038193944662", "05528", "38", "8818924"]
    # `166G` is 1666 (a 6 read as G), never 166: not the same parcel as 166
    assert number_conflicts("thửa đất số 166, tờ", "thửa đất số 166G, tờ") == [("166", "1666")]
    a = "Thửa đất số 826; tờ bản đồ số 12, ngày 15/03/2024"
    assert number_conflicts(a, a.replace("826", "827")) == [("826", "827")]
    assert number_conflicts(a, a.replace("15/03/2024", "15/03/2023")) == [("2024", "2023")]
    # a number lost, or split, or a stray one from a stamp: no conflict
    assert number_conflicts(a, a.replace("tờ bản đồ số 12", "tờ bản đồ số")) == []
    assert number_conflicts(a, a.replace("826", "8 26") + " 7") == []
    # a day or month that cannot be is a misreading of the other side's
    d = "căn cứ Tờ trình số 435/TTr-TNMT ngày 27 tháng 8 năm 2024 của Phòng"
    assert number_conflicts(d, d.replace("ngày 27", "ngày 37")) == []
    assert number_conflicts(d, d.replace("tháng 8", "tháng 18")) == []
    assert number_conflicts(d, d.replace("ngày 27", "ngày 21")) == [("27", "21")]
    # digits amid words that differ too: a stamp and a signature read as text, not the document's numbers
    sign_a = "- Chủ tịch, các PCT UBND huyện; ⁄49 Sa ?\nỀ 2\nŠ t 1 01 X~"
    sign_b = "- Chủ tịch, các PCT UBND huyện; Z519N HAI\n- Lưu: VT, TNMT. TP 21200 SH\n\\- LƯN 07 Xư—"
    assert number_conflicts(a + "\n" + sign_a, a + "\n" + sign_b) == []
    assert number_conflicts(a + "\n" + sign_a, a.replace("826", "827") + "\n" + sign_b) == [("826", "827")]
    # digits both scans read amid symbols no Vietnamese text is typed with (a red seal read as text,
    # a few words apart from each other): no number of the document's, however the alignment falls
    seal_a = "- Chủ tịch, các PCT UBND huyện; /⁄⁄4 6Ñ HAT\n- Lưu: VT, TNMT.\nQUẦN Đại Hụ9$"
    seal_b = "- Chủ tịch, các PCT UBND huyện; Z3€N HA/„\n- Lưu: VT, TNMT. +"
    assert number_conflicts(a + "\n" + seal_a, a + "\n" + seal_b) == []
    # ... but a number read cleanly on one scan is the document's, even if the other scan's is smudged
    assert number_conflicts(a, a.replace("826", "827„")) == [("826", "827")]
    assert number_conflicts(a.replace("826", "826€"), a.replace("826", "827")) == [("826", "827")]


def test_a_copy_differing_in_one_number_never_merges(env):
    """Two certificates of one owner under the same book number (a re-issue), or a decision and its
    amended copy: the same text but one number. Never the same document."""
    *_, catalog, _ = env
    owner = ["036185682116"]
    text = ("GIẤY CHỨNG NHẬN QUYỀN SỬ DỤNG ĐẤT Số vào sổ cấp GCN: CS 03811 Thửa đất số 615, tờ bản đồ số 22, "
            "diện tích 212,5 m2, tại Xóm 4, xã Hòa Bình, huyện Thanh Oai. Người sử dụng đất: Trần Thị Hoa, "
            "CCCD số 036185682116. Ngày 12 tháng 8 năm 2021")
    meta = Metadata(so_ky_hieu="CS 03811", cccd=owner, ngay="2021-08-12")
    catalog.index_dossier(_manifest("hs_num_a", text, meta))
    for changed in (text.replace("615", "616"), text.replace("số 22", "số 23"),
                    text.replace("năm 2021", "năm 2020")):
        assert find_reuse("giay_chung_nhan_qsdd", meta, changed, None, catalog, "hs_num_b") is None
    # the same certificate read again with OCR noise in the words (not the numbers): reused
    noisy = text.replace("Thửa", "Thừa").replace("diện tích", "dien tich").replace("Người", "Ngưòi")
    match = find_reuse("giay_chung_nhan_qsdd", meta, noisy, None, catalog, "hs_num_c")
    assert match is not None and match.component.id == "hs_num_a-01"


def test_identifiers_agree_with_ocr_tolerance():
    x, y, z = "079176089475", "036174898558", "040194624311"

    def agree(a: str | None, b: str | None, ca=(x,), cb=(x,)) -> bool:
        return compatible(Metadata(so_ky_hieu=a, cccd=list(ca)), Metadata(so_ky_hieu=b, cccd=list(cb)))

    # letters OCR cut or added at the end, punctuation, tones: the same number
    assert agree("2200/GCS", "2200/GCS-C") and agree("492/TB-CNVPĐK", "492/TBCNVPDK")
    assert agree("791/QĐ-UBND", "791/QĐ-UBND-Ngh") and agree("CS 01366", "CS01366")
    # another digit, or another issuer: another document
    assert not agree("791/QĐ-UBND", "792/QĐ-UBND") and not agree("791/QĐ-UBND", "791/QĐ-STNMT")
    assert not agree("CS 01366", "CS 013566")
    # a CCCD one reading lacks is tolerated, another one is not; nothing shared is no match
    assert agree(None, None, (x, y), (x,)) and not agree(None, None, (x, y), (x, z))
    assert not compatible(Metadata(so_ky_hieu="80"), Metadata(cccd=[x]))


def test_numbers_agree_but_for_an_identifier_half_read():
    base = "Số vào sổ cấp GCN: CS 01366. Thửa đất số 826, tờ bản đồ số 12. CCCD 079083667834"
    meta = Metadata(so_ky_hieu="CS 01366", cccd=["079083667834"])
    ids = identifier_numbers(meta, meta)
    assert ids == {"01366", "079083667834"}
    # an identifier only one side has read is not agreed: a slip on it is another number
    assert identifier_numbers(meta, Metadata(cccd=["079083667834"])) == {"079083667834"}
    assert digits_lost("618", "8") and digits_lost("013566", "01366") and not digits_lost("826", "827")
    assert not digits_lost("2024", "4")  # three digits lost: not a slip
    # an identifier read with a digit lost or added (identifiers are compared on their own)
    assert numbers_agree(base, base.replace("CS 01366", "CS 013566"), ids)
    assert numbers_agree(base, base.replace("079083667834", "79083667834"), ids)
    # the same slip on any other number is a different document (parcel 826 and 8266)
    assert not numbers_agree(base, base.replace("826", "8266"), ids)
    assert not numbers_agree(base, base.replace("826", "827"), ids)
    # a CCCD only one side extracted, read with a digit lost: 11 digits are no CCCD, so a misread
    other = "Bên B: CCCD số 040187191573, Thửa đất số 826"
    assert not numbers_agree(other, other.replace("040187191573", "04018719153"))
    assert numbers_agree(other, other.replace("040187191573", "04018719153"), cccds={"040187191573"})
    assert not numbers_agree(other, other.replace("040187191573", "040187191578"), cccds={"040187191573"})
    # two slips are too many
    assert not numbers_agree(base, base.replace("CS 01366", "CS 013566").replace("079083667834", "79083667834"),
                             ids)


# -- second look at differing numbers on the page images (pipeline.publish.reuse_crops) ---------------------


def _searchable(lines: list[str], shift: int = 0, stamp: bool = False) -> bytes:
    """A page as the pipeline stores it: the image with Tesseract's text layer (real Tesseract)."""
    import pytesseract

    img = np.full((700, 1400, 3), 255, np.uint8)
    for i, line in enumerate(lines):
        cv2.putText(img, line, (80 + shift, 150 + 150 * i + shift), cv2.FONT_HERSHEY_SIMPLEX, 2.2, (0, 0, 0), 5)
    if stamp:  # a red stamp over the end of the first line
        cv2.circle(img, (760, 150), 90, (40, 40, 220), 6)
    rgb = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
    return pytesseract.image_to_pdf_or_hocr(rgb, extension="pdf", config="--dpi 200")


def test_words_of_the_text_layer_sit_on_their_ink():
    from pipeline.publish.reuse_crops import crop, read_digits, words

    pdf = _searchable(["Thua so 826 to 12", "Nam 2024"])
    found = {w.text: w for w in words(pdf)}
    assert {"826", "2024"} <= set(found)
    assert found["826"].box[1] > found["2024"].box[1]  # PDF points grow upwards: the first line is higher
    assert read_digits(crop(pdf, found["826"])) == "826"


def test_same_ink_tells_a_misreading_from_another_number():
    from pipeline.publish.reuse_crops import same_ink

    a = _searchable(["Thua so 826 to 12", "Nam 2024"])
    again = _searchable(["Thua so 826 to 12", "Nam 2024"], shift=6, stamp=True)
    other = _searchable(["Thua so 8266 to 12", "Nam 2024"], shift=6)
    # the same paper: whatever each scan read there, the crops read 826 on both
    assert same_ink(a, again, [("826", 0, "826", 0)], numbers)
    # another paper differing in that number: the crops read 826 and 8266
    assert not same_ink(a, other, [("826", 0, "8266", 0)], numbers)
    # a number found somewhere else on the other page is no reading of the same place
    assert not same_ink(a, again, [("826", 0, "2024", 0)], numbers)
    # a number the text layer does not hold cannot be looked at: kept apart
    assert not same_ink(a, again, [("999", 0, "826", 0)], numbers)


def test_conflict_sites_say_which_occurrence_differs():
    from pipeline.publish.reuse import conflict_sites

    a = "Thửa đất số 826, tờ bản đồ số 12, cấp ngày 05 tháng 3 năm 2024, số 826"
    b = "Thửa đất số 826, tờ bản đồ số 12, cấp ngày 05 tháng 3 năm 2024, số 8266"
    assert conflict_sites(a, b) == [("826", 1, "8266", 0)]  # the second 826 of A against B's 8266
    assert conflict_sites(a, a) == []
