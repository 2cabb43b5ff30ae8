"""Make a printed report's text searchable as people type it.

Chromium's PDF writer tells readers which characters a glyph stands for in each font's
``/ToUnicode`` map, built from the font's own character map. CJK fonts such as Noto Sans CJK
and Source Han Sans draw 工 (U+5DE5) and the Kangxi radical ⼯ (U+2F2F) with one glyph, and the
map then names the radical: the page shows 北京理工大学, copying it gives 北京理⼯⼤学 and a
search for 工 or 大 finds nothing. Kangxi radicals and compatibility ideographs decompose to the
ideograph (NFKC); the CJK Radicals Supplement (⻓ for 长) does not, and is looked up in a table
read from the font. This module rewrites every destination of the maps that way — only in the
radical and compatibility-ideograph blocks, nothing else changes — and saves the PDF.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pikepdf

# Blocks whose characters are drawn like ordinary ideographs but are other code points.
_BLOCKS = ((0x2E80, 0x2EFF), (0x2F00, 0x2FDF), (0xF900, 0xFAFF), (0x2F800, 0x2FA1F))
# Radicals without a compatibility decomposition (CJK Radicals Supplement), and ⼾, whose NFKC is
# the traditional 戶: pairs of radical and the ideograph Noto Sans CJK SC (Regular and Bold) draws
# with the same glyph, read from the fonts' character maps (Debian fonts-noto-cjk 20220127).
_SHARED = dict(zip(*[iter(
    "⺂乛⺃乚⺅亻⺇𠘨⺉刂⺋㔾⺍𭕄⺏尣⺐尢⺒巳⺓幺⺔彑⺕彐⺖忄⺘扌⺙攵⺛旡⺞歺⺟母⺠民⺡氵⺣灬⺤爫⺦丬⺨犭⺩𤣩⺭礻⺮𥫗"
    "⺯糹⺰纟⺱罓⺳㓁⺹耂⺺肀⺽𦥑⺾艹⻂衤⻅见⻆角⻇𧢲⻈讠⻉贝⻊𧾷⻋车⻌辶⻐钅⻑長⻒镸⻓长⻔门⻕𨸏⻖阝⻘青⻙韦"
    "⻚页⻛风⻜飞⻝食⻞𩙿⻟飠⻠饣⻡𩠐⻢马⻣骨⻤鬼⻥鱼⻦鸟⻧卤⻨麦⻩黄⻪黾⻫斉⻬齐⻮齿⻯竜⻰龙⻱龜⻲亀⻳龟⼾户")] * 2,
    strict=True))
_HEX = re.compile(rb"<([0-9A-Fa-f]+)>")


def normal(text: str) -> str:
    """``text`` with radicals and compatibility ideographs replaced by the unified ideograph."""
    return "".join(_normal_char(c) for c in text)


def _normal_char(c: str) -> str:
    if not any(lo <= ord(c) <= hi for lo, hi in _BLOCKS):
        return c
    if c in _SHARED:
        return _SHARED[c]
    n = unicodedata.normalize("NFKC", c)
    return n if len(n) == 1 else c


def _utf16(hex_text: bytes) -> str:
    return bytes.fromhex(hex_text.decode()).decode("utf-16-be", "replace")


def _hex(text: str) -> str:
    return text.encode("utf-16-be").hex().upper()


def parse_cmap(data: bytes) -> tuple[list[bytes], dict[bytes, str]]:
    """A ToUnicode CMap as (code space lines, source code (hex) → text)."""
    spaces = re.findall(rb"begincodespacerange\s*(.*?)\s*endcodespacerange", data, re.S)
    mapping: dict[bytes, str] = {}
    for block in re.findall(rb"beginbfchar\s*(.*?)\s*endbfchar", data, re.S):
        codes = _HEX.findall(block)
        for src, dst in zip(codes[0::2], codes[1::2], strict=False):
            mapping[src.upper()] = _utf16(dst)
    for block in re.findall(rb"beginbfrange\s*(.*?)\s*endbfrange", data, re.S):
        for m in re.finditer(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*(\[[^\]]*\]|<[0-9A-Fa-f]+>)", block):
            lo, hi, dst = int(m[1], 16), int(m[2], 16), m[3]
            width = len(m[1])
            if dst.startswith(b"["):
                targets = [_utf16(h) for h in _HEX.findall(dst)]
            else:
                first = _utf16(dst[1:-1])
                # a range increments the last character of its first destination
                targets = [first[:-1] + chr(ord(first[-1]) + i) for i in range(hi - lo + 1)] if first else []
            for i, text in enumerate(targets[: hi - lo + 1]):
                mapping[f"{lo + i:0{width}X}".encode()] = text
    return spaces, mapping


def build_cmap(spaces: list[bytes], mapping: dict[bytes, str]) -> bytes:
    lines = [b"/CIDInit /ProcSet findresource begin", b"12 dict begin", b"begincmap",
             b"/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def",
             b"/CMapName /Adobe-Identity-UCS def", b"/CMapType 2 def"]
    for space in spaces:
        count = len(_HEX.findall(space)) // 2
        lines += [f"{count} begincodespacerange".encode(), space, b"endcodespacerange"]
    items = sorted(mapping.items(), key=lambda kv: int(kv[0], 16))
    for start in range(0, len(items), 100):  # at most 100 entries a block (PDF reference 5.9.2)
        chunk = items[start:start + 100]
        lines.append(f"{len(chunk)} beginbfchar".encode())
        lines += [b"<" + src + b"> <" + _hex(text).encode() + b">" for src, text in chunk]
        lines.append(b"endbfchar")
    lines += [b"endcmap", b"CMapName currentdict /CMap defineresource pop", b"end", b"end"]
    return b"\n".join(lines) + b"\n"


def fix_text_mapping(path: Path) -> int:
    """Rewrite the ToUnicode maps of ``path`` in place; returns how many glyph mappings changed."""
    changed = 0
    with pikepdf.open(path, allow_overwriting_input=True) as pdf:
        for obj in pdf.objects:
            if not isinstance(obj, pikepdf.Dictionary) or obj.get("/Type") != "/Font":
                continue
            stream = obj.get("/ToUnicode")
            if not isinstance(stream, pikepdf.Stream):
                continue
            spaces, mapping = parse_cmap(stream.read_bytes())
            fixed = {src: normal(text) for src, text in mapping.items()}
            n = sum(fixed[src] != text for src, text in mapping.items())
            if n:
                stream.write(build_cmap(spaces, fixed))
                changed += n
        if changed:
            pdf.save(path)
    return changed
