"""Per PDF page: keep the PDF's own text, or OCR the page? (`ocr.text_layer`, docs/text-layers.md)

Having text is not enough. A digitally signed scan has text — the signature boxes, a few words
over a page-sized image — and its content is only in the image. A scanner's OCR layer is text
over the whole image, sometimes good and often broken Vietnamese ("V/v thrc hin Thông báo sf3").
A Word → PDF page has exact text and no page image. The page geometry (`pipeline.ingest.pdf_layers`)
tells these apart; the Vietnamese syllable check (`pipeline.ocr.quality.judge_text_layer`) judges
what is left:

| page | auto |
|---|---|
| no text layer | OCR |
| no page-sized image, real text | keep (born-digital: exact text) |
| no page-sized image, garbage / no Unicode mapping | OCR |
| page-sized image, visible text covering under `STUB_TEXT_COVER` of the page | OCR (keep the few words too) |
| page-sized image, an OCR layer (invisible) or much visible text | keep if it reads as good Vietnamese OCR, else OCR |

`ocr` OCRs every page; `keep` keeps any layer that reads as real text (the rule before issue 12).
When OCR wins, the PDF's own words stay in `Page.text_layer.text`: signature boxes are data.
"""

from __future__ import annotations

from dataclasses import replace

from pipeline.ingest.inputs import PageRef
from pipeline.ingest.pdf_layers import PageLayers, measure_file_page
from pipeline.manifest import TextLayer
from pipeline.ocr.quality import judge_text_layer
from pipeline.textnorm import nfc

PAGE_IMAGE = 0.5  # an image over this share of the page makes it a scan
STUB_TEXT_COVER = 0.15  # visible text over a scan covering less than this is boxes and stamps, not the page
OCR_LAYER_INVISIBLE = 0.5  # this share of glyphs invisible: an OCR layer laid under the scan


def with_layers(ref: PageRef) -> PageRef:
    """The ref with its page geometry measured (PDF pages that have a text layer only; cheap)."""
    if ref.kind != "pdf" or ref.layers is not None or not ref.pdf_text.strip():
        return ref
    layers = measure_file_page(ref.file, ref.index)
    return replace(ref, layers=layers) if layers is not None else ref


def decide(ref: PageRef, setting: str = "auto") -> TextLayer | None:
    """The decision for a PDF page (None for image pages). `ref.layers` should be measured (`with_layers`)."""
    if ref.kind != "pdf":
        return None
    text = nfc(ref.pdf_text.strip())
    words = len(text.split())
    geo = ref.layers
    facts = _facts(geo, words)
    if not text:
        return TextLayer(used="ocr", kind="none", reason="no text layer", setting=setting, **facts)
    kind = _kind(geo)
    strict = kind in ("ocr_layer", "text_over_image") and setting == "auto"
    verdict = judge_text_layer(text, over_image=strict)
    facts["plausibility"] = None if verdict.plausibility is None else round(verdict.plausibility, 4)
    if kind == "born_digital" and not verdict.real:
        kind = "unusable"

    def ocr(reason: str) -> TextLayer:
        return TextLayer(used="ocr", kind=kind, reason=reason, setting=setting, text=text, **facts)

    def keep(reason: str) -> TextLayer:
        return TextLayer(used="pdf", kind=kind, reason=reason, setting=setting, **facts)

    if setting == "ocr":
        return ocr("ocr.text_layer is ocr: every page is OCRed")
    if setting == "keep" or geo is None:
        why = "ocr.text_layer is keep" if setting == "keep" else "the page's geometry could not be read"
        return keep(f"{why}; the text layer reads as real text") if verdict.real else ocr(
            f"{why}; the text layer is unusable ({verdict.reason}): OCRed instead")
    if kind == "unusable":
        return ocr(f"the text layer is unusable ({verdict.reason}): OCRed instead")
    if kind == "born_digital":
        return keep(f"born-digital: text and no page-sized image (images cover {geo.image_cover:.0%})")
    if kind == "stub_over_image":
        return ocr(f"a page-sized image ({geo.image_cover:.0%} of the page) under {words} words of text "
                   f"covering {geo.text_cover:.0%} (signature boxes, stamps): the image is OCRed, the words kept")
    what = "an OCR layer (invisible text)" if kind == "ocr_layer" else "visible text"
    if verdict.real:
        return keep(f"{what} over a page-sized image reads as good Vietnamese "
                    f"({_pct(verdict.plausibility)} of its words are syllables): kept")
    return ocr(f"{what} over a page-sized image is poor ({verdict.reason}): replaced by OCR")


def _kind(geo: PageLayers | None) -> str:
    if geo is None or geo.image_cover < PAGE_IMAGE:
        return "born_digital"
    if geo.glyphs and geo.invisible >= OCR_LAYER_INVISIBLE:
        return "ocr_layer"
    if geo.text_cover < STUB_TEXT_COVER:
        return "stub_over_image"
    return "text_over_image"


def _facts(geo: PageLayers | None, words: int) -> dict:
    if geo is None:
        return {"words": words}
    return {"words": words, "image_cover": geo.image_cover, "text_cover": geo.text_cover,
            "invisible": geo.invisible}


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0%}"
