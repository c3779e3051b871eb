"""Small real page images for tests: Vietnamese text rendered with Liberation Serif."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

FONT_DIRS = [Path("/usr/share/fonts/truetype/liberation2"), Path("/usr/share/fonts/truetype/liberation")]

LINES = [
    "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
    "Độc lập - Tự do - Hạnh phúc",
    "QUYẾT ĐỊNH",
    "Về việc cấp giấy chứng nhận quyền sử dụng đất",
    "Căn cứ Luật Tổ chức chính quyền địa phương ngày 19 tháng 6 năm 2015;",
    "Xét đề nghị của Trưởng phòng Tài nguyên và Môi trường huyện về việc cấp giấy",
    "chứng nhận quyền sử dụng đất cho hộ ông Nguyễn Văn An, thường trú tại thôn",
    "Hòa Bình, xã Cát Hải, huyện Cát Hải, thành phố Hải Phòng.",
    "Điều 1. Cấp giấy chứng nhận cho hộ ông Nguyễn Văn An, số định danh 031085001234.",
    "Điều 2. Chánh Văn phòng Ủy ban nhân dân huyện chịu trách nhiệm thi hành.",
]


def font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    name = "LiberationSerif-Bold.ttf" if bold else "LiberationSerif-Regular.ttf"
    for d in FONT_DIRS:
        if (d / name).exists():
            return ImageFont.truetype(str(d / name), size)
    raise FileNotFoundError("Liberation Serif not installed (apt-get install fonts-liberation2)")


def text_page(lines: list[str] = LINES, dpi: int = 300, pt: float = 13, repeat: int = 1) -> np.ndarray:
    """An A4 grey page with `lines` (repeated `repeat` times) at `pt` points."""
    w, h = round(8.27 * dpi), round(11.69 * dpi)
    img = Image.new("L", (w, h), 255)
    draw = ImageDraw.Draw(img)
    f = font(round(pt * dpi / 72))
    step = round(pt * dpi / 72 * 1.6)
    y = round(dpi * 0.8)
    for line in lines * repeat:
        draw.text((round(dpi * 0.8), y), line, font=f, fill=0)
        y += step
    return np.asarray(img)


def save(arr: np.ndarray, path: Path, dpi: int = 300, **kw) -> Path:
    Image.fromarray(arr).save(path, dpi=(dpi, dpi), **kw)
    return path
