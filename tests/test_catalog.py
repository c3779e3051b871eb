"""Catalog contract on a real SQLite file: Vietnamese search, ranking, re-indexing, hostile queries."""

from __future__ import annotations

import sqlite3
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.catalog import Catalog, Hit, SqliteCatalog, open_catalog
from pipeline.catalog.query import parse_query, snippet
from pipeline.catalog.sqlite import MIGRATIONS
from pipeline.errors import ConfigError
from pipeline.manifest import Component, Manifest, Metadata, Page, Source, StoredObject
from pipeline.settings import Settings

# -- building manifests -----------------------------------------------------------------------


def comp(
    cid: str,
    pages: list[int],
    type: str = "khac",
    type_name: str = "Tài liệu khác",
    **metadata: object,
) -> Component:
    return Component(
        id=cid,
        type=type,
        type_name=type_name,
        confidence=0.9,
        needs_review=False,
        pages=pages,
        metadata=Metadata(**metadata),
    )


def manifest(
    dossier_id: str,
    texts: list[str],
    components: list[Component] | None = None,
    status: str = "done",
    error: str | None = None,
) -> Manifest:
    """A dossier whose page n has texts[n-1]; by default one component holding every page."""
    if components is None:
        components = [comp(f"{dossier_id}-1", list(range(1, len(texts) + 1)))]
    return Manifest(
        dossier_id=dossier_id,
        status=status,
        error=error,
        source=Source(path=f"/scans/{dossier_id}.pdf", sha256="ab" * 32, pages=len(texts)),
        pages=[Page(n=i, text=t, blank=not t.strip()) for i, t in enumerate(texts, start=1)],
        components=components,
        settings_version="v1",
        created_at="2024-03-01T08:00:00+07:00",
    )


QD_P1 = (
    "ỦY BAN NHÂN DÂN HUYỆN ĐÔNG ANH\nCỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc\n"
    "QUYẾT ĐỊNH\nVề việc giao đất đai cho hộ gia đình ông Nguyễn Văn An để sử dụng vào mục đích đất ở"
)
QD_P2 = "Điều 2. Hồ sơ gồm các giấy tờ kèm theo. Nơi nhận: như Điều 3; lưu VT."
CCCD_P3 = "CĂN CƯỚC CÔNG DÂN\nSố / No.: 031085001234\nHọ và tên: NGUYỄN VĂN AN\nNgày sinh: 12/03/1985"
DON_P1 = "ĐƠN ĐỀ NGHỊ cấp giấy chứng nhận quyền sử dụng đất, quyền sở hữu nhà ở. Kính gửi: UBND xã Uy Nỗ"


def land_dossier() -> Manifest:
    return manifest(
        "HS-001",
        [QD_P1, QD_P2, CCCD_P3],
        [
            comp(
                "HS-001-qd",
                [1, 2],
                type="quyet_dinh",
                type_name="Quyết định",
                so_ky_hieu="1534/QĐ-UBND",
                ngay="2023-05-12",
                co_quan="UBND huyện Đông Anh",
                trich_yeu="Về việc giao đất đai cho hộ gia đình",
            ),
            comp(
                "HS-001-cccd",
                [3],
                type="cccd",
                type_name="Căn cước công dân",
                cccd=["031085001234"],
                ho_ten=["Nguyễn Văn An"],
            ),
        ],
    )


def request_dossier() -> Manifest:
    return manifest("HS-002", [DON_P1], [comp("HS-002-don", [1], type="don", type_name="Đơn đề nghị")])


@pytest.fixture
def catalog(tmp_path: Path) -> Iterator[SqliteCatalog]:
    with SqliteCatalog(tmp_path / "catalog.sqlite") as cat:
        yield cat


@pytest.fixture
def filled(catalog: SqliteCatalog) -> SqliteCatalog:
    catalog.index_dossier(land_dossier())
    catalog.index_dossier(request_dossier())
    return catalog


def ids(hits: list[Hit]) -> list[str]:
    return [h.component_id for h in hits]


# -- tone-insensitive search --------------------------------------------------------------------


def test_search_without_tone_marks(filled: Catalog) -> None:
    # Words match anywhere on the page: the CCCD's "Họ và tên ... Số" also has `ho` and `so`.
    assert set(ids(filled.search("ho so"))) == {"HS-001-qd", "HS-001-cccd"}
    hits = filled.search('"ho so"')
    assert ids(hits) == ["HS-001-qd"]
    hit = hits[0]
    assert hit.dossier_id == "HS-001" and hit.type == "quyet_dinh" and hit.type_name == "Quyết định"
    assert hit.pages == [1, 2] and hit.page == 2
    assert "[Hồ sơ]" in hit.snippet
    assert hit.exact is False  # "ho so" is not written that way anywhere


