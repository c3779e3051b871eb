"""The HTTP API through real HTTP: uvicorn on a free loopback port, httpx as the client.

One committed sample (hs_0004.png, one page) is digitised into a temporary data home first; one
upload digitises it again under another id through the API's worker.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import httpx
import pytest

from flows.api_cli import add_parsers
from pipeline.api import create_app, listing
from pipeline.api.keys import ApiKeyStore
from pipeline.catalog import open_catalog
from pipeline.digitise.dossier import digitise
from pipeline.manifest import Manifest
from pipeline.settings import Settings
from pipeline.store import open_store
from tests import s3server
from tests.conftest import serve_app

pytestmark = [pytest.mark.ocr]

SAMPLE = Path(__file__).resolve().parents[1] / "samples" / "dossiers" / "hs_0004.png"
LIMIT = 400_000  # bytes: the sample (about 220 kB) fits, the oversized uploads do not
PAGE_TEXT = "chuyển mục đích sử dụng đất"


@dataclass
class Api:
    url: str
    home: Path
    app: object
    manifest: Manifest
    read_key: str
    write_key: str
    revoked_key: str
    read_id: str

    def client(self, key: str | None = None, header: str = "bearer") -> httpx.Client:
        headers = {}
        if key is not None:
            headers = {"Authorization": f"Bearer {key}"} if header == "bearer" else {"X-API-Key": key}
        return httpx.Client(base_url=self.url, headers=headers, timeout=60)


@pytest.fixture(scope="module")
def api(tmp_path_factory) -> Api:
    home = tmp_path_factory.mktemp("api_home")
    settings = Settings(home=home, store="local", catalog="sqlite")
    store = open_store(settings)
    with open_catalog(settings) as catalog:
        manifest = digitise(SAMPLE, settings, store, catalog)
    assert manifest.status == "done", manifest.error
    with ApiKeyStore(home / "apikeys.sqlite") as keys:
        reader, read_key = keys.create("read", "test reader")
        _, write_key = keys.create("write", "test writer")
        gone, revoked_key = keys.create("write", "revoked")
        assert keys.revoke(gone.id)

    app = create_app(settings, max_upload_bytes=LIMIT)
    url, stop = serve_app(app)
    yield Api(url, home, app, manifest, read_key, write_key, revoked_key, reader.id)
    stop()


def _ids(body: dict) -> list[str]:
    return [item["id"] for item in body["items"]]


def _upload(client: httpx.Client, data: bytes, name: str = "scan.png", **fields) -> httpx.Response:
    return client.post("/v1/dossiers", files={"file": (name, data, "application/octet-stream")}, data=fields)


def test_health_needs_no_key(api):
    with api.client() as c:
        r = c.get("/v1/health")
    assert r.status_code == 200
    assert r.json()["status"] == "ok"


def test_no_or_wrong_key_is_401_without_telling_why(api):
    key_id = api.read_key.split("_")[1]
    wrong_secret = f"sohoa_{key_id}_{'A' * 43}"
    unknown_id = "sohoa_zzzzzzzzzz_" + api.read_key.split("_", 2)[2]
    bodies = set()
    with api.client() as c:
        for headers in ({}, {"Authorization": f"Bearer {wrong_secret}"}, {"Authorization": f"Bearer {unknown_id}"},
                        {"X-API-Key": api.revoked_key}, {"X-API-Key": "nonsense"},
                        {"Authorization": f"Basic {api.read_key}"}, {"X-API-Key": "x" * 5000}):
            r = c.get("/v1/documents", params={"q": "quyết định"}, headers=headers)
            assert r.status_code == 401, headers
            assert r.headers["www-authenticate"].startswith("Bearer")
            bodies.add(r.text)
        assert c.get("/v1/stats").status_code == 401
        assert c.get("/v1/documents/hs_0004-01/pdf").status_code == 401
        assert _upload(c, SAMPLE.read_bytes()).status_code == 401
    assert len(bodies) == 1  # one message for every failure
    assert key_id not in bodies.pop()


def test_read_key_searches_gets_and_downloads(api):
    comp = api.manifest.components[0]
    with api.client(api.read_key) as c:
        r = c.get("/v1/documents", params={"q": PAGE_TEXT})
        assert r.status_code == 200
        body = r.json()
        assert comp.id in _ids(body)
        hit = body["items"][_ids(body).index(comp.id)]
        assert hit["exact"] is True and "[" in hit["snippet"]
        assert hit["links"]["pdf"] == f"/v1/documents/{comp.id}/pdf"

        doc = c.get(f"/v1/documents/{comp.id}").json()
        assert doc["dossier_id"] == "hs_0004" and doc["type"] == comp.type
        assert doc["metadata"]["cccd"] == comp.metadata.cccd
        assert [p["n"] for p in doc["pages"]] == comp.pages
        assert "chuyển mục đích" in doc["text"].lower()

        pdf = c.get(f"/v1/documents/{comp.id}/pdf")
        assert pdf.status_code == 200
        assert pdf.headers["content-type"] == "application/pdf"
        assert f'filename="{comp.id}.pdf"' in pdf.headers["content-disposition"]
        assert pdf.content.startswith(b"%PDF")
        assert int(pdf.headers["content-length"]) == len(pdf.content)

        manifest = c.get("/v1/dossiers/hs_0004").json()
        assert manifest["schema"] == "sohoa/manifest/v1" and manifest["status"] == "done"
        # digitised from a local path, as the CLI does: the API names the file, not where it was
        assert api.manifest.source.path == str(SAMPLE) and manifest["source"]["path"] == SAMPLE.name
        assert str(SAMPLE.parent) not in json.dumps(manifest, ensure_ascii=False)
    with api.client(api.read_key, header="x-api-key") as c:
        assert c.get(f"/v1/documents/{comp.id}").status_code == 200


def test_read_key_cannot_upload(api):
    with api.client(api.read_key) as c:
        r = _upload(c, SAMPLE.read_bytes(), dossier_id="not_allowed")
    assert r.status_code == 403
    assert not list((api.home / "uploads").glob("not_allowed*"))


def test_search_with_and_without_tone_marks_and_filters(api):
    with api.client(api.read_key) as c:
        def ids(**params):
            r = c.get("/v1/documents", params=params)
            assert r.status_code == 200, r.text
            return _ids(r.json())

        with_tones = ids(q=PAGE_TEXT)
        without = ids(q="chuyen muc dich su dung dat")
        assert with_tones and set(with_tones) == set(without)
        assert "hs_0004-01" in ids(q="QUYET DINH", type="quyet_dinh")
        assert ids(q=PAGE_TEXT, type="hop_dong") == []
        assert ids(q="từkhôngcótrongvănbản") == []
        # no query: a list by filters, newest dossier first
        assert "hs_0004-01" in ids()
        assert "hs_0004-01" in ids(type="quyet_dinh", dossier="hs_0004")
        ngay = Manifest.model_validate(c.get("/v1/dossiers/hs_0004").json()).components[0].metadata.ngay
        assert ngay
        assert "hs_0004-01" in ids(**{"from": ngay, "to": ngay})
        assert "hs_0004-01" in ids(q="quyết định", **{"from": "2000-01-01"})
        assert "hs_0004-01" not in ids(**{"from": "2999-01-01"})
        assert "hs_0004-01" not in ids(q="quyết định", **{"to": "1999-12-31"})
        # paging
        first = c.get("/v1/documents", params={"dossier": "hs_0004", "per_page": 1}).json()
        assert first["page"] == 1 and len(first["items"]) == 1
        assert c.get("/v1/documents", params={"dossier": "hs_0004", "page": 50}).json()["items"] == []
        for bad in ({"page": 0}, {"per_page": 1000}, {"from": "06/05/2024"}, {"from": "2024-05-07", "to": "2024-05-06"},
                    {"owner": "123"}, {"dossier": "../x"}, {"q": "x" * 600}):
            assert c.get("/v1/documents", params=bad).status_code == 400, bad


def test_owner_documents(api):
    comp = api.manifest.components[0]
    assert comp.metadata.cccd, "the sample's decision names a CCCD"
    cccd = comp.metadata.cccd[0]
    with api.client(api.read_key) as c:
        r = c.get(f"/v1/owners/{cccd}/documents")
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["cccd"] == cccd and body["total"] >= 1
        item = body["items"][_ids(body).index(comp.id)]
        assert item["valid"] == (not comp.needs_review) and item["has_pdf"]
        assert all(cccd in i["metadata"]["cccd"] for i in body["items"])
        valid = [i["valid"] for i in body["items"]]
        assert valid == sorted(valid, reverse=True)  # valid first
        assert comp.id in _ids(c.get("/v1/documents", params={"owner": cccd}).json())
        assert comp.id in _ids(c.get("/v1/documents", params={"owner": cccd, "q": "quyết định"}).json())
        assert c.get("/v1/owners/000000000000/documents").json()["total"] == 0
        for bad in ("12345", cccd[:-1] + "x", cccd + "0", "%20" + cccd):
            assert c.get(f"/v1/owners/{bad}/documents").status_code == 400, bad


def test_bad_ids_never_reach_outside_the_store(api):
    long_id = "a" * 300
    paths = [
        "/v1/documents/..%2F..%2Fetc%2Fpasswd", "/v1/documents/..%2F..%2Fetc%2Fpasswd/pdf",
        "/v1/documents/%2E%2E", "/v1/documents/..%5C..%5Cetc%5Cpasswd/pdf",
        "/v1/documents/hs_0004-01%00", "/v1/documents/%00/pdf", f"/v1/documents/{long_id}",
        f"/v1/documents/{long_id}/pdf", "/v1/dossiers/..%2F..%2Fetc%2Fpasswd", "/v1/dossiers/%00",
        f"/v1/dossiers/{long_id}", "/v1/dossiers/hs_0004%2Fmanifest.json",
    ]
    with api.client(api.read_key) as c:
        for path in paths:
            r = c.get(path)
            assert r.status_code in (400, 404), (path, r.status_code)
            assert b"root:" not in r.content and b"%PDF" not in r.content
        assert c.get("/v1/documents/%00").status_code == 400
        assert c.get(f"/v1/documents/{long_id}").status_code == 400
        assert c.get("/v1/documents/no_such_doc-01").status_code == 404
        assert c.get("/v1/documents/no_such_doc-01/pdf").status_code == 404
        assert c.get("/v1/dossiers/no_such_dossier").status_code == 404


def test_write_key_uploads_and_the_worker_digitises(api):
    with api.client(api.write_key) as c:
        r = _upload(c, SAMPLE.read_bytes(), name="hs_0004.png", dossier_id="api_upload_1")
        assert r.status_code == 202, r.text
        body = r.json()
        assert body["dossier_id"] == "api_upload_1" and body["status"] == "queued"
        assert body["status_url"] == "/v1/dossiers/api_upload_1" == r.headers["location"]
        assert body["size"] == SAMPLE.stat().st_size
        seen = set()
        deadline = time.monotonic() + 300
        while True:
            status = c.get(body["status_url"])
            assert status.status_code == 200
            data = status.json()
            seen.add(data["status"])
            if data["status"] in ("done", "failed", "error"):
                break
            assert data["status"] in ("queued", "processing")
            assert time.monotonic() < deadline, "upload not digitised in time"
            time.sleep(0.5)
        assert data["status"] == "done", data
        manifest = Manifest.model_validate(data)
        assert manifest.dossier_id == "api_upload_1"
        assert [c.type for c in manifest.components] == ["quyet_dinh"]
        assert "api_upload_1-01" in _ids(c.get("/v1/documents", params={"q": "chuyen muc dich"}).json())
        assert c.get("/v1/documents/api_upload_1-01/pdf").content.startswith(b"%PDF")
        assert not [p for p in (api.home / "uploads").iterdir() if p.is_file()]  # consumed

        # refused before queueing: bad ids, not a scan, no file
        for bad_id in ("../evil", "a" * 200, "_lead", "x/y", "đ"):
            assert _upload(c, SAMPLE.read_bytes(), dossier_id=bad_id).status_code == 400, bad_id
        assert _upload(c, b"just some text, not a scan", name="notes.txt").status_code == 415
        assert c.post("/v1/dossiers", data={"dossier_id": "nofile"}, files={"x": ("", b"")}).status_code == 400
        assert c.post("/v1/dossiers", content=b"{}", headers={"content-type": "application/json"}).status_code == 415
    leftovers = [p for p in (api.home / "uploads").iterdir() if p.is_file()]
    assert leftovers == [], leftovers


def test_oversized_upload_is_413_and_leaves_nothing(api):
    big = b"\x89PNG\r\n\x1a\n" + b"\0" * (LIMIT * 2)
    with api.client(api.write_key) as c:
        r = _upload(c, big, dossier_id="too_big")
        assert r.status_code == 413, r.text

        # no Content-Length (chunked): the server stops reading at the limit
        boundary = "sohoa-test-boundary"
        head = (f'--{boundary}\r\nContent-Disposition: form-data; name="dossier_id"\r\n\r\ntoo_big_2\r\n'
                f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.png"\r\n'
                "Content-Type: image/png\r\n\r\n").encode()

        def body():
            yield head
            yield b"\x89PNG\r\n\x1a\n"
            for _ in range(12):
                yield b"\0" * 65536  # 768 KiB in all, twice the limit
            yield f"\r\n--{boundary}--\r\n".encode()

        r = c.post("/v1/dossiers", content=body(),
                   headers={"content-type": f"multipart/form-data; boundary={boundary}"})
        assert r.status_code == 413, r.text
        assert c.get("/v1/dossiers/too_big").status_code == 404
        assert c.get("/v1/dossiers/too_big_2").status_code == 404
    assert not [p for p in (api.home / "uploads").iterdir() if p.is_file()]


def test_s3_store_redirects_to_a_presigned_url(api):
    class Presigning:
        """The test's local store, answering presigned_url() as S3Store does."""

        def __init__(self, store):
            self._store = store
            self.asked: list[tuple] = []

        def __getattr__(self, name):
            return getattr(self._store, name)

        def presigned_url(self, key, expires_s=3600, filename=None):
            self.asked.append((key, expires_s, filename))
            return f"http://127.0.0.1:9/sohoa/{key}?X-Amz-Expires={expires_s}"

    original = api.app.state.store
    fake = api.app.state.store = Presigning(original)
    try:
        with api.client(api.read_key) as c:
            r = c.get("/v1/documents/hs_0004-01/pdf")
            assert r.status_code == 307
            assert r.headers["location"].startswith("http://127.0.0.1:9/sohoa/dossiers/hs_0004/")
            assert fake.asked == [("dossiers/hs_0004/01-quyet_dinh.pdf", 300, "hs_0004-01.pdf")]
            streamed = c.get("/v1/documents/hs_0004-01/pdf", params={"redirect": "false"})
            assert streamed.status_code == 200 and streamed.content.startswith(b"%PDF")
    finally:
        api.app.state.store = original


