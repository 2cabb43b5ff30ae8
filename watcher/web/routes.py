"""Pages and form handlers of the review app."""

from __future__ import annotations

from collections import Counter
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from pydantic import ValidationError

from watcher import findings as fnd
from watcher import registry as reg
from watcher.periods import active_periods
from watcher.rounds.records import latest_per_platform
from watcher.store import loads, utcnow
from watcher.web import auth
from watcher.web.app import Forbidden, checked_form, current_user, render, store_of

router = APIRouter()

DECISIONS: dict[str, tuple[str, str]] = {
    # form action → (new status, audit wording)
    "confirm": ("confirmed", "确认仿冒"),
    "false_positive": ("false_positive", "标记误报"),
    "reported": ("reported", "已向平台举报"),
    "resolved": ("resolved", "已解决"),
    "reopen": ("open", "重新打开"),
}


def _see(user: auth.User, finding: dict[str, Any] | None) -> dict[str, Any]:
    if finding is None:
        raise HTTPException(status_code=404, detail="没有这条发现")
    if not user.may_see(finding):
        raise Forbidden("该发现不属于您的单位")
    return finding


def _central(user: auth.User) -> None:
    if not user.central:
        raise Forbidden("仅宣传部复核员和管理员可以进行此操作")


# -- login ----------------------------------------------------------------------------------


@router.get("/login")
def login_page(request: Request, next: str = "/") -> Response:
    return render(request, "login.html", None, next=next, error=None)


@router.post("/login")
async def login(request: Request) -> Response:
    form = await checked_form(request)
    with store_of(request) as store:
        user = auth.authenticate(store, form.get("username", ""), form.get("password", ""))
        if user is None:
            return render(request, "login.html", None, status_code=400, next=form.get("next", "/"),
                          error="用户名或密码错误")
        auth.audit(store, user.username, "登录")
    request.session.clear()
    request.session["user"] = user.username
    target = form.get("next", "/")
    return RedirectResponse(target if target.startswith("/") and not target.startswith("//") else "/", status_code=303)


@router.post("/logout")
async def logout(request: Request) -> Response:
    await checked_form(request)
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


# -- dashboard ------------------------------------------------------------------------------


@router.get("/")
def dashboard(request: Request) -> Response:
    with store_of(request) as store:
        user = current_user(request, store)
        rows = [f for f in fnd.list_findings(store, open_only=True, limit=10_000) if user.may_see(f)]
        crawls = latest_per_platform(store)
        periods = active_periods(request.app.state.cfg, store)
    return render(request, "dashboard.html", user, total=len(rows),
                  by_kind=Counter(f["kind"] for f in rows).most_common(),
                  by_unit=Counter(f["unit"] or "（未归属）" for f in rows).most_common(),
                  by_platform=Counter(f["platform"] or "—" for f in rows).most_common(),
                  crawls=crawls, blocked=[c for c in crawls if c["status"] in ("blocked", "failed")],
                  periods=periods, recent=rows[:8])


# -- findings -------------------------------------------------------------------------------


@router.get("/findings")
def findings_list(request: Request, kind: str = "", status: str = "", unit: str = "", platform: str = "",
                  q: str = "") -> Response:
    with store_of(request) as store:
        user = current_user(request, store)
        rows = fnd.list_findings(store, kind=kind or None, status=status or None, platform=platform or None,
                                 unit=(unit or None) if user.central else user.unit, search=q or None,
                                 open_only=not status, limit=500)
        units = [r["unit"] for r in store.query("SELECT DISTINCT unit FROM findings WHERE unit IS NOT NULL")]
    rows = [r for r in rows if user.may_see(r)]
    return render(request, "findings.html", user, rows=rows, units=units,
                  filters={"kind": kind, "status": status, "unit": unit, "platform": platform, "q": q})


