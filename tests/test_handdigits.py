"""The handwritten-digit reader (pipeline.ocr.handdigits) on real handwriting it never saw: the held-out
MNIST digits, alone and written into a blank's crop between printed characters and a dotted line."""

from __future__ import annotations

import random

import cv2
import numpy as np
import pytest

from pipeline.ocr import handdigits
from samples.handwriting import held_out_digits

pytestmark = pytest.mark.slow


def test_reader_on_held_out_digits():
    x, y = handdigits.mnist()
    _, held = handdigits.split()
    images = [handdigits.normalise(x[i] > 127) for i in held]
    probs = handdigits.classify(images)
    accuracy = float(np.mean(probs.argmax(axis=1) == y[held]))
    assert accuracy >= 0.94, accuracy
    assert np.allclose(probs.sum(axis=1), 1.0, atol=1e-3)


def test_train_and_held_out_digits_never_overlap():
    train, held = handdigits.split()
    assert len(held) == handdigits.HELD_OUT and not set(train) & set(held)
    assert len(train) + len(held) == 5000


def _blank(digits: str, rng: random.Random) -> tuple[np.ndarray, int]:
    """A grey crop as `pipeline.ocr.blanks` cuts it: the end of "Số:", handwritten digits at scan size over
    a dotted line, white padding around; returns it and the padding."""
    h = 60
    canvas = np.full((int(1.7 * h), 40 + 70 * len(digits)), 235, np.uint8)  # greyish paper
    cv2.putText(canvas, ":", (2, int(1.2 * h)), cv2.FONT_HERSHEY_SIMPLEX, 1.2, 30, 2)
    x = 30
    pool = held_out_digits()
    for c in digits:
        d = pool[int(c)][rng.randrange(len(pool[int(c)]))]
        ys, xs = np.nonzero(d > 30)
        ink = d[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
        w = max(1, round(ink.shape[1] * h / ink.shape[0]))
        ink = cv2.resize(ink, (w, h), interpolation=cv2.INTER_LINEAR)
        y0 = int(0.3 * h) + rng.randrange(-4, 5)
        region = canvas[y0:y0 + h, x:x + w]
        canvas[y0:y0 + h, x:x + w] = np.minimum(region, 255 - ink[:, :region.shape[1]])
        x += w + rng.randrange(6, 16)
    for dx in range(0, canvas.shape[1], 9):  # the dotted line under the blank
        canvas[int(1.35 * h):int(1.35 * h) + 2, dx:dx + 3] = 60
    pad = int(0.4 * h)
    return np.pad(canvas, pad, constant_values=255), pad


def test_reader_reads_digits_written_into_a_blank():
    rng = random.Random(7)
    cases = ["".join(str(rng.randrange(10)) for _ in range(rng.choice((1, 2, 2, 3)))) for _ in range(30)]
    right = 0
    for digits in cases:
        crop, pad = _blank(digits, rng)
        read = handdigits.read_digits(crop, margin=pad)
        right += read is not None and read.text == digits  # a digit split in two or merged is a miss
    assert right >= 0.75 * len(cases), f"{right}/{len(cases)}"


def test_nothing_to_read():
    assert handdigits.read_digits(np.full((80, 120), 250, np.uint8)) is None
    assert handdigits.read_digits(np.zeros((0, 0), np.uint8)) is None


def test_a_last_digit_that_reaches_the_crops_edge_is_read_a_cut_slash_is_not():
    """The crop ends where the next printed word starts: a pen's last digit may reach that edge (a 5's flag
    under "tháng") and is read; a thin glyph cut by the edge (the code's "/") is still left out."""
    rng = random.Random(3)
    right = 0
    for digits in ("15", "25", "40", "37", "05", "12"):
        crop, pad = _blank(digits, rng)
        above_line = crop[pad:pad + int(1.3 * 60)]  # the digits, above the dotted line (`_blank`: h = 60)
        ink = np.nonzero((above_line < 128).any(axis=0))[0]
        tight = crop[pad:-pad, pad:ink.max() + 1]  # the cut region ends on the last digit's ink
        read = handdigits.read_digits(np.pad(tight, pad, constant_values=255), margin=pad)
        right += read is not None and read.text == digits
        slash = np.pad(tight, ((0, 0), (0, 40)), constant_values=235)
        h = slash.shape[0]
        cv2.line(slash, (slash.shape[1] - 12, int(0.85 * h)), (slash.shape[1] + 4, int(0.2 * h)), 20, 4)
        pieces = handdigits.segment(handdigits.ink_mask(np.pad(slash, pad, constant_values=255)), pad)
        assert len(pieces) == len(digits), digits  # the slash cut by the edge is no digit
    assert right >= 5, right


def test_a_flag_written_apart_joins_its_digit():
    """A 5 written in two strokes (its flag lifted off the body) is one digit, not a digit and a speck."""
    mask = np.zeros((90, 80), np.uint8)
    cv2.line(mask, (30, 18), (27, 46), 1, 5)  # the 5's stem
    cv2.line(mask, (27, 46), (38, 44), 1, 5)
    cv2.ellipse(mask, (38, 60), (16, 16), 0, -90, 160, 1, 5)  # its belly
    cv2.line(mask, (40, 13), (62, 11), 1, 5)  # the flag, lifted off the stem
    assert cv2.connectedComponents(mask)[0] == 3  # paper, body, flag
    pieces = handdigits.segment(mask)
    assert len(pieces) == 1
    assert pieces[0].sum() == mask.sum()


def _touching(digits: str, rng: random.Random) -> tuple[np.ndarray, int]:
    """Held-out MNIST digits written each into the next (their ink overlapping by a few columns: one pen
    stroke, as a 5's flag runs into a 7's bar), in a padded crop as `pipeline.ocr.blanks` cuts it."""
    h, pool = 60, held_out_digits()
    inks = []
    for c in digits:
        d = pool[int(c)][rng.randrange(len(pool[int(c)]))]
        ys, xs = np.nonzero(d > 30)
        g = d[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
        inks.append(cv2.resize(g, (max(1, round(g.shape[1] * h / g.shape[0])), h), interpolation=cv2.INTER_LINEAR))
    canvas = np.full((int(1.7 * h), sum(g.shape[1] for g in inks) + 80), 235, np.uint8)
    x = 30
    for g in inks:
        region = canvas[int(0.3 * h):int(1.3 * h), x:x + g.shape[1]]
        region[:] = np.minimum(region, 255 - g)
        x += g.shape[1] - 3
    pad = int(0.4 * h)
    return np.pad(canvas, pad, constant_values=255), pad


def test_halves_that_read_far_better_are_two_digits_even_near_certainty():
    assert handdigits.halves_read_better(0.79, 0.98, 0.99)  # a doubtful 8 that is a sure 5 and 7
    assert handdigits.halves_read_better(0.5, 0.71, 0.71)  # the margin in probability still holds
    assert not handdigits.halves_read_better(0.80, 0.77, 0.93)  # a 4 cut: hardly better
    assert not handdigits.halves_read_better(0.95, 0.97, 0.97)
    assert not handdigits.halves_read_better(1.0, 1.0, 1.0)


def test_touching_digits_are_cut_more_often_single_ones_no_more(monkeypatch):
    """Two MNIST digits joined into one pen stroke: the odds rule reads more of them as the two digits
    than the margin in probability alone did, and cuts no more single digits in two."""
    def run() -> tuple[int, int]:
        rng, pairs = random.Random(11), 0
        for _ in range(60):
            digits = f"{rng.randrange(10)}{rng.randrange(10)}"
            crop, pad = _touching(digits, rng)
            read = handdigits.read_digits(crop, margin=pad)
            pairs += read is not None and read.text == digits
        rng, singles = random.Random(5), 0
        for _ in range(100):
            crop, pad = _touching(str(rng.randrange(10)), rng)
            read = handdigits.read_digits(crop, margin=pad)
            singles += read is not None and len(read.text) == 1
        return pairs, singles

    pairs, singles = run()
    monkeypatch.setattr(handdigits, "SPLIT_ODDS", float("inf"))  # the margin in probability alone
    pairs_before, singles_before = run()
    assert pairs >= pairs_before + 3, (pairs, pairs_before)
    assert singles >= singles_before, (singles, singles_before)
