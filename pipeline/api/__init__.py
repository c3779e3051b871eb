"""The HTTP API (`sohoa api`): FastAPI app over the store and catalog, with API keys. docs/api.md."""

from pipeline.api.app import create_app

__all__ = ["create_app"]
