"""Hostile and careless input (issue 13): every input below is made here, each with its outcome.

Bombs (a 19000 x 19000 PNG, a 200 x 200 inch PDF page, a crop box hiding a huge media box) go through
`sohoa process` in a child process whose peak RSS (its own and its children's, Tesseract included)
must stay under MEMORY_BOUND. Folder dossiers with links, FIFOs, colliding names, unreadable types;
a looping page tree; a failed re-run. Real OCR on small pages, real store and catalog.
"""

from __future__ import annotations

import io
import json
import os
import queue
import re
import socket
import subprocess
import sys
import threading
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import httpx
import numpy as np
import pytest

from pipeline.catalog import open_catalog
from pipeline.digitise.dossier import digitise
from pipeline.settings import Settings
from pipeline.store import open_store
from tests.conftest import free_port, stop_group
from tests.pages import save, text_page

MEMORY_BOUND_MB = 1536
SOHOA = Path(sys.executable).with_name("sohoa")

# python -c: runs argv[1:], prints the peak RSS (MB) of it and its descendants, passes on its exit code
_RSS = ("import resource, subprocess, sys\n"
        "r = subprocess.run(sys.argv[1:])\n"
        "sys.stderr.write('PEAK_RSS_MB=%d\\n' % (resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024))\n"
        "sys.exit(r.returncode)\n")


