"""``watcher registry …``: the 备案台账 from the command line."""

from __future__ import annotations

import dataclasses
import sys

import click
from pydantic import ValidationError

from watcher import registry as reg
from watcher import words
from watcher.cli.common import PLATFORM, Words, config_option, echo_json, open_store, table
from watcher.config import PLATFORM_LABELS, Config
from watcher.reports.calendar import local_today
from watcher.store import reviews

REGISTRY_STATUS = Words("状态", reg.STATUS_LABELS, reg.parse_status)
REGISTRY_FIELD = Words("字段", {f: reg.FIELD_LABELS.get(f, f) for f in reg.CHANGEABLE}, reg.parse_field)


@click.group("registry")
def registry_group() -> None:
    """备案台账：导入、导出、查询、新增、变更备案、注销、年审。"""


@registry_group.command("import")
@click.argument("path", type=click.Path(dir_okay=False), required=False)
@config_option
def import_cmd(cfg: Config, path: str | None) -> None:
    """导入 CSV/XLSX 台账（中英文表头均可）。任何一行有误则全部不导入，并列出每一行的错误。

    不给文件时导入配置文件中 registry 指定的文件。
    """
    source = path or cfg.registry_path
    if not source:
        raise click.UsageError("请给出台账文件路径，或在配置中设置 registry")
    try:
        records = reg.parse_file(source)
    except reg.RegistryImportError as e:
        click.echo(e.render(), err=True)
        sys.exit(1)
    with open_store(cfg) as store:
        counts = reg.import_records(store, records)
    click.echo(f"已导入 {source}：新增 {counts['added']}，更新 {counts['updated']}，未变 {counts['unchanged']}，"
               f"年审状态 {counts['reviews']} 条。")


@registry_group.command("export")
@click.argument("path", type=click.Path(dir_okay=False))
@config_option
def export_cmd(cfg: Config, path: str) -> None:
    """导出台账为 CSV 或 XLSX（按扩展名），格式与导入一致。"""
    with open_store(cfg) as store:
        n = reg.export_file(store, path)
    click.echo(f"已导出 {n} 条到 {path}")


@registry_group.command("list")
@click.option("--platform", type=PLATFORM, help="平台")
@click.option("--unit", help="开设单位")
@click.option("--status", type=REGISTRY_STATUS, help="状态")
@click.option("--search", "-s", help="按名称/ID/单位搜索")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
@config_option
def list_cmd(cfg: Config, platform: str | None, unit: str | None, status: str | None,
             search: str | None, as_json: bool) -> None:
    """列出台账中的账号。"""
    with open_store(cfg) as store:
        rows = reg.list_accounts(store, platform=platform, unit=unit, status=status, search=search)
    if as_json:
        echo_json(rows)
        return
    table([{**dataclasses.asdict(r), "platform_label": PLATFORM_LABELS.get(r.platform, r.platform),
            "status_label": reg.STATUS_LABELS.get(r.status, r.status), "tier": reg.value_label("tier", r.tier)} for r in rows],
          [("platform_label", "平台"), ("account_name", "账号名称"), ("account_id", "账号ID"),
                 ("unit", "开设单位"), ("tier", "级别"), ("status_label", "状态")])
    click.echo(f"共 {len(rows)} 个账号")


@registry_group.command("show")
@click.argument("platform", type=PLATFORM)
@click.argument("account_id")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
@config_option
def show_cmd(cfg: Config, platform: str, account_id: str, as_json: bool) -> None:
    """显示一个备案账号及其备案历史。"""
    with open_store(cfg) as store:
        row = reg.find_account(store, platform, account_id)
        if row is None:
            click.echo(f"台账中没有 {PLATFORM_LABELS[platform]} 账号ID {account_id}", err=True)
            sys.exit(1)
        history = reg.filings_for(store, row.id)
        yearly = reviews.reviews_of(store, row.id)
    if as_json:
        echo_json({**dataclasses.asdict(row), "filings": history, "reviews": [vars(r) | {"label": r.label} for r in yearly]})
        return
    for field, headers in reg.FIELDS.items():
        if getattr(row, field) not in (None, ""):
            value = PLATFORM_LABELS.get(row.platform, row.platform) if field == "platform" else getattr(row, field)
            click.echo(f"{headers[0]}：{reg.value_label(field, value)}")
    click.echo("备案历史：")
    for f in history:
        what = (f"{reg.FIELD_LABELS.get(f.field, f.field)}：{reg.value_label(f.field, f.old_value) or '（空）'} → "
                f"{reg.value_label(f.field, f.new_value)}") if f.field else ""
        click.echo(f"  {f.filed_date}  {reg.filing_label(f.kind, f.field)}  {what}  经办：{words.actor(f.actor)}"
                   f"  {f.note or ''}".rstrip())
    click.echo("年审：" + ("" if yearly else "无记录"))
    for r in yearly:
        click.echo(f"  {r.year}  {r.label}  {r.reviewed_date or ''}  {r.note or ''}".rstrip())


