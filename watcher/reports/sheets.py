"""Spreadsheet helpers shared by the reports: a header row people can read, and sheet names Excel accepts."""

from __future__ import annotations

import re
from typing import Any

from openpyxl.styles import Font, PatternFill
from openpyxl.worksheet.worksheet import Worksheet

from watcher import xlsx

HEADER_FILL = PatternFill("solid", fgColor="DDE7F5")


def sheet_title(name: str, used: set[str]) -> str:
    """Excel refuses []:*?/\\ in sheet names and more than 31 characters; names stay unique."""
    base = re.sub(r"[\[\]:*?/\\]", "_", name).strip("'") or "单位"
    base = base[:28]
    title, n = base, 2
    while title in used:
        title = f"{base[:26]}({n})"
        n += 1
    used.add(title)
    return title


def add_sheet(ws: Worksheet, header: list[str], rows: list[list[Any]], *, start_row: int = 1) -> None:
    for col, text in enumerate(header, start=1):
        cell = ws.cell(row=start_row, column=col, value=text)
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
    for i, row in enumerate(rows, start=start_row + 1):
        for col, value in enumerate(row, start=1):
            # Names and titles come from the platforms: a control character made openpyxl raise.
            ws.cell(row=i, column=col, value=xlsx.cells([value])[0])
    ws.freeze_panes = ws.cell(row=start_row + 1, column=1)
    for col, text in enumerate(header, start=1):
        width = max([len(str(text)) * 2] + [len(str(r[col - 1] or "")) * 1.6 for r in rows] + [8])
        ws.column_dimensions[ws.cell(row=start_row, column=col).column_letter].width = min(width, 40)
