"""API load bench: searches at several concurrencies against `sohoa api` on the loopback.

    python bench/api_load.py [--docs 20000] [--workers 1,2] [--concurrency 10,50,200] [--requests 1500]
                             [--home DIR]

Indexes `--docs` synthetic documents (bench/catalog.py's corpus) into a fresh SQLite catalog, creates
a read key, starts `sohoa api --workers W` for each W, then for each concurrency sends `--requests`
searches (`GET /v1/documents?q=…`, the mix of bench/catalog.py: words with and without tone marks,
phrases, numbers, type filters) from that many concurrent keep-alive connections, after a warm-up.
Prints one table: workers, concurrency, requests/s, p50 / p95 / p99 / max in ms, errors, and the CPU
time (user + system) per request of the server (every process of `sohoa api`, from /proc/<pid>/stat
before and after the row) and of the client, with the load average: on a machine shared with other
jobs the latencies depend on the load, the CPU per request much less.

The client runs on the same machine, so it is a minimal HTTP/1.1 client on asyncio streams (a
request line and headers written, the `Content-Length` body read): a general client (httpx) costs
about as much CPU per request as the server and would measure itself. `--home DIR` keeps the
populated catalog there and reuses it on the next run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.catalog import Corpus, query_mix  # noqa: E402
from pipeline.api.keys import open_keys  # noqa: E402
from pipeline.catalog.sqlite import SqliteCatalog  # noqa: E402
from tests.conftest import free_port, stop_group  # noqa: E402


def populate(home: Path, docs: int) -> tuple[list[dict], str]:
    """The catalog under `home` with `docs` documents (kept if already there); (search parameters, a read key)."""
    corpus = Corpus(7)
    path = home / "catalog.sqlite"
    fresh = not path.exists()
    catalog = SqliteCatalog(path)
    for manifest, _ in corpus.dossiers(docs):  # also fills the corpus's names and numbers for the queries
        if fresh:
            catalog.index_dossier(manifest)
    catalog.close()
    params = [{"q": q.text, **({"type": q.type} if q.type else {})} for q in query_mix(corpus, 400)]
    with open_keys(home) as keys:
        _, key = keys.create("read", "bench")
    return params, key


def group_cpu_s(pgid: int) -> float:
    """CPU seconds (user + system) used so far by the live processes of process group `pgid`."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as f:
                fields = f.read().rpartition(")")[2].split()
        except OSError:  # gone meanwhile
            continue
        if int(fields[2]) == pgid:  # fields after the name: state, ppid, pgrp, ... utime (12), stime (13)
            total += int(fields[11]) + int(fields[12])
    return total / tick


def start_api(home: Path, workers: int) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "SOHOA_HOME": str(home)}
    proc = subprocess.Popen([sys.executable, "-m", "flows.cli", "api", "--port", str(port), "--workers", str(workers),
                             "--no-worker"], cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/v1/health", timeout=2).status_code == 200:
                time.sleep(2 * workers)  # every worker up, not only the first
                return proc, url
        except httpx.TransportError:
            time.sleep(0.3)
    stop_group(proc)
    raise RuntimeError("sohoa api did not start")


async def _connection(host: str, port: int, key: str, params: list[dict], counter: list[int], requests: int,
                      latencies: list[float], errors: list[int]) -> None:
    """One keep-alive connection sending searches one after the other until `requests` were sent."""
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while counter[0] < requests:
            p = params[counter[0] % len(params)]
            counter[0] += 1
            head = (f"GET /v1/documents?{urlencode(p)} HTTP/1.1\r\nHost: {host}\r\n"
                    f"Authorization: Bearer {key}\r\n\r\n").encode()
            t0 = time.perf_counter()
            writer.write(head)
            status = await reader.readline()
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            await reader.readexactly(length)
            latencies.append((time.perf_counter() - t0) * 1000)
            if not status.startswith(b"HTTP/1.1 200"):
                errors[0] += 1
    finally:
        writer.close()


async def load(url: str, key: str, params: list[dict], concurrency: int, requests: int) -> dict:
    """`requests` searches from `concurrency` connections; latencies (ms), wall time, errors."""
    parts = urlsplit(url)
    latencies: list[float] = []
    errors = [0]
    counter = [0]
    start = time.perf_counter()
    await asyncio.gather(*(_connection(parts.hostname, parts.port, key, params, counter, requests, latencies, errors)
                           for _ in range(concurrency)))
    wall = time.perf_counter() - start
    latencies.sort()

    def q(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))]

    return {"rps": len(latencies) / wall, "p50": statistics.median(latencies), "p95": q(0.95), "p99": q(0.99),
            "max": latencies[-1], "errors": errors[0], "n": len(latencies)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--docs", type=int, default=20000)
    ap.add_argument("--workers", default="1,2", help="API worker processes to try, comma-separated")
    ap.add_argument("--concurrency", default="10,50,200")
    ap.add_argument("--requests", type=int, default=1500, help="searches per concurrency level")
    ap.add_argument("--home", type=Path, help="keep the populated data home here (reused when present)")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="sohoa-api-load-") as tmp:
        home = args.home or Path(tmp)
        t0 = time.perf_counter()
        params, key = populate(home, args.docs)
        print(f"{args.docs} documents indexed in {time.perf_counter() - t0:.0f} s; {os.cpu_count()} cores",
              file=sys.stderr)
        rows = []
        for workers in (int(w) for w in args.workers.split(",")):
            proc, url = start_api(home, workers)
            try:
                asyncio.run(load(url, key, params, 10, 200))  # warm-up
                for c in (int(c) for c in args.concurrency.split(",")):
                    server0, client0 = group_cpu_s(proc.pid), time.process_time()
                    r = asyncio.run(load(url, key, params, c, args.requests))
                    r["server_ms"] = (group_cpu_s(proc.pid) - server0) * 1000 / r["n"]
                    r["client_ms"] = (time.process_time() - client0) * 1000 / r["n"]
                    r["load"] = os.getloadavg()[0]
                    rows.append((workers, c, r))
                    print(f"  workers {workers} concurrency {c}: done", file=sys.stderr)
            finally:
                stop_group(proc)
    print("| workers | concurrent | requests | req/s | p50 ms | p95 ms | p99 ms | max ms | errors "
          "| server CPU ms/req | client CPU ms/req | load 1 min |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for workers, c, r in rows:
        print(f"| {workers} | {c} | {r['n']} | {r['rps']:.0f} | {r['p50']:.0f} | {r['p95']:.0f} | {r['p99']:.0f} "
              f"| {r['max']:.0f} | {r['errors']} | {r['server_ms']:.1f} | {r['client_ms']:.1f} | {r['load']:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
