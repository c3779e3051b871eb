"""The number's blank placed from the printed anchors (`pipeline.ocr.blank_anchors`) on generated
quyết định whose number is written by hand (held-out MNIST digits): real Tesseract words, the slash
found in the image, the crop holding the whole number and no slash (the digit reader reads exactly
as many digits as were written, and no ink reaches the crop's right edge)."""

from __future__ import annotations

import random

import cv2
import pytest

from pipeline.ingest.inputs import load_page, open_dossier
from pipeline.ocr import blank_anchors, blanks, handdigits
from pipeline.ocr.tesseract import ocr_image
from samples.generate import make_dossier, write_dossier

pytestmark = [pytest.mark.slow, pytest.mark.ocr]


@pytest.mark.parametrize("seed", [3, 11])
def test_the_anchor_crop_holds_the_whole_number_and_no_slash(tmp_path, seed):
    d = make_dossier(random.Random(seed), "van_ban_ket_qua", 300, "light", parts=["quyet_dinh"],
                     blank_separator=False, dossier_id=f"hw_{seed}", handwritten=1.0)
    assert "so" in d.pages[0].handwritten
    number = d.components[0].metadata["so_ky_hieu"].split("/", 1)[0]
    ref = open_dossier(write_dossier(d, tmp_path, "tiff", quality=85)).pages[0]
    pixels = load_page(ref, 300).pixels
    gray = pixels if pixels.ndim == 2 else cv2.cvtColor(pixels, cv2.COLOR_BGR2GRAY)
    words = ocr_image(gray, 300, tmp_path, "p1").words
    label = blanks._find_so([w for w in words if w.box[1] < blanks.TOP * gray.shape[0]])
    assert label is not None
    code = next(w for w in blanks._row_words(words, label) if "/" in w.text and w.box[0] >= label.box[0])
    row = blank_anchors.band([(label, "so")])
    assert row is not None
    start = blank_anchors.label_end(label, "so", row.height)
    stroke = blank_anchors.slash_left(gray, start, code, row.crop_rows(gray.shape))
    assert stroke is not None and start < stroke <= code.box[0] + code.box[2]
    crop = blanks._crop_band(gray, start, stroke, row)
    pad = int(blanks.PAD * row.height)
    _, ink = cv2.threshold(crop, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    assert not ink[:, crop.shape[1] - pad - 2:].any()  # nothing of the slash (nor a cut digit) at the right
    read = handdigits.read_digits(crop, margin=pad)
    assert read is not None and len(read.probs) == len(number), (number, read)
