"""The staff's web application in a real browser: headless Chromium (Debian's `chromium`, driven by
Playwright) against the API server (uvicorn on a loopback port) over a data home where two committed
samples were digitised for real. One component is put in the review queue the way a low-confidence
classification leaves it (confidence 0.42, needs review) — the only thing set by hand.

Screenshots of each page go to `SOHOA_WEB_SCREENSHOTS` when set (docs/web/ holds the committed ones).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from pipeline.catalog import open_catalog
from pipeline.digitise.dossier import digitise, record
from pipeline.ingest.backlog import RunReport
from pipeline.settings import Settings
from pipeline.store import open_store
from pipeline.web import create_site
from pipeline.web.passwords import hash_password
from pipeline.web.sessions import SESSION_COOKIE
from tests.conftest import serve_app

pytestmark = [pytest.mark.browser, pytest.mark.ocr, pytest.mark.slow]

SAMPLES = Path(__file__).resolve().parents[1] / "samples" / "dossiers"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
PASSWORD = {"quan": "quan-tri-vien-2024", "linh": "ra-soat-vien-2024", "nam": "nguoi-xem-2024"}
REVIEWED = "hs_0002-02"  # put in the review queue by the fixture
SHOTS = os.environ.get("SOHOA_WEB_SCREENSHOTS")


@dataclass
class Site:
    url: str
    home: Path
    settings: Settings
    app: object


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Iterator[Site]:
    home = tmp_path_factory.mktemp("web_home")
    settings = Settings(home=home, store="local", catalog="sqlite", workers=2)
    store = open_store(settings)
    with open_catalog(settings) as catalog:
        for sample in ("hs_0004.png", "hs_0002"):
            manifest = digitise(SAMPLES / sample, settings, store, catalog)
            assert manifest.status == "done", manifest.error
        # a classification the model was unsure of: what the review queue is for
        unsure = manifest.model_copy(update={"components": [
            c.model_copy(update={"confidence": 0.42, "needs_review": True}) if c.id == REVIEWED else c
            for c in manifest.components]})
        record(unsure, store, catalog)
        for name, role in (("quan", "admin"), ("linh", "reviewer"), ("nam", "viewer")):
            catalog.add_user(name, role, hash_password(PASSWORD[name]))
    app = create_site(settings, max_upload_bytes=5_000_000)
    url, stop = serve_app(app)
    yield Site(url, home, settings, app)
    stop()


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium (APT_PACKAGES)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1360, "height": 900}, locale="vi-VN")
    pg = context.new_page()
    pg.set_default_timeout(30_000)
    yield pg
    context.close()


def shot(page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


def wait_until(page, expression: str, timeout_s: float = 30) -> None:
    """Poll `expression` in the page (wait_for_function evaluates strings, which the pages' CSP forbids)."""
    deadline = time.monotonic() + timeout_s
    while not page.evaluate(expression):
        assert time.monotonic() < deadline, f"timed out waiting for {expression}"
        page.wait_for_timeout(200)


def log_in(page, site: Site, name: str, target: str = "/web/search") -> None:
    page.goto(f"{site.url}{target}")
    assert "/web/login" in page.url  # sent to log in first, and back afterwards
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", PASSWORD[name])
    page.click("button[type=submit]")
    page.wait_for_url(f"{site.url}{target}*")


def test_log_in(page, site):
    page.goto(f"{site.url}/web/login")
    shot(page, "login")
    page.fill("input[name=name]", "linh")
    page.fill("input[name=password]", "not the password")
    page.click("button[type=submit]")
    assert "không đúng" in page.inner_text(".error")
    log_in(page, site, "linh")
    assert "linh · Người rà soát" in page.inner_text("header")
    assert "hs_0002" in page.inner_text("table.recent")  # before any search: the newest dossiers
    cookie = next(c for c in page.context.cookies() if c["name"] == SESSION_COOKIE)
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    page.click("header button:has-text('Đăng xuất')")
    page.wait_for_url("**/web/login")
    page.goto(f"{site.url}/web/search")
    assert "/web/login" in page.url


def test_search_with_and_without_tone_marks(page, site):
    log_in(page, site, "nam")
    for query in ("chuyển mục đích", "chuyen muc dich"):
        page.fill("input[name=q]", query)
        page.press("input[name=q]", "Enter")
        page.wait_for_selector(".hitlist")
        hits = page.locator(".hit")
        assert hits.count() >= 1
        first = hits.first
        assert "hs_0004" in first.inner_text()
        marked = first.locator("mark").all_inner_texts()
        assert any(m.lower() in ("chuyển", "mục", "đích", "chuyển mục đích") for m in marked), marked
        if query == "chuyển mục đích":
            shot(page, "search")
    assert page.locator(".facets li").count() >= 1  # counts per type
    # a hit opens the document at its page
    page.click(".hit a.title")
    page.wait_for_url("**/web/documents/hs_0004-01?page=1")
    assert page.locator("iframe.pdf").count() == 1
    wait_until(page, "Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)")
    assert page.eval_on_selector("img.page-image", "i => i.naturalWidth") == 1400
    shot(page, "document")


def test_open_a_dossier(page, site):
    log_in(page, site, "nam", "/web/dossiers/hs_0002")
    items = page.locator("li.component")
    assert items.count() == 4
    assert [items.nth(i).locator(".seq").inner_text() for i in range(4)] == ["1", "2", "3", "4"]
    assert "cần rà soát" in items.nth(1).inner_text()
    wait_until(page, "Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)")
    widths = page.eval_on_selector_all(".thumb img", "els => els.map(e => e.naturalWidth)")
    assert widths and all(w == 220 for w in widths)
    shot(page, "dossier")


def test_correct_a_type_in_the_review_queue_then_find_it(page, site):
    log_in(page, site, "linh", "/web/review")
    assert page.locator(".queue li").first.inner_text().startswith("42%")
    assert REVIEWED in page.inner_text("section.item h1")
    wait_until(page, "document.querySelector('.page-image').naturalWidth > 0")
    shot(page, "review")
    page.keyboard.press("t")  # the shortcut: focus the type list
    assert page.evaluate("document.activeElement.id") == "type-select"
    page.select_option("#type-select", "giay_khai_sinh")
    page.keyboard.press("Enter")
    page.wait_for_selector("p.ok")
    assert "đổi loại" in page.inner_text("p.ok")
    assert page.inner_text(".queue h2 .count") == "0"
    # found by its new type
    page.goto(f"{site.url}/web/search?type=giay_khai_sinh")
    assert REVIEWED in page.inner_text(".hitlist")
    # the same correction path as `sohoa review`: manifest, catalog, training data (with the name)
    with open_catalog(site.settings) as catalog:
        comp = catalog.get_component(REVIEWED)
        assert comp["type"] == "giay_khai_sinh" and not comp["needs_review"]
        audit = catalog.audit(dossier_id="hs_0002")
    assert audit[0]["user_name"] == "linh" and audit[0]["action"] == "set-type"
    stored = json.loads(open_store(site.settings).get_bytes("dossiers/hs_0002/manifest.json"))
    assert next(c for c in stored["components"] if c["id"] == REVIEWED)["type"] == "giay_khai_sinh"
    lines = [json.loads(x) for f in (site.home / "corrections").glob("*.jsonl") for x in f.read_text().splitlines()]
    assert any(x["action"] == "set-type" and x["by"] == "linh" and x["to"] == "giay_khai_sinh" for x in lines)
    # and the dossier page shows who did it
    page.goto(f"{site.url}/web/dossiers/hs_0002")
    row = page.locator("table.audit tbody tr").first.inner_text()
    assert "linh" in row and "đổi loại" in row


def test_upload_a_dossier_and_watch_it_finish(page, site):
    log_in(page, site, "linh", "/web/upload")
    page.fill("#dossier-id", "hs_web_upload")
    shot(page, "upload")
    page.set_input_files("#file-input", str(SAMPLES / "hs_0004.png"))
    page.wait_for_url("**/web/uploads/hs_web_upload")
    wait_until(page, "document.getElementById('progress').dataset.state === 'done'", 180)
    assert "Đã số hoá xong: 1 trang" in page.inner_text("#progress-text")
    assert page.eval_on_selector("#page-bar", "b => [b.value, b.max]") == [1, 1]
    shot(page, "progress")
    page.click("#dossier-link")
    page.wait_for_url("**/web/dossiers/hs_web_upload")
    assert page.locator("li.component").count() == 1
    assert "tải lên" in page.inner_text("table.audit")


def test_a_viewer_is_refused_a_correction(page, site):
    log_in(page, site, "nam", f"/web/review?item={REVIEWED}")
    page.keyboard.press("a")  # accept
    page.wait_for_selector("p.error")
    assert "không được làm việc này" in page.inner_text("p.error")
    with open_catalog(site.settings) as catalog:
        assert not any(a["user_name"] == "nam" for a in catalog.audit(dossier_id="hs_0002"))


def test_a_form_posted_without_its_csrf_token_is_refused(page, site):
    log_in(page, site, "linh", f"/web/review?item={REVIEWED}")
    with open_catalog(site.settings) as catalog:
        before = len(catalog.audit(dossier_id="hs_0002"))
    page.evaluate("document.querySelector('#form-accept input[name=csrf]').remove()")
    page.click("#form-accept button")
    page.wait_for_selector("p.error")
    assert "CSRF" in page.inner_text("p.error")
    with open_catalog(site.settings) as catalog:
        assert len(catalog.audit(dossier_id="hs_0002")) == before


def test_runs_report_and_retry(page, site):
    bad = site.home / "hs_hong.pdf"
    bad.write_bytes(b"%PDF-1.4\nnot really a pdf\n")
    with open_catalog(site.settings) as catalog:
        assert digitise(bad, site.settings, open_store(site.settings), catalog).status == "failed"
    # a backlog run's report, as `sohoa backlog` stores it (flows/backlog.py)
    store = open_store(site.settings)
    report = RunReport(source="/mnt/kho/2019", started_at="2026-12-01T01:00:00+00:00", seconds=90.0)
    with open_catalog(site.settings) as catalog:
        for dossier_id in ("hs_0004", "hs_0002", "hs_hong"):
            report.add(catalog.get_dossier(dossier_id))
    store.put_bytes("reports/backlog-20261201T010000+0000.json", json.dumps(report.to_dict()).encode())
    log_in(page, site, "quan", "/web/runs")
    wait_until(page, "document.querySelector('img.chart').naturalWidth > 0")
    run = page.locator("table.list").first.inner_text()
    assert "/mnt/kho/2019" in run and f"{report.pages_per_min:.1f}" in run
    assert "hs_hong" in page.locator("table.list").nth(1).inner_text()
    shot(page, "runs")
    page.click("form[action='/web/runs/retry'] button")
    page.wait_for_url("**/web/uploads/hs_hong")
    wait_until(page, "document.getElementById('progress').dataset.state === 'failed'", 60)
    page.goto(f"{site.url}/web/users")
    assert page.locator("table.list tbody tr").count() == 3
    shot(page, "users")
