"""`sohoa api` (serve the HTTP API) and `sohoa apikey create|list|revoke` (its keys). docs/api.md.

Wired into flows/cli.py by `add_parsers(subparsers, common)`; each command returns an exit code
(0 ok, 1 failed, 2 usage error), as the other `sohoa` commands do.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import sys

from flows.options import settings_of

DEFAULT_MAX_UPLOAD_MB = 512


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def cmd_api(args: argparse.Namespace) -> int:
    from pipeline.api.serve import default_workers, serve

    settings = settings_of(args)
    max_mb = args.max_upload_mb
    if max_mb is None:
        try:
            max_mb = float(os.environ.get("SOHOA_API_MAX_UPLOAD_MB") or DEFAULT_MAX_UPLOAD_MB)
        except ValueError:
            max_mb = -1
    workers = args.workers if args.workers is not None else default_workers()
    if max_mb <= 0 or workers < 1 or not 1 <= args.presign_s <= 7 * 24 * 3600 or not 0 < args.port < 65536:
        print("sohoa api: --max-upload-mb (SOHOA_API_MAX_UPLOAD_MB) must be > 0, --workers >= 1, --presign-s 1..604800, --port 1..65535", file=sys.stderr)
        return 2
    if not _is_loopback(args.host):
        print(f"sohoa api: listening on {args.host}, not loopback: put it behind a TLS proxy "
              "(nginx, docs/api.md); API keys must never travel over plain HTTP", file=sys.stderr)
    print(f"sohoa api on http://{args.host}:{args.port}/v1 (docs: /docs), {workers} worker process(es), "
          f"data home {settings.home.resolve()}", file=sys.stderr)
    serve(settings, workers=workers, max_upload_bytes=int(max_mb * 1024 * 1024), presign_s=args.presign_s,
          worker=not args.no_worker, host=args.host, port=args.port,
          log_level="info" if args.verbose else "warning", proxy_headers=True,
          forwarded_allow_ips=args.forwarded_allow_ips, server_header=False, access_log=args.verbose,
          root_path=args.root_path)
    return 0


def cmd_apikey_create(args: argparse.Namespace) -> int:
    from pipeline.api.keys import open_keys

    settings = settings_of(args)
    with open_keys(settings.home) as keys:
        try:
            record, key = keys.create(args.scope, args.name or "")
        except ValueError as exc:
            print(f"sohoa apikey: {exc}", file=sys.stderr)
            return 2
    if args.json:
        print(json.dumps({**record.to_dict(), "key": key}, ensure_ascii=False))
    else:
        print(key)
        print(f"key {record.id} ({record.scope}{', ' + record.name if record.name else ''}) created; it is shown "
              "only now: store it in the client's secret store", file=sys.stderr)
    return 0


def cmd_apikey_list(args: argparse.Namespace) -> int:
    from pipeline.api.keys import open_keys

    settings = settings_of(args)
    with open_keys(settings.home) as keys:
        records = keys.list()
    if args.json:
        for r in records:
            print(json.dumps(r.to_dict(), ensure_ascii=False))
        return 0
    if not records:
        print("no API keys; create one with `sohoa apikey create --scope read`", file=sys.stderr)
        return 0
    print(f"{'ID':12} {'SCOPE':6} {'STATE':8} {'CREATED':25} {'LAST USED':25} NAME")
    for r in records:
        state = "active" if r.active else "revoked"
        print(f"{r.id:12} {r.scope:6} {state:8} {r.created_at:25} {r.last_used_at or '-':25} {r.name}")
    return 0


def cmd_apikey_revoke(args: argparse.Namespace) -> int:
    from pipeline.api.keys import open_keys

    settings = settings_of(args)
    with open_keys(settings.home) as keys:
        known = keys.get(args.id)
        if known is None:
            print(f"sohoa apikey: no key {args.id}", file=sys.stderr)
            return 1
        if not keys.revoke(args.id):
            print(f"key {args.id} was already revoked", file=sys.stderr)
            return 0
    print(f"key {args.id} revoked", file=sys.stderr)
    return 0


def add_parsers(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Add `api` and `apikey` to the `sohoa` command line."""
    a = subparsers.add_parser("api", parents=[common], help="serve the HTTP API (search, PDFs, uploads)")
    a.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1; "
                                                       "put a TLS proxy in front for anything else)")
    a.add_argument("--port", type=int, default=8080)
    a.add_argument("--workers", type=int, default=None,
                   help="worker processes (default: one per core); one of them digitises the uploads")
    a.add_argument("--max-upload-mb", type=float, default=None,
                   help=f"largest upload accepted (default {DEFAULT_MAX_UPLOAD_MB}, or SOHOA_API_MAX_UPLOAD_MB)")
    a.add_argument("--presign-s", type=int, default=300,
                   help="life of the presigned URLs PDFs are redirected to with an S3 store (seconds)")
    a.add_argument("--forwarded-allow-ips", default="127.0.0.1",
                   help="proxies trusted for X-Forwarded-For/-Proto (default: the local nginx)")
    a.add_argument("--root-path", default="",
                   help="URL prefix the proxy serves the API under, e.g. /sohoa (default: none)")
    a.add_argument("--no-worker", action="store_true",
                   help="accept uploads but do not digitise them in this process")
    a.set_defaults(func=cmd_api)

    k = subparsers.add_parser("apikey", help="create, list and revoke API keys")
    ksub = k.add_subparsers(dest="apikey_command", required=True)
    c = ksub.add_parser("create", parents=[common], help="create a key and print it (once)")
    c.add_argument("--scope", choices=["read", "write"], required=True,
                   help="read: search and fetch; write: also upload")
    c.add_argument("--name", help="who or what uses it, e.g. 'one-stop portal'")
    c.add_argument("--json", action="store_true", help="print the record and key as one JSON object")
    c.set_defaults(func=cmd_apikey_create)
    ls = ksub.add_parser("list", parents=[common], help="list keys (never their secrets)")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=cmd_apikey_list)
    r = ksub.add_parser("revoke", parents=[common], help="revoke a key by its id")
    r.add_argument("id", help="the key's id (the part after 'sohoa_')")
    r.set_defaults(func=cmd_apikey_revoke)
