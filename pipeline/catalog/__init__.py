"""The catalog: every processed dossier and full-text search over it, chosen by the `catalog` setting.

`open_catalog()` is the only place that knows which backends exist: `sqlite` (a file under the
data home) or a `postgresql://user:password@host:port/database` URL (docs/catalog.md).
"""

from __future__ import annotations

from pipeline.catalog.base import Catalog, CatalogUnavailable, Hit
from pipeline.catalog.sqlite import SqliteCatalog
from pipeline.errors import ConfigError
from pipeline.settings import Settings

__all__ = ["Catalog", "CatalogUnavailable", "Hit", "SqliteCatalog", "open_catalog"]


def open_catalog(settings: Settings) -> Catalog:
    """`sqlite` -> `<home>/catalog.sqlite`; `postgresql://…` (or `postgres://…`) -> that database."""
    spec = (settings.catalog or "").strip()
    if spec == "sqlite":
        return SqliteCatalog(settings.home / "catalog.sqlite")
    if spec.startswith(("postgresql://", "postgres://")):
        try:
            from pipeline.catalog.postgres import PostgresCatalog
        except ImportError as exc:
            raise ConfigError(
                f"the PostgreSQL catalog needs the psycopg package ({exc.name} is missing)",
                path="catalog setting",
                hint="pip install 'psycopg[binary]' psycopg_pool",
            ) from None
        return PostgresCatalog(spec)
    raise ConfigError(
        f"unknown catalog {spec.split('://')[0] + '://…' if '://' in spec else spec!r}",
        path="catalog setting",
        hint="Use 'sqlite' or a postgresql://user:password@host:port/database URL",
    )
