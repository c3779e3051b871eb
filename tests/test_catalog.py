"""Catalog contract on both backends: Vietnamese search, ranking, re-indexing, hostile queries,
concurrent writers. SQLite runs on a real file; PostgreSQL on a real throwaway server
(tests/pgserver.py, started once per session, one fresh database per test). A server that
cannot start fails the PostgreSQL tests; it never skips them.
"""

from __future__ import annotations

import itertools
import multiprocessing
import re
import sqlite3
import threading
import unicodedata
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

import psycopg
import pytest

from pipeline.catalog import Catalog, CatalogUnavailable, Hit, SqliteCatalog, open_catalog, rank
from pipeline.catalog import postgres as pg
from pipeline.catalog.postgres import PostgresCatalog
from pipeline.catalog.query import halves, joined, parse_query, snippet, word_lists
from pipeline.catalog.sqlite import MIGRATIONS
from pipeline.errors import ConfigError
from pipeline.manifest import Component, Manifest, Metadata, Page, Signature, Source, StoredObject, TextLayer
from pipeline.settings import Settings
from tests.conftest import free_port
from tests.pgserver import PgServer

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


# -- backends -----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """One PostgreSQL for the session, with a migrated template database to copy per test."""
    server = PgServer()
    server.start()  # raises PgServerError with the server log: the tests fail, loudly
    try:
        with psycopg.connect(server.super_url, autocommit=True) as conn:
            conn.execute("CREATE DATABASE catalog_template OWNER sohoa ENCODING 'UTF8' TEMPLATE template0")
        PostgresCatalog(db_url(server, "catalog_template")).close()
        yield server
    finally:
        server.stop()


_databases = itertools.count(1)


def db_url(server: PgServer, name: str) -> str:
    return server.url.rsplit("/", 1)[0] + "/" + name


@pytest.fixture
def pg_url(pg_server: PgServer) -> str:
    """A fresh database (schema already in place) for one test."""
    name = f"catalog_{next(_databases)}"
    with psycopg.connect(pg_server.super_url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name} OWNER sohoa TEMPLATE catalog_template")
    return db_url(pg_server, name)


def open_spec(spec: str) -> Catalog:
    """A catalog from a path (SQLite) or a URL (PostgreSQL), as each worker opens its own."""
    return PostgresCatalog(spec) if spec.startswith("postgresql://") else SqliteCatalog(spec)


