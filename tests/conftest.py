"""What the tests share: where things are, the CLI as a user runs it, ports, process groups, page
turns, the review desk — and the markers that say which real resource a test needs.

Markers (select with `-m`): `ocr` (real Tesseract), `prefect` (starts a Prefect server), `postgres`
(starts PostgreSQL), `s3` (starts an S3 server), `browser` (drives Chromium), `slow` (over a few
seconds each). `pytest -m "not slow"` is the fast suite.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "samples" / "dossiers"
CORPORA = REPO.parent / "shared" / "corpora"
PEER = CORPORA / "peer-pdfs"
REAL = CORPORA / "real-vbhc"


def free_port() -> int:
    """A TCP port on the loopback nobody listens on (yet)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cli(*args: str, home: Path, env: dict | None = None, timeout: float = 900,
        input: str | None = None) -> subprocess.CompletedProcess:
    """`sohoa ARGS` in a child process, as a user runs it, on data home `home` (no Prefect server)."""
    full = {**os.environ, "SOHOA_HOME": str(home), **(env or {})}
    full.pop("PREFECT_API_URL", None)
    return subprocess.run([sys.executable, "-m", "flows.cli", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=REPO, env=full, input=input)


def stop_group(proc: subprocess.Popen, sig: int = signal.SIGTERM, timeout: float = 30) -> None:
    """Stop a child started with `start_new_session=True` and all it started: `sig`, then SIGKILL."""
    if proc.poll() is None:
        os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def serve_app(app) -> tuple[str, Callable[[], None]]:
    """Run `app` with uvicorn on a free loopback port in a thread; returns its URL and a stopper."""
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "API server did not start"
        time.sleep(0.05)

    def stop() -> None:
        server.should_exit = True
        thread.join(15)
        sock.close()

    return f"http://127.0.0.1:{sock.getsockname()[1]}", stop


def turn(img: np.ndarray, rotation: int) -> np.ndarray:
    """Turn content clockwise by `rotation` degrees, as a scanner fed sideways would."""
    codes = {90: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_COUNTERCLOCKWISE}
    return img if rotation == 0 else cv2.rotate(img, codes[rotation])


@contextmanager
def review_desk(settings) -> Iterator:
    """The corrections desk on `settings`' store and catalog, as `sohoa review` opens it."""
    from pipeline.catalog import open_catalog
    from pipeline.store import open_store
    from pipeline.understand.review import Review
    from pipeline.understand.taxonomy import load_taxonomy

    with open_catalog(settings) as catalog:
        yield Review(open_store(settings), catalog, load_taxonomy(settings.taxonomy), settings.home)


def correct(settings, action: str, *args, **kwargs):
    """One correction (`set_type`, `split`, `merge`) at the desk, as `sohoa review ACTION` makes it."""
    with review_desk(settings) as desk:
        return getattr(desk, action)(*args, **kwargs)


def pytest_collection_modifyitems(items) -> None:
    """Backend parameters say which server a test starts: `postgres`, or an S3 server (`s3`)."""
    import pytest

    for item in items:
        params = item.callspec.params.values() if hasattr(item, "callspec") else ()
        names = {v for v in params if isinstance(v, str)}
        if "postgres" in names:
            item.add_marker(pytest.mark.postgres)
        if any(n.startswith("s3") or n in ("nanio", "moto") for n in names):
            item.add_marker(pytest.mark.s3)
