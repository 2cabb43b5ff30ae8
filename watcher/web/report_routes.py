"""The 报表 page (central and admin users): generate and download the annual report, the
assessment and the leaderboards; and the annual review status form of the registry page."""

from __future__ import annotations

import tempfile
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from watcher import registry as reg
from watcher.reports import annual, assess, calendar, influence, render
from watcher.store import reviews
from watcher.web import auth
from watcher.web.pages import Forbidden, back, checked_form, current_user, store_of
from watcher.web.pages import render as render_page

router = APIRouter()
FORMATS = ("xlsx", "html", "pdf")
CSS = "/static/report.css"


def _central(user: auth.User) -> None:
    if not user.central:
        raise Forbidden("仅宣传部复核员和管理员可以使用报表")


@router.post("/registry/{platform}/{account_id}/review")
async def registry_review(request: Request, platform: str, account_id: str) -> Response:
    form = await checked_form(request)
    with store_of(request) as store:
        user = current_user(request, store)
        if not user.central:
            raise Forbidden("仅宣传部复核员和管理员可以记录年审状态")
        row = reg.find_account(store, platform, account_id)
        if row is None:
            raise HTTPException(status_code=404, detail="台账中没有这个账号")
        note = form.get("note", "").strip()[:500] or None
        try:
            year = reviews.parse_year(form.get("year", ""))
            status = reviews.parse_status(form.get("status", ""))
            when = reg.parse_date(form.get("reviewed_date") or None)
        except ValueError as e:
            return back(request, "/registry", error=str(e))
        with store.transaction():
            r = reviews.set_review(store, row.id, year, status, reviewed_date=when, note=note, actor=user.username)
            auth.audit(store, user.username, "年审状态", f"{platform}:{account_id}",
                       {"year": year, "status": r.label, "date": r.reviewed_date, "note": note})
    return back(request, "/registry", ok=f"已记录「{row.account_name}」{year} 年审：{r.label}")


@router.get("/reports")
def reports_page(request: Request) -> Response:
    with store_of(request) as store:
        user = current_user(request, store)
        _central(user)
        units = sorted({r.unit for r in reg.active_accounts(store)})
    cfg = request.app.state.cfg
    today = calendar.local_today()
    year = calendar.review_year(cfg, today)
    return render_page(request, "reports.html", user, year=year, units=units, today=today.isoformat(),
                       month_start=today.replace(day=1).isoformat(), deadline=calendar.deadline(cfg, year),
                       last_week=(today - timedelta(days=7)).isoformat(), formats=FORMATS)


def _deliver(request: Request, user: auth.User, html: str, write_xlsx: Any, stem: str, fmt: str,
             what: str) -> Response:
    with store_of(request) as store:
        auth.audit(store, user.username, "生成报表", what, {"format": fmt})
    if fmt == "html":
        return HTMLResponse(html)
    with tempfile.TemporaryDirectory(prefix="cw-report-") as tmp:
        if fmt == "xlsx":
            path = Path(tmp) / "report.xlsx"
            write_xlsx(path)
            media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        else:
            page = render.write_html(html.replace(f'href="{CSS}"', 'href="report.css"'), Path(tmp) / "report.html")
            try:
                path = render.print_pdf(page, Path(tmp) / "report.pdf")
            except render.PdfError as e:
                return back(request, "/reports", error=str(e))
            media = "application/pdf"
        body = path.read_bytes()
    disposition = f"attachment; filename=report.{fmt}; filename*=UTF-8''{quote(f'{stem}.{fmt}')}"
    return Response(body, media_type=media, headers={"content-disposition": disposition})


def _fmt(value: str) -> str:
    if value not in FORMATS:
        raise HTTPException(status_code=400, detail="格式应为 xlsx、html 或 pdf")
    return value


def _day(value: str, what: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise HTTPException(status_code=400, detail=f"{what} {value!r} 不是日期（YYYY-MM-DD）") from None


@router.get("/reports/annual")
def report_annual(request: Request, year: int, format: str = "html") -> Response:
    fmt = _fmt(format)
    if not 2000 <= year <= 2100:
        raise HTTPException(status_code=400, detail="年度超出范围（2000–2100）")
    cfg = request.app.state.cfg
    with store_of(request) as store:
        user = current_user(request, store)
        _central(user)
        r = annual.build(cfg, store, year)
    return _deliver(request, user, annual.render_html(r, css_href=CSS), lambda p: annual.write_xlsx(r, p),
                    f"年度报告-{year}", fmt, f"annual:{year}")


@router.get("/reports/assess")
def report_assess(request: Request, start: str, end: str, unit: str = "", format: str = "html") -> Response:
    fmt = _fmt(format)
    first, last = _day(start, "开始日期"), _day(end, "结束日期")
    if last < first:
        raise HTTPException(status_code=400, detail="结束日期早于开始日期")
    cfg = request.app.state.cfg
    with store_of(request) as store:
        user = current_user(request, store)
        _central(user)
        r = assess.build(cfg, store, first, last, unit=unit or None)
    return _deliver(request, user, assess.render_html(r, css_href=CSS), lambda p: assess.write_xlsx(r, p),
                    f"考核-{first}-{last}" + (f"-{unit}" if unit else ""), fmt, f"assess:{first}:{last}:{unit}")


@router.get("/reports/leaderboard")
def report_leaderboard(request: Request, kind: str, day: str, format: str = "html") -> Response:
    fmt = _fmt(format)
    if kind not in influence.KINDS:
        raise HTTPException(status_code=400, detail="榜单应为 week（周榜）或 month（月榜）")
    cfg = request.app.state.cfg
    with store_of(request) as store:
        user = current_user(request, store)
        _central(user)
        b = influence.build(cfg, store, kind, _day(day, "日期"))
    return _deliver(request, user, influence.render_html(b, css_href=CSS), lambda p: influence.write_xlsx(b, p),
                    f"{influence.KINDS[kind]}-{b.period.first}", fmt, f"leaderboard:{kind}:{b.period.first}")