def test_pdf_from_a_real_s3_store_by_presigned_url(api, tmp_path):
    """MinIO-compatible server (nanio, signatures checked): 307 to a URL that serves the PDF alone."""
    if s3server.missing("nanio"):
        pytest.skip(s3server.missing("nanio"))
    server = s3server.S3Server("nanio", tmp_path / "s3").start()
    try:
        settings = Settings(home=tmp_path / "home", store=f"s3://{server.endpoint}/kho-so", catalog="sqlite",
                            s3={"access_key": s3server.ACCESS_KEY, "secret_key": s3server.SECRET_KEY,
                                "region": s3server.REGION, "max_attempts": 1})
        comp = api.manifest.components[0]
        pdf = (api.home / "store" / "sohoa" / comp.object.key).read_bytes()
        s3 = open_store(settings)
        s3.put_bytes(comp.object.key, pdf, content_type="application/pdf")
        with open_catalog(settings) as catalog:
            catalog.index_dossier(api.manifest)
        with ApiKeyStore(settings.home / "apikeys.sqlite") as keys:
            _, key = keys.create("read")
        url, stop = serve_app(create_app(settings, worker=False, presign_s=120))
        try:
            with httpx.Client(base_url=url, headers={"X-API-Key": key}, timeout=30) as c:
                r = c.get(f"/v1/documents/{comp.id}/pdf")
                assert r.status_code == 307
                signed = r.headers["location"]
                assert signed.startswith(f"http://{server.endpoint}/kho-so/") and "X-Amz-Signature" in signed
                assert "X-Amz-Expires=120" in signed
                streamed = c.get(f"/v1/documents/{comp.id}/pdf", params={"redirect": "false"})
                assert streamed.status_code == 200 and streamed.content == pdf
            got = httpx.get(signed, timeout=30)  # no API key: the signature is the permission
            assert got.status_code == 200 and got.content == pdf
            # asks S3 to name the download (MinIO honours it; the test server ignores it)
            assert f"response-content-disposition=attachment%3B%20filename%2A%3DUTF-8%27%27{comp.id}.pdf" in signed
        finally:
            stop()
    finally:
        server.stop()


