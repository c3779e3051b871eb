"""`sohoa api` / `sohoa web` (one server: the HTTP API under /v1 and the staff's web application under
/web), `sohoa apikey create|list|revoke` (API keys, docs/api.md) and `sohoa user create|list|set`
(staff accounts of the web application, docs/web.md).

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
    from pipeline.web import create_site

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
    base = f"http://{args.host}:{args.port}{args.root_path.rstrip('/')}"
    print(f"sohoa on {base}/web/ (staff web application) and {base}/v1 (API, docs: /docs), "
          f"{workers} worker process(es), data home {settings.home.resolve()}", file=sys.stderr)
    serve(settings, workers=workers, max_upload_bytes=int(max_mb * 1024 * 1024), presign_s=args.presign_s,
          worker=not args.no_worker, host=args.host, port=args.port,
          log_level="info" if args.verbose else "warning", proxy_headers=True,
          forwarded_allow_ips=args.forwarded_allow_ips, server_header=False, access_log=args.verbose,
          root_path=args.root_path, build=create_site, factory="pipeline.web:site_from_env")
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


def cmd_user_create(args: argparse.Namespace) -> int:
    from pipeline.catalog import open_catalog
    from pipeline.web.passwords import check_strength, hash_password, new_password

    settings = settings_of(args)
    name = args.name.strip().lower()
    from pipeline.web.auth_pages import NAME

    if not NAME.match(name):
        print("sohoa user: a name is 2-40 lower-case letters, digits, '.', '_' or '-'", file=sys.stderr)
        return 2
    password = sys.stdin.readline().rstrip("\n") if args.password_stdin else new_password()
    problem = check_strength(password)
    if problem:
        print(f"sohoa user: the password is too weak (at least 10 characters): {problem}", file=sys.stderr)
        return 2
    with open_catalog(settings) as catalog:
        try:
            catalog.add_user(name, args.role, hash_password(password))
        except ValueError as exc:
            print(f"sohoa user: {exc}", file=sys.stderr)
            return 1
        catalog.add_audit(os.environ.get("USER") or "cli", "user-create", detail={"name": name, "role": args.role})
    if args.json:
        print(json.dumps({"name": name, "role": args.role, **({} if args.password_stdin else {"password": password})},
                         ensure_ascii=False))
    elif not args.password_stdin:
        print(password)
        print(f"user {name} ({args.role}) created; the password above is shown only now: hand it over and ask "
              "for a change of it", file=sys.stderr)
    else:
        print(f"user {name} ({args.role}) created", file=sys.stderr)
    return 0


def cmd_user_list(args: argparse.Namespace) -> int:
    from pipeline.catalog import open_catalog

    with open_catalog(settings_of(args)) as catalog:
        users = catalog.users()
    for u in users:
        if args.json:
            print(json.dumps({k: v for k, v in u.items() if k != "password_hash"}, ensure_ascii=False))
        else:
            print(f"{u['name']:24} {u['role']:9} {'active' if u['active'] else 'locked':7} {u['last_login_at'] or '-'}")
    if not users and not args.json:
        print("no users; create one with `sohoa user create NAME --role admin`", file=sys.stderr)
    return 0


def cmd_user_set(args: argparse.Namespace) -> int:
    from pipeline.catalog import open_catalog
    from pipeline.web.passwords import check_strength, hash_password, new_password

    password = None
    if args.new_password:
        password = sys.stdin.readline().rstrip("\n") if args.password_stdin else new_password()
        problem = check_strength(password)
        if problem:
            print(f"sohoa user: the password is too weak (at least 10 characters): {problem}", file=sys.stderr)
            return 2
    active = {"lock": False, "unlock": True}.get(args.state or "")
    with open_catalog(settings_of(args)) as catalog:
        try:
            found = catalog.update_user(args.name, role=args.role, active=active,
                                        password_hash=hash_password(password) if password else None)
        except ValueError as exc:
            print(f"sohoa user: {exc}", file=sys.stderr)
            return 2
        if not found:
            print(f"sohoa user: no user {args.name}", file=sys.stderr)
            return 1
        catalog.add_audit(os.environ.get("USER") or "cli", "user-change",
                          detail={"name": args.name, "role": args.role, "active": active,
                                  "password": bool(password)})
    if password and not args.password_stdin:
        print(password)
    print(f"user {args.name} updated (their sessions end when the password changes or the account is locked)",
          file=sys.stderr)
    return 0


def _server_options(a: argparse.ArgumentParser) -> None:
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


def add_parsers(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Add `api`, `web`, `apikey` and `user` to the `sohoa` command line."""
    _server_options(subparsers.add_parser("api", parents=[common], help="serve the HTTP API and the web application"))
    _server_options(subparsers.add_parser("web", parents=[common],
                                          help="serve the staff's web application (the same server as `api`)"))

    u = subparsers.add_parser("user", help="staff accounts of the web application")
    usub = u.add_subparsers(dest="user_command", required=True)
    uc = usub.add_parser("create", parents=[common], help="create an account; prints a random first password")
    uc.add_argument("name", help="log-in name: 2-40 lower-case letters, digits, '.', '_' or '-'")
    uc.add_argument("--role", choices=["viewer", "reviewer", "admin"], required=True,
                    help="viewer: search and read; reviewer: also correct, upload, retry; admin: also accounts")
    uc.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    uc.add_argument("--json", action="store_true")
    uc.set_defaults(func=cmd_user_create)
    ul = usub.add_parser("list", parents=[common], help="list accounts")
    ul.add_argument("--json", action="store_true")
    ul.set_defaults(func=cmd_user_list)
    us = usub.add_parser("set", parents=[common], help="change an account's role, lock it, or reset its password")
    us.add_argument("name")
    us.add_argument("--role", choices=["viewer", "reviewer", "admin"])
    us.add_argument("--state", choices=["lock", "unlock"])
    us.add_argument("--new-password", action="store_true", help="a new random password (printed), or --password-stdin")
    us.add_argument("--password-stdin", action="store_true")
    us.set_defaults(func=cmd_user_set)

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
