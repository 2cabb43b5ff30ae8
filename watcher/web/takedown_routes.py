"""The 举报跟踪 pages: takedown cases and their figures, and a finding's complaint pack.

A unit reviewer sees the cases of its own unit's findings only, as with the findings themselves
(``auth.User.may_see`` on the case's finding); the central department and administrators see all.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from spiders import catalog
from watcher.reports.render import PdfError
from watcher.store import cases as stored_cases
from watcher.store import findings as stored_findings
from watcher.takedown import cases, pack
from watcher.web import auth
from watcher.web.pages import Forbidden, current_user, render, store_of

router = APIRouter()
PACK_FORMATS = {"zip": "application/zip", "pdf": "application/pdf"}


def _visible(user: auth.User, store, case: stored_cases.Case | None) -> stored_cases.Case:
    if case is None:
        raise HTTPException(status_code=404, detail="没有这个举报案件")
    f = stored_findings.get(store, case.finding_id)
    if f is None or not user.may_see(f):
        raise Forbidden("该举报案件不属于您的单位")
    return case


@router.get("/cases")
def cases_page(request: Request, status: str = "", platform: str = "") -> Response:
    with store_of(request) as store:
        user = current_user(request, store)
        rows = stored_cases.list_cases(store, status=status if status in stored_cases.CASE_STATUSES else None,
                                       platform=platform if platform in catalog.names() else None)
        found = stored_findings.get_many(store, sorted({c.finding_id for c in rows}))
        rows = [c for c in rows if (f := found.get(c.finding_id)) is not None and user.may_see(f)]
        figures = cases.figures(store, unit=None if user.central else user.unit)
    return render(request, "cases.html", user, rows=rows, figures=figures, status=status, platform=platform,
                  STATUSES=stored_cases.CASE_STATUSES, OUTCOMES=stored_cases.OUTCOMES, duration=cases.duration,
                  label=catalog.label, platforms=catalog.labels())


@router.get("/cases/{case_id}")
def case_page(request: Request, case_id: int) -> Response:
    with store_of(request) as store:
        user = current_user(request, store)
        c = _visible(user, store, stored_cases.get(store, case_id))
        events = stored_cases.events_for(store, case_id)
        later = [x for x in stored_cases.for_finding(store, c.finding_id) if x.previous_id == c.id]
    return render(request, "case.html", user, c=c, events=events, later=later, STATUSES=stored_cases.CASE_STATUSES,
                  OUTCOMES=stored_cases.OUTCOMES, duration=cases.duration, label=catalog.label)


def _build(cfg, finding_id: int, out: Path, pdf: bool) -> pack.Pack:
    from watcher.store import Store

    with Store.open(cfg.db_path) as store:
        return pack.build(cfg, store, finding_id, out, pdf=pdf)


@router.get("/findings/{finding_id}/complaint")
async def complaint_pack(request: Request, finding_id: int, format: str = "zip") -> Response:
    """The finding's complaint pack: the ZIP (with the printable HTML inside) or the PDF."""
    cfg = request.app.state.cfg
    if format not in PACK_FORMATS:
        raise HTTPException(status_code=400, detail="格式应为 zip 或 pdf")
    with store_of(request) as store:
        user = current_user(request, store)
        f = stored_findings.get(store, finding_id)
        if f is None:
            raise HTTPException(status_code=404, detail="没有这条发现")
        if not user.may_see(f):
            raise Forbidden("该发现不属于您的单位")
        auth.audit(store, user.username, "生成投诉材料包", f"finding:{finding_id}", {"format": format})
    with tempfile.TemporaryDirectory(prefix="cw-complaint-") as tmp:
        try:
            # Chromium and file copies: off the event loop.
            p = await run_in_threadpool(_build, cfg, finding_id, Path(tmp), format == "pdf")
        except (pack.PackError, PdfError) as e:
            raise HTTPException(status_code=400, detail=str(e)) from None
        path = p.pdf_path if format == "pdf" and p.pdf_path else p.zip_path
        data = path.read_bytes()
        name = p.folder.name + path.suffix
    return Response(data, media_type=PACK_FORMATS[format],
                    headers={"content-disposition": f"attachment; filename*=UTF-8''{quote(name)}"})
