"""矩阵联动 pages: the key stories, one story's table (unit, account, status, when, how) and
chart, and the form with which a central reviewer marks a post as a key story (written to the
audit log). Central reviewers and administrators only: they set the matrix's tasks."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response

from spiders import catalog
from watcher.compliance import linkage
from watcher.config import parse_duration
from watcher.store import compliance as stored
from watcher.web import auth
from watcher.web.pages import Forbidden, back, checked_form, current_user, render, store_of

router = APIRouter()


def _central(user: auth.User) -> None:
    if not user.central:
        raise Forbidden("矩阵联动页面仅宣传部复核员和管理员可以使用")


@router.get("/linkage")
def stories_page(request: Request) -> Response:
    cfg = request.app.state.cfg
    with store_of(request) as store:
        user = current_user(request, store)
        _central(user)
        reports = [linkage.build_report(cfg, store, s) for s in stored.list_stories(store)]
        return render(request, "linkage.html", user, reports=reports, units=linkage.unit_names(cfg, store),
                      within_default=cfg.compliance.linkage.within // 3600)


@router.post("/linkage")
async def add_story(request: Request) -> Response:
    form = await checked_form(request)
    cfg = request.app.state.cfg
    with store_of(request) as store:
        user = current_user(request, store)
        _central(user)
        url = form.get("url", "").strip()[:2000]
        if not url:
            return back(request, "/linkage", error="请填写帖子链接")
        try:
            within = parse_duration(form.get("within", "").strip() or f"{cfg.compliance.linkage.within}")
        except ValueError:
            return back(request, "/linkage", error="转发时限应写成如 24h、90m、2d")
        units = [u for u in form.get("units", "").replace("，", ",").split(",") if u.strip()] or None
        try:
            story = linkage.add_story(cfg, store, url, within=within, units=units,
                                      title=form.get("title", "").strip() or None, actor=user.username)
        except linkage.LinkageError as e:
            return back(request, "/linkage", error=str(e))
        with store.transaction():
            auth.audit(store, user.username, "设定重点稿件", f"linkage_story:{story.id}",
                       {"url": story.url, "units": story.units, "deadline": story.deadline})
    return back(request, f"/linkage/{story.id}", ok=f"已设定重点稿件「{story.title}」")


@router.get("/linkage/{story_id}")
def story_page(request: Request, story_id: int) -> Response:
    cfg = request.app.state.cfg
    with store_of(request) as store:
        user = current_user(request, store)
        _central(user)
        story = stored.get_story(store, story_id)
        if story is None:
            raise HTTPException(status_code=404, detail="没有这个重点稿件")
        report = linkage.build_report(cfg, store, story)
        return render(request, "linkage_story.html", user, r=report, chart=linkage.chart_svg(report, width=900),
                      STATUS_LABELS=linkage.STATUS_LABELS, PLATFORMS=catalog.labels())
