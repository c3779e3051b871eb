"""Web application bench: how long the server takes to answer the search page and the dossier page
over a catalog of `--docs` documents, for each catalog backend.

    python bench/web.py [--docs 100000] [--backends sqlite,postgres] [--requests 240]
                        [--sqlite-path /tmp/sohoa-bench-web/catalog.sqlite] [--reuse]

Fills each catalog with bench/catalog.py's synthetic dossiers (one `index_dossier` per dossier),
serves the API and web application (`pipeline.web.create_site`, the upload worker off) with uvicorn
on a loopback port, logs in as a viewer, and times whole requests with one client, one at a time:

* search page: bench/catalog.py's query mix (with and without tones, phrases, names, numbers, a
  type filter, no-hit queries), each the full page — results, highlighted snippets, counts per type;
* search page without a query (newest documents, counts per type from the catalog);
* dossier page: random dossiers — components, fields, reuse links both ways, audit log;
* review queue page.

Times are from the client on loopback (server time plus well under a millisecond of HTTP); one
warm-up pass first, as a running service has its caches warm. `--reuse` keeps and reuses a filled
SQLite file (filling 100,000 documents takes minutes). Prints one table: page, backend, docs,
requests, p50 / p95 / max in ms (each row as soon as it is measured).
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import httpx  # noqa: E402

from bench.catalog import PG_BENCH_SETTINGS, Corpus, ingest, query_mix  # noqa: E402
from pipeline.settings import Settings  # noqa: E402
from pipeline.web import create_site  # noqa: E402
from pipeline.web.passwords import hash_password  # noqa: E402
from tests.conftest import serve_app  # noqa: E402

PASSWORD = "bench-password-123"


def timed(client: httpx.Client, urls: list[str]) -> list[float]:
    for url in urls:  # warm-up
        client.get(url).raise_for_status()
    out = []
    for url in urls:
        start = time.perf_counter()
        r = client.get(url)
        out.append((time.perf_counter() - start) * 1000)
        r.raise_for_status()
    return out


def row(page: str, backend: str, docs: int, times: list[float]) -> str:
    t = sorted(times)
    p95 = t[min(len(t) - 1, round(0.95 * (len(t) - 1)))]
    return f"{page:<22} {backend:<9} {docs:>8} {len(t):>8} {statistics.median(t):>8.1f} {p95:>8.1f} {t[-1]:>8.1f}"


HEAD = f"{'page':<22} {'backend':<9} {'docs':>8} {'requests':>8} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}"


def catalog_spec(name: str, args: argparse.Namespace, stack: list) -> tuple[str, bool]:
    """The catalog setting for a backend, and whether it still needs filling."""
    if name == "sqlite":
        path = Path(args.sqlite_path)
        path.parent.mkdir(parents=True, exist_ok=True)
        marker = path.with_suffix(f".{args.docs}-{args.seed}.filled")
        if args.reuse and marker.exists() and path.exists():
            return f"sqlite:{path}", False
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        marker.unlink(missing_ok=True)
        return f"sqlite:{path}", True
    if name == "postgres":
        sys.path.insert(0, str(REPO / "tests"))
        from pgserver import PgServer

        server = PgServer(settings=PG_BENCH_SETTINGS)
        stack.append(server)
        return server.start(), True
    raise SystemExit(f"unknown backend {name!r} (sqlite, postgres)")


def open_spec(spec: str):
    if spec.startswith("sqlite:"):
        from pipeline.catalog.sqlite import SqliteCatalog

        return SqliteCatalog(spec.removeprefix("sqlite:"))
    from pipeline.catalog.postgres import PostgresCatalog

    return PostgresCatalog(spec)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--requests", type=int, default=240, help="timed requests per page kind")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--sqlite-path", default=str(Path(tempfile.gettempdir()) / "sohoa-bench-web" / "catalog.sqlite"))
    parser.add_argument("--reuse", action="store_true", help="keep the filled SQLite file and reuse it next time")
    args = parser.parse_args(argv)
    print(HEAD, flush=True)
    for name in [b.strip() for b in args.backends.split(",") if b.strip()]:
        stack: list = []
        try:
            spec, fill = catalog_spec(name, args, stack)
            with open_spec(spec) as catalog:
                if fill:
                    print(f"{name}: filling {args.docs} documents", file=sys.stderr)
                    ingest(catalog, args.docs, args.seed)
                    if name == "sqlite":
                        Path(args.sqlite_path).with_suffix(f".{args.docs}-{args.seed}.filled").touch()
                corpus = Corpus(args.seed)
                for _manifest, _count in corpus.dossiers(min(args.docs, 5000)):  # names and numbers to ask for
                    pass
                dossiers = [r[0] for r in catalog._rows("SELECT id FROM dossiers ORDER BY id")]
                if catalog.get_user("bench") is None:
                    catalog.add_user("bench", "viewer", hash_password(PASSWORD))
            home = Path(tempfile.mkdtemp(prefix="sohoa-bench-web-home-"))
            catalog_setting = f"{spec.removeprefix('sqlite:')}" if name == "postgres" else "sqlite"
            if name == "sqlite":  # the app opens <home>/catalog.sqlite: point it at the filled file
                (home / "catalog.sqlite").symlink_to(spec.removeprefix("sqlite:"))
            settings = Settings(home=home, store="local", catalog=catalog_setting)
            url, stop = serve_app(create_site(settings, worker=False))
            try:
                with httpx.Client(base_url=url, headers={"Accept": "text/html"}, timeout=120) as client:
                    form = client.get("/web/login").text
                    token = re.search(r'name="csrf" value="([^"]+)"', form).group(1)
                    r = client.post("/web/login", data={"name": "bench", "password": PASSWORD, "csrf": token})
                    assert r.status_code == 303, r.text[:500]
                    queries = query_mix(corpus, args.requests)
                    search = [str(httpx.URL("/web/search", params={"q": q.text, **({"type": q.type} if q.type else {})}))
                              for q in queries]
                    r_ = random.Random(args.seed)
                    pages = [f"/web/dossiers/{r_.choice(dossiers)}" for _ in range(args.requests)]
                    listing = [f"/web/search?page={1 + i % 5}" for i in range(min(args.requests, 50))]
                    for label, urls in (("search (query)", search), ("search (no query)", listing),
                                        ("dossier", pages), ("review queue", ["/web/review"] * 20)):
                        print(row(label, name, args.docs, timed(client, urls)), flush=True)
            finally:
                stop()
        finally:
            for s in stack:
                s.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