@router.get("/findings/{finding_id}")
def finding_detail(request: Request, finding_id: int, error: str = "") -> Response:
    with store_of(request) as store:
        user = current_user(request, store)
        f = _see(user, fnd.get(store, finding_id))
        ev = store.query("SELECT * FROM evidence WHERE finding_id = ? ORDER BY id", [finding_id])
        actions = store.query("SELECT * FROM review_actions WHERE finding_id = ? ORDER BY id DESC", [finding_id])
        deliveries = store.query("SELECT unit, channel, status, sent_at, last_error FROM deliveries WHERE finding_id = ?",
                                 [finding_id])
    return render(request, "finding.html", user, f=f, evidence=ev, actions=actions, deliveries=deliveries,
                  error=error, decisions=DECISIONS)


@router.post("/findings/{finding_id}/decide")
async def decide(request: Request, finding_id: int) -> Response:
    form = await checked_form(request)
    with store_of(request) as store:
        user = current_user(request, store)
        f = _see(user, fnd.get(store, finding_id))
        action = form.get("action", "")
        comment = form.get("comment", "").strip()[:2000] or None
        reference = form.get("reference", "").strip()[:200] or None
        rule = form.get("rule", "")
        problem = None
        if action not in DECISIONS:
            problem = "请选择一个处理决定"
        elif action == "reported" and not reference:
            problem = "“已向平台举报”需要填写举报编号或回执"
        elif rule not in ("", "allow", "other"):
            problem = "名单选项无效"
        elif rule and action != "false_positive":
            problem = "只有标记为误报时才能把名称加入白名单或他校名单"
        elif rule and not f.get("account_name"):
            problem = "该发现没有账号名称，无法加入名单"
        if problem:
            return render(request, "finding.html", user, status_code=400, f=f, error=problem, decisions=DECISIONS,
                          evidence=store.query("SELECT * FROM evidence WHERE finding_id = ?", [finding_id]),
                          actions=store.query("SELECT * FROM review_actions WHERE finding_id = ? ORDER BY id DESC",
                                              [finding_id]), deliveries=[])
        status, words = DECISIONS[action]
        with store.transaction():
            fnd.set_status(store, finding_id, status, actor=user.username, action=words, comment=comment,
                           reference=reference)
            if rule:
                store.conn.execute(
                    "INSERT OR IGNORE INTO name_rules (kind, name, note, actor, created_at) VALUES (?, ?, ?, ?, ?)",
                    [rule, f["account_name"], f"发现 #{finding_id} 复核为误报", user.username, utcnow()])
            auth.audit(store, user.username, words, f"finding:{finding_id}",
                       {"comment": comment, "reference": reference, "rule": rule or None})
    return RedirectResponse(f"/findings/{finding_id}", status_code=303)


@router.get("/evidence/{evidence_id}")
def evidence_file(request: Request, evidence_id: int) -> Response:
    cfg = request.app.state.cfg
    with store_of(request) as store:
        user = current_user(request, store)
        ev = store.one("SELECT * FROM evidence WHERE id = ?", [evidence_id])
        if ev is None:
            raise HTTPException(status_code=404, detail="没有这份证据")
        _see(user, fnd.get(store, ev["finding_id"]))
    root = cfg.data_path.resolve()
    path = (root / ev["path"]).resolve()
    if root not in path.parents or not path.is_file():
        raise HTTPException(status_code=404, detail="证据文件不存在")
    return FileResponse(path, media_type=ev["content_type"] or "application/octet-stream")


# -- registry ---------------------------------------------------------------------------------


@router.get("/registry")
def registry_page(request: Request, q: str = "", error: str = "", ok: str = "") -> Response:
    with store_of(request) as store:
        user = current_user(request, store)
        rows = reg.list_accounts(store, search=q or None)
    if not user.central:
        rows = [r for r in rows if r["unit"] == user.unit]
    return render(request, "registry.html", user, rows=rows, q=q, error=error, ok=ok, fields=reg.CHANGEABLE)


def _back(path: str, **params: str) -> RedirectResponse:
    from urllib.parse import urlencode

    return RedirectResponse(f"{path}?{urlencode(params)}", status_code=303)


