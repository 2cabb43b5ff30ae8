"""Does an avatar show the school's emblem? Perceptual hashes, several of them.

An impersonator's avatar is the emblem resized, re-encoded as JPEG, recoloured or greyed,
slightly rotated, cropped to a circle or padded with a border. Each of those moves a single
hash a little; so every logo is hashed in several variants (small rotations, centre crops,
border trimmed) with two hashes that fail differently (pHash: frequency structure; dHash:
gradients). dHash proved the steadier of the two on the generated test set
(benchmarks/logo_eval.py), so it carries the threshold and pHash must agree within twice it.
"""

from __future__ import annotations

import io
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path

import imagehash
from PIL import Image, ImageChops, ImageOps

from watcher.matching import tablecache

ROTATIONS = (-10, -5, 0, 5, 10)
CROPS = (1.0, 0.9, 0.8)


# The most pixels an avatar may have: platforms serve avatars at ≤ 1080×1080 and covers at
# ≤ 2560×1440. A PNG of one colour compresses ~1000:1, so a 170 KB "avatar" (under the download
# cap) declared 12000×12000 and took 2.1 GB to decode; above 179M pixels Pillow raised its own
# DecompressionBombError out of judging. The size is read from the header, before decoding.
AVATAR_MAX_PIXELS = 4096 * 4096


def open_image(source: str | Path | bytes, max_pixels: int | None = AVATAR_MAX_PIXELS) -> Image.Image:
    """The image at ``source``, opened but not decoded; :class:`ValueError` (Chinese) for one
    larger than ``max_pixels``, :class:`OSError` for a file that is not an image."""
    try:
        with warnings.catch_warnings():  # Pillow's own warning names a Python class on stderr; ours follows
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(source) if isinstance(source, bytes) else source)
    except Image.DecompressionBombError:
        raise ValueError("图片尺寸过大（疑似解压炸弹），未解码") from None
    if max_pixels is not None and img.width * img.height > max_pixels:
        img.close()
        raise ValueError(f"图片尺寸过大（{img.width}×{img.height} 像素），未解码")
    return img


def load_image(source: str | Path | bytes | Image.Image, max_pixels: int | None = AVATAR_MAX_PIXELS) -> Image.Image:
    img = source if isinstance(source, Image.Image) else open_image(source, max_pixels)
    img.load()
    if img.mode in ("RGBA", "LA", "P"):
        rgba = img.convert("RGBA")
        flat = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        flat.alpha_composite(rgba)
        img = flat
    return img.convert("RGB")


def trim_border(img: Image.Image, tolerance: int = 24, rounds: int = 3) -> Image.Image:
    """Cut uniform frames (the colour of the corner pixel) around the picture; a coloured
    border around a white margin takes two rounds."""
    for _ in range(rounds):
        trimmed = _trim_once(img, tolerance)
        if trimmed.size == img.size:
            break
        img = trimmed
    return img


def _trim_once(img: Image.Image, tolerance: int) -> Image.Image:
    bg = Image.new(img.mode, img.size, img.getpixel((0, 0)))
    diff = ImageChops.difference(img, bg).convert("L").point(lambda v: 255 if v > tolerance else 0)
    box = diff.getbbox()
    if not box or (box[2] - box[0]) < img.width * 0.3 or (box[3] - box[1]) < img.height * 0.3:
        return img
    return img.crop(box)


def _square(img: Image.Image) -> Image.Image:
    side = min(img.size)
    return ImageOps.fit(img, (side, side), centering=(0.5, 0.5))


def _centre_crop(img: Image.Image, frac: float) -> Image.Image:
    if frac >= 1.0:
        return img
    w, h = img.size
    dw, dh = int(w * (1 - frac) / 2), int(h * (1 - frac) / 2)
    return img.crop((dw, dh, w - dw, h - dh))


@dataclass(frozen=True)
class HashPair:
    phash: imagehash.ImageHash
    dhash: imagehash.ImageHash

    @classmethod
    def of(cls, img: Image.Image) -> HashPair:
        grey = ImageOps.autocontrast(img.convert("L"))
        return cls(imagehash.phash(grey), imagehash.dhash(grey))


def _variant_hashes(path: str | Path) -> list[list[str]]:
    """Each rotation and centre crop of one logo file, as (pHash, dHash) in hex."""
    out = []
    base = _square(trim_border(load_image(path, None)))  # the school's own files: any size
    for angle in ROTATIONS:
        rotated = base.rotate(angle, resample=Image.BICUBIC, fillcolor=(255, 255, 255)) if angle else base
        for frac in CROPS:
            pair = HashPair.of(_centre_crop(rotated, frac))
            out.append([str(pair.phash), str(pair.dhash)])
    return out


@dataclass(frozen=True)
class LogoHit:
    logo: str
    distance: int        # pHash bits differing (of 64)
    dhash_distance: int  # dHash bits differing (of 64)


class LogoMatcher:
    def __init__(self, logos: list[str | Path], max_distance: int = 10) -> None:
        self.max_distance = max_distance
        self.variants: list[tuple[str, HashPair]] = []
        # What the hashes depend on besides the file: the libraries and this module's code.
        made_by = f"{tablecache.version('imagehash')} {tablecache.version('pillow')} {tablecache.code_key(sys.modules[__name__])}"
        for path in logos:
            key = f"{made_by} {tablecache.file_key(path)}"
            for ph, dh in tablecache.cached("logo", key, lambda p=path: _variant_hashes(p)):
                self.variants.append((Path(path).name, HashPair(imagehash.hex_to_hash(ph), imagehash.hex_to_hash(dh))))

    def __bool__(self) -> bool:
        return bool(self.variants)

    def _avatar_hashes(self, img: Image.Image) -> list[HashPair]:
        trimmed = _square(trim_border(img))
        return [HashPair.of(trimmed), HashPair.of(_square(img))]

    def best(self, avatar: str | Path | bytes | Image.Image) -> LogoHit | None:
        """The closest logo variant, whether or not it is within the threshold."""
        if not self.variants:
            return None
        best: LogoHit | None = None
        for h in self._avatar_hashes(load_image(avatar)):
            for name, v in self.variants:
                d, dd = int(h.phash - v.phash), int(h.dhash - v.dhash)
                if best is None or (dd, d) < (best.dhash_distance, best.distance):
                    best = LogoHit(name, d, dd)
        return best

    def match(self, avatar: str | Path | bytes | Image.Image) -> LogoHit | None:
        hit = self.best(avatar)
        if hit and hit.dhash_distance <= self.max_distance and hit.distance <= 2 * self.max_distance + 2:
            return hit
        return None
