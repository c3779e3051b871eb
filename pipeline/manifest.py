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


class TextLayer(_Model):
    """A PDF page's own text layer, what it is, and why it was used or OCRed over (`docs/text-layers.md`)."""

    used: Literal["pdf", "ocr"] = Field(description="which text the page's `text` is")
    kind: Literal["none", "born_digital", "stub_over_image", "ocr_layer", "text_over_image", "unusable"] = Field(
        description="none: no text layer; born_digital: text and no page image; stub_over_image: a few "
                    "words (signature boxes, stamps) over a page-sized image; ocr_layer: invisible text over "
                    "a page-sized image (a scanner's OCR); text_over_image: visible text over a page-sized "
                    "image; unusable: garbage or glyphs with no Unicode mapping")
    reason: str = ""
    setting: Literal["auto", "ocr", "keep"] = "auto"
    words: int = Field(0, description="words in the PDF's own text layer")
    image_cover: float | None = Field(None, description="share of the page under images (None: not measured)")
    text_cover: float | None = Field(None, description="share of the page under the text's glyphs and text boxes")
    invisible: float | None = Field(None, description="share of the page's glyphs drawn invisible (OCR layers)")
    plausibility: float | None = Field(None, description="share of its words that are Vietnamese syllables")
    text: str = Field("", description="the PDF's own text when OCR was used instead: signature boxes and "
                                      "stamps are data")


class Signature(_Model):
    """A digital signature (ký số) embedded in a source PDF, as pyHanko reads it."""

    file: str = Field(description="name of the signed source file")
    field: str = Field("", description="signature field name")
    signer: str | None = Field(None, description="common name of the signing certificate")
    organisation: str | None = Field(None, description="organisational unit and organisation of the certificate")
    signed_at: str | None = Field(None, description="signing time, ISO 8601 with offset: the signature "
                                                    "dictionary's /M, else the CMS signing-time attribute")
    signing_time_cms: str | None = Field(None, description="the CMS signing-time attribute as written")
    timestamp: str | None = Field(None, description="time of an embedded RFC 3161 timestamp token")
    intact: bool = Field(description="the signed bytes still hash to the signed digest")
    valid: bool = Field(description="the CMS signature checks out against the certificate's key")
    covers_whole_file: bool = Field(description="the signed byte range covers the whole file (nothing "
                                                "appended after this signature)")
    later_changes: str | None = Field(None, description="what was appended after signing, by pyHanko's "
                                                        "difference analysis: none, lta_updates, form_filling "
                                                        "(e.g. a later signature), annotations, other")
    pages: list[int] = Field(default_factory=list, description="dossier pages of the signed file")
    error: str | None = None


class Source(_Model):
    path: str
    sha256: str
    pages: int
    signatures: list[Signature] = Field(default_factory=list, description="digital signatures of the source "
                                                                          "PDFs, in file order")


class InputFile(_Model):
    """One file the dossier was given, and what became of it: every file is accounted for."""

    name: str = Field(description="the file's name as given (in the dossier folder, or the file itself)")
    status: Literal["pages", "sidecar", "skipped", "refused"] = Field(
        description="pages: read as pages; sidecar: dossier.json; skipped: kept as an original but not read "
                    "(a type sohoa does not read, a hidden file, a sub-folder); refused: not read at all "
                    "(a symbolic link, a hard link shared with a file outside the dossier, a device or FIFO)")
    reason: str = ""
    pages: list[int] = Field(default_factory=list, description="the dossier pages this file gave")
    original_key: str | None = Field(None, description="object key of the stored original (unique per file)")


class BlankRead(_Model):
    """A number written into a blank of the header, as the page OCR read it and as re-read alone."""

    field: Literal["so", "day", "month"]
    text: str = Field("", description="what the page OCR read there (may hold junk: 'Ø2', '0+')")
    confidence: float = Field(0.0, ge=0.0, le=1.0, description="Tesseract's lowest word confidence there")
    rereads: list[str] = Field(default_factory=list, description="digit-only re-reads of the crop, one per scale")
    hand: list[list[float]] = Field(default_factory=list,
                                    description="the handwritten-digit reader's ten class probabilities per digit "
                                                "of the crop, left to right (pipeline.ocr.handdigits)")


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
    cleaning: list[str] = Field(default_factory=list, description=(
        "the steps the page went through, in order. Tesseract reads a page once; these steps each "
        "mean one more, small, Tesseract run: `osd` (orientation detection, when the ink heuristic was "
        "unsure), `mrz` (an ID card's machine-readable zone read again alone, its reading put in the "
        "page's text), `mrz:kept` (that re-read, no better than the page's reading, not used); the "
        "header blanks' re-reads are in `blanks`"))
    text_layer: TextLayer | None = Field(None, description="PDF pages: the page's own text layer and the decision")
    signed_at: str | None = Field(None, description="earliest signing time of the digital signatures over "
                                                    "this page's source PDF (evidence for the document date)")
    blanks: list[BlankRead] = Field(default_factory=list, description="header blanks re-read (number, day, month)")


class Metadata(_Model):
    so_ky_hieu: str | None = None
    ngay: str | None = Field(None, pattern=r"^\d{4}-\d{2}-\d{2}$")
    co_quan: str | None = None
    trich_yeu: str | None = None
    cccd: list[str] = Field(default_factory=list)
    ho_ten: list[str] = Field(default_factory=list)
    ma_ho_so: str | None = None
    ngay_sinh: str | None = Field(None, pattern=r"^\d{4}-\d{2}-\d{2}$",
                                  description="birth date of an identity card's holder")
    review: list[str] = Field(default_factory=list,
                              description="why a field needs a person: 'field: reason' (a null or doubtful value, "
                                          "a card front and its MRZ that disagree)")


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
    classifier: str = Field("", description="what classified it: 'title rules', or 'title rules + model <file> "
                                            "sha256:<first 12 hex of the model file>'")
    metadata: Metadata = Field(default_factory=Metadata)
    object: StoredObject | None = None
    sha256: str | None = None
    reused_from: str | None = None
    stored_as: Literal["searchable_pdf", "signed_original"] = Field(
        "searchable_pdf", description="signed_original: `object` is the signed source PDF, byte for byte")
    signatures: list[Signature] = Field(default_factory=list, description="signatures of the source PDFs "
                                                                          "its pages come from")
    signed_original: StoredObject | None = Field(None, description="where the signed source PDF is kept "
                                                                   "byte for byte (= `object` when stored_as "
                                                                   "is signed_original)")


class Manifest(_Model):
    schema_: Literal["sohoa/manifest/v1"] = Field(SCHEMA, alias="schema")
    dossier_id: str
    status: Literal["done", "failed"]
    error: str | None = None
    source: Source
    inputs: list[InputFile] = Field(default_factory=list)
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
