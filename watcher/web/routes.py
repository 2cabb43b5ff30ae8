"""Pages and form handlers of the review app."""

from __future__ import annotations

import json
import tempfile
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from openpyxl import Workbook
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from alerts import dispatch
from watcher import findings as fnd
from watcher import registry as reg
from watcher import xlsx
from watcher.config import PLATFORM_LABELS
from watcher.periods import active_periods
from watcher.reports.calendar import local_today, review_year
from watcher.rounds import scans
from watcher.rounds.records import latest_per_platform
from watcher.store import Store, reviews, users
from watcher.store import deliveries as stored_deliveries
from watcher.store import findings as stored_findings
from watcher.store import rules as stored_rules
from watcher.store import scans as scan_requests
from watcher.store.findings import Evidence, Finding
from watcher.takedown import cases as takedown_cases
from watcher.timefmt import zone
from watcher.watch.workdays import filing_window
from watcher.web import auth, charts, rules
from watcher.web import listing as listing_mod
from watcher.web.pages import Forbidden, back, checked_form, current_user, render, start_session, store_of
from watcher.web.rules import RULE_LABELS

router = APIRouter()
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

DECISIONS: dict[str, tuple[str, str]] = {
    # form action → (new status, audit wording)
    "confirm": ("confirmed", "确认仿冒"),
    "false_positive": ("false_positive", "标记误报"),
    "reported": ("reported", "已向平台举报"),
    "resolved": ("resolved", "已解决"),
    "reopen": ("open", "重新打开"),
}


# What a reviewer can decide depends on what was found: only an impersonator is confirmed as
# one or reported to the platform; a deletion, an edit or a mention is dealt with or a mistake.
_IMPERSONATION_KINDS = ("impersonation",)
_OTHER_DECISIONS = ("resolved", "false_positive", "reopen")


def decisions_for(kind: str) -> dict[str, tuple[str, str]]:
    if kind in _IMPERSONATION_KINDS:
        return DECISIONS
    return {k: DECISIONS[k] for k in _OTHER_DECISIONS}


EVIDENCE_PREVIEW_BYTES = 256 * 1024


def _evidence_preview(cfg: Any, ev: Evidence) -> str | None:
    """A saved JSON answer, indented for reading (the first 20 000 characters); None for other
    evidence, or a file outside the finding's own folder."""
    media = (ev.content_type or "").lower()
    if "json" not in media and not ev.path.endswith(".json"):
        return None
    root = (cfg.data_path / "evidence" / str(ev.finding_id)).resolve()
    path = (cfg.data_path / ev.path).resolve()
    if root not in path.parents or not path.is_file() or path.stat().st_size > EVIDENCE_PREVIEW_BYTES:
        return None
    try:
        text = json.dumps(json.loads(path.read_bytes()), ensure_ascii=False, indent=2)
    except (ValueError, RecursionError, OSError):
        return None
    return text[:20_000]


def _filing_deadline(cfg: Any, f: Finding) -> str | None:
    """For a profile change: the last day to file it (the configured rule from the change day)."""
    changed = f.details.get("changed_on")
    if f.kind != "profile_change" or not changed:
        return None
    try:
        return filing_window(date.fromisoformat(changed), cfg.watch.filing_deadline)[1].isoformat()
    except ValueError:
        return None


def _see(user: auth.User, finding: Finding | None) -> Finding:
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
    with store_of(request) as store:
        first_run = not auth.has_users(store)
    if first_run:  # nobody can log in yet: say how to make the first user
        cfg = request.app.state.cfg
        return render(request, "first_run.html", None, config=cfg.source or "（配置文件）")
    return render(request, "login.html", None, next=next, error=None)


def _client_address(request: Request) -> str:
    # The socket peer, unless it is one of web.trusted_proxies: then uvicorn (server.py) has put
    # the address that proxy reports here. A direct client cannot pick the address it is
    # throttled under by sending X-Forwarded-For.
    return request.client.host if request.client else "unknown"


