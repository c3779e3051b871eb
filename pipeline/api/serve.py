"""`sohoa api` under uvicorn: one worker process per core by default, with the hygiene limits.

With one worker the app object is handed to uvicorn; with several, each worker process starts afresh
and calls `app_from_env()`, which rebuilds the same app from `SOHOA_API_APP` (the data home, the
settings file by name and the API's limits; no secrets), set here for those children only.

Several workers each listen on a socket of their own, all bound to the one port with `SO_REUSEPORT`,
so the kernel spreads new connections over them. uvicorn's own workers share one listening socket,
and whichever wakes first accepts what is waiting: 50 clients connecting at once were measured
split 46 / 4 between two workers, one worker queueing while the other idled (p95 tripled).
`supervise()` restarts a worker that dies and stops them all on SIGTERM / SIGINT.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import signal
import socket
import threading
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

from pipeline.api.app import create_app
from pipeline.api.hygiene import uvicorn_options
from pipeline.settings import Settings

ENV = "SOHOA_API_APP"
log = logging.getLogger(__name__)


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))


def app_from_env() -> FastAPI:
    """The app in a uvicorn worker process, from what `serve()` left in `SOHOA_API_APP`."""
    spec = json.loads(os.environ[ENV])
    settings = Settings.load(config=spec.get("config_file"), home=spec["home"])
    return create_app(settings, max_upload_bytes=spec["max_upload_bytes"], presign_s=spec["presign_s"],
                      worker=spec["worker"])


def serve(settings: Settings, *, workers: int, max_upload_bytes: int, presign_s: int, worker: bool,
          build: Callable[..., FastAPI] = create_app, factory: str = "pipeline.api.serve:app_from_env",
          **uvicorn_kw: Any) -> None:
    """Run the API until stopped; `uvicorn_kw`: host, port, log level, proxy headers, root path.
    `build` makes the app (the web application's `create_site` adds its pages), `factory` names the
    function that rebuilds it in each worker process from `SOHOA_API_APP`."""
    import uvicorn

    options = {**uvicorn_options(), **uvicorn_kw}
    if workers <= 1:
        uvicorn.run(build(settings, max_upload_bytes=max_upload_bytes, presign_s=presign_s, worker=worker),
                    **options)
        return
    os.environ[ENV] = json.dumps({**settings.for_flow(), "max_upload_bytes": max_upload_bytes,
                                  "presign_s": presign_s, "worker": worker})
    if not hasattr(socket, "SO_REUSEPORT") or options.get("uds") or options.get("fd") is not None:
        uvicorn.run(factory, factory=True, workers=workers, **options)
        return
    supervise(factory, workers, options)


def listening_socket(host: str, port: int) -> socket.socket:
    """A socket bound to `host:port` that other sockets of this user may bind too (SO_REUSEPORT)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock


def _worker(factory: str, options: dict[str, Any]) -> None:
    """One worker process: its own listening socket on the shared port, and uvicorn serving it."""
    import uvicorn

    host, port = options.pop("host", "127.0.0.1"), options.pop("port", 8000)
    sock = listening_socket(host, port)
    config = uvicorn.Config(factory, factory=True, host=host, port=port, **options)
    uvicorn.Server(config).run(sockets=[sock])


def supervise(factory: str, workers: int, options: dict[str, Any], *, restart_pause_s: float = 1.0) -> None:
    """Run `workers` worker processes until SIGTERM or SIGINT; a worker that dies is started again."""
    options = {**options, "host": options.get("host", "127.0.0.1"), "port": options.get("port", 8000)}
    with socket.socket(socket.AF_INET6 if ":" in options["host"] else socket.AF_INET) as probe:
        # a plain bind fails if anything holds the port, another `sohoa api` included: say so here
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((options["host"], options["port"]))
    context = multiprocessing.get_context("spawn")
    stop = threading.Event()

    def start() -> multiprocessing.process.BaseProcess:
        process = context.Process(target=_worker, args=(factory, dict(options)), name="sohoa-api-worker")
        process.start()
        return process

    def on_signal(signum: int, _frame: object) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    processes = [start() for _ in range(workers)]
    try:
        while not stop.wait(0.5):
            for i, process in enumerate(processes):
                if not process.is_alive():
                    log.warning("API worker %s ended (exit code %s): starting another", process.pid,
                                process.exitcode)
                    process.join()
                    if stop.wait(restart_pause_s):
                        break
                    processes[i] = start()
    finally:
        for process in processes:
            if process.is_alive():
                process.terminate()  # SIGTERM: uvicorn finishes the requests under way, then exits
        for process in processes:
            process.join(60)
            if process.is_alive():
                process.kill()
                process.join()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
