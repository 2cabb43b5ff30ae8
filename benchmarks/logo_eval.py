"""Accuracy of logo matching on a generated test set.

    python benchmarks/logo_eval.py [LOGO.png]

Positives are the emblem after the transformations impersonators' avatars show (resize, JPEG,
greyscale, recolour, small rotation, crop, border, round mask); negatives are other emblems and
pictures drawn the same way. Prints the accuracy, true/false positive rates and every miss.
"""

from __future__ import annotations

import io
import math
import random
import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PIL import Image, ImageDraw, ImageOps  # noqa: E402

from watcher.matching.logo import LogoMatcher, load_image  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_LOGO = ROOT / "config" / "logos" / "emblem.png"


def _jpeg(img: Image.Image, quality: int) -> Image.Image:
    buf = io.BytesIO()
    img.convert("RGB").save(buf, "JPEG", quality=quality)
    return Image.open(io.BytesIO(buf.getvalue())).convert("RGB")


def _recolour(img: Image.Image) -> Image.Image:
    r, g, b = img.split()
    return Image.merge("RGB", (b, r, g))


def _border(img: Image.Image, width: int, colour: tuple[int, int, int]) -> Image.Image:
    return ImageOps.expand(img, border=width, fill=colour)


def _round(img: Image.Image) -> Image.Image:
    mask = Image.new("L", img.size, 0)
    ImageDraw.Draw(mask).ellipse((0, 0, *img.size), fill=255)
    out = Image.new("RGB", img.size, (255, 255, 255))
    out.paste(img, mask=mask)
    return out


def _crop(img: Image.Image, frac: float) -> Image.Image:
    w, h = img.size
    dw, dh = int(w * (1 - frac) / 2), int(h * (1 - frac) / 2)
    return img.crop((dw, dh, w - dw, h - dh))


TRANSFORMS: dict[str, Callable[[Image.Image], Image.Image]] = {
    "原图": lambda im: im,
    "缩小到64px": lambda im: im.resize((64, 64)),
    "放大到512px": lambda im: im.resize((512, 512)),
    "JPEG质量20": lambda im: _jpeg(im, 20),
    "灰度": lambda im: ImageOps.grayscale(im).convert("RGB"),
    "换色": _recolour,
    "反相配色": lambda im: _recolour(_recolour(im)),
    "旋转5度": lambda im: im.rotate(5, fillcolor=(255, 255, 255)),
    "旋转-8度": lambda im: im.rotate(-8, fillcolor=(255, 255, 255)),
    "裁剪90%": lambda im: _crop(im, 0.9),
    "裁剪80%": lambda im: _crop(im, 0.8),
    "白边框": lambda im: _border(im, 24, (255, 255, 255)),
    "彩色边框": lambda im: _border(im, 16, (200, 30, 30)),
    "圆形头像": _round,
    "缩小+JPEG+灰度": lambda im: _jpeg(ImageOps.grayscale(im.resize((96, 96))).convert("RGB"), 35),
    "旋转+边框+JPEG": lambda im: _jpeg(_border(im.rotate(6, fillcolor=(255, 255, 255)), 12, (255, 255, 255)), 40),
}


def other_images(seed: int = 3, count: int = 40) -> list[tuple[str, Image.Image]]:
    """Emblem-like and ordinary avatar pictures that are not the school's emblem."""
    rng = random.Random(seed)
    out = []
    for i in range(count):
        im = Image.new("RGB", (256, 256), tuple(rng.randint(150, 255) for _ in range(3)))
        d = ImageDraw.Draw(im)
        kind = i % 4
        colour = tuple(rng.randint(0, 150) for _ in range(3))
        if kind == 0:  # another round emblem
            d.ellipse((10, 10, 246, 246), outline=colour, width=rng.randint(4, 14))
            n = rng.randint(3, 8)
            pts = [(128 + 80 * math.cos(2 * math.pi * k / n + rng.random()), 128 + 80 * math.sin(2 * math.pi * k / n))
                   for k in range(n)]
            d.polygon(pts, fill=colour)
        elif kind == 1:  # shield / square badge
            d.rectangle((rng.randint(20, 60), rng.randint(20, 60), rng.randint(190, 236), rng.randint(190, 236)),
                        outline=colour, width=8)
            d.line((30, 220, 220, 40), fill=colour, width=rng.randint(5, 20))
        elif kind == 2:  # blobs like a photo
            for _ in range(12):
                x, y, r = rng.randint(0, 256), rng.randint(0, 256), rng.randint(10, 70)
                d.ellipse((x - r, y - r, x + r, y + r), fill=tuple(rng.randint(0, 255) for _ in range(3)))
        else:  # stripes and text-like marks
            for k in range(0, 256, rng.randint(12, 30)):
                d.rectangle((k, 0, k + rng.randint(3, 10), 256), fill=colour)
            d.text((40, 110), f"LOGO {i}", fill=(0, 0, 0))
        out.append((f"其他图片{i}（类型{kind}）", im))
    return out


def evaluate(logo: Path = DEFAULT_LOGO, max_distance: int = 10) -> dict:
    matcher = LogoMatcher([logo], max_distance)
    emblem = load_image(logo)
    positives = [(name, t(emblem)) for name, t in TRANSFORMS.items()]
    negatives = other_images()
    misses = []
    tp = sum(1 for name, im in positives if matcher.match(im) or misses.append(("漏检", name, matcher.best(im))))
    fp = 0
    for name, im in negatives:
        if matcher.match(im):
            fp += 1
            misses.append(("误报", name, matcher.best(im)))
    total = len(positives) + len(negatives)
    return {"positives": len(positives), "negatives": len(negatives), "tp": tp, "fp": fp,
            "accuracy": (tp + len(negatives) - fp) / total, "misses": misses}


def main() -> None:
    logo = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_LOGO
    r = evaluate(logo)
    for kind, name, best in r["misses"]:
        print(f"{kind}: {name}（最近距离 pHash {best.distance if best else '-'}，dHash {best.dhash_distance if best else '-'}）")
    print(f"校徽变换 {r['positives']} 张，其他图片 {r['negatives']} 张")
    print(f"检出 {r['tp']}/{r['positives']}，误报 {r['fp']}/{r['negatives']}，准确率 {r['accuracy']:.3f}")


if __name__ == "__main__":
    main()