@registry_group.command("add")
@click.option("--platform", required=True, type=PLATFORM, help="平台（微博/weibo…）")
@click.option("--name", "account_name", required=True, help="账号名称")
@click.option("--id", "account_id", required=True, help="账号ID")
@click.option("--unit", required=True, help="开设单位")
@click.option("--tier", required=True, help="级别 1/2/3")
@click.option("--type", "account_type", help="账号类型")
@click.option("--purpose", help="用途")
@click.option("--head", "head_name", help="负责人姓名")
@click.option("--head-mobile", help="负责人手机")
@click.option("--head-email", help="负责人邮箱")
@click.option("--operator", "operator_name", help="运营人姓名")
@click.option("--operator-mobile", help="运营人手机")
@click.option("--operator-email", help="运营人邮箱")
@click.option("--registered", "registered_date", help="备案日期 YYYY-MM-DD")
@config_option
def add_cmd(cfg: Config, **fields: str | None) -> None:
    """新增一个备案账号。"""
    try:
        record = reg.RegistryRecord.model_validate({k: v for k, v in fields.items() if v is not None})
    except ValidationError as e:
        click.echo(f"输入有误：{reg.explain_validation(e)}", err=True)
        sys.exit(2)
    with open_store(cfg) as store:
        try:
            reg.add_account(store, record)
        except reg.RegistryError as e:
            click.echo(str(e), err=True)
            sys.exit(1)
    click.echo(f"已备案：{PLATFORM_LABELS[record.platform]}「{record.account_name}」（{record.account_id}）")


@registry_group.command("file-change")
@click.argument("platform", type=PLATFORM)
@click.argument("account_id")
@click.option("--field", required=True, type=REGISTRY_FIELD, help="变更的字段（中文名或英文名，如 账号名称、负责人手机）")
@click.option("--value", "new_value", required=True, help="新值")
@click.option("--date", "filed_date", help="备案日期（默认今天）")
@click.option("--note", help="说明")
@config_option
def file_change_cmd(cfg: Config, platform: str, account_id: str, field: str, new_value: str,
                    filed_date: str | None, note: str | None) -> None:
    """变更备案：记录旧值、新值与备案日期，并更新台账。"""
    with open_store(cfg) as store:
        try:
            reg.file_change(store, platform, account_id, field, new_value, filed_date=filed_date, note=note)
        except (reg.RegistryError, ValueError) as e:
            click.echo(str(e), err=True)
            sys.exit(1)
    click.echo(f"已记录变更备案：{reg.FIELD_LABELS.get(field, field)} → {new_value}")


@registry_group.command("close")
@click.argument("platform", type=PLATFORM)
@click.argument("account_id")
@click.option("--date", "closed_date", help="注销日期（默认今天）")
@click.option("--note", help="说明")
@config_option
def close_cmd(cfg: Config, platform: str, account_id: str, closed_date: str | None, note: str | None) -> None:
    """注销：账号标记为已注销，历史保留。"""
    with open_store(cfg) as store:
        try:
            reg.close_account(store, platform, account_id, closed_date=closed_date, note=note)
        except (reg.RegistryError, ValueError) as e:
            click.echo(str(e), err=True)
            sys.exit(1)
    click.echo(f"已注销：{PLATFORM_LABELS[platform]} 账号ID {account_id}。误注销可用 watcher registry reopen 撤销。")


