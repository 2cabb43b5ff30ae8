"""The review web app: server-rendered pages (FastAPI + Jinja2), Chinese UI.

Every state change is a POST carrying the session's CSRF token; a request without it is
refused before anything is read from the form. Sessions are signed cookies (HttpOnly,
SameSite=Lax, Secure when ``web.secure_cookies``); the signing key lives in the data dir, made
on first start, readable by the service user only.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from starlette.middleware.sessions import SessionMiddleware

from watcher.config import PLATFORM_LABELS, Config
from watcher.findings import KIND_LABELS, STATUS_LABELS
from watcher.store import Store
from watcher.web import auth

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).with_name("templates")))
TEMPLATES.env.globals.update(KIND_LABELS=KIND_LABELS, STATUS_LABELS=STATUS_LABELS, PLATFORM_LABELS=PLATFORM_LABELS,
                             ROLES=auth.ROLES)


def secret_key(cfg: Config) -> str:
    path = cfg.resolve_path(cfg.web.secret_key_file) if cfg.web.secret_key_file else cfg.data_path / "web_secret"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


class Forbidden(HTTPException):
    def __init__(self, detail: str = "无权访问") -> None:
        super().__init__(status_code=403, detail=detail)


def create_app(cfg: Config) -> FastAPI:
    app = FastAPI(title="campus-watcher 复核", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.cfg = cfg
    app.add_middleware(SessionMiddleware, secret_key=secret_key(cfg), session_cookie="cw_session",
                       same_site="lax", https_only=cfg.web.secure_cookies, max_age=12 * 3600)
    Store.open(cfg.db_path).close()  # migrate before the first request

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Any:
        if exc.status_code == 401:
            return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
        return TEMPLATES.TemplateResponse(request, "error.html", {"user": None, "code": exc.status_code,
                                                                  "message": exc.detail}, status_code=exc.status_code)

    from watcher.web import routes

    app.include_router(routes.router)
    return app


def store_of(request: Request) -> Store:
    return Store.open(request.app.state.cfg.db_path)


def current_user(request: Request, store: Store) -> auth.User:
    user = auth.load_user(store, request.session.get("user"))
    if user is None:
        raise HTTPException(status_code=401)
    return user


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


def render(request: Request, template: str, user: auth.User | None, status_code: int = 200, **ctx: Any) -> HTMLResponse:
    return TEMPLATES.TemplateResponse(request, template, {"user": user, "csrf": csrf_token(request), **ctx},
                                      status_code=status_code)
