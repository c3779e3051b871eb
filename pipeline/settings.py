"""Settings: packaged defaults, then an optional YAML file, then SOHOA_* environment variables.

One `Settings` object is passed down explicitly; nothing in `pipeline/` reads the environment itself,
so tests and workers can run several configurations side by side.
"""

from __future__ import annotations

import hashlib
import json
import os
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict


class OcrSettings(BaseModel):
    lang: str = "vie"
    dpi: int = 300
    timeout_s: float = 180
    psm: int = 3


class DisplaySettings(BaseModel):
    jpeg_quality: int = 80
    max_dpi: int = 300


class CleaningSettings(BaseModel):
    orientation: bool = True
    deskew: bool = True
    max_skew_deg: float = 15


class LimitSettings(BaseModel):
    max_pixels: int = 200_000_000
    max_pages: int = 2000


class ClassifySettings(BaseModel):
    review_threshold: float = 0.6


def _read_yaml(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: settings file must be a mapping of names to values")
    return data


def default_config_text(name: str) -> str:
    """Text of a packaged file in `config/` (defaults.yaml, taxonomy.yaml)."""
    return resources.files("config").joinpath(name).read_text(encoding="utf-8")


class _YamlSource(PydanticBaseSettingsSource):
    """Packaged defaults merged with the user's file named by SOHOA_CONFIG."""

    def get_field_value(self, field, field_name):  # pragma: no cover - unused, required by ABC
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        data = yaml.safe_load(default_config_text("defaults.yaml")) or {}
        user = os.environ.get("SOHOA_CONFIG")
        if user:
            _deep_merge(data, _read_yaml(Path(user)))
        return data


def _deep_merge(base: dict, extra: dict) -> dict:
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _deep_merge(base[key], value)
        else:
            base[key] = value
    return base


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SOHOA_", env_nested_delimiter="__", extra="ignore")

    home: Path = Path(".sohoa")
    store: str = "local"
    bucket: str = "sohoa"
    catalog: str = "sqlite"
    workers: int = 0
    taxonomy: Path | None = None
    ocr: OcrSettings = Field(default_factory=OcrSettings)
    display: DisplaySettings = Field(default_factory=DisplaySettings)
    cleaning: CleaningSettings = Field(default_factory=CleaningSettings)
    limits: LimitSettings = Field(default_factory=LimitSettings)
    classify: ClassifySettings = Field(default_factory=ClassifySettings)

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, env_settings, dotenv_settings, file_secret_settings):
        return (init_settings, env_settings, _YamlSource(settings_cls))

    @property
    def worker_count(self) -> int:
        return self.workers if self.workers > 0 else (os.cpu_count() or 1)

    @cached_property
    def version(self) -> str:
        """Hash of everything that changes the output, so a dossier is redone when settings change."""
        relevant = self.model_dump(mode="json", include={"ocr", "display", "cleaning", "classify"})
        return hashlib.sha256(json.dumps(relevant, sort_keys=True).encode()).hexdigest()[:12]

    @property
    def prefect_home(self) -> Path:
        return self.home / "prefect"