def _login_in_thread(cfg: Any, username: str, password: str, address: str) -> auth.User | None:
    # argon2 takes ~0.5 s of CPU: on the event loop it would stall every page for everyone.
    with Store.open(cfg.db_path) as store:
        return auth.login(store, username, password, address)


@router.post("/login")
async def login(request: Request) -> Response:
    form = await checked_form(request)
    next_ = form.get("next", "/")
    try:
        user = await run_in_threadpool(_login_in_thread, request.app.state.cfg, form.get("username", ""),
                                       form.get("password", ""), _client_address(request))
    except auth.LockedOut as e:
        return render(request, "login.html", None, status_code=429, next=next_, error=str(e))
    if user is None:
        return render(request, "login.html", None, status_code=400, next=next_,
                      error=f"用户名或密码错误（连续 {auth.MAX_FAILURES} 次错误将锁定 {auth.LOCK_MINUTES} 分钟）")
    start_session(request, user)
    return RedirectResponse(next_ if next_.startswith("/") and not next_.startswith(("//", "/\\")) else "/",
                            status_code=303)


@router.post("/logout")
async def logout(request: Request) -> Response:
    await checked_form(request)
    with store_of(request) as store:
        user = auth.load_user(store, request.session.get("user"), request.session.get("epoch"))
        if user is not None:
            # Every session of the user ends, including a copy of this cookie kept elsewhere.
            auth.end_sessions(store, user.username)
            auth.audit(store, user.username, "退出登录")
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


# -- dashboard ------------------------------------------------------------------------------


@router.get("/")
def dashboard(request: Request) -> Response:
    with store_of(request) as store:
        user = current_user(request, store)
        rows = [f for f in stored_findings.list_findings(store, open_only=True, limit=10_000) if user.may_see(f)]
        # Crawl status names the platforms' blocks and cookies: the central department's business.
        crawls = latest_per_platform(store) if user.central else []
        periods = active_periods(request.app.state.cfg, store)
        recent_all = [f for f in stored_findings.list_findings(store, limit=10_000) if user.may_see(f)]
        takedown = takedown_cases.figures(store, unit=None if user.central else user.unit)
    chart = charts.stacked_bars(charts.per_day(recent_all, datetime.now(UTC).astimezone(zone()).date()))
    return render(request, "dashboard.html", user, total=len(rows), chart=chart,
                  by_kind=Counter(f.kind for f in rows).most_common(),
                  by_unit=Counter(f.unit or "（未归属）" for f in rows).most_common(),
                  by_platform=Counter(f.platform or "—" for f in rows).most_common(),
                  crawls=crawls, blocked=[c for c in crawls if c.status in ("blocked", "failed", "unreachable")],
                  periods=periods, recent=rows[:8], takedown=takedown[-12:], takedown_total=takedown_cases.totals(takedown),
                  duration=takedown_cases.duration)


# -- findings -------------------------------------------------------------------------------


def _listed(request: Request, store: Any, user: auth.User, listing: listing_mod.Listing) -> list[Finding]:
    rows = stored_findings.list_findings(store, kind=listing.kind or None, status=listing.status or None,
                             platform=listing.platform or None,
                             unit=(listing.unit or None) if user.central else user.unit, search=listing.q or None,
                             open_only=not listing.status, limit=10_000)
    return listing_mod.select([r for r in rows if user.may_see(r)], listing)


@router.get("/findings")
def findings_list(request: Request) -> Response:
    listing = listing_mod.Listing.from_query(dict(request.query_params))
    with store_of(request) as store:
        user = current_user(request, store)
        rows = _listed(request, store, user, listing)
        units = stored_findings.units(store)
    shown, pages = listing_mod.page(rows, listing)
    return render(request, "findings.html", user, rows=shown, total=len(rows), pages=pages, units=units,
                  listing=listing, filters=listing.query(), sorts=listing_mod.SORTS, urlencode=urlencode,
                  bulk_decisions={k: DECISIONS[k] for k in _OTHER_DECISIONS} | {"confirm": DECISIONS["confirm"]})