def test_stats(api):
    with api.client(api.read_key) as c:
        r = c.get("/v1/stats")
    assert r.status_code == 200
    body = r.json()
    assert body["figures"]["dossiers_digitised"] >= 1 and body["figures"]["documents"] >= 1
    assert body["catalog"]["done"] >= 1
    assert set(body["uploads"]) == {"queued", "processing", "error"}


def test_openapi_lists_the_v1_paths(api):
    with api.client() as c:
        spec = c.get("/openapi.json").json()
        assert c.get("/docs").status_code == 200
    paths = set(spec["paths"])
    assert {"/v1/health", "/v1/documents", "/v1/documents/{document_id}", "/v1/documents/{document_id}/pdf",
            "/v1/owners/{cccd}/documents", "/v1/dossiers", "/v1/dossiers/{dossier_id}", "/v1/stats"} <= paths
    assert all(p.startswith("/v1/") for p in paths)
    assert {"bearer", "apiKey"} <= set(spec["components"]["securitySchemes"])
    assert "multipart/form-data" in spec["paths"]["/v1/dossiers"]["post"]["requestBody"]["content"]
    assert "security" not in spec["paths"]["/v1/health"]["get"]


def test_keys_are_stored_hashed(api):
    conn = sqlite3.connect(api.home / "apikeys.sqlite")
    dump = "\n".join(conn.iterdump())
    conn.close()
    for key in (api.read_key, api.write_key):
        assert key not in dump and key.split("_", 2)[2] not in dump
        assert key.split("_")[1] in dump  # the id is kept, to list and revoke


