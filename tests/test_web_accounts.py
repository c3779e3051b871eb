"""The web application without a browser, over real HTTP (uvicorn on loopback, httpx): accounts
from the command line, the log-in rate limit, idle expiry, CSRF and roles on the server, headers,
static files, ZIP unpacking. No dossier is digitised here: an empty catalog is enough."""

from __future__ import annotations

import json
import re
import unicodedata
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from pipeline.catalog import open_catalog
from pipeline.settings import Settings
from pipeline.web import create_site
from pipeline.web.passwords import hash_password, verify_password
from pipeline.web.sessions import SESSION_COOKIE, session_id
from pipeline.web.upload_pages import unpack_zip
from tests.conftest import cli, serve_app

PASSWORD = {"quan": "quan-tri-vien-2024", "linh": "ra-soat-vien-2024", "nam": "nguoi-xem-2024"}


@dataclass
class Site:
    url: str
    settings: Settings
    app: object


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Iterator[Site]:
    home = tmp_path_factory.mktemp("web_accounts")
    settings = Settings(home=home, store="local", catalog="sqlite")
    with open_catalog(settings) as catalog:
        for name, role in (("quan", "admin"), ("linh", "reviewer"), ("nam", "viewer")):
            catalog.add_user(name, role, hash_password(PASSWORD[name]))
    app = create_site(settings, worker=False)
    url, stop = serve_app(app)
    yield Site(url, settings, app)
    stop()


def browser_like(site: Site) -> httpx.Client:
    return httpx.Client(base_url=site.url, headers={"Accept": "text/html"}, timeout=30)


def login(client: httpx.Client, name: str, password: str) -> httpx.Response:
    form = client.get("/web/login").text
    token = re.search(r'name="csrf" value="([^"]+)"', form).group(1)
    return client.post("/web/login", data={"name": name, "password": password, "csrf": token})


def csrf_of(client: httpx.Client) -> str:
    return re.search(r'data-csrf="([^"]+)"', client.get("/web/search").text).group(1)


@pytest.mark.slow  # five `sohoa` processes
def test_user_create_list_and_set_from_the_command_line(tmp_path):
    made = cli("user", "create", "Mai.Anh", "--role", "reviewer", home=tmp_path)
    assert made.returncode == 0, made.stderr
    password = made.stdout.strip()
    assert len(password) >= 10 and "shown only now" in made.stderr
    settings = Settings(home=tmp_path, store="local", catalog="sqlite")
    with open_catalog(settings) as catalog:
        user = catalog.get_user("mai.anh")  # names are lower case
        assert user["role"] == "reviewer" and verify_password(user["password_hash"], password)
        assert password not in user["password_hash"]
    assert cli("user", "create", "mai.anh", "--role", "admin", home=tmp_path).returncode == 1  # taken
    assert cli("user", "create", "x", "--role", "admin", home=tmp_path).returncode == 2  # too short a name
    weak = cli("user", "create", "tuan", "--role", "viewer", "--password-stdin", home=tmp_path, input="short\n")
    assert weak.returncode == 2 and "10" in weak.stderr
    listed = cli("user", "list", "--json", home=tmp_path)
    (row,) = [json.loads(x) for x in listed.stdout.splitlines()]
    assert row["name"] == "mai.anh" and "password_hash" not in row
    assert cli("user", "set", "mai.anh", "--role", "admin", "--state", "lock", home=tmp_path).returncode == 0
    with open_catalog(settings) as catalog:
        user = catalog.get_user("mai.anh")
        assert (user["role"], user["active"]) == ("admin", False)
        assert [a["action"] for a in catalog.audit()] == ["user-change", "user-create"]


def test_log_in_rate_limit(site):
    site.app.state.web.limiter.reset()
    with browser_like(site) as c:
        for _ in range(site.settings.web.login_failures):
            assert login(c, "nam", "wrong password!").status_code == 401
        refused = login(c, "nam", PASSWORD["nam"])  # right password, but too many failures
        assert refused.status_code == 429 and "quá nhiều lần" in refused.text
        assert login(c, "quan", PASSWORD["quan"]).status_code == 303  # a colleague at the same address
        for i in range(site.settings.web.login_failures * 3):
            login(c, f"someone{i}", "wrong password!")
        assert login(c, "quan", PASSWORD["quan"]).status_code == 429  # the address, now
    site.app.state.web.limiter.reset()  # the window passing (15 minutes by default)


