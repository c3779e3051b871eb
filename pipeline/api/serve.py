"""`sohoa api` under uvicorn: one worker process per core by default, with the hygiene limits.

With one worker the app object is handed to uvicorn; with several, uvicorn starts each worker
process afresh and calls `app_from_env()`, which rebuilds the same app from `SOHOA_API_APP` (the data
home, the settings file by name and the API's limits; no secrets), set here for those children only.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

from pipeline.api.app import create_app
from pipeline.api.hygiene import uvicorn_options
from pipeline.settings import Settings

ENV = "SOHOA_API_APP"


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
    uvicorn.run(factory, factory=True, workers=workers, **options)
