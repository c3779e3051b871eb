"""The dossier manifest, schema `sohoa/manifest/v1`: what came in, every page, every component.

Other systems read this file (it is stored beside the PDFs and printed by `sohoa process --json`),
so its shape is a contract: fields a later stage fills may be empty, never absent.
`docs/manifest.schema.json` is generated from these models (`python -m pipeline.manifest`).
"""

from __future__ import annotations

import json
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

SCHEMA = "sohoa/manifest/v1"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Source(_Model):
    path: str
    sha256: str
    pages: int


class Page(_Model):
    n: int = Field(ge=1, description="1-based position of the page in the input")
    blank: bool = False
    rotation: Literal[0, 90, 180, 270] = Field(0, description="clockwise turn of the content in the input, undone")
    skew_deg: float = 0.0
    ocr_confidence: float = Field(0.0, ge=0.0, le=1.0)
    text_source: Literal["ocr", "pdf", "none"] = "none"
    text: str = ""
    needs_review: bool = False
    warnings: list[str] = Field(default_factory=list)
    cleaning: list[str] = Field(default_factory=list)


class Metadata(_Model):
    so_ky_hieu: str | None = None
    ngay: str | None = Field(None, pattern=r"^\d{4}-\d{2}-\d{2}$")
    co_quan: str | None = None
    trich_yeu: str | None = None
    cccd: list[str] = Field(default_factory=list)
    ho_ten: list[str] = Field(default_factory=list)
    ma_ho_so: str | None = None


class StoredObject(_Model):
    backend: Literal["local", "s3"]
    bucket: str
    key: str
    uri: str


class Component(_Model):
    id: str
    type: str
    type_name: str
    confidence: float = Field(ge=0.0, le=1.0)
    needs_review: bool
    pages: list[int]
    metadata: Metadata = Field(default_factory=Metadata)
    object: StoredObject | None = None
    sha256: str | None = None
    reused_from: str | None = None


class Manifest(_Model):
    schema_: Literal["sohoa/manifest/v1"] = Field(SCHEMA, alias="schema")
    dossier_id: str
    status: Literal["done", "failed"]
    error: str | None = None
    source: Source
    pages: list[Page] = Field(default_factory=list)
    components: list[Component] = Field(default_factory=list)
    timings: dict[str, float] = Field(default_factory=dict)
    settings_version: str = ""
    created_at: str = ""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    def to_json(self, indent: int | None = None) -> str:
        return json.dumps(self.model_dump(mode="json", by_alias=True), ensure_ascii=False, indent=indent)


def json_schema() -> dict:
    schema = Manifest.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://sohoa.example/schemas/manifest-v1.json"
    return schema


if __name__ == "__main__":
    print(json.dumps(json_schema(), ensure_ascii=False, indent=2))
