"""The page cleaning chain: one decoded page in, its OCR image and its display image out.

    pixels ─ normalise ─ photo? ─ analyse (~150 dpi) ─ border ─ blank? ─ orientation ─ deskew ─┬─ display (faithful)
                                                                                      └─ background ─ stamps ─ rules
                                                                                         ─ leaders ─ check boxes ─ signatures
                                                                                         ─ despeckle ─ upscale ─ OCR

`clean_page` analyses the page, drops a blank one and turns it upright and straight; then `CHAIN`,
a list of step functions (`border_step`, `background_step`, … each taking the page's `Work`), cleans
the OCR image. The steps call small pure functions (`pipeline.imaging.analysis`,
`pipeline.imaging.clean_tone`, `pipeline.imaging.clean_lines`), are switchable in the `cleaning:`
settings, and do nothing on a page that does not need them. The steps that acted are recorded in `PreparedPage.steps` (the manifest's
`Page.cleaning`). The OCR image is grey, upright, straight, at least `min_ocr_dpi` (more when the
print is small); the display image is the scan itself (colour kept when there is colour), upright and straight, at 200 dpi or
more — or, with `pdf_image: cleaned`, the OCR image.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

import cv2
import numpy as np

from pipeline.imaging import clean_lines, clean_scribbles, clean_tone, photo
from pipeline.imaging.analysis import (
    Analysis,
    analyse,
    colour_ink_mask,
    find_geometry,
    is_blank_analysis,
    is_grayish,
    paper_white_balance,
    remove_border,
    rescale,
    resize_to,
    rotate_quadrant,
    rotate_small,
    rotate_small_box,
    text_mask,
    to_gray,
)
from pipeline.settings import CleaningSettings

DISPLAY_MIN_DPI = 200
MIN_SIDE_PX = 16  # an image smaller than this holds no readable text
SMALL_XHEIGHT_PX = 12  # text whose x-height band is under this (OCR pixels) is upscaled (13-15 px read worse upscaled) ...
TARGET_XHEIGHT_PX = 24  # ... to this, the OCR image being at most MAX_OCR_FACTOR times the source
MAX_OCR_FACTOR = 3.0
MAX_UPSCALED_PIXELS = 80_000_000  # upscaled OCR and display images stay under this (memory: issue 13)
SPECKLE_PER_CM2 = 0.6  # specks per cm² of margin above which the page is despeckled
NOISE_SIGMA = 6.0  # paper grain (grey levels) above which the page is median-filtered

Osd = Callable[[np.ndarray, float], "tuple[int, float] | None"]


@dataclass
class PreparedPage:
    ocr: np.ndarray | None  # grey uint8, None for a blank page
    ocr_dpi: float
    display: np.ndarray | None  # RGB or grey uint8 (None when not asked for: `clean_page(display=False)`)
    display_dpi: float
    rotation: int  # 0/90/180/270: clockwise turn of the content in the input, undone here
    skew_deg: float  # clockwise skew of the content in the input, undone here
    blank: bool
    steps: list[str] = field(default_factory=list)
    psm: int | None = None  # page segmentation mode the layout asks for (None: the configured one)
    warnings: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)


def normalise_pixels(pixels: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """uint8 grey or RGB from whatever array a decoder gave (16-bit, float, alpha, one channel)."""
    warnings: list[str] = []
    arr = np.asarray(pixels)
    if arr.size == 0 or arr.ndim not in (2, 3):
        raise ValueError(f"not a page image: array of shape {arr.shape}")
    if arr.ndim == 3 and arr.shape[2] not in (1, 2, 3, 4):
        raise ValueError(f"not a page image: {arr.shape[2]} channels")
    if arr.dtype == bool:
        arr = arr.astype(np.uint8) * 255
    elif arr.dtype != np.uint8:
        a = arr.astype(np.float64)
        lo, hi = float(np.nanmin(a)), float(np.nanmax(a))
        if np.issubdtype(arr.dtype, np.integer) and lo >= 0 and hi <= 255:
            arr = a.astype(np.uint8)
        else:
            scale = 255.0 / (hi - lo) if hi > lo else 0.0
            arr = np.nan_to_num((a - lo) * scale).clip(0, 255).astype(np.uint8)
            warnings.append(f"{pixels.dtype} pixels rescaled to 8 bits")
    if arr.ndim == 3:
        if arr.shape[2] == 1:
            arr = arr[:, :, 0]
        elif arr.shape[2] == 2:  # grey + alpha: on white paper
            a = arr[:, :, 1].astype(np.float32) / 255.0
            arr = (arr[:, :, 0] * a + 255.0 * (1.0 - a)).astype(np.uint8)
        elif arr.shape[2] == 4:
            a = arr[:, :, 3:4].astype(np.float32) / 255.0
            arr = (arr[:, :, :3] * a + 255.0 * (1.0 - a)).astype(np.uint8)
    return np.ascontiguousarray(arr), warnings


def _display_dpi(dpi: float, max_dpi: float, pixels: int = 0) -> float:
    ddpi = max(min(dpi, max_dpi), min(DISPLAY_MIN_DPI, max_dpi))
    return min(ddpi, _upscale_cap(dpi, pixels)) if ddpi > dpi else ddpi


def _upscale_cap(dpi: float, pixels: int) -> float:
    """The highest dpi a page of `pixels` at `dpi` may be upscaled to (never under `dpi`)."""
    if pixels <= 0:
        return float("inf")
    return max(dpi, dpi * (MAX_UPSCALED_PIXELS / pixels) ** 0.5)


def _blank_result(display: np.ndarray, dpi: float, max_dpi: float, steps: list[str], warnings: list[str],
                  t0: float) -> PreparedPage:
    ddpi = _display_dpi(dpi, max_dpi, display.shape[0] * display.shape[1])
    return PreparedPage(None, dpi, rescale(display, ddpi / dpi), ddpi, 0, 0.0, True, [*steps, "blank"],
                        warnings=warnings, seconds={"clean": time.perf_counter() - t0})


def letter_height(an: Analysis) -> float | None:
    """The commonest height among letter-sized blobs, analysis pixels (None: too few letters)."""
    b = an.text_comps.boxes if an.text_comps is not None else an.components().boxes
    h = np.minimum(b[:, 3], b[:, 2] * 2) if len(b) else np.zeros(0)  # sideways: the short side
    letters = h[(h >= 0.6 * an.mm) & (h <= 4 * an.mm)] if len(b) else h
    if len(letters) < 40:
        return None
    hist = np.convolve(np.bincount(letters.astype(np.int64)), [1, 2, 1], mode="same")
    return float(np.argmax(hist))


def _sample(img: np.ndarray, n: int = 300) -> np.ndarray:
    """A strided view with about n x n pixels, for cheap percentiles."""
    step = max(1, max(img.shape[:2]) // n)
    return img[::step, ::step]


@dataclass
class Work:
    """One page on its way through the chain, upright and straight: what the steps read and change."""

    cfg: CleaningSettings
    dpi: float
    an: Analysis  # the ~150 dpi analysis of the upright page
    ocr: np.ndarray  # the OCR image being cleaned (grey, full resolution)
    colour: Callable[[tuple[int, int, int, int]], np.ndarray] | None  # the upright colour page in a box of
    # the OCR image (x0, y0, x1, y1); None for a grey page
    rgb_small: np.ndarray | None
    colour_boxes: np.ndarray  # 0/1 mask of coloured ink (stamps, signatures) on the analysis view, not yet turned
    small: np.ndarray  # the analysis view, upright and straight
    bg_small: np.ndarray  # its paper background estimate
    paper: int  # the paper's grey level
    geom: Callable[[np.ndarray, object], np.ndarray]  # deskews an image of the page as it came
    x_height: float | None
    steps: list[str]
    normalised: bool = False
    psm: int | None = None
    factor: float = 1.0  # OCR image size / page size (small print read larger)


Step = Callable[[Work], None]


def border_step(w: Work) -> None:
    """The scanner border and the first millimetres of paper beside it (its shadow): never text."""
    an = w.an
    if an.border is None:
        return
    grown = cv2.dilate(an.border, cv2.getStructuringElement(cv2.MORPH_RECT, (round(4 * an.mm) | 1,) * 2))
    border = resize_to(w.geom(grown, 0), w.ocr.shape, cv2.INTER_NEAREST)
    w.ocr = w.ocr.copy()
    w.ocr[border > 0] = w.paper if w.cfg.background else 255


def background_step(w: Work) -> None:
    """Shadows, yellowed paper, a grey photocopy background -> white (divided by its estimate)."""
    an = w.an
    if not w.cfg.background:
        return
    if clean_tone.background_needs_work(w.bg_small):
        if an.shadow is not None:  # the shadow the paper edge casts beside the border is background too
            w.bg_small = cv2.min(w.bg_small, w.geom(an.shadow, 255))
        w.ocr = clean_tone.normalise_background(w.ocr, w.bg_small)
        w.steps.append("background")
        w.normalised = True
    elif an.shadow is not None:  # that shadow alone: the rest of the page is left as it is
        w.bg_small = w.geom(an.shadow, 255)
        w.ocr = clean_tone.normalise_background(w.ocr, w.bg_small)
        w.normalised = True


def stamps_step(w: Work) -> None:
    """Red and blue stamps and signatures faded out of the OCR image, black ink kept."""
    if not w.cfg.stamps or w.colour is None or w.rgb_small is None or not w.colour_boxes.any():
        return
    f = w.an.sdpi / w.dpi
    # the stamp boxes found before the turn, turned: their bounding boxes in the OCR image
    turned, _ = cv2.findContours(w.geom(w.colour_boxes, 0), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    boxes = [(x, y, x + bw, y + bh) for x, y, bw, bh in (cv2.boundingRect(c) for c in turned)]
    if boxes:
        full = [(max(0, int(x0 / f)), max(0, int(y0 / f)), min(w.ocr.shape[1], int(x1 / f) + 1),
                 min(w.ocr.shape[0], int(y1 / f) + 1)) for x0, y0, x1, y1 in boxes]
        w.ocr = clean_tone.suppress_colour_ink(w.ocr, w.colour, full, paper_white_balance(w.rgb_small), w.dpi)
        w.steps.append("stamps")


def furniture_step(w: Work) -> None:
    """Form furniture found on the small view: table rules (a ruled table is read row by row),
    dotted leaders, check boxes."""
    cfg = w.cfg
    if not (cfg.rules or cfg.leaders or cfg.checkboxes):
        return
    view_gray = clean_tone.normalise_background(w.small, w.bg_small) if w.normalised else w.small
    view = clean_lines.furniture_view(view_gray, w.an.sdpi, factor=w.an.sdpi / w.dpi)
    if cfg.rules:
        hl, vl = clean_lines.find_rules(view)
        if hl or (vl and cfg.rules_vertical):
            w.ocr = clean_lines.remove_rules(w.ocr, view, vertical=cfg.rules_vertical)
            w.steps.append("rules")
            if clean_lines.is_table(view):
                w.psm = cfg.table_psm
                w.steps.append(f"table:psm{w.psm}")
    if cfg.leaders or cfg.checkboxes:
        m = clean_lines.marks(view)
        if cfg.leaders:
            runs = clean_lines.find_leaders(view, m)
            if runs:
                w.ocr = clean_lines.erase_leaders(w.ocr, view, runs)
                w.steps.append("leaders")
        if cfg.checkboxes:
            cbs = clean_lines.find_checkboxes(view, m)
            if cbs:
                w.ocr = clean_lines.erase_boxes(w.ocr, view, cbs, 0.3)
                w.steps.append("checkboxes")


def signatures_step(w: Work) -> None:
    """Signatures are not text, and read as a few garbage characters or not depending on a few pixels."""
    if w.cfg.signatures:
        found = clean_scribbles.find_scribbles(w.ocr, w.dpi)
        if found is not None:
            w.ocr = clean_scribbles.erase_scribbles(w.ocr, found)
            w.steps.append("signatures")


def grain_step(w: Work) -> None:
    """Sensor grain (median, keeping thin tone marks at low dpi), the paper flattened, isolated specks."""
    cfg = w.cfg
    if cfg.denoise and clean_tone.noise_sigma(w.ocr) > NOISE_SIGMA:
        w.ocr = clean_tone.denoise(w.ocr, w.dpi)
        w.steps.append("denoise")
    if cfg.background and {"border", "background", "denoise", "photo", "photo:card"} & set(w.steps):
        w.ocr = clean_tone.flatten_paper(w.ocr)
    if cfg.despeckle and clean_tone.speckle_density(w.ocr, w.dpi) > SPECKLE_PER_CM2:
        w.ocr, n = clean_tone.despeckle(w.ocr, w.dpi)
        if n:
            w.steps.append("despeckle")


def resolution_step(w: Work) -> None:
    """Low-resolution pages (when asked) and small print read larger; Otsu black and white when asked."""
    cfg = w.cfg
    factor = 1.0
    if cfg.upscale and w.dpi < cfg.min_ocr_dpi * 0.95:
        factor = cfg.min_ocr_dpi / w.dpi
        w.steps.append("upscale")
    if cfg.small_text and w.x_height:
        # small only if both the lines' x-height band and the letters' own height say so (a line
        # of leader dots, or copier grain, can fool either one alone)
        xh = max(w.x_height, letter_height(w.an) or 0.0) * w.dpi / w.an.sdpi  # in OCR pixels
        if xh * factor < SMALL_XHEIGHT_PX:
            factor = min(MAX_OCR_FACTOR, TARGET_XHEIGHT_PX / xh)
            w.steps.append("small_text")
    factor = min(factor, _upscale_cap(w.dpi, w.ocr.size) / w.dpi)
    if factor != 1.0:
        w.ocr = cv2.resize(w.ocr, (round(w.ocr.shape[1] * factor), round(w.ocr.shape[0] * factor)),
                           interpolation=cv2.INTER_CUBIC)
    w.factor = factor
    if cfg.binarize:
        w.ocr = clean_tone.binarize(w.ocr)
        w.steps.append("binarize")


# The chain after the page is upright and straight, in order. Each step is switchable in the settings
# and does nothing to a page that does not need it.
CHAIN: tuple[Step, ...] = (border_step, background_step, stamps_step, furniture_step, signatures_step,
                           grain_step, resolution_step)


def clean_page(pixels: np.ndarray, dpi: float, cfg: CleaningSettings | None = None, *, osd: Osd | None = None,
               display_max_dpi: float = 300, chain: tuple[Step, ...] = CHAIN, display: bool = True) -> PreparedPage:
    """Run the cleaning chain on one decoded page (see the module docstring): analyse, drop a blank
    page, turn it upright and straight, then each step of `chain`.

    `display=False` when the caller puts the scan's own image into the PDF (drawn upright and straight
    by the page matrix): no display image is made, and a skewed colour page is then not warped whole,
    only its grey and the colour inside its stamp boxes (a 3-channel warp of an A4 page at 300 dpi
    costs ~47 ms, its grey ~17)."""
    cfg = cfg or CleaningSettings()
    t0 = time.perf_counter()
    pixels, warnings = normalise_pixels(pixels)
    steps: list[str] = []
    if cfg.photo and min(pixels.shape[:2]) >= MIN_SIDE_PX:
        # a phone photo: the page cut out of the table, flat, evenly lit; what follows sees a scan
        flat = photo.straighten(pixels)
        if flat is not None:
            pixels, dpi = flat.pixels, flat.dpi
            steps.append("photo" if flat.paper in ("a4", "letter", "other") else f"photo:{flat.paper}")
    h, w = pixels.shape[:2]
    colour = not is_grayish(pixels)
    gray = to_gray(pixels)
    if pixels.ndim == 3 and not colour:
        steps.append("grey")
    source = pixels if colour else gray
    if min(h, w) < MIN_SIDE_PX:
        warnings.append(f"page image is only {w}x{h} pixels: treated as blank")
        return _blank_result(source, dpi, display_max_dpi, steps, warnings, t0)

    # the page at ~150 dpi: border, blank, orientation, skew
    an, rgb_small, colour_boxes = _analysis(pixels, gray, dpi, colour, cfg)
    if an.border is not None:
        steps.append("border")
    if float(_sample(an.small).mean()) < 40:
        warnings.append("page is almost entirely dark (lid open, or a negative?)")
    if cfg.blank and is_blank_analysis(an):
        return _blank_result(source, dpi, display_max_dpi, steps, warnings, t0)
    rotation, skew, x_height, t_osd = _geometry(an, gray, dpi, cfg, osd, steps)
    if rotation:
        # analysed again, turned upright (the views above were resampled on the turned grid): a
        # turned page is then cleaned exactly as the same page scanned upright
        gray = rotate_quadrant(gray, rotation)
        pixels = rotate_quadrant(pixels, rotation) if colour else gray  # a grey page's RGB is not used again
        an, rgb_small, colour_boxes = _analysis(pixels, gray, dpi, colour, cfg)
        if cfg.deskew:
            geo = find_geometry(text_mask(an), orientation=False, max_skew=cfg.max_skew_deg, mm=an.mm,
                                comps=an.text_comps)
            skew, x_height = geo.skew, geo.x_height
    if abs(skew) >= 0.1:
        steps.append("deskew")
    warp = abs(skew) >= 0.1

    def geom(img: np.ndarray, fill) -> np.ndarray:
        return rotate_small(img, skew, fill) if warp else img

    # the page upright and straight: the display image and the start of the OCR image
    paper = int(np.percentile(_sample(an.background), 90))
    upright: np.ndarray | None = None
    colour_in: Callable[[tuple[int, int, int, int]], np.ndarray] | None = None
    if colour:
        if warp:  # one warp of the colour page; the OCR image is its grey (single-threaded, a 3-channel
            # warp costs ~47 ms on an A4 page at 300 dpi, converting to RGBA and back for a 4-channel one ~70)
            paper_rgb = tuple(int(v) for v in np.percentile(_sample(pixels, 100).reshape(-1, 3), 90, axis=0))
            if display:
                upright = rotate_small(pixels, skew, paper_rgb)
                ocr = to_gray(upright)
            else:  # the grey warped, and the colour only where a step reads it
                ocr = rotate_small(gray, skew, int(to_gray(np.uint8([[paper_rgb]]))[0, 0]))
                colour_in = partial(rotate_small_box, pixels, skew, fill=paper_rgb)
        else:
            upright = pixels
            ocr = gray
        if upright is not None:
            colour_in = partial(_crop, upright)
        shown = upright
    else:
        ocr = geom(gray, paper)
        shown = ocr
    work = Work(cfg, dpi, an, ocr, colour_in, rgb_small, colour_boxes, small=geom(an.small, paper),
                bg_small=geom(an.background, paper), paper=paper, geom=geom, x_height=x_height, steps=steps)
    for step in chain:
        step(work)

    ddpi = _display_dpi(dpi, display_max_dpi, h * w)
    if not display:
        shown = None
    elif cfg.pdf_image == "cleaned":
        shown = rescale(work.ocr, ddpi / (dpi * work.factor))
    else:
        shown = rescale(shown, ddpi / dpi)
    seconds = {"clean": time.perf_counter() - t0 - t_osd}
    if t_osd:
        seconds["osd"] = t_osd
    return PreparedPage(work.ocr, dpi * work.factor, shown, ddpi, rotation, skew if warp else 0.0, False, steps,
                        psm=work.psm, warnings=warnings, seconds=seconds)


def _crop(img: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    x0, y0, x1, y1 = box
    return img[y0:y1, x0:x1]


def _analysis(pixels: np.ndarray, gray: np.ndarray, dpi: float, colour: bool,
              cfg: CleaningSettings) -> tuple[Analysis, np.ndarray | None, np.ndarray]:
    """The page at ~150 dpi with the scanner border painted out and coloured stamps and signatures
    left out of its ink: (analysis, its RGB view or None, 0/1 mask of the colour boxes)."""
    an = analyse(gray, dpi)
    if cfg.border:
        remove_border(an)
    rgb_small = None
    colour_boxes = np.zeros_like(an.ink)
    if colour:  # stamps and signatures are not text: keep them out of the line finding
        rgb_small = rescale(pixels, an.sdpi / dpi, fast=True)
        alpha, _ = colour_ink_mask(rgb_small, paper_white_balance(rgb_small))
        boxes = clean_tone.find_colour_ink(rgb_small, an.mm, alpha)
        for x0, y0, x1, y1 in boxes:
            colour_boxes[y0:y1, x0:x1] = 1
        if boxes:
            coloured = cv2.threshold(alpha, 127, 1, cv2.THRESH_BINARY)[1]
            keep = np.ones_like(an.ink)
            for x0, y0, x1, y1 in boxes:
                keep[y0:y1, x0:x1] = 1 - coloured[y0:y1, x0:x1]
            an.ink = cv2.bitwise_and(an.ink, keep)
            an.comps = None
    return an, rgb_small, colour_boxes


def _geometry(an: Analysis, gray: np.ndarray, dpi: float, cfg: CleaningSettings, osd: Osd | None,
              steps: list[str]) -> tuple[int, float, float | None, float]:
    """(rotation, skew, x-height in analysis pixels, seconds spent in OSD): the ink heuristic, and
    Tesseract OSD when it is unsure."""
    mask = text_mask(an)
    max_skew = cfg.max_skew_deg if cfg.deskew else 0.0
    geo = find_geometry(mask, orientation=cfg.orientation, max_skew=max_skew, mm=an.mm, comps=an.text_comps)
    rotation, skew = geo.rotation, geo.skew
    t_osd = 0.0
    if cfg.orientation and cfg.orientation_osd and osd is not None and geo.confidence < cfg.osd_below:
        t1 = time.perf_counter()
        # the text area only (a quarter inch around it): a sparse page costs a fraction of a full one
        x, y, bw, bh = cv2.boundingRect(mask)
        f, m = dpi / an.sdpi, round(dpi / 4)
        crop = gray[max(0, round(y * f) - m) : round((y + bh) * f) + m, max(0, round(x * f) - m) : round((x + bw) * f) + m]
        found = osd(np.ascontiguousarray(crop), dpi)
        t_osd = time.perf_counter() - t1
        steps.append("osd")
        if found is not None and found[0] != rotation:
            rotation = found[0]
    if not cfg.deskew:
        skew = 0.0
    if rotation:
        steps.append(f"rotate{rotation}")
    return rotation, skew, geo.x_height, t_osd