@router.get("/findings/export.xlsx")
def findings_export(request: Request) -> Response:
    """The listed findings (every page), as a workbook."""
    listing = listing_mod.Listing.from_query(dict(request.query_params))
    with store_of(request) as store:
        user = current_user(request, store)
        rows = _listed(request, store, user, listing)
        auth.audit(store, user.username, "导出发现", None, {"count": len(rows), **listing.query()})
    name = f"监测发现-{datetime.now(UTC).astimezone(zone()):%Y%m%d-%H%M}.xlsx"
    return Response(listing_mod.to_xlsx(rows), media_type=XLSX,
                    headers={"content-disposition": f"attachment; filename*=UTF-8''{quote(name)}"})


@router.post("/findings/bulk")
async def findings_bulk(request: Request) -> Response:
    """One decision for several findings; each is checked as if decided alone (visible to the
    reviewer, the decision offered for its kind); the others are named, not changed."""
    form = await checked_form(request)
    scope = form.get("scope", "checked")
    field = {"page": "page_ids"}.get(scope, "ids")
    ids = [int(i) for i in (await request.form()).getlist(field) if str(i).isdigit()]
    action = form.get("action", "")
    comment = form.get("comment", "").strip()[:2000] or None
    back_to = "/findings?" + form.get("back", "")
    if scope == "all":
        # every finding the list's filters match, on every page, as the reviewer sees it now;
        # if the list changed since the page was shown (new findings), ask again rather than
        # decide findings nobody looked at
        listing = listing_mod.Listing.from_query(dict(parse_qsl(form.get("back", ""))))
        with store_of(request) as store:
            ids = [f.id for f in _listed(request, store, current_user(request, store), listing)]
        if str(len(ids)) != form.get("expected", ""):
            return back(request, back_to, error=f"符合筛选条件的发现已变为 {len(ids)} 条（页面显示时为 "
                                                f"{form.get('expected') or '?'} 条），请核对后重新提交")
    if not ids:
        return back(request, back_to, error="请先勾选要处理的发现")
    if action not in DECISIONS or action == "reported":
        return back(request, back_to, error="请选择一个处理决定（批量处理不含“已向平台举报”，举报需逐条填写回执）")
    status, words = DECISIONS[action]
    done, skipped = [], []
    with store_of(request) as store:
        user = current_user(request, store)
        for fid in ids:
            f = stored_findings.get(store, fid)
            if f is None or not user.may_see(f) or action not in decisions_for(f.kind):
                skipped.append(f"#{fid}")
                continue
            with store.transaction():
                stored_findings.set_status(store, fid, status, actor=user.username, action=words, comment=comment)
                auth.audit(store, user.username, words, f"finding:{fid}", {"comment": comment, "bulk": True})
            done.append(fid)
    note = f"；{len(skipped)} 条不适用或无权处理，未改动：{'、'.join(skipped)}" if skipped else ""
    return back(request, back_to, ok=f"已记录：{words}，共 {len(done)} 条{note}" if done else None,
                error=None if done else f"没有可以{words}的发现{note}")


def _finding_page(request: Request, store: Any, user: auth.User, f: Finding, *, error: str | None = None,
                  status_code: int = 200, values: dict[str, str] | None = None) -> Response:
    cfg = request.app.state.cfg
    ev = stored_findings.evidence_for(store, f.id)
    actions = stored_findings.review_actions_for(store, f.id)
    deliveries = stored_deliveries.for_finding(store, f.id)
    if not user.central:  # a unit sees its own channels' deliveries, not the copies to others
        deliveries = [d for d in deliveries if (u := cfg.unit(d.unit)) is not None and u.name == user.unit]
    proposals = stored_rules.proposals_for(store, f.id)
    previews = {e.id: p for e in ev if (p := _evidence_preview(cfg, e)) is not None}
    avatar = next((e for e in ev if e.kind == "avatar"), None)
    return render(request, "finding.html", user, status_code=status_code, f=f, evidence=ev, actions=actions,
                  deliveries=deliveries, proposals=proposals, error=error, decisions=decisions_for(f.kind),
                  rule_labels=RULE_LABELS, previews=previews, deadline=_filing_deadline(cfg, f),
                  values=values or {}, avatar=avatar, logos=len(cfg.school.logos), evidence_json=json.dumps(f.details, ensure_ascii=False, indent=2),
                  unit_name=lambda key: (u.name if (u := cfg.unit(key)) else key), channel_label=dispatch.channel_label,
                  DELIVERY_STATUS=dispatch.DELIVERY_STATUS, cases=takedown_cases.cases_of(store, f.id))


