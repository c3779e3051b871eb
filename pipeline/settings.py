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
from typing import Any, Literal

import yaml
from pydantic import BaseModel, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict, YamlConfigSettingsSource

from pipeline.errors import ConfigError


class OcrSettings(BaseModel):
    lang: str = "vie"
    dpi: int = 300
    timeout_s: float = 180
    psm: int = 3
    # PDF pages' own text: auto decides per page (docs/text-layers.md); ocr OCRs every page;
    # keep keeps any text layer that reads as real text
    text_layer: Literal["auto", "ocr", "keep"] = "auto"


class DisplaySettings(BaseModel):
    jpeg_quality: int = 80
    max_dpi: int = 300


class CleaningSettings(BaseModel):
    """The page cleaning chain (`pipeline/imaging/cleaning.py`, `docs/cleaning.md`): every step switchable."""

    photo: bool = True  # phone photos: the page's corners found, warped flat, light evened (scans untouched)
    orientation: bool = True  # 0/90/180/270 from the ink (line profile, tone-mark asymmetry)
    orientation_osd: bool = True  # ask Tesseract OSD (~0.5 s) when the ink heuristic is unsure
    osd_below: float = 0.35  # heuristic confidence under which OSD is asked
    deskew: bool = True
    max_skew_deg: float = 15
    border: bool = True  # dark scanner border around the paper
    background: bool = True  # shadows, yellowed paper, grey photocopy background -> white
    stamps: bool = True  # red/blue stamps and signatures faded out of the OCR image (colour scans)
    rules: bool = True  # horizontal table rules and underlines erased; ruled tables read row by row
    rules_vertical: bool = False  # erase vertical cell borders too (kept: they separate cells for Tesseract)
    table_psm: int = 4  # Tesseract page segmentation for ruled tables: 4 reads rows across the cells
    leaders: bool = True  # dotted leaders ("Họ và tên: ........") erased
    checkboxes: bool = True  # check boxes erased
    signatures: bool = True  # signatures and other scribbles (big thin curved strokes) erased
    denoise: bool = True  # a 3x3 median when the paper shows sensor grain
    despeckle: bool = True  # isolated specks (dust, toner) removed when the margins show them
    binarize: bool = False  # Otsu black/white OCR image (off: Tesseract gets the normalised grey)
    upscale: bool = False  # pages under min_ocr_dpi upscaled for OCR: off, small_text decides by letter size (bench)
    min_ocr_dpi: int = 200  # 200 dpi pages are OCRed as they are: upscaling them gains nothing (bench)
    small_text: bool = True  # pages whose text is small (ID-card copies) are upscaled further
    blank: bool = True  # blank pages (backs, separators) skip OCR
    pdf_image: Literal["faithful", "cleaned"] = "faithful"  # what the PDF shows: the scan or the OCR image
    review_confidence: float = 0.7  # pages under this Tesseract confidence (0..1) need review
    review_plausibility: float = 0.5  # ... or under this share of valid Vietnamese syllables


class LimitSettings(BaseModel):
    """One pixel budget for every page, checked before decoding (`pipeline/ingest/budget.py`)."""

    max_pixels: int = Field(default=80_000_000, ge=1_000_000)  # one page decoded; bigger pages are refused
    min_dpi: float = Field(default=150, ge=50)  # ... or, PDF pages and JPEGs, decoded at a lower dpi down to this
    pixels_in_flight: int = Field(default=0, ge=0)  # pages decoded at once share this; 0 = max_pixels
    max_pages: int = 2000

    @property
    def in_flight(self) -> int:
        return self.pixels_in_flight or self.max_pixels


class ClassifySettings(BaseModel):
    review_threshold: float = 0.6


class RunSettings(BaseModel):
    """Backlog batches and the nightly inbox."""

    dossiers_at_once: int = 2  # dossiers in flight; each uses the page pool
    inbox: str = "inbox"  # nightly ingestion folder (relative paths are under `home`) or s3://bucket/prefix
    quiet_s: float = 60  # a file must be unchanged this long before it is taken
    cron: str = "0 1 * * *"
    timezone: str = "Asia/Ho_Chi_Minh"
    # Scale-out: when set (e.g. "digitise-dossier/sohoa"), backlog and ingest runs send each dossier
    # to this deployment on a Prefect work pool instead of digitising it in their own process.
    deployment: str | None = None
    pool: str = "sohoa"
    # Page fan-out: a Dask scheduler (e.g. "tcp://10.0.0.5:8786") whose workers OCR the pages; None
    # (the default) OCRs them on this machine's thread pool. Needs the `dask` extra.
    dask_address: str | None = None
    # Database of the Prefect server `sohoa serve` starts (e.g. postgresql://prefect:…@db:5432/prefect);
    # None: PREFECT_API_DATABASE_CONNECTION_URL if set, else SQLite under <home>/prefect.
    prefect_database_url: SecretStr | None = None


class RetrySettings(BaseModel):
    """Flow steps that talk to the store or the catalog (ingest, publish, record), tried again on
    transient trouble only (`pipeline.retrying`): `attempts` tries in all, waits doubling from
    `first_delay_s` up to `max_delay_s`, jittered. The same numbers drive Prefect's task retries."""

    attempts: int = Field(default=4, ge=1, le=20)
    first_delay_s: float = Field(default=5, ge=0, le=600)
    max_delay_s: float = Field(default=60, ge=0, le=3600)

    @model_validator(mode="after")
    def _ordered(self) -> RetrySettings:
        if self.max_delay_s < self.first_delay_s:
            raise ValueError("retry.max_delay_s must be at least retry.first_delay_s")
        return self