def test_search_with_tone_marks_is_exact_and_case_insensitive(filled: Catalog) -> None:
    for query in ("hồ sơ", "Hồ Sơ", "HỒ SƠ"):
        hits = filled.search(query)
        # The exact "Hồ sơ" comes first; the CCCD's "Họ ... Số" only matches once tones are folded.
        assert ids(hits) == ["HS-001-qd", "HS-001-cccd"], query
        assert [h.exact for h in hits] == [True, False]
        assert "[Hồ sơ]" in hits[0].snippet


def test_d_with_stroke_folds_to_d(filled: Catalog) -> None:
    assert ids(filled.search("dat dai")) == ["HS-001-qd"]
    assert ids(filled.search("DONG ANH")) == ["HS-001-qd"]
    hits = filled.search("đơn đề nghị")
    assert ids(hits) == ["HS-002-don"] and hits[0].exact
    assert ids(filled.search("don de nghi")) == ["HS-002-don"]


def test_exact_diacritics_rank_before_folded_matches(catalog: Catalog) -> None:
    # bm25 alone would prefer the short pages full of `hổ`/`hộ`; exact `hồ` must still come first.
    catalog.index_dossier(manifest("TIGER", ["con hổ hổ hổ hổ"]))
    catalog.index_dossier(manifest("PASSPORT", ["hộ chiếu hộ khẩu hộ"]))
    lake = "Biên bản kiểm tra hiện trạng khu đất ven hồ Vân Trì, " + "diện tích và ranh giới thửa đất " * 20
    catalog.index_dossier(manifest("LAKE", [lake]))

    hits = catalog.search("hồ")
    assert [h.dossier_id for h in hits][0] == "LAKE"
    assert [h.exact for h in hits] == [True, False, False]
    assert {h.dossier_id for h in hits} == {"LAKE", "TIGER", "PASSPORT"}
    assert "[hồ]" in hits[0].snippet

    assert [h.dossier_id for h in catalog.search("hổ")][0] == "TIGER"
    assert [h.dossier_id for h in catalog.search("hộ")][0] == "PASSPORT"
    assert len(catalog.search("ho")) == 3


def test_partly_exact_multiword_ranks_between(catalog: Catalog) -> None:
    catalog.index_dossier(manifest("ALL", ["giấy chứng nhận quyền sử dụng đất"]))
    catalog.index_dossier(manifest("SOME", ["giấy chứng nhận quyền sử dụng dat"]))
    catalog.index_dossier(manifest("NONE", ["giay chung nhan quyen su dung dat"]))
    hits = catalog.search("quyền sử dụng đất")
    assert [h.dossier_id for h in hits] == ["ALL", "SOME", "NONE"]
    assert [h.exact for h in hits] == [True, False, False]


def test_tone_placement_conventions_are_equal(catalog: Catalog) -> None:
    catalog.index_dossier(manifest("OLD", ["Cộng hoà xã hội chủ nghĩa"]))  # hoà (new style)
    hits = catalog.search("hòa")  # hòa (traditional)
    assert [h.dossier_id for h in hits] == ["OLD"] and hits[0].exact


def test_nfd_text_found_by_nfc_query(catalog: Catalog) -> None:
    text = unicodedata.normalize("NFD", "Giấy chứng nhận quyền sử dụng đất số CH 01234")
    assert text != unicodedata.normalize("NFC", text)
    catalog.index_dossier(manifest("NFD", [text]))
    hits = catalog.search("quyền sử dụng đất")
    assert [h.dossier_id for h in hits] == ["NFD"] and hits[0].exact
    assert "[quyền sử dụng đất]" in hits[0].snippet
    nfd_query = unicodedata.normalize("NFD", "chứng nhận")
    assert [h.dossier_id for h in catalog.search(nfd_query)] == ["NFD"]


# -- query syntax ------------------------------------------------------------------------------


def test_all_words_must_match(filled: Catalog) -> None:
    assert ids(filled.search("giao đất")) == ["HS-001-qd"]
    assert set(ids(filled.search("đất"))) == {"HS-001-qd", "HS-002-don"}
    assert filled.search("giao chiếu") == []  # "chiếu" is nowhere
    assert filled.search("căn cước giao") == []  # both exist, never on one component page