@router.get("/findings/{finding_id}")
def finding_detail(request: Request, finding_id: int) -> Response:
    with store_of(request) as store:
        user = current_user(request, store)
        f = _see(user, stored_findings.get(store, finding_id))
        return _finding_page(request, store, user, f)


@router.post("/findings/{finding_id}/decide")
async def decide(request: Request, finding_id: int) -> Response:
    form = await checked_form(request)
    with store_of(request) as store:
        user = current_user(request, store)
        f = _see(user, stored_findings.get(store, finding_id))
        action = form.get("action", "")
        comment = form.get("comment", "").strip()[:2000] or None
        reference = form.get("reference", "").strip()[:200] or None
        rule = form.get("rule", "")
        problem = None
        if action not in DECISIONS:
            problem = "请选择一个处理决定"
        elif action not in decisions_for(f.kind):
            problem = f"“{DECISIONS[action][1]}”不适用于{fnd.KIND_LABELS.get(f.kind, f.kind)}"
        elif action == "reported" and not reference:
            problem = "“已向平台举报”需要填写举报编号或回执"
        elif rule not in ("", "allow", "other"):
            problem = "名单选项无效"
        elif rule and action != "false_positive":
            problem = "只有标记为误报时才能把名称加入白名单或他校名单"
        elif rule and f.kind not in _IMPERSONATION_KINDS:
            # the name lists judge account names; a post's author is no impersonator to allow
            problem = f"{fnd.KIND_LABELS.get(f.kind, f.kind)}不涉及账号名称，不能加入白名单或他校名单"
        elif rule and not f.account_name:
            problem = "该发现没有账号名称，无法加入名单"
        if problem:  # what the reviewer typed stays in the form
            return _finding_page(request, store, user, f, error=problem, status_code=400, values=form)
        status, words = DECISIONS[action]
        note = f"发现 #{finding_id} 复核为误报" + (f"：{comment}" if comment else "")
        with store.transaction():
            stored_findings.set_status(store, finding_id, status, actor=user.username, action=words, comment=comment,
                           reference=reference)
            if action == "reported":  # the report opens its takedown case (watcher.takedown)
                takedown_cases.start(request.app.state.cfg, store, f, reference=reference, actor=user.username)
            if rule and user.central:
                rules.add_rule(store, rule, f.account_name, note, user.username)
            elif rule:
                # A name rule changes matching for the whole school: a unit only proposes it.
                pid = rules.propose(store, rule, f.account_name, finding_id, note, user.username)
                auth.audit(store, user.username, "提议名单", f"proposal:{pid}",
                           {"kind": rule, "name": f.account_name, "finding": finding_id})
            auth.audit(store, user.username, words, f"finding:{finding_id}",
                       {"comment": comment, "reference": reference, "rule": rule or None})
    if rule and not user.central:
        return back(request, f"/findings/{finding_id}",
                    ok=f"已提交：把「{f.account_name}」加入{RULE_LABELS[rule]}须经宣传部审批后生效")
    return back(request, f"/findings/{finding_id}", ok=f"已记录：{words}")


