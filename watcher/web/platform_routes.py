"""The 平台状态 page: per platform the session (state, age, last check), the last round and the
last ok one, the cool-down, the requests made today, and — while ``watcher login`` waits for a
scan — the platform's QR code, so whoever holds the department's phone can scan it here. For
the central unit and administrators only: sessions and blocks are theirs to handle, and a login
QR code is a key to the department's account."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, Response

from spiders import catalog
from watcher import platform_status
from watcher.web import auth
from watcher.web.pages import Forbidden, current_user, render, store_of

router = APIRouter()
REFRESH_SECONDS = 5  # while a QR login waits: the page follows refreshed codes and the scan


def _central(user: auth.User) -> None:
    if not user.central:
        raise Forbidden("平台状态页面仅宣传部复核员和管理员可以查看")


@router.get("/platforms")
def platforms_page(request: Request) -> Response:
    cfg = request.app.state.cfg
    with store_of(request) as store:
        user = current_user(request, store)
        _central(user)
        rows = platform_status.rows(cfg, store)
    waiting = [r for r in rows if r["login_pending"]]
    return render(request, "platforms.html", user, rows=rows, waiting=waiting,
                  refresh=REFRESH_SECONDS if waiting else None)


@router.get("/platforms/{platform}/login-qr.png")
def login_qr(request: Request, platform: str) -> Response:
    cfg = request.app.state.cfg
    with store_of(request) as store:
        _central(current_user(request, store))
    if platform not in catalog.names() or not platform_status.pending_login(cfg, platform):
        raise HTTPException(status_code=404, detail="该平台当前没有等待扫码的登录")
    # Never cached, never kept: the code changes when the page refreshes it, and it logs a phone in.
    return FileResponse(platform_status.qr_png_path(cfg, platform), media_type="image/png",
                        headers={"cache-control": "no-store"})