def test_filters_in_the_api_layer_page_over_candidates():
    rows = [{"id": f"d{i}-01", "dossier_id": f"d{i}", "type": "quyet_dinh", "type_name": "Quyết định",
             "confidence": 0.9, "needs_review": False, "pages": [1], "object_uri": "file:///x",
             "metadata": {"cccd": ["036185682116"] if i % 3 == 0 else [], "ngay": f"2024-01-{i % 28 + 1:02d}"}}
            for i in range(30)]
    asked: list[tuple[int, int]] = []

    def fetch(off: int, n: int) -> list[dict]:
        asked.append((off, n))
        return rows[off:off + n]

    owner = listing.Filters(owner="036185682116")
    page = listing.collect(fetch, listing.from_rows, owner, 3, 3, batch=7)
    assert [d.id for d in page.items] == ["d9-01", "d12-01", "d15-01"] and page.has_more and not page.truncated
    assert asked[0] == (0, 7)  # in batches, from the start
    last = listing.collect(fetch, listing.from_rows, owner, 5, 5, batch=7)
    assert [d.id for d in last.items] == ["d15-01", "d18-01", "d21-01", "d24-01", "d27-01"] and not last.has_more
    capped = listing.collect(fetch, listing.from_rows, owner, 5, 0, batch=4, cap=8)
    assert capped.truncated and capped.has_more and [d.id for d in capped.items] == ["d0-01", "d3-01", "d6-01"]
    dated = listing.Filters(date_from=date(2024, 1, 5), date_to=date(2024, 1, 6))
    assert [d.id for d in listing.collect(fetch, listing.from_rows, dated, 10, 0).items] == ["d4-01", "d5-01"]
    asked.clear()
    plain = listing.collect(fetch, listing.from_rows, listing.Filters(), 5, 10)
    assert asked == [(10, 6)] and len(plain.items) == 5 and plain.has_more  # the backend pages itself