@pytest.fixture(params=["sqlite", "postgres"])
def spec(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where a catalog lives: the same tests run against both backends."""
    if request.param == "sqlite":
        return str(tmp_path / "catalog.sqlite")
    return request.getfixturevalue("pg_url")


@pytest.fixture
def catalog(spec: str) -> Iterator[Catalog]:
    with open_spec(spec) as cat:
        yield cat


def sql_rows(catalog: Catalog, sql: str) -> list[tuple]:
    """Read the catalog's tables directly, whichever the backend."""
    if isinstance(catalog, SqliteCatalog):
        return catalog.conn.execute(sql).fetchall()
    assert isinstance(catalog, PostgresCatalog)
    with catalog._conn() as conn:
        return conn.execute(sql).fetchall()


@pytest.fixture
def filled(catalog: Catalog) -> Catalog:
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
    # a page of search results reads its rows in one query: the same rows, unknown ids left out
    rows = catalog.components(["HS-001-cccd", "missing", "HS-001-qd", "HS-001-qd", "bad\x00id"])
    assert set(rows) == {"HS-001-qd", "HS-001-cccd"}
    assert rows["HS-001-qd"] == row and rows["HS-001-cccd"] == cccd
    assert catalog.components([]) == {}


def test_signatures_and_own_text_layer(catalog: Catalog) -> None:
    """A signed component's signatures are rows of their own; the PDF's own words kept beside the
    OCR (signature boxes) are searchable; re-indexing replaces and deleting forgets them."""
    m = land_dossier()
    sig = dict(file="HS-001.pdf", intact=True, valid=True, pages=[1, 2])
    m.components[0].signatures = [
        Signature(field="Signature1", signer="Ủy ban nhân dân huyện Đông Anh", organisation="UBND huyện Đông Anh",
                  signed_at="2023-05-12T09:15:02+07:00", covers_whole_file=False, later_changes="form_filling", **sig),
        Signature(field="Signature2", signer="Trung tâm Công báo", signed_at="2023-05-12T10:01:00+07:00",
                  covers_whole_file=True, later_changes="none", **sig),
    ]
    m.components[0].stored_as = "signed_original"
    m.pages[0].text_layer = TextLayer(used="ocr", kind="stub_over_image", words=9,
                                      text="Ký bởi: Ủy ban nhân dân huyện Đông Anh\nThời gian ký: 12/05/2023")
    catalog.index_dossier(m)
    rows = catalog.signatures("HS-001-qd")
    assert [r["field"] for r in rows] == ["Signature1", "Signature2"]
    first = rows[0]
    assert first["signer"] == "Ủy ban nhân dân huyện Đông Anh" and first["signed_at"] == "2023-05-12T09:15:02+07:00"
    assert first["intact"] is True and first["covers_whole_file"] is False and first["later_changes"] == "form_filling"
    assert first["stored_as"] == "signed_original" and first["seq"] == 1 and first["file"] == "HS-001.pdf"
    assert catalog.signatures("HS-001-cccd") == [] and catalog.signatures("missing") == []
    assert "HS-001-qd" in ids(catalog.search("thời gian ký"))  # the kept box text, not the OCR text
    assert catalog.get_component("HS-001-qd")["metadata"]["so_ky_hieu"] == "1534/QĐ-UBND"
    m.components[0].signatures = m.components[0].signatures[1:]
    catalog.index_dossier(m)
    assert [r["field"] for r in catalog.signatures("HS-001-qd")] == ["Signature2"]
    assert catalog.delete_dossier("HS-001")
    assert catalog.signatures("HS-001-qd") == []
    assert sql_rows(catalog, "SELECT COUNT(*) FROM component_signatures")[0][0] == 0


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


def test_pages_outside_components_and_blank_pages(catalog: Catalog) -> None:
    m = manifest("B", ["bìa hồ sơ", "", "nội dung chính"], [comp("B-1", [3])])
    catalog.index_dossier(m)
    assert catalog.stats()["pages"] == 3
    assert catalog.search("bìa") == []  # page 1 belongs to no component
    assert ids(catalog.search("nội dung")) == ["B-1"]
    rows = sql_rows(catalog, "SELECT n, component_id, blank FROM pages ORDER BY n")
    assert [(n, c, bool(b)) for n, c, b in rows] == [(1, None, False), (2, None, True), (3, "B-1", False)]


# -- documents by owner and date, and who points at a stored object -----------------------------

OWNER_A, OWNER_B = "031085001234", "001190004567"


def dated(dossier_id: str, created_at: str, docs: list[tuple[str, str | None, list[str]]],
          status: str = "done") -> Manifest:
    """A dossier digitised at `created_at` whose components are (type, ngay, cccd numbers)."""
    texts = [f"trang {i} của {dossier_id}" for i in range(1, len(docs) + 1)]
    comps = [comp(f"{dossier_id}-{i:02d}", [i], type=t, ngay=ngay, cccd=cccd)
             for i, (t, ngay, cccd) in enumerate(docs, start=1)]
    return manifest(dossier_id, texts, comps, status=status).model_copy(update={"created_at": created_at})


def owners_corpus(cat: Catalog) -> None:
    cat.index_dossier(dated("A", "2024-01-05T09:00:00+07:00", [
        ("can_cuoc", "2021-03-15", [OWNER_A]), ("quyet_dinh", "2024-01-02", [OWNER_A, OWNER_B]),
        ("don_de_nghi", None, [OWNER_A])]))
    cat.index_dossier(dated("B", "2024-02-01T09:00:00+07:00", [
        ("giay_chung_nhan_qsdd", "2022-04-18", [OWNER_B]), ("can_cuoc", "2019-01-01", [OWNER_A, OWNER_A])]))
    cat.index_dossier(dated("C", "2024-03-01T09:00:00+07:00", [("quyet_dinh", "2024-02-20", [])]))
    cat.index_dossier(dated("F", "2024-04-01T09:00:00+07:00", [("can_cuoc", "2020-01-01", [OWNER_A])],
                            status="failed"))


def doc_ids(rows: list[dict]) -> list[str]:
    return [r["id"] for r in rows]


def test_documents_by_owner_and_date(catalog: Catalog) -> None:
    from datetime import date

    owners_corpus(catalog)
    # newest dossier first, then position; failed dossiers are never listed
    assert doc_ids(catalog.documents()) == ["C-01", "B-01", "B-02", "A-01", "A-02", "A-03"]
    assert doc_ids(catalog.documents(owner=OWNER_A)) == ["B-02", "A-01", "A-02", "A-03"]
    assert doc_ids(catalog.documents(owner=OWNER_B)) == ["B-01", "A-02"]
    assert catalog.documents(owner="000000000000") == []
    assert doc_ids(catalog.documents(owner=OWNER_A, type="can_cuoc")) == ["B-02", "A-01"]
    assert doc_ids(catalog.documents(owner=OWNER_A, dossier="A")) == ["A-01", "A-02", "A-03"]
    # date bounds are inclusive; a component without a date is outside any range
    assert doc_ids(catalog.documents(date_from=date(2024, 1, 2))) == ["C-01", "A-02"]
    assert doc_ids(catalog.documents(date_to=date(2021, 3, 15))) == ["B-02", "A-01"]
    assert doc_ids(catalog.documents(date_from=date(2021, 1, 1), date_to=date(2023, 1, 1))) == ["B-01", "A-01"]
    assert doc_ids(catalog.documents(owner=OWNER_A, date_from=date(2020, 1, 1))) == ["A-01", "A-02"]
    # paging
    assert doc_ids(catalog.documents(owner=OWNER_A, limit=2, offset=1)) == ["A-01", "A-02"]
    assert catalog.documents(owner=OWNER_A, limit=0) == [] and catalog.documents(offset=99) == []
    with pytest.raises(ValueError):
        catalog.documents(limit=-1)
    # the rows are get_component's, plus when the dossier was digitised
    row = catalog.documents(owner=OWNER_B, type="quyet_dinh")[0]
    assert {k: v for k, v in row.items() if k != "created_at"} == catalog.get_component("A-02")
    assert row["created_at"] == "2024-01-05T09:00:00+07:00" and row["metadata"]["cccd"] == [OWNER_A, OWNER_B]
    # re-indexing replaces the owner rows, deleting removes them
    catalog.index_dossier(dated("B", "2024-02-01T09:00:00+07:00", [("giay_chung_nhan_qsdd", "2022-04-18", [])]))
    assert doc_ids(catalog.documents(owner=OWNER_B)) == ["A-02"]
    assert doc_ids(catalog.documents(owner=OWNER_A)) == ["A-01", "A-02", "A-03"]
    catalog.delete_dossier("A")
    assert catalog.documents(owner=OWNER_A) == [] and doc_ids(catalog.documents()) == ["C-01", "B-01"]
    assert sql_rows(catalog, "SELECT COUNT(*) FROM component_owners")[0][0] == 0


def test_owner_and_date_queries_use_indexes(catalog: Catalog) -> None:
    """The plans read the owner rows and the date index, not every component."""
    from datetime import date

    from pipeline.catalog.base import documents_sql

    owners_corpus(catalog)
    for kwargs, index in (({"owner": OWNER_A}, "component_owners"), ({"date_from": date(2024, 1, 1)}, "components_ngay")):
        base = {"owner": None, "date_from": None, "date_to": None, "type": None, "dossier": None} | kwargs
        if isinstance(catalog, SqliteCatalog):
            sql, args = documents_sql("?", **base)
            plan = " ".join(str(r) for r in catalog.conn.execute(f"EXPLAIN QUERY PLAN {sql}", [*args, 10, 0]))
            assert index in plan or "PRIMARY KEY" in plan, plan
            assert "SCAN c" not in plan, plan
        else:
            sql, args = documents_sql("%s", **base, collate=' COLLATE "C"')
            with catalog._conn() as conn:  # type: ignore[attr-defined]
                conn.execute("SET LOCAL enable_seqscan = off")  # a few rows: the planner would scan
                plan = " ".join(r[0] for r in conn.execute(f"EXPLAIN {sql}", [*args, 10, 0]).fetchall())
            assert index in plan or "component_owners_pkey" in plan, plan


def test_references_name_the_components_that_point_at_an_object(catalog: Catalog) -> None:
    def stored(dossier_id: str, key: str, reused_from: str | None = None) -> Manifest:
        c = comp(f"{dossier_id}-01", [1], type="quyet_dinh", cccd=[OWNER_A])
        c.object = StoredObject(backend="local", bucket="sohoa", key=key, uri=f"file:///s/{key}")
        c.reused_from = reused_from
        return manifest(dossier_id, ["quyết định"], [c])

    catalog.index_dossier(stored("A", "dossiers/A/01-quyet_dinh.pdf"))
    catalog.index_dossier(stored("B", "dossiers/A/01-quyet_dinh.pdf", reused_from="A-01"))
    catalog.index_dossier(stored("C", "dossiers/A/01-quyet_dinh.pdf", reused_from="A-01"))
    uris = ["file:///s/dossiers/A/01-quyet_dinh.pdf", "file:///s/dossiers/A/02-x.pdf"]
    assert catalog.references(uris, exclude_dossier="A") == {uris[0]: ["B-01", "C-01"]}
    assert catalog.references(uris, exclude_dossier="B") == {uris[0]: ["A-01", "C-01"]}
    assert catalog.references([], exclude_dossier="A") == {}
    catalog.delete_dossier("B")
    catalog.index_dossier(stored("C", "dossiers/C/01-quyet_dinh.pdf"))
    assert catalog.references(uris, exclude_dossier="A") == {}


def test_figures_from_the_catalog_equal_the_manifests(catalog: Catalog, tmp_path: Path) -> None:
    """`Catalog.figures` counts what `pipeline.publish.report` counts from the stored manifests."""
    from datetime import date

    from pipeline.publish.report import figures
    from pipeline.store.local import LocalStore

    store = LocalStore(tmp_path / "store", "sohoa")
    corpus = []
    for i in range(12):
        when = f"2024-0{i % 3 + 1}-{i % 28 + 1:02d}T{'23:30:00+07:00' if i % 4 == 0 else '08:00:00+07:00'}"
        docs = [("quyet_dinh", "2024-01-02", [OWNER_A]), ("can_cuoc", None, [])][: 1 + i % 2]
        m = dated(f"R{i:02d}", when, docs, status="failed" if i % 5 == 4 else "done")
        if m.status == "failed":
            m = m.model_copy(update={"components": [], "pages": [], "error": f"R{i:02d}: page 1 unreadable"})
        else:
            for k, c in enumerate(m.components):
                c.needs_review = i % 3 == 0
                c.reused_from = "X-01" if (i + k) % 4 == 1 else None
                if not (i == 6 and k == 0):  # one dossier misses a PDF
                    c.object = StoredObject(backend="local", bucket="sohoa", key=f"k/{c.id}", uri=f"file:///k/{c.id}")
        corpus.append(m)
    corpus.append(dated("R99", "", [("khac", None, [])]))  # no time: counted only without a period
    for m in corpus:
        catalog.index_dossier(m)
        store.put_bytes(f"dossiers/{m.dossier_id}/manifest.json", m.to_json().encode())
    for since, until in ((None, None), (date(2024, 2, 1), None), (None, date(2024, 2, 5)),
                         (date(2024, 1, 5), date(2024, 3, 9)), (date(2024, 1, 1), date(2024, 1, 1)),
                         (date(2030, 1, 1), None)):
        want = figures(store, since, until)
        got = figures(store, since, until, catalog)
        assert got == want, (since, until)
    whole = figures(store, catalog=catalog)
    assert whole["dossiers_received"] == 13 and whole["dossiers_failed"] == 2 and whole["documents_reused"] > 0
    assert 0 < whole["share_all_components_attached"] < 1 and whole["review_queue"] > 0


# -- staff accounts, sessions, audit log, review queue (the web application's tables) -------------


def test_users_sessions_and_audit(catalog: Catalog) -> None:
    catalog.add_user("linh", "reviewer", "$argon2id$hash")
    with pytest.raises(ValueError, match="already exists"):
        catalog.add_user("linh", "admin", "other")
    with pytest.raises(ValueError, match="role"):
        catalog.add_user("an", "boss", "x")
    assert catalog.get_user("linh")["role"] == "reviewer" and catalog.get_user("nobody") is None
    assert catalog.update_user("linh", role="admin") and catalog.get_user("linh")["role"] == "admin"
    assert not catalog.update_user("nobody", role="admin")
    catalog.add_session("s1", "linh", "csrf-1")
    session = catalog.get_session("s1")
    assert session["user"] == "linh" and session["csrf"] == "csrf-1" and session["role"] == "admin" and session["active"]
    catalog.touch_session("s1", "2000-01-01T00:00:00+00:00")
    catalog.add_user("nam", "viewer", "h")
    catalog.add_session("s2", "nam", "csrf-2")
    assert catalog.end_sessions(seen_before="2001-01-01T00:00:00+00:00") == 1  # the idle one only
    assert catalog.get_session("s1") is None and catalog.get_session("s2") is not None
    catalog.update_user("nam", active=False)  # locking an account ends its sessions
    assert catalog.get_session("s2") is None and not catalog.get_user("nam")["active"]
    assert [u["name"] for u in catalog.users()] == ["linh", "nam"]
    catalog.add_audit("linh", "set-type", dossier_id="HS-001", component_id="HS-001-qd",
                      detail={"to": "quyết định", "from": "khac"})
    catalog.add_audit("linh", "accept", dossier_id="HS-002")
    catalog.add_audit("nam", "upload", dossier_id="HS-001")
    entries = catalog.audit(dossier_id="HS-001")
    assert [(a["user_name"], a["action"]) for a in entries] == [("nam", "upload"), ("linh", "set-type")]
    assert entries[1]["detail"] == {"to": "quyết định", "from": "khac"} and entries[1]["at"]
    catalog.index_dossier(land_dossier())  # re-indexing a dossier keeps its audit log
    assert len(catalog.audit(dossier_id="HS-001")) == 2 and len(catalog.audit()) == 3


def test_review_queue_least_confident_first(catalog: Catalog) -> None:
    m = land_dossier()
    for c, conf in zip(m.components, [0.55, 0.31], strict=True):
        c.confidence, c.needs_review = conf, True
    catalog.index_dossier(m)
    catalog.index_dossier(request_dossier())  # nothing to review there
    queue = catalog.review_queue()
    assert [r["id"] for r in queue] == ["HS-001-cccd", "HS-001-qd"]
    assert all(r["needs_review"] and r["created_at"] is not None for r in queue)
    assert [r["id"] for r in catalog.review_queue(type="quyet_dinh")] == ["HS-001-qd"]
    assert catalog.review_count() == 2
    assert catalog.type_counts(dossier="HS-001") == {"quyet_dinh": 1, "cccd": 1}
    # per type among a search's matches: one count per component, however many pages match
    assert catalog.search_type_counts("ho") == ({"quyet_dinh": 1, "cccd": 1}, False)  # hộ, Hồ sơ; Họ và tên
    assert catalog.search_type_counts("đất", dossier="HS-002") == ({"don": 1}, False)
    assert catalog.search_type_counts("ho", cap=1)[1] is True
    assert catalog.search_type_counts("tàu vũ trụ") == ({}, False)
    assert catalog.search_type_counts('"""') == ({}, False)
    newest = catalog.recent_dossiers(5)
    assert {d["id"] for d in newest} == {"HS-001", "HS-002"} and all(d["status"] == "done" for d in newest)
    assert {d["id"]: d["components"] for d in newest} == {"HS-001": 2, "HS-002": 1}
    assert sum(catalog.type_counts().values()) == catalog.stats()["components"]
    assert catalog.type_counts(dossier="nobody") == {}


# -- the SQLite file ----------------------------------------------------------------------------


def test_schema_and_pragmas(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite"
    with SqliteCatalog(path) as cat:
        assert cat.schema_version == len(MIGRATIONS) == 5
        assert cat.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert cat.conn.execute("PRAGMA busy_timeout").fetchone()[0] > 0
        tables = {r[0] for r in cat.conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert {"dossiers", "components", "pages", "page_search", "page_fts", "component_owners",
                "component_signatures", "schema_version", "users", "sessions", "audit"} <= tables
    with SqliteCatalog(path) as again:  # reopening applies nothing twice
        assert again.conn.execute("SELECT COUNT(*) FROM schema_version").fetchone()[0] == 5


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
    with pytest.raises(ConfigError, match="unknown catalog"):
        open_catalog(Settings(home=tmp_path, catalog="mysql"))
    with pytest.raises(ConfigError, match="unknown catalog") as info:
        open_catalog(Settings(home=tmp_path, catalog="mysql://u:hunter22@db/x"))
    assert "hunter22" not in str(info.value)


def test_open_catalog_postgres(pg_url: str, tmp_path: Path) -> None:
    with open_catalog(Settings(home=tmp_path, catalog=pg_url)) as cat:
        assert isinstance(cat, PostgresCatalog)
        cat.index_dossier(request_dossier())
        assert ids(cat.search("don de nghi")) == ["HS-002-don"]
        assert pg_url.split(":")[2].split("@")[0] not in repr(cat) + cat.url  # no password


def test_sqlite_migrates_a_version_1_file(tmp_path: Path) -> None:
    from pipeline.catalog.base import plan_rows
    from pipeline.catalog.sqlite import _statements

    path = tmp_path / "v1.sqlite"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)")
    for statement in _statements(MIGRATIONS[0]):
        conn.execute(statement)
    conn.execute("INSERT INTO schema_version VALUES (1, 'then')")
    rows = plan_rows(land_dossier(), "then")  # written as version 1 wrote them
    conn.execute(
        "INSERT INTO dossiers VALUES (:id, :status, :error, :source_path, :source_sha256, :pages,"
        " :settings_version, :created_at, :indexed_at, :manifest_json)",
        rows.dossier,
    )
    conn.executemany(
        "INSERT INTO components VALUES (:id, :dossier_id, :seq, :type, :type_name, :confidence, :needs_review,"
        " :pages_json, :metadata_json, :object_uri, :sha256, :reused_from)",
        rows.components,
    )
    conn.executemany("INSERT INTO pages VALUES (:dossier_id, :n, :component_id, :blank, :text)", rows.pages)
    conn.executemany(
        "INSERT INTO page_search (dossier_id, component_id, n, text, folded, meta, meta_folded)"
        " VALUES (:dossier_id, :component_id, :n, :text, :folded, :meta, :meta_folded)",
        rows.search,
    )
    conn.commit()
    conn.close()
    with SqliteCatalog(path) as cat:
        assert cat.schema_version == 5
        # migration 3 filled the date column and the owner rows from the metadata
        assert doc_ids(cat.documents(owner="031085001234")) == ["HS-001-cccd"]
        from datetime import date

        assert doc_ids(cat.documents(date_from=date(2023, 5, 12), date_to=date(2023, 5, 12))) == ["HS-001-qd"]
        hits = cat.search("hồ sơ")
        assert ids(hits) == ["HS-001-qd", "HS-001-cccd"] and [h.exact for h in hits] == [True, False]
        assert ids(cat.search("an", type="cccd")) == ["HS-001-cccd"]
        hit = cat.search("1534/QĐ-UBND")[0]
        assert hit.page == 1 and "[1534/QĐ-UBND]" in hit.snippet
        cat.index_dossier(land_dossier())  # and the triggers of version 2 keep FTS in step
        assert cat.stats()["components"] == 2 and len(cat.search('"ho so"')) == 1


def test_two_catalogs_share_one_store(spec: str) -> None:
    with open_spec(spec) as writer, open_spec(spec) as reader:
        writer.index_dossier(land_dossier())
        assert ids(reader.search('"ho so"')) == ["HS-001-qd"]
        reader.index_dossier(request_dossier())
        assert writer.stats()["dossiers"] == 2


# -- concurrent writers -------------------------------------------------------------------------


def numbered(dossier_id: str, variant: int) -> Manifest:
    """A dossier of 3 components x 2 pages whose every page says which variant it is."""
    texts = [f"Trang {i} của hồ sơ {dossier_id}: biến thể {variant}, thửa đất số {i}" for i in range(1, 7)]
    comps = [comp(f"{dossier_id}-{k}", [2 * k - 1, 2 * k], type="bien_ban", type_name="Biên bản") for k in (1, 2, 3)]
    return manifest(dossier_id, texts, comps)


def index_jobs(spec: str, jobs: list[tuple[str, int]]) -> int:
    """What one worker does: open its own catalog, index, close. (Module level: processes run it.)"""
    with open_spec(spec) as cat:
        for dossier_id, variant in jobs:
            cat.index_dossier(numbered(dossier_id, variant))
    return len(jobs)


def assert_consistent(cat: Catalog, dossier_ids: set[str], variants: range) -> None:
    """Every dossier indexed exactly once, all its rows from one variant, nothing doubled."""
    n = len(dossier_ids)
    assert cat.stats() == {"dossiers": n, "done": n, "failed": 0, "components": 3 * n, "pages": 6 * n}
    rows = sql_rows(cat, "SELECT dossier_id, COUNT(*), COUNT(DISTINCT component_id), MIN(n), MAX(n) FROM page_search GROUP BY dossier_id")
    assert {r[0] for r in rows} == dossier_ids
    assert all(tuple(r[1:]) == (6, 3, 1, 6) for r in rows), rows
    for dossier_id in dossier_ids:
        stored = cat.get_dossier(dossier_id)
        assert stored is not None
        variant = next(v for v in variants if f"biến thể {v}," in stored.pages[0].text)
        assert stored == numbered(dossier_id, variant)
        texts = sql_rows(cat, f"SELECT text FROM page_search WHERE dossier_id = '{dossier_id}'")
        assert all(f"biến thể {variant}," in t for (t,) in texts)
        hits = cat.search(f'"bien the {variant}"', dossier=dossier_id)
        assert sorted(ids(hits)) == [f"{dossier_id}-{k}" for k in (1, 2, 3)]


def test_threads_index_different_dossiers_at_once(spec: str) -> None:
    open_spec(spec).close()  # migrated before the race (racing first opens: see below)
    jobs = [[(f"T{w}-{i}", w) for i in range(6)] for w in range(4)]
    with ThreadPoolExecutor(4) as pool:
        assert sum(pool.map(index_jobs, [spec] * 4, jobs)) == 24
    with open_spec(spec) as cat:
        assert_consistent(cat, {d for job in jobs for d, _ in job}, range(4))


def test_threads_reindex_the_same_dossier_at_once(spec: str) -> None:
    open_spec(spec).close()
    jobs = [[("SAME", w * 10 + i) for i in range(6)] for w in range(4)]
    with ThreadPoolExecutor(4) as pool:
        assert sum(pool.map(index_jobs, [spec] * 4, jobs)) == 24
    with open_spec(spec) as cat:
        assert_consistent(cat, {"SAME"}, range(40))


def test_one_catalog_shared_by_threads(catalog: Catalog) -> None:
    errors: list[BaseException] = []

    def work(w: int) -> None:
        try:
            for i in range(5):
                catalog.index_dossier(numbered(f"S{w}", i))
                catalog.index_dossier(numbered("SHARED", w * 10 + i))
                assert catalog.search("thửa đất", limit=5)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert_consistent(catalog, {"S0", "S1", "S2", "S3", "SHARED"}, range(40))


def test_processes_index_at_once(spec: str) -> None:
    open_spec(spec).close()
    jobs = [
        [("P0-a", 1), ("SAME", 1), ("P0-b", 1), ("SAME", 2), ("SAME", 3)],
        [("P1-a", 4), ("SAME", 4), ("P1-b", 4), ("SAME", 5), ("SAME", 6)],
    ]
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        assert sum(pool.map(index_jobs, [spec] * 2, jobs)) == 10
    with open_spec(spec) as cat:
        assert_consistent(cat, {"P0-a", "P0-b", "P1-a", "P1-b", "SAME"}, range(1, 7))


def test_first_opens_race_to_migrate(pg_server: PgServer, tmp_path: Path) -> None:
    """Workers starting together on an empty database (or file) create the schema once."""
    with psycopg.connect(pg_server.super_url, autocommit=True) as conn:
        conn.execute("CREATE DATABASE empty_race OWNER sohoa TEMPLATE template0")
    for spec in (db_url(pg_server, "empty_race"), str(tmp_path / "race.sqlite")):
        barrier = threading.Barrier(4)

        def first_open(_: int, spec: str = spec, barrier: threading.Barrier = barrier) -> int:
            barrier.wait()
            with open_spec(spec) as cat:
                return cat.schema_version  # type: ignore[attr-defined]

        with ThreadPoolExecutor(4) as pool:
            versions = list(pool.map(first_open, range(4)))
        assert len(set(versions)) == 1
        with open_spec(spec) as cat:
            assert sql_rows(cat, "SELECT COUNT(*) FROM schema_version")[0][0] == versions[0]


# -- both backends answer alike ------------------------------------------------------------------


def agreeing_corpus() -> list[Manifest]:
    more = [
        manifest(
            f"D{i}",
            [f"Hồ sơ địa chính số {i}, thửa đất {i % 3}, quyền sử dụng đất", "ho so dia chinh, không dấu; đất quyền"],
            [comp(f"D{i}-1", [1], type="don" if i % 2 else "khac"), comp(f"D{i}-2", [2])],
        )
        for i in range(12)
    ]
    # Every word pair of "quyền sử dụng đất", never in a row: PostgreSQL's index finds these
    # pages for the phrase, and the check on the words must drop them.
    pairs = [manifest(f"FP{i}", ["quyền sử hữu, sử dụng tốt; dụng đất ở"]) for i in range(4)]
    return [land_dossier(), request_dossier(), *more[:6], *pairs, *more[6:]]


QUERIES = ["hồ sơ", "ho so", '"ho so"', "đất", "1534", "an", "thửa đất 2", "địa chính", "zzz", "DONG ANH",
           '"quyền sử dụng đất"', "đất quyền", '"dia chinh"']


def answers(cat: Catalog) -> list:
    for m in agreeing_corpus():
        cat.index_dossier(m)
    out = []
    for q in QUERIES:
        for kwargs in ({}, {"type": "don"}, {"dossier": "D3"}):
            for offset in (0, 3):
                hits = cat.search(q, limit=7, offset=offset, **kwargs)
                out.append([(h.component_id, h.page, h.snippet, h.exact, h.score) for h in hits])
    return out


def test_backends_give_the_same_answers(tmp_path: Path, pg_url: str) -> None:
    with SqliteCatalog(tmp_path / "c.sqlite") as lite, PostgresCatalog(pg_url) as pgc:
        assert answers(lite) == answers(pgc)


def test_backends_agree_past_the_caps(tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same answers when the candidate cap cuts and PostgreSQL's backwards scan runs out
    (so its GIN-index step, phrases checked by batches, does the work)."""
    with SqliteCatalog(tmp_path / "c.sqlite") as lite, PostgresCatalog(pg_url) as pgc:
        expected = answers(lite)
        assert answers(pgc) == expected
        monkeypatch.setattr(pg, "SCAN_NEWEST", 2)
        dropped = []

        def has_all(folded_words: str, needles: rank.Needles) -> bool:
            found = rank.has_all(folded_words, needles)
            dropped.append(not found)
            return found

        monkeypatch.setattr(pg, "has_all", has_all)
        assert answers(pgc) == expected
        assert any(dropped)  # the index's word-pair matches were checked, and some dropped
        monkeypatch.setattr(rank, "CANDIDATES", 3)
        assert answers(lite) == answers(pgc)


def test_ranking_past_the_candidate_cap(spec: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """More matches than the cap: exact matches still come first however old; paging is stable."""
    monkeypatch.setattr(rank, "CANDIDATES", 4)
    with open_spec(spec) as cat:
        for i in range(6):
            cat.index_dossier(manifest(f"OLD{i}", [f"hồ sơ địa chính {i}"]))
        for i in range(10):
            cat.index_dossier(manifest(f"NEW{i}", [f"ho so dia chinh {i}"]))
        first = cat.search("hồ sơ", limit=3)
        assert [h.dossier_id for h in first] == ["OLD5", "OLD4", "OLD3"] and all(h.exact for h in first)
        pages = [cat.search("hồ sơ", limit=3, offset=o) for o in range(0, 18, 3)]
        seen = [h.dossier_id for p in pages for h in p]
        assert len(seen) == len(set(seen)) == 16
        assert seen[:6] == [f"OLD{i}" for i in range(5, -1, -1)]
        assert seen[6:] == [f"NEW{i}" for i in range(9, -1, -1)]  # then newest first
        assert ids(cat.search("ho so", limit=2)) == ["NEW9-1", "NEW8-1"]  # no marks: newest first


def test_odd_values_survive(catalog: Catalog) -> None:
    long_word = "a" * 300
    odd_type = "loại 'lạ' \\ mới"
    m = manifest(
        "ODD",
        [f"giấy\x00tờ {long_word} cuối", "trang hai"],
        [comp("ODD-1", [1, 2], type=odd_type, type_name="Loại lạ", so_ky_hieu="12/QĐ")],
    )
    catalog.index_dossier(m)
    assert catalog.get_dossier("ODD") == m
    assert ids(catalog.search("giấy tờ", type=odd_type)) == ["ODD-1"]
    assert ids(catalog.search(long_word)) == ["ODD-1"]
    assert catalog.search("giấy", type="loại") == []
    assert catalog.search("giấy", dossier="OD\x00D") == [] and catalog.get_dossier("\x00") is None
    assert catalog.delete_dossier("\x00") is False and catalog.get_component("\x00") is None


# -- PostgreSQL specifics ---------------------------------------------------------------------


def test_postgres_schema_and_migrations(pg_url: str) -> None:
    with PostgresCatalog(pg_url) as cat:
        assert cat.schema_version == len(pg.MIGRATIONS) == 4
        tables = {r[0] for r in sql_rows(cat, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
        assert {"dossiers", "components", "pages", "page_search", "component_signatures", "schema_version", "users",
                "sessions", "audit"} <= tables
        indexes = {r[0] for r in sql_rows(cat, "SELECT indexname FROM pg_indexes WHERE tablename = 'page_search'")}
        assert "page_search_terms" in indexes
    with PostgresCatalog(pg_url) as again:  # reopening applies nothing twice
        assert sql_rows(again, "SELECT COUNT(*) FROM schema_version")[0][0] == 4
        with again._conn() as conn:
            conn.execute("INSERT INTO schema_version VALUES (99, 'future')")
    with pytest.raises(ConfigError, match="newer"):
        PostgresCatalog(pg_url)


def test_postgres_migrates_a_version_1_database(pg_server: PgServer) -> None:
    from datetime import date

    from pipeline.catalog.base import COMPONENT_COLUMNS, plan_rows

    with psycopg.connect(pg_server.super_url, autocommit=True) as conn:
        conn.execute("CREATE DATABASE catalog_v1 OWNER sohoa ENCODING 'UTF8' TEMPLATE template0")
    url = db_url(pg_server, "catalog_v1")
    rows = plan_rows(land_dossier(), "then")  # written as version 1 wrote them
    with psycopg.connect(url) as conn:
        conn.execute("CREATE TABLE schema_version (version integer PRIMARY KEY, applied_at text NOT NULL)")
        conn.execute(pg.MIGRATIONS[0])
        conn.execute("INSERT INTO schema_version VALUES (1, 'then')")
        names = list(rows.dossier)
        conn.execute(f"INSERT INTO dossiers ({', '.join(names)}) VALUES ({', '.join(['%s'] * len(names))})",
                     [rows.dossier[k] for k in names])
        for c in rows.components:
            conn.execute(f"INSERT INTO components ({', '.join(COMPONENT_COLUMNS)})"
                         f" VALUES ({', '.join(['%s'] * len(COMPONENT_COLUMNS))})", [c[k] for k in COMPONENT_COLUMNS])
    with PostgresCatalog(url) as cat:
        assert cat.schema_version == 4
        assert doc_ids(cat.documents(owner="031085001234")) == ["HS-001-cccd"]
        assert doc_ids(cat.documents(date_from=date(2023, 5, 12), date_to=date(2023, 5, 12))) == ["HS-001-qd"]
        cat.index_dossier(land_dossier())
        assert doc_ids(cat.documents(owner="031085001234")) == ["HS-001-cccd"]


def test_tsvector_and_tsquery_text() -> None:
    from pipeline.catalog.base import plan_rows

    row = plan_rows(land_dossier(), "now").search[0]
    vec = set(re.findall(r"'((?:[^']|'')*)'", pg.tsvector(row["words"], row["folded_words"], "quyet_dinh")))
    assert {"ho", "=hộ", "ho gia", "quyet dinh", "=quyết", "#quyet_dinh"} <= vec
    assert "dinh 1534" in vec  # within the fields ("Quyết định\n1534/QĐ-UBND")
    assert "2023 uy" not in vec  # never from the fields into the page
    assert pg.tsvector(" \n ", " \n ", "it's") == "'#it''s'"
    q = pg.tsquery(parse_query('hồ "đất đai" cho hộ'), exact=True, type="a\\b")
    assert q == "'ho' & '=hồ' & 'dat dai' & '=đất' & '=đai' & 'cho' & '=cho' & '=hộ' & '#a\\\\b'"
    assert pg.tsquery(parse_query('"quyền sử dụng đất"'), exact=False, type=None) == "'quyen su' & 'su dung' & 'dung dat'"


def test_postgres_down_is_one_clear_line() -> None:
    port = free_port()  # nothing listens there
    url = f"postgresql://sohoa:s3cret-Pa55@127.0.0.1:{port}/sohoa"
    for opener in (lambda: PostgresCatalog(url), lambda: open_catalog(Settings(catalog=url))):
        with pytest.raises(CatalogUnavailable) as info:
            opener()
        message = str(info.value)
        assert f"127.0.0.1:{port}" in message and "running" in message and "SOHOA_CATALOG" in message
        assert "s3cret" not in message and "\n" not in message
        assert info.value.__cause__ is None and info.value.__suppress_context__  # no traceback chain


def test_postgres_refusals_name_the_cause(pg_server: PgServer) -> None:
    base = pg_server.url.rsplit("@", 1)[1]
    with pytest.raises(CatalogUnavailable, match="refused user 'sohoa'") as info:
        PostgresCatalog(f"postgresql://sohoa:wrong-Pa55word@{base}")
    assert "wrong-Pa55word" not in str(info.value) and "password" in str(info.value)
    missing = pg_server.url.rsplit("/", 1)[0] + "/no_such_db"
    with pytest.raises(CatalogUnavailable, match="database 'no_such_db' does not exist"):
        PostgresCatalog(missing)
    with pytest.raises(ConfigError, match="not a valid PostgreSQL URL") as bad:
        PostgresCatalog("postgresql://sohoa:pw-secret@127.0.0.1:notaport/x?bogus=1")
    assert "pw-secret" not in str(bad.value)


def test_postgres_server_going_away(tmp_path: Path) -> None:
    with PgServer() as server:
        cat = PostgresCatalog(server.url)
        cat.index_dossier(request_dossier())
        server.stop()
        with pytest.raises(CatalogUnavailable) as info:
            cat.search("đơn")
        assert f"127.0.0.1:{server.port}" in str(info.value) and server.password not in str(info.value)
        cat.close()
        cat.close()


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


def test_snippet_from_stored_words_is_the_snippet_of_the_text() -> None:
    """The search reads only as much of a page as its snippet needs, from the word strings stored
    beside it; what it shows is what reading every word gives, also where words do not line up."""
    cases = [
        ("Mở đầu. " * 60 + "Hồ sơ, hồ sơ gồm: [ho so] Hồ Sơ và hố sâu. " + "Kết thúc. " * 60, "hồ sơ"),
        ("Phần đầu " * 40 + "ho so " + "giữa " * 40 + "hồ sơ " + "cuối " * 40, "hồ sơ"),
        ("İstanbul hồ sơ İzmir " * 20 + "hồ sơ", "hồ sơ"),  # İ lower-cases to two characters
        ("Số 1534/QĐ-UBND ngày 12/05/2023 về đất đai " * 10, "1534/QĐ-UBND đất"),
        ("chỉ có chữ khác " * 30, "hồ"),
        ("", "hồ"),
    ]
    for text, query in cases:
        terms = parse_query(query)
        exact, folded = word_lists(text)
        page_words, _ = halves(joined(exact, []), joined(folded, []))
        for width in (40, 160):
            assert snippet(text, terms, width, page_words) == snippet(text, terms, width), (text[:40], width)
    # word strings that are not this text's (a stale row): the text itself decides
    text = "một hai ba hồ sơ bốn"
    stale = halves(joined(["hồ", "sơ"], []), joined(["ho", "so"], []))[0]
    assert snippet(text, parse_query("hồ sơ"), 160, stale) == "một hai ba [hồ sơ] bốn"