@registry_group.command("reopen")
@click.argument("platform", type=PLATFORM)
@click.argument("account_id")
@click.option("--note", help="说明")
@config_option
def reopen_cmd(cfg: Config, platform: str, account_id: str, note: str | None) -> None:
    """撤销注销：账号恢复为在用，备案历史记下这次撤销。"""
    with open_store(cfg) as store:
        try:
            row = reg.reopen_account(store, platform, account_id, note=note)
        except reg.RegistryError as e:
            click.echo(str(e), err=True)
            sys.exit(1)
    click.echo(f"已撤销注销：{PLATFORM_LABELS[platform]}「{row.account_name}」（{account_id}）恢复为在用。")


@registry_group.command("review")
@click.argument("platform", type=PLATFORM, required=False)
@click.argument("account_id", required=False)
@click.option("--unit", help="不给账号时：该单位的全部在用账号（如单位一次提交了全部材料）")
@click.option("--year", required=True, type=int, help="年审年度，如 2026")
@click.option("--status", required=True, help="未提交/已提交/合格/不合格/限期整改")
@click.option("--date", "reviewed_date", help="日期（默认今天，北京时间）YYYY-MM-DD")
@click.option("--note", help="说明（如整改要求、期限）")
@config_option
def review_cmd(cfg: Config, platform: str | None, account_id: str | None, unit: str | None, year: int, status: str,
               reviewed_date: str | None, note: str | None) -> None:
    """记录一个账号（平台 账号ID）或一个单位全部在用账号（--unit）某年度的年审状态（历史保留）。"""
    if bool(platform and account_id) == bool(unit) or bool(platform) != bool(account_id):
        click.echo("请给出一个账号（平台 账号ID），或用 --unit 指定单位，二者选一", err=True)
        sys.exit(2)
    try:
        code = reviews.parse_status(status)
        reviews.parse_year(year)
        when = reg.parse_date(reviewed_date) or local_today().isoformat()
    except ValueError as e:
        click.echo(str(e), err=True)
        sys.exit(2)
    with open_store(cfg) as store:
        if unit:
            rows = reg.list_accounts(store, unit=unit, status="active")
            if not rows:
                click.echo(f"台账中没有单位「{unit}」的在用账号", err=True)
                sys.exit(1)
        else:
            row = reg.find_account(store, str(platform), str(account_id))
            if row is None:
                click.echo(f"台账中没有 {PLATFORM_LABELS[str(platform)]} 账号ID {account_id}", err=True)
                sys.exit(1)
            rows = [row]
        with store.transaction():  # a unit's accounts all together, or none
            done = [reviews.set_review(store, r.id, year, code, reviewed_date=when, note=note) for r in rows]
    for r, rv in zip(rows, done, strict=True):
        click.echo(f"已记录：{r.account_name} {year} 年审 {rv.label}（{rv.reviewed_date}）")


@registry_group.command("reviews")
@click.option("--year", required=True, type=int, help="年审年度")
@click.option("--unit", help="只看一个单位")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
@config_option
def reviews_cmd(cfg: Config, year: int, unit: str | None, as_json: bool) -> None:
    """列出某年度每个正常账号的年审状态（未记录的显示为 未提交）。"""
    with open_store(cfg) as store:
        rows = reg.list_accounts(store, unit=unit, status="active")
        by_id = reviews.reviews_for_year(store, year)
    out = []
    for r in rows:
        rv = by_id.get(r.id)
        out.append({"platform": r.platform, "platform_label": PLATFORM_LABELS.get(r.platform, r.platform),
                    "account_name": r.account_name, "account_id": r.account_id, "unit": r.unit,
                    "status": rv.status if rv else "pending", "status_label": rv.label if rv else "未提交",
                    "date": rv.reviewed_date if rv else "", "note": rv.note if rv else ""})
    if as_json:
        echo_json(out)
        return
    table(out, [("platform_label", "平台"), ("account_name", "账号名称"), ("unit", "开设单位"),
                ("status_label", f"{year} 年审"), ("date", "日期"), ("note", "说明")])
    pending = sum(1 for o in out if o["status"] == "pending")
    click.echo(f"共 {len(out)} 个账号，未提交 {pending} 个")


COMMANDS = [registry_group]
