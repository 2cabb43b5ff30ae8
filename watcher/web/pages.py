"""What every page of the review app shares: templates, the store of a request, the signed-in
user, CSRF-checked forms, flash messages and rendering. The routes use these; :mod:`.app` builds
the application from the routes."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from fastapi import HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from jinja2.runtime import Context

from alerts.messages import safe_link
from spiders import catalog
from watcher import words
from watcher.config import PLATFORM_LABELS
from watcher.findings import KIND_LABELS, STATUS_LABELS
from watcher.rounds.records import STATUS_LABELS as ROUND_STATUS_LABELS
from watcher.store import Store
from watcher.timefmt import local_time, zone_label
from watcher.web import auth

HERE = Path(__file__).parent
TEMPLATES = Jinja2Templates(directory=str(HERE / "templates"))
TEMPLATES.env.globals.update(KIND_LABELS=KIND_LABELS, STATUS_LABELS=STATUS_LABELS, PLATFORM_LABELS=PLATFORM_LABELS,
                             ROLES=auth.ROLES)
TEMPLATES.env.globals.update(MODE_LABELS=catalog.MODE_LABELS, ROUND_STATUS_LABELS=ROUND_STATUS_LABELS)
TEMPLATES.env.filters["local"] = local_time
# Codes in the record (actors, review actions, audit targets and details) said in words.
TEMPLATES.env.globals.update(ACTOR_LABELS=words.ACTOR_LABELS, audit_target=words.audit_target)
TEMPLATES.env.filters.update(actor=words.actor, review_action=words.review_action, audit_details=words.details)
TEMPLATES.env.globals.update(ZONE_LABEL=zone_label, EVIDENCE_LABELS={
    "screenshot": "页面截图", "raw": "原始应答", "response": "原始应答", "page": "保存的网页", "avatar": "头像",
    "removal": "平台下架答复"})


@pass_context
def _web_link(context: Context, url: object) -> bool:
    """``{% if url is web_link %}``: an address from a platform becomes a link only when it is
    http(s) to the platform's own hosts or our site, the rule of the alerts (alerts.messages); a
    suspect's profile pointing elsewhere (a phishing page) is shown as text."""
    return safe_link(context["request"].app.state.cfg, url) is not None


TEMPLATES.env.tests["web_link"] = _web_link


class Forbidden(HTTPException):
    def __init__(self, detail: str = "无权访问") -> None:
        super().__init__(status_code=403, detail=detail)


def store_of(request: Request) -> Store:
    return Store.open(request.app.state.cfg.db_path)


def _session_ended(request: Request) -> str | None:
    """Why the session is over by time (too long since the login, or idle too long), or None;
    a live session has its last-seen time moved to now. The login time never moves, so no
    amount of activity stretches a session past ``web.session_lifetime``."""
    web = request.app.state.cfg.web
    now = int(auth.clock().timestamp())
    started, seen = request.session.get("started"), request.session.get("seen")
    if not isinstance(started, int) or not isinstance(seen, int):
        return "登录已失效，请重新登录"  # a cookie from before session lifetimes existed
    if now - started > web.session_lifetime:
        return f"登录已超过 {_duration(web.session_lifetime)}，请重新登录"
    if now - seen > web.session_idle:
        return f"已超过 {_duration(web.session_idle)}没有操作，请重新登录"
    request.session["seen"] = now
    return None


def _duration(seconds: int) -> str:
    if seconds % 3600 == 0:
        return f"{seconds // 3600} 小时"
    if seconds % 60 == 0:
        return f"{seconds // 60} 分钟"
    return f"{seconds} 秒"


def current_user(request: Request, store: Store) -> auth.User:
    user = auth.load_user(store, request.session.get("user"), request.session.get("epoch"))
    ended = _session_ended(request) if user is not None else None
    if user is None or ended:
        if request.session.get("user"):
            request.session.clear()  # a revoked or expired session: forget it rather than keep resending it
        if ended:
            flash(request, "err", ended)
        raise HTTPException(status_code=401)
    return user


def start_session(request: Request, user: auth.User) -> None:
    """A fresh session (new CSRF token) for a user who just logged in."""
    request.session.clear()
    now = int(auth.clock().timestamp())
    request.session.update({"user": user.username, "epoch": user.epoch, "started": now, "seen": now})


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = request.session["csrf"] = secrets.token_urlsafe(32)
    return token


async def checked_form(request: Request) -> dict[str, str]:
    """The submitted form, after the CSRF check; refuses (403) a form without the right token."""
    form = await request.form()
    sent = str(form.get("csrf_token") or "")
    if not sent or not secrets.compare_digest(sent, request.session.get("csrf", "")):
        raise Forbidden("表单已失效或来源不明（CSRF 校验失败），请刷新页面后重试")
    return {k: str(v) for k, v in form.items()}


def flash(request: Request, kind: str, text: str) -> None:
    """A message for the next page this session shows (``kind``: ok or err)."""
    request.session["flash"] = [*request.session.get("flash", []), [kind, text]][-5:]


def back(request: Request, path: str, *, ok: str | None = None, error: str | None = None) -> RedirectResponse:
    if ok:
        flash(request, "ok", ok)
    if error:
        flash(request, "err", error)
    return RedirectResponse(path, status_code=303)


def render(request: Request, template: str, user: auth.User | None, status_code: int = 200, **ctx: Any) -> HTMLResponse:
    flashes = request.session.pop("flash", [])
    return TEMPLATES.TemplateResponse(request, template, {"user": user, "csrf": csrf_token(request),
                                                          "flashes": flashes, **ctx}, status_code=status_code)
