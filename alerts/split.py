"""Split a long message to a channel's size limit, on line boundaries where possible."""

from __future__ import annotations

# Bytes of UTF-8 each channel accepts in one message (documented limits, with a margin).
LIMITS: dict[str, int] = {
    "wecom": 4000,        # markdown content ≤ 4096 bytes
    "dingtalk": 18000,    # markdown text ≤ 20000 bytes
    "feishu": 28000,      # request body ≤ 30 KB
    "webhook": 60000,
    "email": 10_000_000,
}


def split_message(text: str, limit: int, *, marker: str = "（续 {i}/{n}）") -> list[str]:
    if len(text.encode()) <= limit:
        return [text]
    room = limit - len(marker.format(i=99, n=99).encode()) - 1
    parts: list[str] = []
    current = ""
    for line in text.splitlines(keepends=True):
        while len(line.encode()) > room:  # a single over-long line: cut by characters
            cut = len(line)
            while len(line[:cut].encode()) > room:
                cut = max(1, cut * room // len(line[:cut].encode()) - 1)
            if current:
                parts.append(current)
                current = ""
            parts.append(line[:cut])
            line = line[cut:]
        if len((current + line).encode()) > room:
            parts.append(current)
            current = ""
        current += line
    if current:
        parts.append(current)
    n = len(parts)
    return [p.rstrip("\n") + "\n" + marker.format(i=i, n=n) for i, p in enumerate(parts, start=1)]
