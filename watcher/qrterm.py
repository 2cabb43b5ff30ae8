"""A QR code image (a screenshot of a login page's QR) drawn in a terminal.

The image is not decoded: its module grid is measured (the top-left finder pattern is seven
modules wide) and every module sampled at its centre, so what the terminal shows is the same
code, module for module, which a phone scans as it would the page. Two rows of modules share a
line of text (upper and lower half blocks), light modules drawn as blocks and dark ones as
spaces, as ``qrencode -t UTF8`` does for the dark background of a server terminal.
"""

from __future__ import annotations

import io

from PIL import Image

QUIET = 2  # modules of light margin around the code: scanners need it
MAX_PIXELS = 40_000_000  # a screenshot larger than this is no login QR (and would cost seconds to decode)
SCAN_SIDE = 800


class NotAQrCode(ValueError):
    """The image does not look like a QR code (no finder pattern where one must be)."""


def matrix(png: bytes) -> list[list[bool]]:
    """The modules of the QR code in ``png`` (True = dark)."""
    try:
        img = Image.open(io.BytesIO(png))  # lazy: the size is read before any pixel is decoded
    except Image.DecompressionBombError:
        raise NotAQrCode("二维码图片过大，不是登录页的二维码") from None
    except OSError:
        raise NotAQrCode("截图不是可读的图片") from None
    if img.width * img.height > MAX_PIXELS:
        raise NotAQrCode(f"二维码图片过大（{img.width}×{img.height} 像素），不是登录页的二维码")
    img = img.convert("L")
    # The page decides how large its QR element is drawn; the pixel scan below is Python, so the
    # picture is brought down to a size a code's modules survive (177 modules at 4 px each).
    if max(img.size) > SCAN_SIDE:
        img.thumbnail((SCAN_SIDE, SCAN_SIDE), Image.Resampling.NEAREST)
    w, h = img.size
    px = img.load()
    dark = [[px[x, y] < 128 for x in range(w)] for y in range(h)]
    rows = [y for y in range(h) if any(dark[y])]
    cols = [x for x in range(w) if any(dark[y][x] for y in range(h))]
    if not rows or not cols:
        raise NotAQrCode("二维码图片中没有深色像素")
    x0, x1, y0, y1 = cols[0], cols[-1], rows[0], rows[-1]
    # The finder pattern's top edge: a dark run of seven modules from the top-left corner.
    probe = y0 + max(1, (y1 - y0) // 100)
    run = 0
    while x0 + run <= x1 and dark[probe][x0 + run]:
        run += 1
    if run < 7:
        raise NotAQrCode("找不到二维码的定位图案")
    size = (x1 - x0 + 1) / (run / 7)
    n = 21 + 4 * max(0, round((size - 21) / 4))  # QR versions are 21, 25, 29 … modules wide
    step_x, step_y = (x1 - x0 + 1) / n, (y1 - y0 + 1) / n
    return [[dark[min(h - 1, int(y0 + (r + 0.5) * step_y))][min(w - 1, int(x0 + (c + 0.5) * step_x))]
             for c in range(n)] for r in range(n)]


def render(modules: list[list[bool]]) -> str:
    """The code as text: two module rows a line, light modules as blocks, with a quiet zone."""
    n = len(modules)
    size = n + 2 * QUIET

    def light(r: int, c: int) -> bool:
        r, c = r - QUIET, c - QUIET
        return not (0 <= r < n and 0 <= c < n and modules[r][c])

    lines = []
    for r in range(0, size, 2):
        line = []
        for c in range(size):
            top, bottom = light(r, c), r + 1 < size and light(r + 1, c)
            line.append("█" if top and bottom else "▀" if top else "▄" if bottom else " ")
        lines.append("".join(line))
    return "\n".join(lines)

