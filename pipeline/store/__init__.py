"""Object stores: where finished PDFs and manifests are kept, chosen by the `store` setting.

`open_store()` is the only place that knows which backends exist; adding S3/MinIO means a new
`pipeline/store/s3.py` implementing `ObjectStore` and one branch here.
"""

from __future__ import annotations

from pipeline.errors import ConfigError
from pipeline.settings import Settings
from pipeline.store.base import (
    InvalidKey,
    ObjectInfo,
    ObjectNotFound,
    ObjectStore,
    validate_key,
)
from pipeline.store.local import LocalStore

__all__ = [
    "InvalidKey",
    "LocalStore",
    "ObjectInfo",
    "ObjectNotFound",
    "ObjectStore",
    "open_store",
    "validate_key",
]


def open_store(settings: Settings) -> ObjectStore:
    """The store named by `settings.store`: `local` (a folder under home) or `s3://…` (not yet)."""
    spec = (settings.store or "").strip()
    if spec == "local":
        return LocalStore(settings.home / "store", settings.bucket)
    if spec.startswith("s3://"):
        raise ConfigError(
            "S3 backend not available yet",
            path=f"store: {spec}",
            hint="Use 'store: local' for now; S3/MinIO support is a later release",
        )
    raise ConfigError(
        f"unknown object store {spec!r}",
        path="store setting",
        hint="Use 'local' or an s3://bucket URL",
    )