def test_quoted_phrase(catalog: Catalog) -> None:
    catalog.index_dossier(manifest("P", ["giao đất đai cho hộ gia đình"]))
    assert [h.dossier_id for h in catalog.search('"đất đai"')] == ["P"]
    assert [h.dossier_id for h in catalog.search('"dat dai"')] == ["P"]
    assert catalog.search('"đai đất"') == []
    assert catalog.search('"giao đai"') == []
    assert [h.dossier_id for h in catalog.search("giao đai")] == ["P"]  # unquoted: AND, any order
    assert "[đất đai]" in catalog.search('"dat dai"')[0].snippet


@pytest.mark.parametrize(
    "query",
    [
        '"',
        '""',
        "*",
        "-",
        "NEAR(",
        "NEAR(a b",
        "a OR",
        "OR",
        "AND",
        "NOT",
        "(",
        ")",
        ":",
        "^",
        "{",
        "text:hồ",
        '"hồ',
        "hồ*",
        "-hồ",
        "+",
        "'; DROP TABLE dossiers; --",
        "\x00",
        "",
        "   ",
        "…",
        "a" * 5000,
        " ".join(["sơ"] * 100),
    ],
    ids=lambda q: repr(q)[:20],
)
def test_hostile_queries_do_not_raise(filled: Catalog, query: str) -> None:
    hits = filled.search(query)
    assert isinstance(hits, list)
    assert filled.stats()["dossiers"] == 2


@pytest.mark.parametrize("query", ['"', "*", "-", "(", ":", "^", "", "  ", "…", "---", '"*"'])
def test_punctuation_only_finds_nothing(filled: Catalog, query: str) -> None:
    assert filled.search(query) == []


def test_syntax_characters_are_plain_text(filled: Catalog) -> None:
    assert ids(filled.search("hồ* sơ")) == ids(filled.search("hồ sơ"))
    assert ids(filled.search('"hồ sơ')) == ids(filled.search("hồ sơ"))  # unmatched quote ignored
    assert ids(filled.search("(giao) -đất")) == ["HS-001-qd"]
    assert filled.search("NEAR(giao đất)") == []  # `near` is just a word, and it is not there


# -- metadata ---------------------------------------------------------------------------------


def test_search_metadata_document_number(filled: Catalog) -> None:
    for query in ("1534/QĐ-UBND", "1534/qd-ubnd", "QĐ-UBND 1534", "1534"):
        hits = filled.search(query)
        assert ids(hits) == ["HS-001-qd"], query
    hit = filled.search("1534/QĐ-UBND")[0]
    assert hit.exact
    assert hit.page == 1  # only the metadata matches: show the first page
    assert "[1534/QĐ-UBND]" in hit.snippet


def test_search_metadata_cccd_and_date(filled: Catalog) -> None:
    assert ids(filled.search("031085001234")) == ["HS-001-cccd"]
    assert ids(filled.search("12/05/2023")) == ["HS-001-qd"]  # as clerks write dates
    assert ids(filled.search("2023-05-12")) == ["HS-001-qd"]
    assert ids(filled.search("1534/QĐ-UBND giao đất")) == ["HS-001-qd"]  # metadata AND page text
    assert ids(filled.search("Căn cước công dân", type="cccd")) == ["HS-001-cccd"]


# -- filters and pagination -------------------------------------------------------------------


def test_filters(filled: Catalog) -> None:
    assert set(ids(filled.search("đất"))) == {"HS-001-qd", "HS-002-don"}
    assert ids(filled.search("đất", type="don")) == ["HS-002-don"]
    assert ids(filled.search("đất", dossier="HS-001")) == ["HS-001-qd"]
    assert filled.search("đất", dossier="HS-001", type="don") == []
    assert filled.search("đất", dossier="NOPE") == []
    assert ids(filled.search("an", type="cccd")) == ["HS-001-cccd"]


def test_one_hit_per_component_with_best_page(catalog: Catalog) -> None:
    pages = ["hồ sơ ho so", "ho so", "hồ sơ địa chính", "không liên quan"]
    catalog.index_dossier(manifest("MULTI", pages))
    hits = catalog.search("hồ sơ")
    assert len(hits) == 1
    assert hits[0].pages == [1, 2, 3, 4]
    assert hits[0].page in (1, 3) and hits[0].exact
    only_plain = catalog.search('"ho so"')
    assert len(only_plain) == 1 and only_plain[0].page in (1, 2) and only_plain[0].exact


