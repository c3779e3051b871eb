"""Cost of an S3 backlog or inbox before any OCR: listing and grouping, and fetching one dossier.

    python bench/s3_source.py [--dossiers 1000 5000] [--pages 4]

Starts a nanio S3 server on loopback (tests/s3server.py), puts `--dossiers` folders of `--pages`
small page objects (plus as many single-file dossiers) under a prefix, then times `backlog_urls`
(one recursive listing + grouping), `inbox_items` on the same prefix (one level + one listing per
folder) and `fetched` of one folder dossier (listing + downloads + clean-up). Uploading is not timed.
Prints one table; times are from one run on this machine.
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pipeline.ingest.s3source import S3Url, backlog_urls, fetched, inbox_items, open_bucket  # noqa: E402
from pipeline.settings import Settings  # noqa: E402
from tests import s3server  # noqa: E402

PAGE = b"\xff\xd8" + b"x" * 2048  # the bytes do not matter: nothing is decoded


def fill(srv: s3server.S3Server, bucket: str, dossiers: int, pages: int) -> None:
    client = srv.client()
    client.make_bucket(bucket_name=bucket)
    for d in range(dossiers):
        for p in range(1, pages + 1):
            client.put_object(bucket_name=bucket, object_name=f"scans/hs_{d:05d}/{p}.jpg", data=io.BytesIO(PAGE),
                              length=len(PAGE))
        # not hs_N.pdf beside hs_N/: nanio 0.1.7 then lists out of S3 order and a page boundary drops a key
        client.put_object(bucket_name=bucket, object_name=f"scans/hs_{d:05d}_don.pdf", data=io.BytesIO(PAGE),
                          length=len(PAGE))
        client.put_object(bucket_name=bucket, object_name=f"scans/hs_{d:05d}/.ready", data=io.BytesIO(b""), length=0)


def timed(fn) -> tuple[float, object]:
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dossiers", type=int, nargs="+", default=[1000])
    ap.add_argument("--pages", type=int, default=4)
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        srv = s3server.S3Server("nanio", Path(tmp) / "s3").start()
        try:
            settings = Settings(home=Path(tmp) / "home", s3={
                "endpoint": srv.endpoint, "access_key": s3server.ACCESS_KEY, "secret_key": s3server.SECRET_KEY,
                "region": s3server.REGION})
            for n in args.dossiers:
                bucket = f"bench-{n}"
                fill(srv, bucket, n, args.pages)
                objects = n * (args.pages + 2)
                t_backlog, urls = timed(lambda b=bucket: backlog_urls(settings, f"s3://{b}/scans/"))
                store = open_bucket(settings, S3Url(bucket))
                t_inbox, items = timed(lambda s=store, b=bucket: inbox_items(s, S3Url(b, "scans/"), quiet_s=0))

                def fetch_one(b=bucket) -> int:
                    with fetched(f"s3://{b}/scans/hs_00000/", settings) as local:
                        return len(list(local.iterdir()))

                t_fetch, got = timed(fetch_one)
                assert (len(urls), len(items), got) == (2 * n, 2 * n, args.pages), (len(urls), len(items), got)
                rows.append((n * 2, objects, t_backlog, t_inbox, t_fetch))
        finally:
            srv.stop()
    print(f"| dossiers | objects | backlog listing+grouping s | inbox scan s | fetch one {args.pages}-page folder s |")
    print("|---|---|---|---|---|")
    for dossiers, objects, tb, ti, tf in rows:
        print(f"| {dossiers} | {objects} | {tb:.2f} | {ti:.2f} | {tf:.3f} |")


if __name__ == "__main__":
    main()