@router.get("/evidence/{evidence_id}")
def evidence_file(request: Request, evidence_id: int) -> Response:
    cfg = request.app.state.cfg
    with store_of(request) as store:
        user = current_user(request, store)
        ev = stored_findings.evidence_item(store, evidence_id)
        if ev is None:
            raise HTTPException(status_code=404, detail="没有这份证据")
        _see(user, stored_findings.get(store, ev.finding_id))
    # Only the finding's own evidence folder: a row pointing anywhere else (the session key,
    # the database, another finding's files, a symlink out) is not served.
    root = (cfg.data_path / "evidence" / str(ev.finding_id)).resolve()
    path = (cfg.data_path / ev.path).resolve()
    if root not in path.parents or not path.is_file():
        raise HTTPException(status_code=404, detail="证据文件不存在")
    media = ev.content_type or "application/octet-stream"
    # A saved page is the platform's HTML: sandboxed, and downloaded rather than shown in our origin.
    headers = {"content-security-policy": "sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'"}
    inline = media.startswith("image/") and media != "image/svg+xml"
    return FileResponse(path, media_type=media, headers=headers, content_disposition_type="inline" if inline else "attachment",
                        filename=path.name)


@router.get("/logo/{index}")
def logo_file(request: Request, index: int) -> Response:
    """The school's emblem from the config (``school.logos``), to compare with a suspect's avatar."""
    cfg = request.app.state.cfg
    with store_of(request) as store:
        current_user(request, store)
    logos = cfg.school.logos
    if not 0 <= index < len(logos) or not cfg.resolve_path(logos[index]).is_file():
        raise HTTPException(status_code=404, detail="没有这个校徽文件")
    return FileResponse(cfg.resolve_path(logos[index]))


# -- registry ---------------------------------------------------------------------------------


REGISTRY_PER_PAGE = 100


