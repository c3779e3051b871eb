"""Local-folder object store: `root/<bucket>/<key>`, so a clerk can open the PDFs in a file browser.

Layout:
    root/<bucket>/<key>          the object's bytes, exactly as put
    root/.meta/<bucket>/<key>    JSON sidecar: sha256, size, content type, metadata

Sidecars live in a separate tree so the bucket folder holds only real objects and `list()` needs
no filtering beyond in-flight temp files (named `.sohoa-tmp-…`, a prefix `validate_key` reserves).
Writes go to a temp file in the destination folder, are fsynced, then `os.replace`d into place, so
a reader sees the old or the new object, never a partial one. The sidecar records the inode, size
and mtime of the data file it describes; if they do not match (a crash or a concurrent writer
between the two renames) `stat()` recomputes the sha256 instead of reporting a stale one.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import logging
import os
import secrets
import shutil
import stat as stat_mod
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from pipeline.retrying import RetryPolicy
from pipeline.store import keys as key_rules
from pipeline.store.base import ObjectInfo, ObjectNotFound, ObjectStore, sha256_stream

_CHUNK = 1 << 20
_TMP = key_rules.RESERVED_PREFIX + "tmp-"
_MAX_NAME_BYTES = 255  # file-name limit of common file systems (ext4, XFS, APFS, NTFS)
_META_DIR = ".meta"  # cannot clash with a bucket: bucket names start with a letter or digit


def _fsync_dir(path: Path) -> None:
    """Make a rename durable; not possible on every OS, so best effort."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _open_temp(folder: Path) -> tuple[int, Path]:
    """Create an exclusive temp file in `folder`; mode 0666 & ~umask like any other new file."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    while True:
        tmp = folder / f"{_TMP}{secrets.token_hex(8)}"
        try:
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:  # pragma: no cover - 64 random bits
            continue


_PRUNE_RACE = RetryPolicy(attempts=3, first_delay_s=0, max_delay_s=0)
"""A concurrent delete may prune the folder a write has just made: make it again, at once."""


def _pruned(exc: BaseException) -> bool:
    return isinstance(exc, FileNotFoundError)



class LocalStore(ObjectStore):
    """Objects as plain files under `root/<bucket>/`; see the module docstring for the layout."""

    backend = "local"

    def __init__(self, root: str | Path, bucket: str):
        self.bucket = key_rules.validate_bucket(bucket)
        self.root = Path(root).expanduser().resolve()
        self._data = self.root / self.bucket
        self._meta = self.root / _META_DIR / self.bucket

    # -- paths -------------------------------------------------------------------------------

    def _path(self, key: str) -> Path:
        key_rules.validate_key(key)
        segments = key.split("/")
        if any(len(s.encode("utf-8")) > _MAX_NAME_BYTES for s in segments):
            raise key_rules.InvalidKey(
                f"object key {key!r}: a local folder cannot hold a path segment longer than "
                f"{_MAX_NAME_BYTES} bytes"
            )
        return self._data.joinpath(*segments)

    def _meta_path(self, key: str) -> Path:
        return self._meta.joinpath(*key.split("/"))

    def _check_inside(self, path: Path, base: Path) -> None:
        """Refuse a key whose folder is reached through a symlink pointing out of the bucket."""
        real_base = os.path.realpath(base)
        real = os.path.realpath(path.parent)
        if real != real_base and not real.startswith(real_base + os.sep):
            raise key_rules.InvalidKey(f"{path}: resolves outside the store through a symbolic link")

    @staticmethod
    def _temp_beside(key: str, path: Path, make_parent: Callable[[str, Path], None]) -> tuple[int, Path]:
        """A new temp file in `path`'s folder, made first (again if a concurrent delete pruned it)."""
        def attempt() -> tuple[int, Path]:
            make_parent(key, path)
            return _open_temp(path.parent)

        return _PRUNE_RACE.call(attempt, what=f"local store: temp file for {key}", retry_on=_pruned,
                                level=logging.DEBUG)

    def _make_data_parent(self, key: str, path: Path) -> None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError) as exc:
            raise key_rules.InvalidKey(
                f"object key {key!r}: a parent of it is already stored as an object; a local folder "
                "cannot hold both 'a' and 'a/b'"
            ) from exc
        self._check_inside(path, self._data)
        if path.is_dir():
            raise key_rules.InvalidKey(
                f"object key {key!r}: other objects are stored under '{key}/'; a local folder cannot "
                "hold both 'a' and 'a/b'"
            )

    def _make_meta_parent(self, key: str, path: Path) -> None:
        """Sidecar folders mirror data folders; a file in the way is a stale sidecar, so drop it."""
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError):
            current = self._meta
            for segment in key.split("/")[:-1]:
                current = current / segment
                if current.exists() and not current.is_dir():
                    current.unlink()
            path.parent.mkdir(parents=True, exist_ok=True)
        if path.is_dir():
            shutil.rmtree(path)

    def _prune(self, folder: Path, base: Path) -> None:
        """Remove folders left empty by a delete, up to the bucket folder."""
        while folder != base and base in folder.parents:
            try:
                folder.rmdir()
            except OSError:
                return
            folder = folder.parent

    # -- writes ------------------------------------------------------------------------------

    def put_file(self, key: str, path: str | Path, content_type: str | None = None,
                 metadata: Mapping[str, str] | None = None) -> ObjectInfo:
        key_rules.validate_key(key)
        with open(path, "rb") as src:
            return self._put(key, src, content_type, metadata)

    def put_bytes(self, key: str, data: bytes, content_type: str | None = None,
                  metadata: Mapping[str, str] | None = None) -> ObjectInfo:
        if not isinstance(data, bytes | bytearray | memoryview):
            raise TypeError(f"put_bytes needs bytes, not {type(data).__name__}")
        return self._put(key, io.BytesIO(data), content_type, metadata)

    def _put(
        self, key: str, src: BinaryIO, content_type: str | None, metadata: Mapping[str, str] | None
    ) -> ObjectInfo:
        path = self._path(key)
        meta = key_rules.validate_metadata(metadata)
        ctype = key_rules.guess_content_type(key, content_type)
        meta_path = self._meta_path(key)
        tmp: Path | None = None
        meta_tmp: Path | None = None
        try:
            fd, tmp = self._temp_beside(key, path, self._make_data_parent)
            digest = hashlib.sha256()
            size = 0
            with os.fdopen(fd, "wb") as out:
                while chunk := src.read(_CHUNK):
                    digest.update(chunk)
                    out.write(chunk)
                    size += len(chunk)
                out.flush()
                os.fsync(out.fileno())
                st = os.fstat(out.fileno())
            sha = digest.hexdigest()
            record = {
                "sha256": sha,
                "size": size,
                "content_type": ctype,
                "metadata": meta,
                "ino": st.st_ino,
                "mtime_ns": st.st_mtime_ns,
            }
            mfd, meta_tmp = self._temp_beside(key, meta_path, self._make_meta_parent)
            with os.fdopen(mfd, "wb") as out:
                out.write(json.dumps(record, ensure_ascii=False).encode("utf-8"))
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, path)
            tmp = None
            os.replace(meta_tmp, meta_path)
            meta_tmp = None
        finally:
            for leftover in (tmp, meta_tmp):
                if leftover is not None:
                    with contextlib.suppress(OSError):
                        leftover.unlink()
        _fsync_dir(path.parent)
        _fsync_dir(meta_path.parent)
        modified = datetime.fromtimestamp(st.st_mtime_ns / 1e9, UTC)
        return ObjectInfo(key, size, sha, ctype, dict(meta), modified)

    def delete(self, key: str) -> None:
        path = self._path(key)
        meta_path = self._meta_path(key)
        # Sidecar first: a crash in between leaves data without a sidecar, which stat() handles.
        with contextlib.suppress(FileNotFoundError, NotADirectoryError, IsADirectoryError):
            meta_path.unlink()
        self._prune(meta_path.parent, self._meta)
        if path.is_dir():
            return
        self._check_inside(path, self._data)
        with contextlib.suppress(FileNotFoundError, NotADirectoryError):
            path.unlink()
        self._prune(path.parent, self._data)

    # -- reads -------------------------------------------------------------------------------

    def open(self, key: str) -> BinaryIO:
        path = self._path(key)
        try:
            if not stat_mod.S_ISREG(os.stat(path).st_mode):
                raise ObjectNotFound(f"{self.bucket}/{key}: no such object")
            self._check_inside(path, self._data)
            return open(path, "rb")  # noqa: SIM115 - the caller owns the stream
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError) as exc:
            raise ObjectNotFound(f"{self.bucket}/{key}: no such object") from exc

    def get_bytes(self, key: str) -> bytes:
        with self.open(key) as stream:
            return stream.read()

    def download(self, key: str, dest_path: str | Path) -> Path:
        dest = Path(dest_path)
        with self.open(key) as src:
            dest.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = _open_temp(dest.parent)
            try:
                with os.fdopen(fd, "wb") as out:
                    shutil.copyfileobj(src, out, _CHUNK)
                    out.flush()
                    os.fsync(out.fileno())
                os.replace(tmp, dest)
            except BaseException:
                with contextlib.suppress(OSError):
                    tmp.unlink()
                raise
        return dest

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def stat(self, key: str) -> ObjectInfo:
        path = self._path(key)
        for _ in range(3):
            try:
                st = os.stat(path)
            except (FileNotFoundError, NotADirectoryError) as exc:
                raise ObjectNotFound(f"{self.bucket}/{key}: no such object") from exc
            if not stat_mod.S_ISREG(st.st_mode):
                raise ObjectNotFound(f"{self.bucket}/{key}: no such object")
            record = self._read_sidecar(key)
            if (
                record is not None
                and record.get("ino") == st.st_ino
                and record.get("size") == st.st_size
                and record.get("mtime_ns") == st.st_mtime_ns
            ):
                return ObjectInfo(
                    key=key,
                    size=st.st_size,
                    sha256=record["sha256"],
                    content_type=record.get("content_type") or key_rules.guess_content_type(key, None),
                    metadata=dict(record.get("metadata") or {}),
                    modified=datetime.fromtimestamp(st.st_mtime_ns / 1e9, UTC),
                )
            time.sleep(0.01)  # a writer may be between its two renames
        # No trustworthy sidecar (file copied in by hand, crash mid-write): describe the bytes.
        with self.open(key) as stream:
            st = os.fstat(stream.fileno())
            sha, size = sha256_stream(stream, _CHUNK)
        return ObjectInfo(
            key=key,
            size=size,
            sha256=sha,
            content_type=key_rules.guess_content_type(key, None),
            metadata={},
            modified=datetime.fromtimestamp(st.st_mtime_ns / 1e9, UTC),
        )

    def _read_sidecar(self, key: str) -> dict | None:
        try:
            record = json.loads(self._meta_path(key).read_bytes().decode("utf-8"))
        except (OSError, ValueError):
            return None
        return record if isinstance(record, dict) and isinstance(record.get("sha256"), str) else None

    def list(self, prefix: str = "") -> Iterator[str]:
        key_rules.validate_prefix(prefix)
        folder, _, _ = prefix.rpartition("/")
        start = self._data.joinpath(*folder.split("/")) if folder else self._data
        keys: list[str] = []
        if start.is_dir():
            self._scan(start, folder, prefix, keys)
        keys.sort(key=lambda k: k.encode("utf-8"))
        return iter(keys)

    def _scan(self, folder: Path, key_dir: str, prefix: str, out: list[str]) -> None:
        try:
            entries = list(os.scandir(folder))
        except (FileNotFoundError, NotADirectoryError):
            return  # deleted while we listed
        for entry in entries:
            if entry.name.startswith(key_rules.RESERVED_PREFIX):
                continue  # in-flight temp file
            key = f"{key_dir}/{entry.name}" if key_dir else entry.name
            if entry.is_dir(follow_symlinks=False):
                sub = key + "/"
                if sub.startswith(prefix) or prefix.startswith(sub):
                    self._scan(Path(entry.path), key, prefix, out)
            elif entry.is_file(follow_symlinks=False) and key.startswith(prefix):
                out.append(key)

    def uri(self, key: str) -> str:
        return self._path(key).as_uri()
