"""The text layer of an ID card page: the machine-readable zone read again alone is put into the page's
own layer in place of the page OCR's reading of it, nothing else of the layer lost or doubled, blocks in
reading order — without reading the page again (`pipeline.ocr.mrz_zone.relayer`: the page is read
once, the zone once)."""

from __future__ import annotations

import json
import random
import re
import resource
import subprocess
from collections import Counter

import numpy as np
import pytest
from pypdf import PdfReader

from pipeline.imaging.cleaning import clean_page
from pipeline.ingest.inputs import load_page, open_dossier
from pipeline.ocr import layer_lines, mrz_zone
from pipeline.ocr.tesseract import ocr_image
from pipeline.textnorm import cer
from samples import content
from samples.generate import render_document, row_major_text
from tests.conftest import SAMPLES

pytestmark = [pytest.mark.ocr]
ZONE_LINE = re.compile(r"[A-Z0-9<]{30}")


def _text(pdf) -> list[str]:
    out = subprocess.run(["pdftotext", "-raw", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    return [line for line in out.splitlines() if line.strip()]


def _children_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def _relayered(ocr: np.ndarray, dpi: float, tmp_path):
    first = ocr_image(ocr, dpi, tmp_path, "card")
    before = _text(first.textlayer_pdf)
    zone = mrz_zone.reread(ocr, dpi, first.words)
    assert zone is not None and len(zone.rows) == 3 and len(zone.layer) == 3
    spent = _children_cpu()
    out = mrz_zone.relayer(dpi, ocr.shape[0], first, zone, tmp_path, "card")
    assert _children_cpu() == spent  # no Tesseract (no child process at all) for the layer
    assert out.textlayer_pdf is not None and out.textlayer_pdf != first.textlayer_pdf
    return before, _text(out.textlayer_pdf), out


@pytest.mark.parametrize(("seed", "model"), [(11, "2024"), (3, "2021")])
def test_zone_lines_replace_the_page_reading_in_place(tmp_path, seed, model):
    rng = random.Random(seed)
    case = content.make_case(rng)
    page = render_document(content.doc_can_cuoc(case, case.applicant, model=model, back_alone=False), 200, rng)[0]
    p = clean_page(np.asarray(page.image), 200)
    before, after, _ = _relayered(p.ocr, p.ocr_dpi, tmp_path)
    zone_at = [i for i, line in enumerate(after) if ZONE_LINE.fullmatch(line.replace(" ", ""))]
    assert len(zone_at) == 3 and after[zone_at[0]].startswith("IDVNM"), after
    assert zone_at == list(range(zone_at[0], zone_at[0] + 3))  # the three lines together
    truth = [line for line in row_major_text(page.lines).splitlines() if ZONE_LINE.fullmatch(line)]
    assert sum(after[i] == t for i, t in zip(zone_at, truth, strict=True)) >= 2  # fillers lost are fitted back
    # everything else of the page's layer is there once
    was_zone = [i for i, line in enumerate(before) if mrz_zone._zone_like(line)]
    assert was_zone
    assert Counter(w for i, w in enumerate(before) if i not in was_zone) == \
        Counter(w for i, w in enumerate(after) if i not in zone_at)


def test_a_card_copy_layer_reads_top_down(tmp_path):
    """Sample hs_0001 page 3 (front and back of a chip card, copied): Tesseract's own block order puts
    the front's motto after the block under it (the text layer's CER was 0.168 with it)."""
    src = open_dossier(SAMPLES / "hs_0001.pdf")
    image = load_page(src.pages[2], 300)
    p = clean_page(image.pixels, image.dpi)
    _, after, out = _relayered(p.ocr, p.ocr_dpi, tmp_path)
    truth = json.loads((SAMPLES / "hs_0001.truth.json").read_text(encoding="utf-8"))["pages"][2]
    assert cer("\n".join(after), row_major_text(truth["lines"])) < 0.03
    assert after.index("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM") < min(
        i for i, line in enumerate(after) if "CĂN CƯỚC" in line)
    # no line of the layer lies wholly above one written before it, sharing its width
    layer = layer_lines.parse(PdfReader(out.textlayer_pdf).pages[0].get_contents().get_data())
    lines = [ln for block in layer.blocks for ln in block]
    assert not any(layer_lines._above([b], [a]) for i, a in enumerate(lines) for b in lines[i + 1:])