def test_pagination(catalog: Catalog) -> None:
    for i in range(25):
        catalog.index_dossier(manifest(f"D{i:02d}", [f"Hồ sơ địa chính số {i}" + " thửa đất" * (i % 5)]))
    pages = [catalog.search("hồ sơ", limit=10, offset=o) for o in (0, 10, 20, 30)]
    assert [len(p) for p in pages] == [10, 10, 5, 0]
    seen = [h.component_id for page in pages for h in page]
    assert len(seen) == len(set(seen)) == 25
    assert seen == ids(catalog.search("hồ sơ", limit=100))  # stable order
    scores = [h.score for h in catalog.search("hồ sơ", limit=100)]
    assert scores == sorted(scores, reverse=True)
    assert catalog.search("hồ sơ", limit=0) == []
    with pytest.raises(ValueError):
        catalog.search("hồ sơ", limit=-1)
    with pytest.raises(ValueError):
        catalog.search("hồ sơ", offset=-1)


# -- indexing ---------------------------------------------------------------------------------


def test_reindexing_replaces_rows(catalog: Catalog) -> None:
    catalog.index_dossier(land_dossier())
    first = catalog.stats()
    catalog.index_dossier(land_dossier())
    assert catalog.stats() == first == {"dossiers": 1, "done": 1, "failed": 0, "components": 2, "pages": 3}
    assert len(catalog.search('"hồ sơ"')) == 1

    changed = manifest("HS-001", ["Biên bản bàn giao mốc giới"], [comp("HS-001-bb", [1], type="bien_ban")])
    catalog.index_dossier(changed)
    assert catalog.search("hồ sơ") == []
    assert catalog.search("031085001234") == []
    assert catalog.search("1534") == []
    assert catalog.get_component("HS-001-qd") is None
    assert ids(catalog.search("mốc giới")) == ["HS-001-bb"]
    assert catalog.stats() == {"dossiers": 1, "done": 1, "failed": 0, "components": 1, "pages": 1}


def test_failed_manifest_is_recorded_without_hits(catalog: Catalog) -> None:
    catalog.index_dossier(land_dossier())
    failed = land_dossier().model_copy(update={"status": "failed", "error": "page 3: OCR timed out"})
    catalog.index_dossier(failed)
    assert catalog.search("hồ sơ") == []
    assert catalog.search("031085001234") == []
    assert catalog.stats() == {"dossiers": 1, "done": 0, "failed": 1, "components": 0, "pages": 0}
    stored = catalog.get_dossier("HS-001")
    assert stored is not None and stored.status == "failed" and stored.error == "page 3: OCR timed out"
    assert catalog.get_component("HS-001-qd") is None


def test_get_dossier_round_trips_manifest(filled: Catalog) -> None:
    assert filled.get_dossier("HS-001") == land_dossier()
    assert filled.get_dossier("nope") is None


def test_get_component(catalog: Catalog) -> None:
    m = land_dossier()
    m.components[0].object = StoredObject(
        backend="local", bucket="sohoa", key="HS-001/qd.pdf", uri="file:///data/sohoa/HS-001/qd.pdf"
    )
    m.components[0].sha256 = "cd" * 32
    catalog.index_dossier(m)
    row = catalog.get_component("HS-001-qd")
    assert row is not None
    assert row["dossier_id"] == "HS-001" and row["seq"] == 1 and row["type"] == "quyet_dinh"
    assert row["pages"] == [1, 2] and row["needs_review"] is False and row["confidence"] == 0.9
    assert row["metadata"]["so_ky_hieu"] == "1534/QĐ-UBND"
    assert row["object_uri"] == "file:///data/sohoa/HS-001/qd.pdf" and row["sha256"] == "cd" * 32
    cccd = catalog.get_component("HS-001-cccd")
    assert cccd is not None and cccd["seq"] == 2 and cccd["metadata"]["cccd"] == ["031085001234"]
    assert catalog.get_component("missing") is None


def test_component_id_clash_rolls_back(filled: Catalog) -> None:
    before = filled.stats()
    thief = manifest("HS-003", ["trang mới"], [comp("HS-001-qd", [1])])
    with pytest.raises(ValueError, match="HS-001-qd"):
        filled.index_dossier(thief)
    assert filled.stats() == before
    assert filled.get_dossier("HS-003") is None
    assert ids(filled.search('"ho so"')) == ["HS-001-qd"]


