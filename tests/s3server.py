"""Real S3-compatible servers on loopback for the store tests (no MinIO binary is needed).

* `nanio` (PyPI `nanio`): a disk-backed S3 server that checks SigV4 signatures like MinIO does, so a
  request minio-py signs wrongly fails here too. It has no object tagging.
* `moto` (PyPI `moto[s3]` + flask + flask-cors) in server mode: in memory, signatures unchecked,
  but with object tagging.

Each server runs as a subprocess of the current Python on a free 127.0.0.1 port, in its own process
group, with its log in its data folder; `start()` waits until it answers HTTP. `FaultProxy` sits in
front of a server to cut it off at a chosen point of an upload.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

ACCESS_KEY = "sohoa-test"
SECRET_KEY = "bi-mat-cua-kho-so-9f2c"  # only for the throw-away servers the tests start
REGION = "us-east-1"

KINDS = {
    # kind: (modules that must be importable, pip packages to name when they are not)
    "nanio": (("nanio",), "nanio"),
    "moto": (("moto", "flask", "flask_cors", "xmltodict"), "'moto[s3]' flask flask-cors"),
}


def missing(kind: str) -> str | None:
    """Why a server of this kind cannot run here (a pip hint), or None if it can."""
    modules, packages = KINDS[kind]
    if any(importlib.util.find_spec(m) is None for m in modules):
        return f"{kind} S3 server not installed (pip install {packages})"
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class S3Server:
    """One S3 server subprocess; `start()`/`stop()`/`kill()` may be called repeatedly (same port)."""

    def __init__(self, kind: str, data_dir: Path, port: int | None = None):
        if kind not in KINDS:
            raise ValueError(f"unknown S3 server kind {kind!r}")
        self.kind = kind
        self.data_dir = Path(data_dir)
        self.port = port or free_port()
        self.proc: subprocess.Popen | None = None
        self.supports_tags = kind == "moto"
        self.checks_signatures = kind == "nanio"

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _command(self) -> tuple[list[str], dict[str, str]]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "NANIO_", "MOTO_"))}
        if self.kind == "nanio":
            env.update(NANIO_ACCESS_KEY=ACCESS_KEY, NANIO_SECRET_KEY=SECRET_KEY)
            cmd = [sys.executable, "-m", "nanio", "serve", "--data-dir", str(self.data_dir / "data"),
                   "--host", "127.0.0.1", "--port", str(self.port), "--workers", "1",
                   "--region", REGION, "--no-access-log", "--log-level", "warning"]
        else:
            cmd = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)]
        return cmd, env

    def start(self, timeout_s: float = 30) -> S3Server:
        if self.proc is not None and self.proc.poll() is None:
            return self
        self.data_dir.mkdir(parents=True, exist_ok=True)
        cmd, env = self._command()
        log = open(self.data_dir / f"{self.kind}.log", "ab")  # noqa: SIM115 - the child owns it
        try:
            self.proc = subprocess.Popen(cmd, env=env, cwd=self.data_dir, stdin=subprocess.DEVNULL,
                                         stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        finally:
            log.close()
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.kind} exited with {self.proc.returncode} on start:\n{self.log_tail()}")
            if self.answers():
                return self
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{self.kind} did not answer on {self.endpoint} within {timeout_s}s:\n{self.log_tail()}")

    def answers(self) -> bool:
        try:
            with urllib.request.urlopen(f"http://{self.endpoint}/", timeout=1):
                return True
        except urllib.error.HTTPError:
            return True  # 403 without credentials: it is up
        except OSError:
            return False

    def log_tail(self, lines: int = 30) -> str:
        path = self.data_dir / f"{self.kind}.log"
        text = path.read_text(errors="replace") if path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def _signal(self, sig: int, wait_s: float) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)  # the server and any worker it forked
        try:
            proc.wait(wait_s)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)

    def stop(self) -> None:
        """Terminate politely, then kill."""
        self._signal(signal.SIGTERM, 10)

    def kill(self) -> None:
        """SIGKILL, as a crash or power cut: no cleanup on the server side."""
        self._signal(signal.SIGKILL, 5)

    def client(self):
        """A plain minio client on this server, for looking behind the store's back."""
        from minio import Minio

        return Minio(endpoint=self.endpoint, access_key=ACCESS_KEY, secret_key=SECRET_KEY, secure=False, region=REGION)


def incomplete_uploads(server: S3Server, bucket: str) -> list[str]:
    """Keys with an unfinished multipart upload in `bucket`, asked with boto3 (minio-py has no public
    ListMultipartUploads): what a crashed upload leaves on the server, invisible to listings."""
    import boto3
    from botocore.config import Config

    client = boto3.client("s3", endpoint_url=f"http://{server.endpoint}", aws_access_key_id=ACCESS_KEY,
                          aws_secret_access_key=SECRET_KEY, region_name=REGION,
                          config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))
    return [upload["Key"] for upload in client.list_multipart_uploads(Bucket=bucket).get("Uploads", [])]


class FaultProxy:
    """A TCP proxy on loopback that runs `action` once `after_bytes` have gone upstream, then drops
    every connection (new ones too, until `heal()`)."""

    def __init__(self, upstream_port: int):
        self.upstream_port = upstream_port
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self.port = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._sent = 0
        self._after: int | None = None
        self._action: Callable[[], None] | None = None
        self._cut = False
        self._conns: set[socket.socket] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, name="fault-proxy", daemon=True)
        self._thread.start()

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"

    def arm(self, after_bytes: int, action: Callable[[], None]) -> None:
        with self._lock:
            self._sent = 0
            self._after = after_bytes
            self._action = action

    @property
    def fired(self) -> bool:
        return self._cut

    def heal(self) -> None:
        with self._lock:
            self._cut = False
            self._after = None

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self._listener.close()
        self._drop_all()

    def _drop_all(self) -> None:
        with self._lock:
            conns, self._conns = list(self._conns), set()
        for sock in conns:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            if self._cut:
                client.close()
                continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self.upstream_port), timeout=2)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._conns.update((client, upstream))
            threading.Thread(target=self._pump, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, False), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, counted: bool) -> None:
        try:
            while data := src.recv(65536):
                fire = None
                if counted:
                    with self._lock:
                        self._sent += len(data)
                        if self._after is not None and self._sent >= self._after and not self._cut:
                            self._cut = True
                            fire = self._action
                if fire is not None:
                    fire()
                    self._drop_all()
                    return
                if self._cut:
                    return
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)  # wakes the other direction's recv
                sock.close()
            with self._lock:
                self._conns.difference_update((src, dst))


class ErrorServer:
    """An HTTP server on loopback that answers every request with one fixed S3 error, counting them:
    a MinIO that is overloaded (503 SlowDown) or refuses the key (403), without being down."""

    def __init__(self, status: int, code: str):
        import http.server

        outer = self
        self.requests = 0
        body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code>'
                f"<Message>{code} (test server)</Message><Resource>/</Resource>"
                "<RequestId>0</RequestId><HostId>test</HostId></Error>").encode()

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _answer(self) -> None:
                outer.requests += 1
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                self.send_response(status)
                self.send_header("Content-Type", "application/xml")
                self.send_header("Content-Length", "0" if self.command == "HEAD" else str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _answer

            def log_message(self, *args) -> None:
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1},
                                        daemon=True)
        self._thread.start()

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)