class WebSettings(BaseModel):
    """The staff's web application (`pipeline/web/`): sessions and log-in limits."""

    idle_minutes: int = Field(default=30, ge=1, le=24 * 60)  # a session unused this long is over
    login_failures: int = Field(default=5, ge=1, le=100)  # failed log-ins per name or address ...
    login_window_s: int = Field(default=900, ge=10, le=86400)  # ... within this window, then refused
    page_size: int = Field(default=20, ge=5, le=100)  # search hits and list rows per page


class S3Settings(BaseModel):
    """MinIO/S3 connection, used when `store` is an s3:// URL (`SOHOA_S3__ENDPOINT`, …).

    The bucket comes from the store URL (`s3://bucket`, or `s3://host:port/bucket`, which also names
    the endpoint). The secret key is a `SecretStr`, so it never shows in a repr, a log or an error.
    """

    endpoint: str | None = None  # host:port of MinIO, e.g. 127.0.0.1:9000 (http:// or https:// accepted)
    access_key: str | None = Field(default=None, repr=False)
    secret_key: SecretStr | None = None
    secure: bool = False  # https; an https:// endpoint also turns it on
    region: str | None = None  # None: ask the server once (MinIO answers us-east-1)
    part_size_mb: int = Field(default=16, ge=5, le=5120)  # larger files are sent in parts of this size
    # Each request, by the one retry policy (`pipeline.retrying`): on connection errors, time-outs, 5xx, SlowDown
    max_attempts: int = Field(default=5, ge=1, le=20)  # tries per request, the first included
    backoff_s: float = Field(default=0.5, ge=0, le=60)  # first retry delay; doubles each time (max 8 s), jittered
    timeout_s: float = Field(default=60, gt=0)  # socket read time-out; connecting gives up after 10 s


def default_config_text(name: str) -> str:
    """Text of a packaged file in `config/` (defaults.yaml, taxonomy.yaml)."""
    return resources.files("config").joinpath(name).read_text(encoding="utf-8")


def _user_file(path: str | Path) -> Path:
    """The user's settings file, checked: it exists and is a mapping (else a `ConfigError` naming it)."""
    file = Path(path).expanduser()
    if not file.is_file():
        raise ConfigError("settings file not found", path=file, hint="Give an existing YAML file with --config "
                                                                      "or SOHOA_CONFIG")
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(f"not valid YAML ({exc})", path=file, hint="Fix the settings file") from exc
    if data is not None and not isinstance(data, dict):
        raise ConfigError("settings file must be a mapping of names to values", path=file,
                          hint="See config/defaults.yaml for the names")
    return file.resolve()


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SOHOA_", env_nested_delimiter="__", extra="ignore")

    config_file: Path | None = None  # the user's YAML file (--config / SOHOA_CONFIG), merged over the defaults
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
    s3: S3Settings = Field(default_factory=S3Settings)
    run: RunSettings = Field(default_factory=RunSettings)
    retry: RetrySettings = Field(default_factory=RetrySettings)
    web: WebSettings = Field(default_factory=WebSettings)

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, env_settings, dotenv_settings, file_secret_settings):
        """Arguments, then SOHOA_* variables, then the user's YAML file deep-merged over the packaged
        defaults (`config/defaults.yaml`)."""
        files: list = [resources.files("config").joinpath("defaults.yaml")]
        user = init_settings.init_kwargs.get("config_file") or os.environ.get("SOHOA_CONFIG")
        if user:
            files.append(_user_file(user))
        return (init_settings, env_settings, YamlConfigSettingsSource(settings_cls, yaml_file=files, deep_merge=True))

    @model_validator(mode="after")
    def _remember_file(self) -> Settings:
        if self.config_file is None and os.environ.get("SOHOA_CONFIG"):
            self.config_file = _user_file(os.environ["SOHOA_CONFIG"])
        return self

    @classmethod
    def load(cls, config: str | Path | None = None, home: str | Path | None = None, **overrides: Any) -> Settings:
        """The settings every command starts from: `config` (a YAML file) and `home` given on the command
        line win over SOHOA_CONFIG / SOHOA_HOME; nothing is written to the environment."""
        if config:
            overrides["config_file"] = _user_file(config)
        if home:
            overrides["home"] = Path(home).resolve()
        return cls(**overrides)

    def for_flow(self) -> dict[str, str]:
        """What a flow run needs to rebuild these settings (no secrets: workers have their own)."""
        out = {"home": str(self.home.resolve())}
        if self.config_file:
            out["config_file"] = str(self.config_file)
        return out

    @property
    def worker_count(self) -> int:
        return self.workers if self.workers > 0 else (os.cpu_count() or 1)

    @cached_property
    def version(self) -> str:
        """Hash of everything that changes the output, so a dossier is redone when settings change."""
        relevant = self.model_dump(mode="json", include={"ocr", "display", "cleaning", "classify"})
        return hashlib.sha256(json.dumps(relevant, sort_keys=True).encode()).hexdigest()[:12]

    @property
    def inbox(self) -> Path | str:
        """The inbox folder (relative to `home` unless absolute), or an `s3://bucket/prefix` URL as is."""
        if self.run.inbox.startswith("s3://"):
            return self.run.inbox  # a Path would fold the '//'
        folder = Path(self.run.inbox)
        return folder if folder.is_absolute() else self.home / folder
