"""Reports as HTML pages (charts inline as SVG, style in ``report.css``) and as PDF.

The same page serves three readers: the web app shows it under its CSP (stylesheet from
/static), ``watcher report`` writes it next to a copy of the stylesheet, and Debian's chromium
prints that file to PDF (``--print-to-pdf``), where the print rules of the stylesheet apply.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pikepdf
from jinja2 import Environment, FileSystemLoader, select_autoescape

from watcher.config import PLATFORM_LABELS
from watcher.reports import pdftext
from watcher.timefmt import local_time, zone_label
from watcher.watch.evidence import CHROMIUM, CHROMIUM_ARGS

HERE = Path(__file__).parent
STYLESHEET = HERE.parent / "web" / "static" / "report.css"
ENV = Environment(loader=FileSystemLoader(str(HERE / "templates")), autoescape=select_autoescape(["html"]))
ENV.globals.update(PLATFORM_LABELS=PLATFORM_LABELS, ZONE_LABEL=zone_label)
ENV.filters["local"] = local_time


def fmt(value: Any, digits: int = 1) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def observed(value: Any, digits: int = 1) -> str:
    """A figure that may not have been observed: 未观测, never a 0 or a dash people read as one."""
    return "未观测" if value is None else fmt(value, digits)


ENV.filters["n"] = fmt
ENV.filters["obs"] = observed
ENV.filters["pct"] = pct


class PdfError(RuntimeError):
    """Chromium could not print the page (message is for the operator)."""


def render(template: str, *, css_href: str = "report.css", **ctx: Any) -> str:
    return ENV.get_template(template).render(css_href=css_href, **ctx)


def write_html(html: str, path: Path) -> Path:
    """The page and, next to it, the stylesheet it links."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(html, encoding="utf-8")
    shutil.copyfile(STYLESHEET, path.parent / "report.css")
    return path


def chromium_available() -> bool:
    return Path(CHROMIUM).exists()


def print_pdf(html_path: Path, pdf_path: Path, *, timeout: int = 600) -> Path:
    """Print a written report page to PDF with headless chromium, its text mapped to the normal
    CJK code points (:mod:`watcher.reports.pdftext`). Chromium prints once the page has loaded
    (the page has no script and no remote resource, so nothing arrives later); ``timeout`` only
    stops a chromium that hangs, and is generous because a busy 2-core server can take minutes."""
    if not chromium_available():
        raise PdfError(f"未找到 chromium（{CHROMIUM}），无法生成 PDF；请 apt install chromium，或在浏览器中打开 HTML 后打印")
    with tempfile.TemporaryDirectory(prefix="cw-pdf-") as profile:
        cmd = [CHROMIUM, "--headless", *CHROMIUM_ARGS, f"--user-data-dir={profile}", "--no-pdf-header-footer",
               f"--print-to-pdf={pdf_path}", html_path.resolve().as_uri()]
        try:
            done = subprocess.run(cmd, capture_output=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            raise PdfError(f"chromium 打印 PDF 超时（{timeout} 秒）") from None
    if done.returncode != 0 or not pdf_path.is_file() or pdf_path.stat().st_size == 0:
        tail = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
        raise PdfError(f"chromium 打印 PDF 失败（退出码 {done.returncode}）：{tail[0][:300]}")
    try:
        pdftext.fix_text_mapping(pdf_path)
    except pikepdf.PdfError as e:
        raise PdfError(f"PDF 已生成，但无法修正其中文字的编码（{e}）：{pdf_path}") from None
    return pdf_path