def test_owner_and_dates_are_answered_by_the_catalog(api):
    """Without a query, owner and date filters page through the catalog's indexes: exact pages,
    never `truncated`, however many other documents there are."""
    from pipeline.manifest import SCHEMA, Component, Metadata, Page, Source, StoredObject

    owner, other = "079190001122", "079190003344"
    with open_catalog(Settings(home=api.home, catalog="sqlite")) as catalog:
        for i in range(30):
            did = f"own_{i:02d}"
            comps = [Component(id=f"{did}-{k:02d}", type="quyet_dinh" if k == 1 else "can_cuoc", type_name="x",
                               confidence=0.9, needs_review=i % 5 == 0, pages=[k],
                               metadata=Metadata(cccd=[owner] if (i + k) % 2 else [other],
                                                 ngay=f"2019-{i % 12 + 1:02d}-{k + 10:02d}"),
                               object=StoredObject(backend="local", bucket="sohoa", key=f"dossiers/{did}/{k}.pdf",
                                                   uri=f"file:///x/{did}/{k}.pdf"))
                     for k in (1, 2)]
            catalog.index_dossier(Manifest(schema=SCHEMA, dossier_id=did, status="done",
                                           source=Source(path=f"{did}.pdf", sha256="0" * 64, pages=2),
                                           pages=[Page(n=1, text="a"), Page(n=2, text="b")], components=comps,
                                           created_at=f"2019-06-{i % 28 + 1:02d}T08:00:00+07:00"))
    with api.client(api.read_key) as c:
        def page(**params):
            r = c.get("/v1/documents", params=params)
            assert r.status_code == 200, r.text
            return r.json()

        mine = []
        for n in range(1, 10):
            body = page(owner=owner, per_page=7, page=n)
            assert body["truncated"] is False
            mine += _ids(body)
            if not body["has_more"]:
                break
        assert len(mine) == len(set(mine)) == 30  # one of each dossier's two documents
        assert {i.split("-")[0] for i in mine} == {f"own_{i:02d}" for i in range(30)}
        dated = _ids(page(owner=owner, type="quyet_dinh", **{"from": "2019-03-01", "to": "2019-04-30"}, per_page=100))
        assert sorted(dated) == sorted(f"own_{i:02d}-01" for i in range(30) if i % 2 == 0 and i % 12 in (2, 3))
        assert _ids(page(**{"from": "2019-01-01", "to": "2019-12-31"}, per_page=100))  # dates alone
        body = c.get(f"/v1/owners/{owner}/documents", params={"per_page": 100}).json()
        assert body["total"] == 30 and body["truncated"] is False
        valid = [i["valid"] for i in body["items"]]
        assert valid == sorted(valid, reverse=True) and valid.count(False) == 6
        assert all(i["created_at"].startswith("2019-06-") for i in body["items"])