def test_idle_session_expires_and_logout_ends_it(site):
    with browser_like(site) as c:
        assert login(c, "quan", PASSWORD["quan"]).status_code == 303
        assert c.get("/web/search").status_code == 200
        sid = session_id(c.cookies[SESSION_COOKIE])
        with open_catalog(site.settings) as catalog:
            catalog.touch_session(sid, "2000-01-01T00:00:00+00:00")
        expired = c.get("/web/search")
        assert expired.status_code == 303 and expired.headers["location"] == "/web/login?next=%2Fweb%2Fsearch"
        with open_catalog(site.settings) as catalog:
            assert catalog.get_session(sid) is None
    with browser_like(site) as c:
        login(c, "nam", PASSWORD["nam"])
        token = csrf_of(c)
        assert c.post("/web/logout", data={"csrf": token}).status_code == 303
        assert c.get("/web/search").status_code == 303


def test_login_form_needs_its_own_token_and_next_stays_here(site):
    with browser_like(site) as c:
        r = c.post("/web/login", data={"name": "quan", "password": PASSWORD["quan"], "csrf": "forged"})
        assert r.status_code == 403 and SESSION_COOKIE not in c.cookies
        form = c.get("/web/login").text
        token = re.search(r'name="csrf" value="([^"]+)"', form).group(1)
        r = c.post("/web/login", data={"name": "quan", "password": PASSWORD["quan"], "csrf": token,
                                       "next": "//evil.example/web/"})
        assert r.status_code == 303 and r.headers["location"] == "/web/"


def test_roles_and_csrf_are_checked_by_the_server(site):
    with browser_like(site) as viewer:
        login(viewer, "nam", PASSWORD["nam"])
        token = csrf_of(viewer)
        r = viewer.post("/web/review/hs_0001-01/accept", data={"csrf": token})
        assert r.status_code == 403 and "không được làm việc này" in r.text
        assert viewer.get("/web/users").status_code == 403
        assert viewer.post("/web/upload/pages", headers={"X-CSRF-Token": token}).status_code == 403
    with browser_like(site) as reviewer:
        login(reviewer, "linh", PASSWORD["linh"])
        token = csrf_of(reviewer)
        assert reviewer.post("/web/upload/pages").status_code == 403  # no token
        assert reviewer.post("/web/upload/pages", headers={"X-CSRF-Token": "x" + token}).status_code == 403
        assert reviewer.post("/web/upload/pages", headers={"X-CSRF-Token": token}).status_code == 200
        assert reviewer.post("/web/users", data={"csrf": token, "name": "moi", "role": "admin"}).status_code == 403
    with browser_like(site) as admin:
        login(admin, "quan", PASSWORD["quan"])
        token = csrf_of(admin)
        r = admin.post("/web/users", data={"csrf": token, "name": "thu", "role": "viewer"})
        assert r.status_code == 200 and "chỉ hiện một lần" in r.text
        assert admin.post("/web/users", data={"name": "thu2", "role": "viewer"}).status_code == 403
    with open_catalog(site.settings) as catalog:
        assert catalog.get_user("thu")["role"] == "viewer" and catalog.get_user("thu2") is None
        assert catalog.audit()[0]["user_name"] == "quan"


def test_headers_static_files_and_json_for_scripts(site):
    with browser_like(site) as c:
        login(c, "nam", PASSWORD["nam"])
        page = c.get("/web/search")
        assert "script-src" not in page.headers["content-security-policy"]  # default-src 'self' only
        assert "'unsafe-inline'" not in page.headers["content-security-policy"]
        assert page.headers["x-content-type-options"] == "nosniff" and page.headers["cache-control"] == "no-store"
        assert '<html lang="vi">' in page.text and "Tìm kiếm" in page.text
        for url in ("/web/search", "/web/review", "/web/runs", "/web/login"):  # the UI's Vietnamese is NFC
            assert unicodedata.is_normalized("NFC", c.get(url).text), url
        assert c.get("/web/static/app.js").headers["content-type"].startswith("text/javascript")
        for bad in ("/web/static/..%2F__init__.py", "/web/static/.hidden.css", "/web/static/missing.css"):
            assert c.get(bad).status_code == 404
    with httpx.Client(base_url=site.url) as script:  # not a browser page: JSON, no redirect
        r = script.get("/web/uploads/x/status", headers={"Accept": "application/json"})
        assert r.status_code == 401 and "đăng nhập" in r.json()["detail"]


def test_a_zip_is_unpacked_to_its_page_images_only(tmp_path):
    archive = tmp_path / "ho_so.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("scan/trang10.png", b"x")
        zf.writestr("scan/trang2.png", b"y")
        zf.writestr("../../etc/evil.png", b"z")
        zf.writestr("__MACOSX/._trang2.png", b"junk")
        zf.writestr("ghi_chu.txt", b"note")
    unpack_zip(archive, tmp_path / "out", 1_000_000)
    # natural order, no path from the archive (nor a member that climbs out of it), only page images
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["0001.png", "0002.png"]
    assert [(tmp_path / "out" / n).read_bytes() for n in ("0001.png", "0002.png")] == [b"y", b"x"]
    assert not (tmp_path.parent / "etc").exists()