@router.get("/registry")
def registry_page(request: Request, q: str = "", platform: str = "", unit: str = "", status: str = "active",
                  page: int = 1) -> Response:
    """The registry, filtered (name/ID search, platform, unit, in use or closed) and in pages:
    400 accounts on one page were 727 KB of HTML."""
    with store_of(request) as store:
        user = current_user(request, store)
        code = reg.parse_status(status) if status != "all" else None
        rows = reg.list_accounts(store, search=q or None, platform=platform or None, status=code,
                                 unit=(unit or None) if user.central else user.unit)
        units = sorted({r.unit for r in reg.list_accounts(store)}) if user.central else [user.unit]
        year = review_year(request.app.state.cfg, local_today())
        year_reviews = reviews.reviews_for_year(store, year)
    if not user.central:
        rows = [r for r in rows if r.unit == user.unit]
    pages = max(1, -(-len(rows) // REGISTRY_PER_PAGE))
    page = min(max(1, page), pages)
    shown = rows[(page - 1) * REGISTRY_PER_PAGE:page * REGISTRY_PER_PAGE]
    query = {"q": q, "platform": platform, "unit": unit, "status": status}
    return render(request, "registry.html", user, rows=shown, total=len(rows), page=page, pages=pages,
                  page_link=lambda n: "/registry?" + urlencode({**{k: v for k, v in query.items() if v}, "page": n}),
                  q=q, platform=platform, unit=unit, status=status, units=units, fields=reg.CHANGEABLE,
                  field_labels=FIELD_LABELS, registry_status=reg.STATUS_LABELS, review_year=year,
                  reviews=year_reviews, review_statuses=reviews.REVIEW_STATUSES)


FIELD_LABELS = reg.FIELD_LABELS
FILING_KINDS = reg.FILING_KIND_LABELS


@router.get("/registry/export.xlsx")
def registry_export(request: Request) -> Response:
    """The whole registry in the import format (it re-imports unchanged); holds staff phone
    numbers, so the central department's."""
    with store_of(request) as store:
        user = current_user(request, store)
        _central(user)
        header, rows = reg.export_rows(store)
        auth.audit(store, user.username, "导出台账", None, {"count": len(rows)})
    wb = Workbook()
    ws = wb.active
    ws.title = "备案台账"
    ws.append(header)
    for r in rows:
        ws.append(xlsx.cells(r))  # a control character in any cell made openpyxl raise (500)
    name = f"备案台账-{datetime.now(UTC).astimezone(zone()):%Y%m%d}.xlsx"
    return Response(xlsx.to_bytes(wb), media_type=XLSX,
                    headers={"content-disposition": f"attachment; filename*=UTF-8''{quote(name)}"})


IMPORT_MAX_BYTES = reg.IMPORT_MAX_BYTES


def _import_upload(cfg: Any, data: bytes, suffix: str, filename: str, actor: str) -> dict[str, int] | str:
    """Parse and import an uploaded registry in a worker thread (a large sheet takes seconds of
    CPU; on the event loop every page would wait for it): the counts, or the Chinese error."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"upload{suffix}"
        path.write_bytes(data)
        try:
            records = reg.parse_file(path)
        except reg.RegistryImportError as e:
            e.source = filename
            return e.render()
    with Store.open(cfg.db_path) as store:
        counts = reg.import_records(store, records, actor=actor)
        auth.audit(store, actor, "导入台账", filename, counts)
    return counts


@router.post("/registry/import")
async def registry_import(request: Request) -> Response:
    """A CSV or XLSX in the registry's format: all rows or none, every bad row named."""
    # Who may import is known from the session alone: anyone else is refused before the body is
    # read, so an upload from a stranger is never spooled to disk (the CSRF check needs the form).
    with store_of(request) as store:
        user = current_user(request, store)
        _central(user)
    form = await request.form(max_files=1, max_fields=8)
    await checked_form(request)
    upload = form.get("file")
    if upload is None or isinstance(upload, str) or not upload.filename:
        return back(request, "/registry", error="请选择要导入的 CSV 或 XLSX 文件")
    suffix = Path(upload.filename).suffix.lower()
    if suffix not in (".csv", ".xlsx", ".xlsm"):
        return back(request, "/registry", error=f"不支持的文件类型 {suffix or '（无扩展名）'}，请上传 .csv 或 .xlsx")
    data = await upload.read(IMPORT_MAX_BYTES + 1)
    if len(data) > IMPORT_MAX_BYTES:
        return back(request, "/registry", error=f"文件超过 {IMPORT_MAX_BYTES // (1024 * 1024)} MB，请拆分后导入")
    result = await run_in_threadpool(_import_upload, request.app.state.cfg, data, suffix, upload.filename,
                                     user.username)
    if isinstance(result, str):
        return back(request, "/registry", error=result)
    words = {"added": "新增", "updated": "更新", "unchanged": "未变", "reviews": "年审状态"}
    return back(request, "/registry", ok=f"已导入 {upload.filename}：" + "，".join(
        f"{words.get(k, k)} {v} 条" for k, v in result.items()))


@router.get("/registry/{platform}/{account_id}")
def registry_record(request: Request, platform: str, account_id: str) -> Response:
    """One registered account: every field of the filing form and its history."""
    with store_of(request) as store:
        user = current_user(request, store)
        row = reg.find_account(store, platform, account_id)
        if row is None:
            raise HTTPException(status_code=404, detail="台账中没有这个账号")
        if not user.central and row.unit != user.unit:
            raise Forbidden("该账号不属于您的单位")
        history = reg.filings_for(store, row.id)
    return render(request, "registry_record.html", user, r=row, history=history, field_labels=FIELD_LABELS,
                  form_fields=[f for f in reg.FIELDS if f not in ("platform", "account_id", "status")],
                  filing_kinds=FILING_KINDS, filing_label=reg.filing_label, fields=reg.CHANGEABLE,
                  registry_status=reg.STATUS_LABELS,
                  value_label=reg.value_label)


@router.post("/registry/add")
async def registry_add(request: Request) -> Response:
    form = await checked_form(request)
    cfg = request.app.state.cfg
    with store_of(request) as store:
        user = current_user(request, store)
        _central(user)
        data = {k: v for k, v in form.items() if k in reg.RegistryRecord.model_fields and v.strip()}
        try:
            if "unit" in data:
                data["unit"] = auth.canonical_unit(cfg, store, data["unit"])
            record = reg.RegistryRecord.model_validate(data)
            reg.add_account(store, record, actor=user.username)
        except ValidationError as e:
            return back(request, "/registry", error=f"输入有误：{reg.explain_validation(e)}")
        except (reg.RegistryError, auth.UserError) as e:
            return back(request, "/registry", error=str(e))
        auth.audit(store, user.username, "新增备案", f"{record.platform}:{record.account_id}", data)
    return back(request, "/registry", ok=f"已备案「{record.account_name}」")


@router.post("/registry/{platform}/{account_id}/change")
async def registry_change(request: Request, platform: str, account_id: str) -> Response:
    form = await checked_form(request)
    cfg = request.app.state.cfg
    with store_of(request) as store:
        user = current_user(request, store)
        _central(user)
        field, value = form.get("field", ""), form.get("value", "").strip()
        if not value:
            return back(request, "/registry", error="新值不能为空")
        try:
            if field == "unit":
                value = auth.canonical_unit(cfg, store, value)
            reg.file_change(store, platform, account_id, field, value, filed_date=form.get("filed_date") or None,
                            note=form.get("note") or None, actor=user.username)
        except ValidationError as e:
            return back(request, "/registry", error=reg.explain_validation(e))
        except (reg.RegistryError, auth.UserError, ValueError) as e:
            return back(request, "/registry", error=str(e))
        auth.audit(store, user.username, "变更备案", f"{platform}:{account_id}", {"field": field, "value": value})
    return back(request, "/registry", ok="已记录变更备案")


def _account_words(row: Any) -> str:
    """微博「北京理工大学」（账号ID 1891724861，党委宣传部）: how a notice names an account."""
    return f"{PLATFORM_LABELS.get(row.platform, row.platform)}「{row.account_name}」（账号ID {row.account_id}，{row.unit}）"


@router.get("/registry/{platform}/{account_id}/close")
def registry_close_confirm(request: Request, platform: str, account_id: str) -> Response:
    """注销 asks first: one click must not close an account (nor a mis-click the wrong one)."""
    with store_of(request) as store:
        user = current_user(request, store)
        _central(user)
        row = reg.find_account(store, platform, account_id)
        if row is None:
            raise HTTPException(status_code=404, detail="台账中没有这个账号")
    return render(request, "registry_close.html", user, r=row, words=_account_words(row))


@router.post("/registry/{platform}/{account_id}/close")
async def registry_close(request: Request, platform: str, account_id: str) -> Response:
    form = await checked_form(request)
    confirm = f"/registry/{quote(platform)}/{quote(account_id)}/close"
    if form.get("confirm") != "yes":
        return back(request, confirm)
    with store_of(request) as store:
        user = current_user(request, store)
        _central(user)
        row = reg.find_account(store, platform, account_id)
        try:
            reg.close_account(store, platform, account_id, closed_date=form.get("closed_date") or None,
                              note=form.get("note") or None, actor=user.username)
        except (reg.RegistryError, ValueError) as e:
            return back(request, "/registry", error=str(e))
        words = _account_words(row)
        auth.audit(store, user.username, "注销备案", words, {"说明": form.get("note") or ""})
    return back(request, f"/registry/{quote(platform)}/{quote(account_id)}",
                ok=f"已注销{words}。如属误操作，可在本页“撤销注销”恢复为在用。")


@router.post("/registry/{platform}/{account_id}/reopen")
async def registry_reopen(request: Request, platform: str, account_id: str) -> Response:
    """Undo a 注销, by the central department only, audited."""
    form = await checked_form(request)
    here = f"/registry/{quote(platform)}/{quote(account_id)}"
    with store_of(request) as store:
        user = current_user(request, store)
        _central(user)
        try:
            row = reg.reopen_account(store, platform, account_id, note=form.get("note") or None, actor=user.username)
        except reg.RegistryError as e:
            return back(request, here, error=str(e))
        words = _account_words(row)
        auth.audit(store, user.username, "撤销注销", words, {"说明": form.get("note") or ""})
    return back(request, here, ok=f"已撤销注销：{words}恢复为在用")


# -- name rules -------------------------------------------------------------------------------


@router.get("/rules")
def rules_page(request: Request) -> Response:
    with store_of(request) as store:
        user = current_user(request, store)
        _central(user)
        school = request.app.state.cfg.school
        return render(request, "rules.html", user, pending=rules.pending(store), decided=rules.decided(store),
                      current=rules.current_rules(store), rule_labels=RULE_LABELS,
                      configured=[("allow", n) for n in school.allow] + [("other", n) for n in school.others],
                      config=request.app.state.cfg.source)


@router.post("/rules/{rule_id}/remove")
async def rules_remove(request: Request, rule_id: int) -> Response:
    await checked_form(request)
    with store_of(request) as store:
        user = current_user(request, store)
        _central(user)
        row = rules.remove_rule(store, rule_id)
        if row is None:
            return back(request, "/rules", error="该名单条目已不存在")
        auth.audit(store, user.username, "移除名单", f"rule:{rule_id}", {"kind": row.kind, "name": row.name})
    return back(request, "/rules", ok=f"已从{RULE_LABELS.get(row.kind, row.kind)}移除「{row.name}」，"
                                      "此后同名账号按常规判定")


@router.post("/rules/proposals/{proposal_id}")
async def rules_decide(request: Request, proposal_id: int) -> Response:
    form = await checked_form(request)
    decision = form.get("decision", "")
    if decision not in ("approve", "reject"):
        return back(request, "/rules", error="请选择批准或驳回")
    note = form.get("note", "").strip()[:500] or None
    with store_of(request) as store:
        user = current_user(request, store)
        _central(user)
        try:
            p = rules.decide(store, proposal_id, decision == "approve", user.username, note)
        except rules.ProposalError as e:
            return back(request, "/rules", error=str(e))
        words = "批准名单提议" if decision == "approve" else "驳回名单提议"
        auth.audit(store, user.username, words, f"proposal:{proposal_id}",
                   {"kind": p.kind, "name": p.name, "proposed_by": p.proposed_by, "note": note})
    return back(request, "/rules", ok=f"已{'批准' if decision == 'approve' else '驳回'}：{RULE_LABELS[p.kind]}「{p.name}」")


# -- scans and audit ------------------------------------------------------------------------


@router.post("/scans")
async def scan_now(request: Request) -> Response:
    form = await checked_form(request)
    with store_of(request) as store:
        user = current_user(request, store)
        _central(user)
        mode = form.get("mode", "all")
        if mode not in ("all", "discover", "watch", "mentions"):
            return back(request, "/", error="扫描类型无效")
        platform = form.get("platform") or None
        if platform is not None and platform not in PLATFORM_LABELS:
            return back(request, "/", error="平台无效")
        params = {"discover": mode in ("all", "discover"), "watch": mode in ("all", "watch"),
                  "mentions": mode == "mentions", "platform": platform}
        rid = scans.enqueue(store, params, requested_by=user.username)
        auth.audit(store, user.username, "发起扫描", f"scan:{rid}", params)
    return RedirectResponse(f"/scans/{rid}", status_code=303)


@router.get("/scans/{scan_id}")
def scan_page(request: Request, scan_id: int) -> Response:
    with store_of(request) as store:
        user = current_user(request, store)
        _central(user)  # a scan's progress and summary cover every unit
        row = scan_requests.get(store, scan_id)
    if row is None:
        raise HTTPException(status_code=404, detail="没有这次扫描")
    return render(request, "scan.html", user, scan=row, progress=row.progress,
                  summary=scans.describe(row.summary), daemon=scans.daemon_running(request.app.state.cfg),
                  config=request.app.state.cfg.source)


@router.get("/audit")
def audit_page(request: Request) -> Response:
    with store_of(request) as store:
        user = current_user(request, store)
        _central(user)
        rows = users.recent_audit(store)
        reviews = stored_findings.recent_review_actions(store)
    return render(request, "audit.html", user, rows=rows, reviews=reviews)