def test_invalid_manifest_leaves_previous_index(filled: Catalog) -> None:
    bad = manifest("HS-001", ["a", "b"], [comp("X-1", [1]), comp("X-1", [2])])
    with pytest.raises(ValueError):
        filled.index_dossier(bad)
    assert ids(filled.search("1534")) == ["HS-001-qd"]


def test_delete_dossier(filled: Catalog) -> None:
    assert filled.delete_dossier("HS-001") is True
    assert filled.delete_dossier("HS-001") is False
    assert filled.search("hồ sơ") == []
    assert filled.stats()["dossiers"] == 1


def test_pages_outside_components_and_blank_pages(catalog: SqliteCatalog) -> None:
    m = manifest("B", ["bìa hồ sơ", "", "nội dung chính"], [comp("B-1", [3])])
    catalog.index_dossier(m)
    assert catalog.stats()["pages"] == 3
    assert catalog.search("bìa") == []  # page 1 belongs to no component
    assert ids(catalog.search("nội dung")) == ["B-1"]
    rows = catalog.conn.execute("SELECT n, component_id, blank FROM pages ORDER BY n").fetchall()
    assert rows == [(1, None, 0), (2, None, 1), (3, "B-1", 0)]


# -- the SQLite file ----------------------------------------------------------------------------


def test_schema_and_pragmas(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite"
    with SqliteCatalog(path) as cat:
        assert cat.schema_version == len(MIGRATIONS) == 1
        assert cat.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert cat.conn.execute("PRAGMA busy_timeout").fetchone()[0] > 0
        tables = {r[0] for r in cat.conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert {"dossiers", "components", "pages", "page_search", "page_fts", "schema_version"} <= tables
    with SqliteCatalog(path) as again:  # reopening applies nothing twice
        assert again.conn.execute("SELECT COUNT(*) FROM schema_version").fetchone()[0] == 1


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite"
    SqliteCatalog(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute("INSERT INTO schema_version VALUES (99, 'future')")
    conn.close()
    with pytest.raises(ConfigError, match="newer"):
        SqliteCatalog(path)


def test_two_connections_share_the_file(tmp_path: Path) -> None:
    path = tmp_path / "shared.sqlite"
    with SqliteCatalog(path) as writer, SqliteCatalog(path) as reader:
        writer.index_dossier(land_dossier())
        assert ids(reader.search('"ho so"')) == ["HS-001-qd"]
        reader.index_dossier(request_dossier())
        assert writer.stats()["dossiers"] == 2


def test_close_is_idempotent(tmp_path: Path) -> None:
    cat = SqliteCatalog(tmp_path / "c.sqlite")
    cat.close()
    cat.close()
    with pytest.raises(sqlite3.ProgrammingError):
        cat.search("x")


def test_open_catalog(tmp_path: Path) -> None:
    with open_catalog(Settings(home=tmp_path / "home", catalog="sqlite")) as cat:
        assert isinstance(cat, SqliteCatalog)
        cat.index_dossier(request_dossier())
    assert (tmp_path / "home" / "catalog.sqlite").is_file()
    with pytest.raises(ConfigError, match="PostgreSQL catalog not available yet"):
        open_catalog(Settings(home=tmp_path, catalog="postgresql://u@db/sohoa"))
    with pytest.raises(ConfigError, match="unknown catalog"):
        open_catalog(Settings(home=tmp_path, catalog="mysql"))


# -- query helpers ----------------------------------------------------------------------------


def test_parse_query() -> None:
    terms = parse_query('Hồ sơ "đất đai" 1534/QĐ-UBND *')
    assert [t.words for t in terms] == [("hồ",), ("sơ",), ("đất", "đai"), ("1534", "qđ", "ubnd")]
    assert [t.folded for t in terms] == [("ho",), ("so",), ("dat", "dai"), ("1534", "qd", "ubnd")]
    assert parse_query('" * - ( NEAR') == [parse_query("near")[0]]
    assert parse_query("") == [] and parse_query(None) == []


def test_snippet_marks_and_trims() -> None:
    text = "Phần mở đầu rất dài. " * 20 + "Hồ sơ gồm các giấy tờ kèm theo." + " Phần kết thúc." * 20
    out = snippet(text, parse_query("ho so"))
    assert out is not None and "[Hồ sơ]" in out
    assert out.startswith("…") and out.endswith("…") and len(out) < 250
    assert snippet("không có gì", parse_query("hồ")) is None