def test_apikey_commands(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("SOHOA_HOME", str(tmp_path))  # restored afterwards (the commands set it too)
    monkeypatch.delenv("SOHOA_CONFIG", raising=False)
    parser = argparse.ArgumentParser(prog="sohoa")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config")
    common.add_argument("--home")
    common.add_argument("-v", "--verbose", action="store_true")
    add_parsers(parser.add_subparsers(dest="command", required=True), common)

    def run(*argv: str) -> tuple[int, str]:
        args = parser.parse_args(list(argv))
        code = args.func(args)
        return code, capsys.readouterr().out

    code, out = run("apikey", "create", "--scope", "write", "--name", "cổng dịch vụ công", "--home", str(tmp_path))
    assert code == 0
    key = out.strip()
    assert key.startswith("sohoa_") and len(key.split("_", 2)[2]) >= 40
    code, out = run("apikey", "create", "--scope", "read", "--json", "--home", str(tmp_path))
    record = json.loads(out)
    assert record["scope"] == "read" and record["key"].startswith(f"sohoa_{record['id']}_")

    code, out = run("apikey", "list", "--json", "--home", str(tmp_path))
    listed = [json.loads(line) for line in out.splitlines()]
    assert [r["scope"] for r in listed] == ["write", "read"] and listed[0]["name"] == "cổng dịch vụ công"
    assert all("key" not in r for r in listed)

    with ApiKeyStore(tmp_path / "apikeys.sqlite") as keys:
        assert keys.verify(key).scope == "write"
    key_id = key.split("_")[1]
    assert run("apikey", "revoke", key_id, "--home", str(tmp_path))[0] == 0
    assert run("apikey", "revoke", "nosuchkey1", "--home", str(tmp_path))[0] == 1
    with ApiKeyStore(tmp_path / "apikeys.sqlite") as keys:
        assert keys.verify(key) is None
        assert keys.verify(record["key"]).scope == "read"
    code, out = run("apikey", "list", "--home", str(tmp_path))
    assert "revoked" in out and key.split("_", 2)[2] not in out
    with pytest.raises(SystemExit):
        parser.parse_args(["apikey", "create", "--scope", "admin"])
    capsys.readouterr()
    args = parser.parse_args(["api", "--home", str(tmp_path)])
    assert (args.host, args.port) == ("127.0.0.1", 8080)
