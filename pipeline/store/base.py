"""Object store interface shared by every backend (local folder now, S3/MinIO later).

The pipeline only ever talks to `ObjectStore`, so switching `store:` in the settings changes where
PDFs land without touching any stage. The key rules every backend applies are in `keys.py`.
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import BinaryIO


class ObjectNotFound(KeyError):
    """No object under that key."""

    def __str__(self) -> str:  # KeyError's repr-style message is unreadable for clerks
        return str(self.args[0]) if self.args else "object not found"


@dataclass(frozen=True)
class ObjectInfo:
    """What the store knows about one object; `sha256` is of the stored bytes."""

    key: str
    size: int
    sha256: str
    content_type: str
    metadata: Mapping[str, str] = field(default_factory=dict, hash=False)
    modified: datetime | None = None


def sha256_stream(stream: BinaryIO, chunk: int = 1 << 20) -> tuple[str, int]:
    """(SHA-256 hex digest, size) of what is left to read in `stream`."""
    digest = hashlib.sha256()
    size = 0
    while block := stream.read(chunk):
        digest.update(block)
        size += len(block)
    return digest.hexdigest(), size


class ObjectStore(ABC):
    """Where finished PDFs and manifests live. Writes are atomic: readers see old or new, never half."""

    backend: str
    bucket: str

    @abstractmethod
    def put_file(self, key: str, path: str | Path, content_type: str | None = None,
                 metadata: Mapping[str, str] | None = None) -> ObjectInfo:
        """Store the file at `path` under `key`, replacing any object there."""

    @abstractmethod
    def put_bytes(self, key: str, data: bytes, content_type: str | None = None,
                  metadata: Mapping[str, str] | None = None) -> ObjectInfo:
        """Store `data` under `key`, replacing any object there."""

    @abstractmethod
    def get_bytes(self, key: str) -> bytes:
        """The whole object; raises `ObjectNotFound`."""

    @abstractmethod
    def open(self, key: str) -> BinaryIO:
        """A binary stream over the object, for large files; the caller closes it."""

    @abstractmethod
    def download(self, key: str, dest_path: str | Path) -> Path:
        """Copy the object to `dest_path` (written atomically); returns the path."""

    @abstractmethod
    def exists(self, key: str) -> bool:
        """True if an object is stored under `key`."""

    @abstractmethod
    def stat(self, key: str) -> ObjectInfo:
        """Size, sha256, content type, metadata and modification time; raises `ObjectNotFound`."""

    @abstractmethod
    def list(self, prefix: str = "") -> Iterator[str]:
        """Keys starting with `prefix` (a plain string prefix, as in S3), in UTF-8 byte order."""

    @abstractmethod
    def delete(self, key: str) -> None:
        """Remove the object; a missing key is not an error (as in S3), so cleanup can be retried."""

    @abstractmethod
    def uri(self, key: str) -> str:
        """A URI another program can open the object with (`file://…`, `s3://…`)."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} backend={self.backend} bucket={self.bucket}>"