def pdf_bytes(page_dict: bytes, content: bytes | None = None, kids: bytes = b"[3 0 R]", count: int = 1) -> bytes:
    """A minimal PDF written by hand: catalog, page tree, one page (and its content stream)."""
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids " + kids + b" /Count %d >>" % count,
            b"<< /Type /Page /Parent 2 0 R " + page_dict + (b" /Contents 4 0 R" if content else b"") + b" >>"]
    if content:
        objs.append(b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream")
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, obj in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + obj + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    return bytes(out)


# digitise one dossier without Prefect (as `process` does inside its flow) and print its manifest
_DIGITISE = ("import sys\n"
             "from pipeline.catalog import open_catalog\n"
             "from pipeline.digitise.dossier import digitise\n"
             "from pipeline.settings import Settings\n"
             "from pipeline.store import open_store\n"
             "s = Settings()\n"
             "print(digitise(sys.argv[1], s, open_store(s), open_catalog(s)).to_json())\n")


def run_process(path: Path, home: Path, cli: bool = True) -> tuple[dict, int]:
    """`sohoa process --json path` (or `digitise()` alone, `cli=False`) in a child process:
    (its manifest, peak RSS in MB of it and its children, Tesseract and pdftoppm included)."""
    env = {**os.environ, "SOHOA_HOME": str(home), "SOHOA_CLEANING__ORIENTATION_OSD": "false"}
    cmd = [str(SOHOA), "process", "--json"] if cli else [sys.executable, "-c", _DIGITISE]
    res = subprocess.run([sys.executable, "-c", _RSS, *cmd, str(path)],
                         capture_output=True, text=True, env=env, timeout=600)
    peak = int(res.stderr.rsplit("PEAK_RSS_MB=", 1)[1].split()[0])
    lines = [ln for ln in res.stdout.splitlines() if ln.startswith("{")]
    assert lines, res.stderr[-2000:]
    return json.loads(lines[-1]), peak


@pytest.fixture
def env(tmp_path):
    settings = Settings(home=tmp_path / "home", workers=1, cleaning={"orientation_osd": False})
    store, catalog = open_store(settings), open_catalog(settings)
    yield settings, store, catalog
    catalog.close()


def small_page(path: Path, repeat: int = 1) -> Path:
    return save(text_page(dpi=100, repeat=repeat), path, dpi=100)


# -- bombs: refused (or rendered lower) before decoding, memory bounded ---------------------------


@pytest.mark.prefect
def test_19000_square_png_is_refused_unread_with_bounded_memory(tmp_path):
    path = tmp_path / "huge.png"
    page = np.full((19000, 19000), 255, np.uint8)
    cv2.putText(page, "19000", (200, 400), cv2.FONT_HERSHEY_SIMPLEX, 8, 0, 12)
    cv2.imwrite(str(path), page, [cv2.IMWRITE_PNG_COMPRESSION, 9])
    del page
    assert path.stat().st_size < 2_000_000
    manifest, peak = run_process(path, tmp_path / "home")
    assert manifest["status"] == "failed"
    assert "huge.png" in manifest["error"] and "361 Mpx" in manifest["error"]
    assert "too large" in manifest["error"] and "limits.max_pixels" in manifest["error"]
    assert "Error:" not in manifest["error"]  # no raw library exception
    assert peak < MEMORY_BOUND_MB, peak


@pytest.mark.prefect
def test_200_inch_pdf_page_is_refused_with_bounded_memory(tmp_path):
    path = tmp_path / "big-page.pdf"
    path.write_bytes(pdf_bytes(b"/MediaBox [0 0 14400 14400]", b"0 0 0 rg 100 100 500 500 re f"))
    assert path.stat().st_size < 600
    manifest, peak = run_process(path, tmp_path / "home")
    assert manifest["status"] == "failed"
    err = manifest["error"]
    assert "big-page.pdf, page 1" in err and "200 x 200 in" in err and "150 dpi" in err, err
    assert "limits.max_pixels" in err and "DecompressionBomb" not in err
    assert peak < MEMORY_BOUND_MB, peak


@pytest.mark.slow
def test_big_pdf_page_that_still_reads_is_rendered_lower_with_a_warning(tmp_path):
    path = tmp_path / "plan.pdf"  # 40 x 60 in: 216 Mpx at 300 dpi, fits at 182 dpi
    path.write_bytes(pdf_bytes(b"/MediaBox [0 0 2880 4320]", b"0 0 0 rg 100 100 500 500 re f"))
    manifest, peak = run_process(path, tmp_path / "home", cli=False)
    assert manifest["status"] == "done", manifest["error"]
    warnings = manifest["pages"][0]["warnings"]
    assert any("rendered at 182 dpi instead of 300" in w for w in warnings), warnings
    assert peak < MEMORY_BOUND_MB, peak


def test_crop_box_hiding_a_huge_media_box_renders_only_the_budgeted_pixels(tmp_path):
    path = tmp_path / "crop.pdf"  # pdfinfo measures the crop box; pdftoppm would draw the media box
    path.write_bytes(pdf_bytes(b"/MediaBox [0 0 14400 14400] /CropBox [0 0 595 842]",
                               b"0 0 0 rg 100 100 300 300 re f"))
    manifest, peak = run_process(path, tmp_path / "home", cli=False)
    assert manifest["status"] == "done", manifest["error"]
    assert peak < MEMORY_BOUND_MB, peak


def test_a_huge_tiff_frame_is_refused_by_its_own_header(tmp_path):
    from PIL import Image

    from pipeline.errors import InputError
    from pipeline.ingest.inputs import open_dossier

    path = tmp_path / "frames.tif"
    small = Image.new("1", (800, 1100), 1)
    small.save(path, save_all=True, append_images=[Image.new("1", (12000, 12000), 1)], compression="group4")
    with pytest.raises(InputError) as info:
        open_dossier(path)
    msg = str(info.value)
    assert "frames.tif, page 2" in msg and "12000 x 12000" in msg and "limits.max_pixels" in msg, msg


def test_a_huge_jpeg_is_decoded_at_a_reduced_scale_with_a_warning(tmp_path):
    from pipeline.ingest.inputs import load_page, open_dossier

    path = tmp_path / "a0.jpg"  # 12000 x 9000 at 600 dpi: 108 Mpx, read at 1/2 scale (300 dpi, 27 Mpx)
    page = np.full((9000, 12000), 255, np.uint8)
    cv2.putText(page, "A0", (500, 1500), cv2.FONT_HERSHEY_SIMPLEX, 40, 0, 60)
    ok, buf = cv2.imencode(".jpg", page, [cv2.IMWRITE_JPEG_QUALITY, 60])
    del page
    from PIL import Image

    with warnings.catch_warnings():  # PIL's own bomb warning: this test makes the big page on purpose
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        Image.open(io.BytesIO(buf.tobytes())).save(path, dpi=(600, 600), quality=60)
    src = open_dossier(path)
    image = load_page(src.pages[0], 300)
    assert image.pixels.shape[:2] == (4500, 6000) and image.dpi == 300
    assert any("1/2 scale" in w for w in image.warnings), image.warnings


def test_looping_page_tree_is_a_clear_error(env, tmp_path):
    settings, store, catalog = env
    path = tmp_path / "loop.pdf"
    path.write_bytes(pdf_bytes(b"/MediaBox [0 0 612 792]", kids=b"[3 0 R 2 0 R]", count=2))
    m = digitise(path, settings, store, catalog)
    assert m.status == "failed" and "loop" in m.error and "loop.pdf" in m.error
    assert not [k for k in store.list("dossiers/loop/") if k.endswith(".pdf")]


# -- a dossier is what is inside it -----------------------------------------------------------------


def _stored_bytes(store) -> list[bytes]:
    return [store.get_bytes(k) for k in store.list("")]


def test_links_fifos_and_devices_are_refused_unread_and_listed(env, tmp_path):
    settings, store, catalog = env
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = save(text_page(dpi=100, lines=["Hồ sơ khác, ngoài thư mục."]), outside / "secret.png", dpi=100)
    folder = tmp_path / "hs_links"
    folder.mkdir()
    small_page(folder / "01.png")
    (folder / "02.png").symlink_to("/etc/passwd")
    (folder / "03.png").symlink_to(secret)
    os.link(secret, folder / "04.png")  # a hard link to a file outside the dossier
    os.mkfifo(folder / "05.png")
    os.symlink("/dev/zero", folder / "06.png")
    m = digitise(folder, settings, store, catalog)
    assert m.status == "done", m.error
    assert m.source.pages == 1
    fate = {i.name: (i.status, i.reason) for i in m.inputs}
    assert fate["01.png"][0] == "pages"
    for name in ("02.png", "03.png", "06.png"):
        assert fate[name][0] == "refused" and "symbolic link" in fate[name][1]
    assert fate["04.png"][0] == "refused" and "hard link" in fate["04.png"][1]
    assert fate["05.png"][0] == "refused" and "FIFO" in fate["05.png"][1]
    stored = _stored_bytes(store)
    passwd = Path("/etc/passwd").read_bytes()
    assert not any(passwd in b for b in stored)
    assert secret.read_bytes() not in stored


def test_a_folder_of_only_a_link_fails_and_quarantines_nothing_from_outside(env, tmp_path):
    settings, store, catalog = env
    folder = tmp_path / "hs_only_link"
    folder.mkdir()
    (folder / "02.png").symlink_to("/etc/passwd")
    m = digitise(folder, settings, store, catalog)
    assert m.status == "failed" and "no page images" in m.error
    assert [(i.name, i.status) for i in m.inputs] == [("02.png", "refused")]
    passwd = Path("/etc/passwd").read_bytes()
    assert not any(passwd in b for b in _stored_bytes(store))


def test_hard_links_inside_the_dossier_are_read(env, tmp_path):
    settings, store, catalog = env
    folder = tmp_path / "hs_twice"
    folder.mkdir()
    small_page(folder / "01.png")
    os.link(folder / "01.png", folder / "02.png")  # both names inside: the same scan given twice
    m = digitise(folder, settings, store, catalog)
    assert m.status == "done" and m.source.pages == 2
    assert [i.status for i in m.inputs] == ["pages", "pages"]


# -- no scan lost, none dropped in silence ----------------------------------------------------------


def test_names_that_collide_once_sanitised_are_both_stored(env, tmp_path):
    settings, store, catalog = env
    folder = tmp_path / "hs_names"
    folder.mkdir()
    a = small_page(folder / "p 1.png")
    b = save(text_page(dpi=100, lines=["Trang thứ hai, khác trang một."]), folder / "p_1.png", dpi=100)
    m = digitise(folder, settings, store, catalog)
    assert m.status == "done", m.error
    keys = {i.name: i.original_key for i in m.inputs}
    assert set(keys) == {"p 1.png", "p_1.png"} and len(set(keys.values())) == 2
    assert keys["p_1.png"].endswith("/p_1.png")  # a name already safe and unique is kept as is
    assert "p_1-" in keys["p 1.png"]  # the other gets the sanitised name and a unique suffix
    assert store.get_bytes(keys["p 1.png"]) == a.read_bytes()
    assert store.get_bytes(keys["p_1.png"]) == b.read_bytes()
    assert {p for i in m.inputs for p in i.pages} == {1, 2}


def test_an_unreadable_type_is_listed_as_skipped_and_kept(env, tmp_path):
    settings, store, catalog = env
    folder = tmp_path / "hs_heic"
    folder.mkdir()
    small_page(folder / "01.png")
    heic = folder / "02.heic"
    heic.write_bytes(b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + os.urandom(2000))
    small_page(folder / "03.png")
    (folder / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    m = digitise(folder, settings, store, catalog)
    assert m.status == "done", m.error
    fate = {i.name: i for i in m.inputs}
    assert set(fate) == {"01.png", "02.heic", "03.png", ".DS_Store"}  # every file given is accounted for
    assert fate["02.heic"].status == "skipped" and ".heic" in fate["02.heic"].reason
    assert store.get_bytes(fate["02.heic"].original_key) == heic.read_bytes()  # no scan lost
    assert fate[".DS_Store"].status == "skipped" and fate[".DS_Store"].original_key is None
    assert fate["01.png"].pages == [1] and fate["03.png"].pages == [2]


def test_a_failed_rerun_leaves_no_stale_component(env, tmp_path):
    settings, store, catalog = env
    folder = tmp_path / "hs_rerun"
    folder.mkdir()
    small_page(folder / "01.png", repeat=2)
    first = digitise(folder, settings, store, catalog)
    assert first.status == "done" and first.components
    pdfs = [k for k in store.list("dossiers/hs_rerun/") if k.endswith(".pdf")]
    assert pdfs
    (folder / "01.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)  # the page, broken
    second = digitise(folder, settings, store, catalog)
    assert second.status == "failed"
    assert not [k for k in store.list("dossiers/hs_rerun/") if k.endswith(".pdf")]
    assert catalog.get_dossier("hs_rerun").status == "failed"
    assert catalog.get_component(first.components[0].id) is None


# -- the API: bombs uploaded, slow clients, headers, paths, offline docs ----------------------------

# runs `sohoa api` and, once it is stopped (SIGTERM to its process group), prints its peak RSS
_RSS_SERVER = ("import resource, signal, subprocess, sys\n"
               "signal.signal(signal.SIGTERM, lambda *a: None)\n"
               "p = subprocess.Popen(sys.argv[1:])\n"
               "while p.poll() is None:\n"
               "    try:\n"
               "        p.wait()\n"
               "    except InterruptedError:\n"
               "        pass\n"
               "sys.stderr.write('PEAK_RSS_MB=%d\\n' % (resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024))\n")


class LiveApi:
    def __init__(self, home: Path):
        self.home = home
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "SOHOA_HOME": str(home), "SOHOA_CLEANING__ORIENTATION_OSD": "false"}
        key = subprocess.run([str(SOHOA), "apikey", "create", "--scope", "write"], capture_output=True, text=True,
                             env=env, check=True)
        self.key = key.stdout.strip()
        self.proc = subprocess.Popen([sys.executable, "-c", _RSS_SERVER, str(SOHOA), "api", "--port", str(self.port),
                                      "--workers", "2"], env=env, stderr=subprocess.PIPE, text=True,
                                     start_new_session=True)
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(self.url + "/v1/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert self.proc.poll() is None and time.monotonic() < deadline, "sohoa api did not start"
            time.sleep(0.3)

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {self.key}"}, timeout=60)

    def upload(self, path: Path, dossier_id: str, timeout: float = 300) -> dict:
        """Upload `path`, wait until it is digitised; the dossier's manifest as the API returns it."""
        with self.client() as c, open(path, "rb") as fh:
            r = c.post("/v1/dossiers", files={"file": (path.name, fh)}, data={"dossier_id": dossier_id})
            assert r.status_code == 202, r.text
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                r = c.get(f"/v1/dossiers/{dossier_id}")
                assert r.status_code == 200, r.text  # any worker process knows the upload
                body = r.json()
                if body.get("status") in ("done", "failed"):
                    return body
                time.sleep(0.5)
        raise AssertionError(f"{dossier_id} not digitised in {timeout} s")

    def stop(self) -> int:
        """Stop the server; its peak RSS (MB), worker processes included."""
        stop_group(self.proc)
        return int(self.proc.stderr.read().rsplit("PEAK_RSS_MB=", 1)[1].split()[0])


@pytest.fixture(scope="module")
def live_api(tmp_path_factory):
    api = LiveApi(tmp_path_factory.mktemp("api_home"))
    yield api
    if api.proc.poll() is None:
        stop_group(api.proc)


def test_api_headers_csp_and_offline_docs(live_api):
    with live_api.client() as c:
        health = c.get("/v1/health")
        assert health.headers["x-content-type-options"] == "nosniff"
        assert "content-security-policy" not in health.headers  # JSON: not a page
        for page in ("/docs", "/redoc"):
            html = c.get(page)
            assert html.status_code == 200
            csp = html.headers["content-security-policy"]
            assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
            scripts = re.findall(r'<script src="([^"]+)"', html.text)
            assert scripts and all(s.startswith("/docs/assets/") for s in scripts)  # no CDN
            for s in scripts:
                js = c.get(s)
                assert js.status_code == 200 and len(js.content) > 100 and "javascript" in js.headers["content-type"]
        assert c.get("/docs/assets/..%2F__init__.py").status_code == 404


def _slow(port: int, first: bytes) -> tuple[float, bytes]:
    """Send `first`, then nothing: seconds until the server answered and closed, and what it said."""
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.sendall(first)
        s.settimeout(120)
        t0 = time.monotonic()
        data = b""
        while chunk := s.recv(4096):
            data += chunk
        return time.monotonic() - t0, data


@pytest.mark.slow
def test_api_slow_request_line_and_body_are_cut_off(live_api):
    key = live_api.key.encode()
    with ThreadPoolExecutor(3) as pool:
        line = pool.submit(_slow, live_api.port, b"GET /v1/health HTT")
        headers = pool.submit(_slow, live_api.port, b"GET /v1/health HTTP/1.1\r\nHost: x\r\n")
        body = pool.submit(_slow, live_api.port, b"POST /v1/dossiers HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
                           + key + b"\r\nContent-Type: multipart/form-data; boundary=B\r\nContent-Length: 90000\r\n\r\n"
                           b"--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.pdf\"\r\n\r\n%PDF-1.4")
        for fut, most in ((line, 20), (headers, 20), (body, 45)):
            seconds, answer = fut.result()
            assert answer.startswith(b"HTTP/1.1 408"), answer[:100]
            assert seconds < most, seconds
    assert not [p for p in (live_api.home / "uploads").iterdir() if p.is_file()]  # the partial upload is gone


@pytest.mark.slow
def test_api_uploads_of_bombs_fail_clearly_without_paths_and_memory_stays_bounded(live_api, tmp_path):
    huge = tmp_path / "huge.png"
    page = np.full((19000, 19000), 255, np.uint8)
    cv2.imwrite(str(huge), page, [cv2.IMWRITE_PNG_COMPRESSION, 9])
    del page
    big = tmp_path / "big-page.pdf"
    big.write_bytes(pdf_bytes(b"/MediaBox [0 0 14400 14400]", b"0 0 0 rg 100 100 500 500 re f"))
    good = small_page(tmp_path / "page.png", repeat=2)
    for path, dossier_id, words in ((huge, "up_huge", "361 Mpx"), (big, "up_big", "200 x 200 in")):
        m = live_api.upload(path, dossier_id)
        assert m["status"] == "failed" and words in m["error"] and "limits.max_pixels" in m["error"], m
        text = json.dumps(m)
        assert str(live_api.home) not in text and "/uploads/" not in text, text  # no server path
        assert m["source"]["path"].startswith("upload/")
    done = live_api.upload(good, "up_good", timeout=600)
    assert done["status"] == "done", done
    doc = done["components"][0]["id"]
    with live_api.client() as c:
        pdf = c.get(f"/v1/documents/{doc}/pdf")
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
        assert pdf.headers["content-disposition"].startswith("attachment;")
        assert pdf.headers["x-content-type-options"] == "nosniff"
        inline = c.get(f"/v1/documents/{doc}/pdf", params={"inline": "1"})
        assert inline.headers["content-disposition"].startswith("inline;")
    peak = live_api.stop()
    assert peak < MEMORY_BOUND_MB, peak


# -- a bounded mutation run ---------------------------------------------------------------------------

MUTATIONS = int(os.environ.get("SOHOA_MUTATIONS", "200"))  # fixed seed; ~3.5 min on 2 busy cores
PER_FILE_S = 150


def _seeds(folder: Path) -> list[Path]:
    """Small real inputs to mutate: half-page PNG, JPEG, 2-frame TIFF, 2-page PDF, and a PDF from samples/."""
    from PIL import Image

    half = text_page(dpi=100)[:600]
    seeds = [save(half, folder / "seed.png", dpi=100), save(half, folder / "seed.jpg", dpi=100, quality=70)]
    img = Image.fromarray(half)
    img.save(folder / "seed.tif", dpi=(100, 100), save_all=True, append_images=[img], compression="tiff_deflate")
    img.save(folder / "seed.pdf", resolution=100, save_all=True, append_images=[img])
    seeds += [folder / "seed.tif", folder / "seed.pdf"]
    hand = folder / "hand.pdf"
    hand.write_bytes(pdf_bytes(b"/MediaBox [0 0 612 792]", b"BT /F1 24 Tf 72 700 Td (Quyet dinh so 12) Tj ET"))
    return [*seeds, hand]


def _mutate(data: bytes, other: bytes, rng: np.random.Generator) -> bytes:
    """One mutation: byte flips, a truncation, a splice from another file, a repeated chunk, or
    numbers in a PDF's text changed (sizes, counts, lengths, offsets)."""
    b = bytearray(data)
    kind = rng.integers(0, 5)
    if kind == 0:
        for _ in range(int(rng.integers(1, 9))):
            b[int(rng.integers(0, len(b)))] = int(rng.integers(0, 256))
    elif kind == 1:
        b = b[: int(rng.integers(1, len(b)))]
    elif kind == 2:
        at, n = int(rng.integers(0, len(b))), int(rng.integers(1, 4096))
        start = int(rng.integers(0, max(1, len(other) - n)))
        b[at:at + n] = other[start:start + n]
    elif kind == 3:
        at, n = int(rng.integers(0, len(b))), int(rng.integers(1, 2048))
        b[at:at] = b[at:at + n] * int(rng.integers(2, 50))
    else:
        numbers = [m for m in re.finditer(rb"\d+", bytes(b))] or [None]
        for _ in range(int(rng.integers(1, 4))):
            m = numbers[int(rng.integers(0, len(numbers)))]
            if m is not None:
                new = str(int(rng.choice([0, 1, 7, 99999, 10**9]))).encode()
                b[m.start():m.end()] = new.ljust(m.end() - m.start(), b" ") if len(new) <= m.end() - m.start() else new
                numbers = [m for m in re.finditer(rb"\d+", bytes(b))] or [None]
    return bytes(b)


@pytest.mark.slow
def test_mutated_pdfs_and_images_never_crash_hang_leak_or_half_store(tmp_path):
    rng = np.random.default_rng(13)
    seeds = _seeds(tmp_path)
    blobs = [s.read_bytes() for s in seeds]
    files = []
    for i in range(MUTATIONS):
        k = int(rng.integers(0, len(seeds)))
        path = tmp_path / "mutants" / f"m{i:04d}{seeds[k].suffix}"
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(_mutate(blobs[k], blobs[int(rng.integers(0, len(blobs)))], rng))
        files.append(path)
    home = tmp_path / "home"
    env = {**os.environ, "SOHOA_HOME": str(home), "SOHOA_WORKERS": "1", "SOHOA_CLEANING__ORIENTATION_OSD": "false",
           "SOHOA_OCR__TIMEOUT_S": "60"}
    proc = subprocess.Popen([sys.executable, "-c", _RSS, sys.executable, "-m", "tests.mutation_runner",
                             *map(str, files)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            cwd=Path(__file__).resolve().parents[1], start_new_session=True)
    lines: queue.Queue[str | None] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(ln) for ln in proc.stdout] + [lines.put(None)], daemon=True).start()
    results: list[dict] = []
    try:
        while True:
            try:
                line = lines.get(timeout=PER_FILE_S)
            except queue.Empty:
                raise AssertionError(f"hung on {results[-1] if results else 'start'}") from None
            if line is None:
                break
            results.append(json.loads(line))
    finally:
        stop_group(proc)
    done = [r for r in results if "done" in r]
    assert proc.returncode == 0 and len(done) == len(files), proc.stderr.read()[-3000:]
    peak = int(proc.stderr.read().rsplit("PEAK_RSS_MB=", 1)[1].split()[0])
    assert peak < MEMORY_BOUND_MB, peak
    raw = [r for r in done if any(e.startswith("raw:") for e in r["raised"])]
    assert not raw, raw[:5]  # only InputError-family errors, never a raw library exception
    settings = Settings(home=home)
    store, catalog = open_store(settings), open_catalog(settings)
    try:
        for r in done:
            indexed = catalog.get_dossier(r["dossier_id"])
            assert indexed is not None and indexed.status == r["status"]
            pdfs = sorted(k for k in store.list(f"dossiers/{r['dossier_id']}/") if k.endswith(".pdf"))
            if r["status"] == "failed":  # nothing half-stored, nothing indexed but the failure
                assert not pdfs and not indexed.components, r
                assert store.exists(f"quarantine/{r['dossier_id']}/error.json")
            else:
                keys = {c.object.key for c in indexed.components if c.object}  # reused: another's key
                assert set(pdfs) <= keys and all(store.exists(k) for k in keys), r
                for c in indexed.components:
                    assert catalog.get_component(c.id) is not None
    finally:
        catalog.close()
    statuses = [r["status"] for r in done]
    assert statuses.count("failed") > 0 and statuses.count("done") > 0  # both paths were exercised
