"""`sohoa api --workers 2`: connections are spread over the worker processes, and a worker that dies
is started again (pipeline/api/serve.py's supervisor over SO_REUSEPORT sockets)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import REPO, free_port, stop_group

pytestmark = [pytest.mark.slow]


def _workers(group: int) -> set[int]:
    """The worker processes of the server's process group (spawned by multiprocessing)."""
    found = set()
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry.name}/stat").read_text().rpartition(")")[2].split()
            cmdline = Path(f"/proc/{entry.name}/cmdline").read_bytes()
        except OSError:
            continue
        if int(stat[2]) == group and b"spawn_main" in cmdline:
            found.add(int(entry.name))
    return found


def _sockets(pid: int) -> int:
    return sum(1 for fd in os.scandir(f"/proc/{pid}/fd") if os.readlink(fd.path).startswith("socket:"))


def _healthy(url: str, deadline_s: float = 90) -> None:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/v1/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    raise AssertionError("sohoa api did not answer")


def test_connections_spread_over_workers_and_a_dead_worker_is_replaced(tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "SOHOA_HOME": str(tmp_path / "home")}
    proc = subprocess.Popen([sys.executable, "-m", "flows.cli", "api", "--port", str(port), "--workers", "2",
                             "--no-worker"], cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        _healthy(url)
        deadline = time.monotonic() + 60
        while len(workers := _workers(proc.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.3)
        assert len(workers) == 2, workers
        time.sleep(3)  # both listening
        before = {pid: _sockets(pid) for pid in workers}
        # 40 clients connecting at once (as a burst of users does), then each sending a request
        clients = [socket.socket() for _ in range(40)]
        for s in clients:
            s.setblocking(False)
            s.connect_ex(("127.0.0.1", port))
        for s in clients:
            s.setblocking(True)
            s.sendall(f"GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
        for s in clients:
            s.settimeout(60)
            assert s.recv(4096).startswith(b"HTTP/1.1 200")
        taken = {pid: _sockets(pid) - before[pid] for pid in workers}
        assert sum(taken.values()) == 40, taken
        assert min(taken.values()) >= 5, taken  # one shared socket gave one worker nearly all
        for s in clients:
            s.close()

        gone = min(workers)
        os.kill(gone, signal.SIGKILL)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            now = _workers(proc.pid)
            if len(now) == 2 and gone not in now:
                break
            time.sleep(0.3)
        assert len(now) == 2 and gone not in now, now
        _healthy(url)
        assert proc.poll() is None
    finally:
        stop_group(proc)
    assert not _workers(proc.pid)  # none left behind