@router.post("/registry/add")
async def registry_add(request: Request) -> Response:
    form = await checked_form(request)
    with store_of(request) as store:
        user = current_user(request, store)
        _central(user)
        data = {k: v for k, v in form.items() if k in reg.RegistryRecord.model_fields and v.strip()}
        try:
            record = reg.RegistryRecord.model_validate(data)
            reg.add_account(store, record, actor=user.username)
        except ValidationError as e:
            return _back("/registry", error=f"输入有误：{reg.explain_validation(e)}")
        except reg.RegistryError as e:
            return _back("/registry", error=str(e))
        auth.audit(store, user.username, "新增备案", f"{record.platform}:{record.account_id}", data)
    return _back("/registry", ok=f"已备案「{record.account_name}」")


@router.post("/registry/{platform}/{account_id}/change")
async def registry_change(request: Request, platform: str, account_id: str) -> Response:
    form = await checked_form(request)
    with store_of(request) as store:
        user = current_user(request, store)
        _central(user)
        field, value = form.get("field", ""), form.get("value", "").strip()
        if not value:
            return _back("/registry", error="新值不能为空")
        try:
            reg.file_change(store, platform, account_id, field, value, filed_date=form.get("filed_date") or None,
                            note=form.get("note") or None, actor=user.username)
        except (reg.RegistryError, ValueError, ValidationError) as e:
            return _back("/registry", error=str(e) if not isinstance(e, ValidationError) else reg.explain_validation(e))
        auth.audit(store, user.username, "变更备案", f"{platform}:{account_id}", {"field": field, "value": value})
    return _back("/registry", ok="已记录变更备案")


@router.post("/registry/{platform}/{account_id}/close")
async def registry_close(request: Request, platform: str, account_id: str) -> Response:
    form = await checked_form(request)
    with store_of(request) as store:
        user = current_user(request, store)
        _central(user)
        try:
            reg.close_account(store, platform, account_id, closed_date=form.get("closed_date") or None,
                              note=form.get("note") or None, actor=user.username)
        except (reg.RegistryError, ValueError) as e:
            return _back("/registry", error=str(e))
        auth.audit(store, user.username, "注销备案", f"{platform}:{account_id}")
    return _back("/registry", ok="已注销")


# -- scans and audit ------------------------------------------------------------------------


@router.post("/scans")
async def scan_now(request: Request) -> Response:
    form = await checked_form(request)
    from watcher.rounds import scans

    with store_of(request) as store:
        user = current_user(request, store)
        _central(user)
        mode = form.get("mode", "all")
        if mode not in ("all", "discover", "watch"):
            return _back("/", error="扫描类型无效")
        params = {"discover": mode != "watch", "watch": mode != "discover", "platform": form.get("platform") or None}
        rid = scans.enqueue(store, params, requested_by=user.username)
        auth.audit(store, user.username, "发起扫描", f"scan:{rid}", params)
    return RedirectResponse(f"/scans/{rid}", status_code=303)


@router.get("/scans/{scan_id}")
def scan_page(request: Request, scan_id: int) -> Response:
    with store_of(request) as store:
        user = current_user(request, store)
        row = store.one("SELECT * FROM scan_requests WHERE id = ?", [scan_id])
    if row is None:
        raise HTTPException(status_code=404, detail="没有这次扫描")
    return render(request, "scan.html", user, scan=row, progress=loads(row["progress"], {}),
                  summary=loads(row["summary"], {}))


@router.get("/audit")
def audit_page(request: Request) -> Response:
    with store_of(request) as store:
        user = current_user(request, store)
        _central(user)
        rows = store.query("SELECT * FROM audit_log ORDER BY id DESC LIMIT 300")
        reviews = store.query("SELECT * FROM review_actions ORDER BY id DESC LIMIT 300")
    return render(request, "audit.html", user, rows=rows, reviews=reviews)
