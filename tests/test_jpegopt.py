"""A scan's JPEG with the standard Huffman tables is re-coded with its own (same pixels, fewer bytes);
one already optimised, progressive, or no JPEG at all is left as it is."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from pipeline.publish.jpegopt import optimised, standard_tables


def _page(**save) -> bytes:
    rng = np.random.default_rng(15)
    pixels = np.full((600, 450, 3), 235, np.uint8)
    for _ in range(300):  # lines of "text" and some colour
        y, x = int(rng.integers(20, 580)), int(rng.integers(10, 300))
        pixels[y : y + 6, x : x + int(rng.integers(20, 140))] = rng.integers(0, 90, 3)
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, "JPEG", quality=80, **save)
    return buf.getvalue()


def _pixels(jpeg: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(jpeg)).convert("RGB"))


def test_standard_tables_recoded_losslessly_and_smaller():
    scan = _page(optimize=False)  # what most scanners write
    assert standard_tables(scan)
    out = optimised(scan)
    assert len(out) < len(scan)
    assert np.array_equal(_pixels(out), _pixels(scan))
    assert not standard_tables(out)
    assert optimised(out) == out  # nothing more to gain: left as it is


def test_own_tables_progressive_and_other_data_left_alone():
    for data in (_page(optimize=True), _page(progressive=True), b"\x89PNG\r\n\x1a\n", b""):
        assert not standard_tables(data)
        assert optimised(data) == data
