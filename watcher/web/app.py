"""The review web app: server-rendered pages (FastAPI + Jinja2), Chinese UI.

Every state change is a POST carrying the session's CSRF token; a request without it is
refused before anything is read from the form. Sessions are signed cookies (HttpOnly,
SameSite=Lax, Secure when ``web.secure_cookies``) that name the user and the session epoch
they were issued under (see :mod:`watcher.web.auth`); the signing key lives in the data dir,
made 0600 on first start. Every response carries a Content-Security-Policy without inline
script or style (the stylesheet is a static file), refuses to be framed, and sends no referrer.
Messages after a redirect ("已备案…") travel in the session, never in the URL, so nobody can
put words in the app's mouth with a crafted link.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from watcher.config import Config
from watcher.store import Store, private_dir
from watcher.web import platform_routes, report_routes, routes, sentiment_routes
from watcher.web.pages import TEMPLATES

HERE = Path(__file__).parent
HTTP_WORDS = {404: "没有这个页面，请从网站的菜单或链接进入", 405: "不能这样打开这个地址（请从网站的按钮或链接进入）",
              400: "请求有误，请返回上一页重试", 413: "上传的内容太大"}
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'")
SECURITY_HEADERS = {
    "content-security-policy": CSP,
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=()",
}


class SecurityHeaders:
    """Adds :data:`SECURITY_HEADERS` to every response, error pages and static files included.
    A response that set its own CSP (evidence files are sandboxed) keeps it. Pages are never
    cached: they show personal data to a logged-in reviewer."""

    def __init__(self, app: ASGIApp, https_only: bool = False) -> None:
        self.app = app
        self.headers = dict(SECURITY_HEADERS)
        if https_only:  # behind HTTPS (web.secure_cookies): browsers must never fall back to http
            self.headers["strict-transport-security"] = "max-age=31536000"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.decode("latin-1").lower() for k, _ in headers}
                extra = dict(self.headers)
                if not scope["path"].startswith("/static/"):
                    extra["cache-control"] = "no-store"
                headers += [(k.encode(), v.encode()) for k, v in extra.items() if k not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def secret_key(cfg: Config) -> str:
    """The session signing key, created 0600 (never world-readable, not even for an instant)."""
    path = cfg.resolve_path(cfg.web.secret_key_file) if cfg.web.secret_key_file else cfg.data_path / "web_secret"
    if not path.exists():
        if path.parent == cfg.data_path:
            private_dir(path.parent)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        except FileExistsError:  # another process made it first: use theirs
            pass
        else:
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


def create_app(cfg: Config) -> FastAPI:
    app = FastAPI(title="campus-watcher 复核", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.cfg = cfg
    app.add_middleware(SessionMiddleware, secret_key=secret_key(cfg), session_cookie="cw_session",
                       same_site="lax", https_only=cfg.web.secure_cookies, max_age=12 * 3600)
    app.add_middleware(SecurityHeaders, https_only=cfg.web.secure_cookies)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    Store.open(cfg.db_path).close()  # migrate before the first request

    # Starlette's own class: routing raises it for an unknown page (404) or method (405), with
    # English details; ours (FastAPI's subclass) carry Chinese ones.
    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Any:
        if exc.status_code == 401:
            return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
        message = exc.detail if isinstance(exc, HTTPException) else HTTP_WORDS.get(exc.status_code, exc.detail)
        return TEMPLATES.TemplateResponse(request, "error.html", {"user": None, "code": exc.status_code,
                                                                  "message": message, "flashes": []},
                                          status_code=exc.status_code)

    app.include_router(routes.router)
    app.include_router(report_routes.router)
    app.include_router(sentiment_routes.router)
    app.include_router(platform_routes.router)
    return app
