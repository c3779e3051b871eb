"""HTTP hygiene around the API: time limits on slow clients, safe response headers, offline docs.

- `HygieneMiddleware` (ASGI): a request body must keep coming (`BODY_IDLE_S` between chunks, all of
  it within `BODY_TOTAL_S`), else 408 and the connection is closed; every response gets
  `X-Content-Type-Options: nosniff`, `Referrer-Policy: no-referrer` and `X-Frame-Options: DENY`;
  HTML gets a content-security policy that allows only this server's own scripts and styles.
- `GuardedH11Protocol` (uvicorn): a request line and headers must arrive within `HEADER_S` of the
  first byte (or of the connection), else 408 and close; uvicorn alone waits for ever (slowloris).
- `add_docs()`: /docs (Swagger UI) and /redoc from the JavaScript shipped in the `fastapi-offline`
  package, served by the API itself: no CDN, so they work on an offline network, and the CSP holds.
"""

from __future__ import annotations

import asyncio
import time
from importlib import resources
from typing import Any

import h11
from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

HEADER_S = 10.0
BODY_IDLE_S = 30.0
BODY_TOTAL_S = 900.0
KEEP_ALIVE_S = 5
H11_MAX_INCOMPLETE = 16 * 1024  # request line + headers, bytes

CSP = ("default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; base-uri 'none'; "
       "form-action 'self'; frame-ancestors 'none'")
SAFE_HEADERS = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer"),
                (b"x-frame-options", b"DENY")]


class BodyTimeout(Exception):
    """The client stopped sending its request body."""


class HygieneMiddleware:
    """Body time limits and safe headers for every HTTP response."""

    def __init__(self, app: ASGIApp, body_idle_s: float = BODY_IDLE_S, body_total_s: float = BODY_TOTAL_S):
        self.app = app
        self.body_idle_s = body_idle_s
        self.body_total_s = body_total_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False
        body_done = False
        deadline = time.monotonic() + self.body_total_s

        async def timed_receive() -> Message:
            nonlocal body_done
            if body_done:  # after the body: waiting for a disconnect while streaming, no limit
                return await receive()
            left = min(self.body_idle_s, deadline - time.monotonic())
            try:
                message = await asyncio.wait_for(receive(), timeout=max(0.0, left))
            except TimeoutError:
                raise BodyTimeout() from None
            if message["type"] != "http.request" or not message.get("more_body", False):
                body_done = True
            return message

        async def safe_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = list(message.get("headers", []))
                names = {k.lower() for k, _ in headers}
                headers += [(k, v) for k, v in SAFE_HEADERS if k not in names]
                ctype = next((v for k, v in headers if k.lower() == b"content-type"), b"")
                if ctype.startswith(b"text/html") and b"content-security-policy" not in names:
                    headers.append((b"content-security-policy", CSP.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, timed_receive, safe_send)
        except BodyTimeout:
            if started:
                raise
            await safe_send({"type": "http.response.start", "status": 408, "headers": [
                (b"content-type", b"application/json"), (b"connection", b"close")]})
            await send({"type": "http.response.body",
                        "body": b'{"detail":"the request body did not arrive in time"}'})


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a deadline on the request line and headers."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.conn.their_state is h11.IDLE and self.conn.our_state is h11.IDLE:
            if data:
                self._arm()  # a new request began: its headers have HEADER_S from now on
        else:
            self._disarm()

    def on_response_complete(self) -> None:
        self._disarm()  # the keep-alive time-out takes over until the next request starts
        super().on_response_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        if self._header_timer is None:
            self._header_timer = self.loop.call_later(HEADER_S, self._headers_too_slow)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_too_slow(self) -> None:
        self._header_timer = None
        if self.transport.is_closing() or self.conn.their_state is not h11.IDLE:
            return
        self.transport.write(b"HTTP/1.1 408 Request Timeout\r\ncontent-type: text/plain\r\nconnection: close\r\n"
                             b"content-length: 34\r\n\r\nthe request did not arrive in time")
        self.transport.close()


REQUEST_THREADS = 2


def limit_threads(threads: int = REQUEST_THREADS) -> None:
    """Run the synchronous endpoints on at most `threads` threads (anyio's default is 40).

    A search is a few milliseconds of CPU under one catalog lock: forty threads taking turns on the
    GIL only add switching (at 50 concurrent searches, throughput fell and the tail grew); processes
    (`--workers`) are what run searches side by side.
    """
    import anyio.to_thread

    anyio.to_thread.current_default_thread_limiter().total_tokens = threads


def uvicorn_options() -> dict[str, Any]:
    """What `sohoa api` passes to uvicorn for these limits."""
    # a worker busy digitising an upload (or slow to import on a loaded machine) must not be taken
    # for hung: uvicorn kills a worker that misses its health check (5 s by default)
    return {"http": GuardedH11Protocol, "timeout_keep_alive": KEEP_ALIVE_S,
            "h11_max_incomplete_event_size": H11_MAX_INCOMPLETE, "timeout_worker_healthcheck": 60}


# -- the docs pages, from vendored assets -----------------------------------------------------------

ASSETS = {"swagger-ui-bundle.js": "text/javascript", "swagger-ui.css": "text/css",
          "redoc.standalone.js": "text/javascript", "favicon.png": "image/png"}

_SWAGGER_INIT = """window.addEventListener("load", function () {
  var el = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({url: el.dataset.openapi, dom_id: "#swagger-ui", deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis], layout: "BaseLayout", showExtensions: true});
});
"""


def _asset(name: str) -> bytes:
    return resources.files("fastapi_offline").joinpath("static", name).read_bytes()


def add_docs(app: FastAPI, title: str) -> None:
    """/docs and /redoc served from the package's own copies of Swagger UI and ReDoc."""

    def base(request: Request) -> str:
        return request.scope.get("root_path", "").rstrip("/")

    @app.get("/docs", include_in_schema=False)
    def swagger(request: Request) -> HTMLResponse:
        b = base(request)
        return HTMLResponse(f"""<!doctype html><html><head><meta charset="utf-8"><title>{title} - docs</title>
<link rel="icon" href="{b}/docs/assets/favicon.png"><link rel="stylesheet" href="{b}/docs/assets/swagger-ui.css">
</head><body><div id="swagger-ui" data-openapi="{b}{app.openapi_url}"></div>
<script src="{b}/docs/assets/swagger-ui-bundle.js"></script><script src="{b}/docs/assets/swagger-init.js"></script>
</body></html>""")

    @app.get("/redoc", include_in_schema=False)
    def redoc(request: Request) -> HTMLResponse:
        b = base(request)
        return HTMLResponse(f"""<!doctype html><html><head><meta charset="utf-8"><title>{title} - ReDoc</title>
<link rel="icon" href="{b}/docs/assets/favicon.png"></head><body>
<redoc spec-url="{b}{app.openapi_url}"></redoc><script src="{b}/docs/assets/redoc.standalone.js"></script>
</body></html>""")

    @app.get("/docs/assets/{name}", include_in_schema=False)
    def asset(name: str) -> Response:
        if name == "swagger-init.js":
            return Response(_SWAGGER_INIT, media_type="text/javascript")
        if name not in ASSETS:
            raise HTTPException(404, "no such file")
        return Response(_asset(name), media_type=ASSETS[name], headers={"Cache-Control": "public, max-age=86400"})
