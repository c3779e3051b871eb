"""S3 prefixes as backlog sources and as the nightly inbox (`s3://bucket/prefix`).

The grouping is pure and follows the folder rules of `pipeline.ingest.backlog`: an object directly under the
prefix is one dossier, a "folder" holding only page images is one dossier (pages in natural order),
other folders are walked into; the inbox takes objects unchanged for `run.quiet_s` and folders with a
`.ready` object. The edges do the I/O through `S3Store` (its retries and `StoreUnavailable`):

* a dossier is downloaded into the work area only when its turn comes, under the name it has on S3
  (so its dossier id and source SHA-256 are those of the same file or folder on disk), each object
  checked against the ETag and size its listing gave, and removed afterwards;
* an inbox source is moved (copy, then delete) to `processed/` or `quarantine/` under the inbox
  prefix through a journal object written first, so a run killed half-way is finished by the next.
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from pipeline.errors import InputError
from pipeline.ingest.backlog import DOSSIER_SUFFIXES, READY_MARKER, visible_name
from pipeline.ingest.inputs import IMAGE_SUFFIXES, SIDECAR_NAMES, natural_key
from pipeline.manifest import Manifest
from pipeline.settings import Settings
from pipeline.store.keys import InvalidKey, validate_bucket, validate_prefix

if TYPE_CHECKING:  # minio costs ~0.3 s of start-up: imported when a bucket is opened, not by a local run
    from pipeline.store.s3 import Listed, S3Store

log = logging.getLogger(__name__)

SCHEME = "s3://"
INBOX_SKIP = ("processed", "quarantine")
JOURNAL = ".settling/"  # under the inbox prefix: moves begun and not yet finished


@dataclass(frozen=True)
class S3Url:
    """`s3://bucket/key` or `s3://host:port/bucket/key`; a key ending in '/' (or empty) is a prefix."""

    bucket: str
    key: str = ""
    endpoint: str | None = None

    def __str__(self) -> str:
        host = f"{self.endpoint}/" if self.endpoint else ""
        return f"{SCHEME}{host}{self.bucket}/{self.key}"

    def at(self, key: str) -> S3Url:
        return replace(self, key=key)

    @property
    def is_prefix(self) -> bool:
        return self.key == "" or self.key.endswith("/")

    @property
    def name(self) -> str:
        return self.key.rstrip("/").rsplit("/", 1)[-1] or self.bucket

    def as_prefix(self) -> S3Url:
        return self if self.is_prefix else self.at(self.key + "/")


def is_s3_url(text: object) -> bool:
    return isinstance(text, str) and text.startswith(SCHEME)


def parse_s3_url(text: str) -> S3Url:
    """Split an `s3://` URL; a host with a port before the bucket names the endpoint.

    Keys are taken as written (no percent-decoding), so Vietnamese names, spaces, '#' and '?' are
    simply part of the key.
    """
    if not is_s3_url(text):
        raise InputError("not an s3:// URL", path=text, hint="Write s3://bucket/prefix")
    netloc, _, key = text[len(SCHEME):].partition("/")
    endpoint = None
    if ":" in netloc:  # bucket names have no ':'; host:port does
        endpoint, (netloc, _, key) = netloc, key.partition("/")
    if "@" in (endpoint or "") or "@" in netloc:
        raise InputError("the URL must not contain credentials", path=SCHEME + "…",
                         hint="Set SOHOA_S3__ACCESS_KEY and SOHOA_S3__SECRET_KEY instead")
    try:
        validate_bucket(netloc)
        validate_prefix(key)
    except InvalidKey as exc:
        raise InputError(str(exc), path=text, hint="Write s3://bucket/prefix") from exc
    return S3Url(netloc, key, endpoint)


# --- pure: grouping listings into dossiers ----------------------------------------------------


def _name(key: str) -> str:
    return key.rstrip("/").rsplit("/", 1)[-1]


def _suffix(name: str) -> str:
    return PurePosixPath(name).suffix.lower()


def _tree(keys: Iterable[str], prefix: str) -> dict:
    """Nested dict of the keys below `prefix`: folders as `name/` → dict, objects as `name` → key."""
    root: dict = {}
    for key in keys:
        *folders, leaf = key[len(prefix):].split("/")
        node = root
        for folder in folders:
            node = node.setdefault(folder + "/", {})
        node[leaf] = key
    return root


def _children(node: dict) -> list[str]:
    return sorted((n for n in node if visible_name(n.rstrip("/"))), key=lambda n: natural_key(n.rstrip("/")))


def _discover(node: dict, here: str) -> Iterator[str]:
    """As `backlog.discover`: a leaf folder of page images is one dossier, else each file is."""
    names = _children(node)
    folders = [n for n in names if n.endswith("/")]
    files = [n for n in names if not n.endswith("/") and _suffix(n) in DOSSIER_SUFFIXES]
    if not folders and files and all(_suffix(f) in IMAGE_SUFFIXES for f in files):
        yield here
        return
    for n in names:
        if n.endswith("/"):
            yield from _discover(node[n], here + n)
        elif _suffix(n) in DOSSIER_SUFFIXES:
            yield here + n


def backlog_keys(keys: Iterable[str], prefix: str) -> list[str]:
    """Dossiers below `prefix` (ending in '/' or empty), as object keys and folder prefixes ('…/'),
    in the order `backlog.backlog_items` gives for the same tree on disk."""
    tree = _tree((k for k in keys if k.startswith(prefix)), prefix)
    items: list[str] = []
    for n in _children(tree):
        if n.endswith("/"):
            items.extend(_discover(tree[n], prefix + n))
        elif _suffix(n) in DOSSIER_SUFFIXES:
            items.append(prefix + n)
    return items


@dataclass(frozen=True)
class InboxItem:
    """One dossier in the inbox: an object key or a folder prefix, and the objects it was taken as."""

    key: str
    objects: tuple[Listed, ...]

    @property
    def is_folder(self) -> bool:
        return self.key.endswith("/")

    @property
    def name(self) -> str:
        return _name(self.key)


def inbox_folders(top: Iterable[Listed]) -> list[str]:
    """The folder prefixes directly in the inbox that may hold a dossier."""
    return [e.key for e in top if e.is_folder and visible_name(_name(e.key)) and _name(e.key) not in INBOX_SKIP]


def inbox_ready(top: Iterable[Listed], folders: dict[str, list[Listed]], quiet_s: float,
                now: datetime) -> list[InboxItem]:
    """Complete items, as `backlog.inbox_ready`: objects unchanged for `quiet_s`, folders with `.ready`.

    `top` is the one-level listing of the inbox prefix, `folders` every object under each folder.
    An object's sidecar (`<name>.dossier.json`) goes with it.
    """
    top = list(top)
    by_key = {e.key: e for e in top if not e.is_folder}
    candidates = set(inbox_folders(top))
    ready: list[InboxItem] = []
    for entry in top:
        name = _name(entry.key)
        if entry.is_folder:
            inside = folders.get(entry.key, [])
            if entry.key in candidates and any(o.key == entry.key + READY_MARKER for o in inside):
                ready.append(InboxItem(entry.key, tuple(inside)))
        elif (visible_name(name) and _suffix(name) in DOSSIER_SUFFIXES and entry.modified is not None
              and (now - entry.modified).total_seconds() >= quiet_s):
            sidecar = by_key.get(entry.key + ".dossier.json")
            ready.append(InboxItem(entry.key, (entry,) + ((sidecar,) if sidecar else ())))
    return sorted(ready, key=lambda item: natural_key(item.name))


def settle_plan(item: InboxItem, prefix: str, done: bool, occupied: bool, stamp: str) -> dict:
    """Where an inbox item's objects go: `processed/` or `quarantine/` under the inbox, names kept
    (stamped when the target is taken, as on disk), the `.ready` marker dropped (deleted first)."""
    name = item.name
    if occupied:
        pure = PurePosixPath(name)
        name = f"{pure.stem}.{stamp}{pure.suffix}"
    target = prefix + ("processed/" if done else "quarantine/") + name
    ready = item.key + READY_MARKER if item.is_folder else None
    base = target + "/" if item.is_folder else target  # a file's sidecar keeps its name beside it
    moves = [(o.key, base + o.key[len(item.key):]) for o in item.objects if o.key != ready]
    return {
        "target": target + ("/" if item.is_folder else ""),
        "moves": moves,
        "delete": ([ready] if ready else []) + [src for src, _dst in moves],
        "error_key": (target + "/error.json" if item.is_folder else target + ".error.json") if not done else None,
    }


# --- I/O: listing, downloading, moving --------------------------------------------------------


def open_bucket(settings: Settings, url: S3Url) -> S3Store:
    """The bucket of `url` with the `SOHOA_S3__*` connection; a missing bucket is an error, not created."""
    from pipeline.store.s3 import S3Store

    store = S3Store.from_settings(settings, bucket=url.bucket, endpoint=url.endpoint)
    if not store.has_bucket():
        raise InputError("no such bucket", path=str(url),
                         hint=f"Check the URL and that SOHOA_S3__ENDPOINT ({store.endpoint}) is the right server")
    return store


def backlog_urls(settings: Settings, source: str) -> list[str]:
    """The dossiers of a backlog on S3, as URLs a worker can fetch (one listing, nothing downloaded)."""
    url = parse_s3_url(source)
    store = open_bucket(settings, url)
    prefix = url.as_prefix().key
    keys = [e.key for e in store.entries(prefix)]
    if not keys and not url.is_prefix and _suffix(url.key) in DOSSIER_SUFFIXES and store.exists(url.key):
        return [str(url)]  # the source is one object
    return [str(url.at(k)) for k in backlog_keys(keys, prefix)]


def _wanted(name: str) -> bool:
    return name in SIDECAR_NAMES or (visible_name(name) and _suffix(name) in DOSSIER_SUFFIXES)


def fetch(store: S3Store, url: S3Url, dest: Path) -> Path:
    """Download one dossier into `dest` under its S3 name; returns the local file or folder."""
    listing = store.entries(url.key, recursive=False)
    if url.is_prefix:  # a folder: its page objects and dossier.json, into a folder of the same name
        folder = dest / url.name
        objects = [e for e in listing if not e.is_folder and _wanted(_name(e.key))]
        if not objects:
            raise InputError("no page images or PDFs under this prefix", path=str(url),
                             hint="Put the scanned pages (JPEG, PNG, TIFF or PDF) under it")
    else:  # one object and its sidecar, if any
        folder = dest
        objects = [e for e in listing if e.key in (url.key, url.key + ".dossier.json")]
        if not any(e.key == url.key for e in objects):
            raise InputError("no such object", path=str(url), hint="It was moved or deleted; check the URL")
    for entry in objects:
        store.download(entry.key, folder / _name(entry.key), etag=entry.etag, size=entry.size)
    return dest / url.name


@contextmanager
def fetched(source: str, settings: Settings) -> Iterator[Path]:
    """The dossier at `source` downloaded into the work area for the time of the `with` block."""
    url = parse_s3_url(source)
    store = open_bucket(settings, url)
    base = settings.home / "work"
    base.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="s3-", dir=base))
    try:
        yield fetch(store, url, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def inbox_items(store: S3Store, inbox: S3Url, quiet_s: float, now: datetime | None = None) -> list[InboxItem]:
    """What is ready in an S3 inbox: one listing of its top level, one per folder in it."""
    prefix = inbox.as_prefix().key
    top = list(store.entries(prefix, recursive=False))
    folders = {key: list(store.entries(key)) for key in inbox_folders(top)}
    return inbox_ready(top, folders, quiet_s, now or datetime.now(UTC))


def _current(store: S3Store, item: InboxItem) -> set[tuple[str, str]]:
    keys = {o.key for o in item.objects}
    listing = store.entries(item.key, recursive=item.is_folder)
    return {(e.key, e.etag) for e in listing if not e.is_folder and (item.is_folder or e.key in keys)}


def begin_settle(store: S3Store, inbox: S3Url, item: InboxItem, manifest: Manifest) -> str | None:
    """Check the item is as it was taken, plan its move and write the journal; returns the journal key.

    An item changed since it was listed (a page replaced or added) is left in the inbox for the next run.
    """
    prefix = inbox.as_prefix().key
    if _current(store, item) != {(o.key, o.etag) for o in item.objects}:
        log.warning("inbox %s: %s changed while it was digitised; left for the next run", inbox, item.name)
        return None
    done = manifest.status == "done"
    target = prefix + ("processed/" if done else "quarantine/") + item.name
    occupied = any(True for _ in store.entries(target + "/")) if item.is_folder else store.exists(target)
    plan = settle_plan(item, prefix, done, occupied, time.strftime("%Y%m%d-%H%M%S"))
    if not done:
        plan["error"] = {"dossier_id": manifest.dossier_id, "error": manifest.error,
                         "source": str(inbox.at(item.key)), "at": manifest.created_at}
    key = prefix + JOURNAL + item.name + ".json"
    store.put_bytes(key, json.dumps(plan, ensure_ascii=False).encode(), content_type="application/json")
    return key


def complete_settle(store: S3Store, journal_key: str) -> str:
    """Carry out a journal: copy what is still at the source, write error.json, delete the sources,
    then the journal. Safe to repeat after any crash; returns the target."""
    plan = json.loads(store.get_bytes(journal_key))
    for src, dst in plan["moves"]:
        if store.exists(src):
            store.copy(src, dst)
    if plan.get("error_key"):
        body = json.dumps(plan["error"], ensure_ascii=False, indent=2).encode()
        store.put_bytes(plan["error_key"], body, content_type="application/json")
    for key in plan["delete"]:
        store.delete(key)
    store.delete(journal_key)
    return plan["target"]


def settle(store: S3Store, inbox: S3Url, item: InboxItem, manifest: Manifest) -> str | None:
    """Move an ingested item to `processed/` or, with its error.json, to `quarantine/`."""
    journal = begin_settle(store, inbox, item, manifest)
    return complete_settle(store, journal) if journal else None


def finish_settling(store: S3Store, inbox: S3Url) -> int:
    """Complete the moves a killed run left half-done; returns how many."""
    journals = [e.key for e in store.entries(inbox.as_prefix().key + JOURNAL) if e.key.endswith(".json")]
    for key in journals:
        log.warning("inbox %s: finishing the move recorded in %s", inbox, key)
        complete_settle(store, key)
    return len(journals)
