"""The review web app: server-rendered pages (FastAPI + Jinja2), Chinese UI.

Every state change is a POST carrying the session's CSRF token; a request without it is
refused before anything is read from the form. Sessions are signed cookies (HttpOnly,
SameSite=Lax, Secure when ``web.secure_cookies``) that name the user and the session epoch
they were issued under (see :mod:`watcher.web.auth`); the signing key lives in the data dir,
made 0600 on first start. Every response carries a Content-Security-Policy without inline
script or style (the stylesheet is a static file), refuses to be framed, and sends no referrer.
Messages after a redirect ("已备案…") travel in the session, never in the URL, so nobody can
put words in the app's mouth with a crafted link.

A request body is bounded before anything reads it (:class:`BodyLimit`): a declared length over
the route's limit is refused at once, and a body that grows past it while streaming stops there.
An unexpected error still answers a Chinese page with the security headers; the log gets one
Chinese line and the traceback a file of its own (:mod:`watcher.logs`, ``crashes/``).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles
from loguru import logger
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request as StarletteRequest
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from watcher.config import Config
from watcher.store import Store, private_dir, private_tree
from watcher.web import (
    linkage_routes,
    platform_routes,
    report_routes,
    routes,
    sentiment_routes,
    takedown_routes,
)
from watcher.web.pages import TEMPLATES

HERE = Path(__file__).parent
# Every form but the registry upload is a few fields (the longest a 2,000-character comment).
FORM_MAX_BYTES = 256 * 1024
UPLOAD_OVERHEAD = 64 * 1024  # multipart boundaries and the other fields around the file
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


def error_page(scope: Scope, code: int, message: str) -> Response:
    """The app's error page, for answers given outside the routes (by a middleware)."""
    try:
        return TEMPLATES.TemplateResponse(StarletteRequest(scope), "error.html",
                                          {"user": None, "code": code, "message": message, "flashes": []},
                                          status_code=code)
    except Exception:  # noqa: BLE001 - the error page itself must never fail
        return Response(f"{code} {message}", status_code=code, media_type="text/plain; charset=utf-8")


SERVER_ERROR = "服务器内部错误，已记入日志；请稍后重试，如仍出错请联系管理员"


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

        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = list(message.get("headers", []))
                present = {k.decode("latin-1").lower() for k, _ in headers}
                extra = dict(self.headers)
                if not scope["path"].startswith("/static/"):
                    extra["cache-control"] = "no-store"
                headers += [(k.encode(), v.encode()) for k, v in extra.items() if k not in present]
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            if started:  # half an answer is out: nothing better than closing the connection
                raise
            # Outside Starlette's own 500 handler, which answers from above this middleware and
            # so without the headers; the reader gets Chinese, the log a line naming the detail file.
            logger.exception("网页请求 {} {} 出错", scope.get("method"), quote(scope.get("path", "")))
            await error_page(scope, 500, SERVER_ERROR)(scope, receive, send_with_headers)


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(status_code=413, detail=_too_large(limit))


def _too_large(limit: int) -> str:
    if limit >= 1024 * 1024:  # only the upload routes take more than a form's few fields
        return f"提交的内容超过 {limit // (1024 * 1024)} MB，已拒绝（未保存）；导入台账请拆分为较小的文件后分批导入"
    return f"提交的内容超过 {limit // 1024} KB，已拒绝（未保存）；表单内容过长，请删减后重试"


class BodyLimit:
    """Bounds every request body: ``limits`` per path (the upload routes), ``default`` for the
    rest (forms of a few fields). A Content-Length over the limit is answered 413 before a byte
    is read; a body without one (chunked) is counted as it streams and stopped at the limit, so
    neither reaches the form parser, which spools uploads to disk."""

    def __init__(self, app: ASGIApp, limits: dict[str, int], default: int) -> None:
        self.app = app
        self.limits = limits
        self.default = default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        limit = self.limits.get(scope["path"], self.default)
        declared = next((v for k, v in scope.get("headers", []) if k.lower() == b"content-length"), None)
        if declared is not None and (not declared.strip().isdigit() or int(declared) > limit):
            await error_page(scope, 413, _too_large(limit))(scope, receive, send)
            return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)  # the route's error handler answers 413
            return message

        await self.app(scope, limited, send)


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
    # The cookie's own age is the absolute lifetime; pages.current_user also enforces it and the
    # idle timeout from the login time the session carries (Starlette re-signs on every answer).
    app.add_middleware(SessionMiddleware, secret_key=secret_key(cfg), session_cookie="cw_session",
                       same_site="lax", https_only=cfg.web.secure_cookies, max_age=cfg.web.session_lifetime)
    app.add_middleware(BodyLimit, limits={"/registry/import": routes.IMPORT_MAX_BYTES + UPLOAD_OVERHEAD},
                       default=FORM_MAX_BYTES)
    app.add_middleware(SecurityHeaders, https_only=cfg.web.secure_cookies)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    Store.open(cfg.db_path).close()  # migrate before the first request
    private_tree(cfg.data_path)  # what an older version left 0755/0644 inside the data dir

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
    app.include_router(linkage_routes.router)
    app.include_router(takedown_routes.router)
    return app
