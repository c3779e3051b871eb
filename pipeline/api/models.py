"""Response bodies of the HTTP API, so /openapi.json describes every answer."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class Health(BaseModel):
    status: str = "ok"
    version: str


class Links(BaseModel):
    self: str
    pdf: str | None = None
    dossier: str


class DocumentSummary(BaseModel):
    """One document (a component of a dossier) in a list."""

    id: str
    dossier_id: str
    type: str
    type_name: str
    pages: list[int]
    metadata: dict[str, Any]
    needs_review: bool
    confidence: float
    has_pdf: bool
    page: int | None = Field(None, description="best-matching page (search only)")
    snippet: str | None = Field(None, description="text around the match, matches in [brackets] (search only)")
    score: float | None = Field(None, description="higher is better (search only)")
    exact: bool | None = Field(None, description="matched as written, tone marks included (search only)")
    links: Links


class DocumentPage(BaseModel):
    items: list[DocumentSummary]
    page: int
    per_page: int
    has_more: bool
    truncated: bool = Field(False, description="filters applied by the API scanned their limit of "
                                                "candidates before the page was full: narrow the filters")


class PageText(BaseModel):
    n: int
    blank: bool
    text: str
    ocr_confidence: float
    needs_review: bool


class Document(BaseModel):
    id: str
    dossier_id: str
    type: str
    type_name: str
    confidence: float
    needs_review: bool
    metadata: dict[str, Any]
    sha256: str | None
    reused_from: str | None
    created_at: str
    pages: list[PageText]
    text: str = Field(description="the text of its pages, a blank line between pages")
    stored_as: str = Field("searchable_pdf", description="signed_original: the PDF link serves the digitally "
                                                         "signed source file, byte for byte")
    signatures: list[dict[str, Any]] = Field(default_factory=list, description="digital signatures over its "
                                                                               "source PDF (signer, signed_at, "
                                                                               "intact, ...)")
    links: Links


class OwnerDocument(DocumentSummary):
    valid: bool = Field(description="reusable as it is: PDF stored and nothing left to review")
    created_at: str | None = None
    sha256: str | None = None
    reused_from: str | None = None


class OwnerDocuments(BaseModel):
    cccd: str
    items: list[OwnerDocument]
    page: int
    per_page: int
    total: int
    truncated: bool = False


class UploadAccepted(BaseModel):
    dossier_id: str
    status: str = "queued"
    status_url: str
    position: int = Field(description="place in the upload queue, 1 = next")
    size: int


class UploadStatus(BaseModel):
    dossier_id: str
    status: str = Field(description="queued | processing | error (a finished dossier answers its manifest)")
    accepted_at: str
    started_at: str | None = None
    position: int | None = None
    error: str | None = None


class Problem(BaseModel):
    detail: Any
