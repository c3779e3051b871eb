"""The catalog: every processed dossier and full-text search over it, chosen by the `catalog` setting.

`open_catalog()` is the only place that knows which backends exist; PostgreSQL will be a new
`pipeline/catalog/postgres.py` implementing `Catalog` and one branch here.
"""

from __future__ import annotations

from pipeline.catalog.base import Catalog, Hit
from pipeline.catalog.sqlite import SqliteCatalog
from pipeline.errors import ConfigError
from pipeline.settings import Settings

__all__ = ["Catalog", "Hit", "SqliteCatalog", "open_catalog"]


def open_catalog(settings: Settings) -> Catalog:
    """`sqlite` -> `<home>/catalog.sqlite`; `postgresql://…` is not available yet."""
    spec = (settings.catalog or "").strip()
    if spec == "sqlite":
        return SqliteCatalog(settings.home / "catalog.sqlite")
    if spec.startswith(("postgresql://", "postgres://")):
        raise ConfigError(
            "PostgreSQL catalog not available yet",
            path="catalog setting",
            hint="Use 'catalog: sqlite' for now; PostgreSQL support is a later release",
        )
    raise ConfigError(
        f"unknown catalog {spec!r}",
        path="catalog setting",
        hint="Use 'sqlite' or a postgresql:// URL",
    )
