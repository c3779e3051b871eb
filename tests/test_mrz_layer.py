"""The text layer of an ID card back: the machine-readable zone read again alone is put into the
page's own layer in place of the page OCR's reading of it, in reading order, and nothing else of the
layer is lost or doubled (`pipeline.ocr.mrz_zone.relayer`: one small Tesseract run, not the page again)."""

from __future__ import annotations

import random
import re
import subprocess

import numpy as np
import pytest

from pipeline.imaging.cleaning import clean_page
from pipeline.ocr import mrz_zone
from pipeline.ocr.tesseract import ocr_image
from samples import content
from samples.generate import render_document

pytestmark = [pytest.mark.ocr]


def _text(pdf) -> list[str]:
    out = subprocess.run(["pdftotext", "-raw", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    return [line for line in out.splitlines() if line.strip()]


@pytest.mark.parametrize(("seed", "model"), [(11, "2024"), (3, "2021")])
def test_zone_lines_replace_the_page_reading_in_place(tmp_path, seed, model):
    rng = random.Random(seed)
    case = content.make_case(rng)
    page = render_document(content.doc_can_cuoc(case, case.applicant, model=model, back_alone=False), 200, rng)[0]
    p = clean_page(np.asarray(page.image), 200)
    first = ocr_image(p.ocr, p.ocr_dpi, tmp_path, "card")
    zone = mrz_zone.reread(p.ocr, p.ocr_dpi, first.words)
    assert zone is not None
    out = mrz_zone.relayer(p.ocr, p.ocr_dpi, first, zone, tmp_path, "card", lang="vie", psm=3, timeout_s=60)
    assert out.textlayer_pdf is not None and out.textlayer_pdf != first.textlayer_pdf
    before, after = _text(first.textlayer_pdf), _text(out.textlayer_pdf)
    zone_lines = [i for i, line in enumerate(after) if re.fullmatch(r"[A-Z0-9<]{30}", line.replace(" ", ""))]
    assert len(zone_lines) == 3 and after[zone_lines[0]].startswith("IDVNM"), after
    assert zone_lines == list(range(zone_lines[0], zone_lines[0] + 3))  # the three lines together
    # everything else of the page's layer is there once, in its order, around the zone
    was_zone = [i for i, line in enumerate(before) if mrz_zone._zone_like(line)]
    assert was_zone and zone_lines[0] == was_zone[0]
    assert [w for i, w in enumerate(before) if i not in was_zone] == \
        [w for i, w in enumerate(after) if i not in zone_lines]
