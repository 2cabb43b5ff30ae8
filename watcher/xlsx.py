"""Saving the workbooks people open (exports, reports, briefs) with every cell as the value it is.

openpyxl stores any string that starts with ``=`` as a formula. Account names, titles and post
texts come from the platforms, so an impersonator named ``=HYPERLINK("http://evil.example","北理工官方")``
would arrive in a reviewer's Excel as a live formula (a clickable link, or worse with DDE). None of
our workbooks writes a formula on purpose: every formula cell is turned back into the text it was.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from io import BytesIO
from pathlib import Path
from typing import Any

from openpyxl import Workbook

from watcher.cleaning import printable

# What one cell of Excel holds; a longer text is cut (Excel would refuse the file otherwise).
CELL_MAX = 32_767


def cells(values: Iterable[Any]) -> list[Any]:
    """One row's values as cells openpyxl can write: text from the platforms with its control
    characters shown as ``\\u001b``-style escapes (openpyxl refuses ESC, BEL, \\x01 … and the
    whole export failed), capped at :data:`CELL_MAX`; anything that is not a number, a date or
    text written as its text."""
    out = []
    for v in values:
        if v is None or isinstance(v, (bool, int, float, date, datetime)):
            out.append(v)
            continue
        text = printable(v if isinstance(v, str) else str(v))
        out.append(text[:CELL_MAX])
    return out


def as_text(wb: Workbook) -> Workbook:
    """``wb`` with every cell openpyxl took for a formula kept as its text."""
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    cell.data_type = "s"
    return wb


def save(wb: Workbook, target: Path | str | BytesIO) -> None:
    as_text(wb).save(target)


def to_bytes(wb: Workbook) -> bytes:
    buf = BytesIO()
    save(wb, buf)
    return buf.getvalue()
