"""Object stores: where finished PDFs and manifests are kept, chosen by the `store` setting.

`open_store()` is the only place that knows which backends exist: `local` (a folder under home, the
default) and `s3://bucket` or `s3://host:port/bucket` (MinIO or any S3, see `pipeline/store/s3.py`).
"""

from __future__ import annotations

from pipeline.errors import ConfigError
from pipeline.settings import Settings
from pipeline.store.base import ObjectInfo, ObjectNotFound, ObjectStore
from pipeline.store.keys import InvalidKey, validate_key
from pipeline.store.local import LocalStore

_S3_NAMES = ("S3Store", "S3StoreError", "StoreIntegrityError", "StoreUnavailable")

__all__ = [
    "InvalidKey",
    "LocalStore",
    "ObjectInfo",
    "ObjectNotFound",
    "ObjectStore",
    "S3Store",
    "S3StoreError",
    "StoreIntegrityError",
    "StoreUnavailable",
    "open_store",
    "validate_key",
]


def __getattr__(name: str):
    """The S3 backend is imported when first named: minio costs ~0.3 s of start-up a local run never needs."""
    if name in _S3_NAMES:
        from pipeline.store import s3

        return getattr(s3, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def open_store(settings: Settings) -> ObjectStore:
    """The store named by `settings.store`: `local` (a folder under home) or an `s3://…` URL.

    Opening contacts no server: an S3 bucket is created on first use, and a server that is down
    shows as `StoreUnavailable` on the first call.
    """
    spec = (settings.store or "").strip()
    if spec == "local":
        return LocalStore(settings.home / "store", settings.bucket)
    if spec.startswith("s3://"):
        from pipeline.store.s3 import S3Store

        return S3Store.from_settings(settings)
    raise ConfigError(
        f"unknown object store {spec.split('://')[0] + '://…' if '://' in spec else spec!r}",
        path="store setting",
        hint="Use 'local' or an s3://bucket URL (MinIO: s3://bucket with SOHOA_S3__ENDPOINT, or s3://host:port/bucket)",
    )
