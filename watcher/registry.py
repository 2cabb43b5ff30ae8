"""The registry (备案台账) of approved official accounts.

Rows come from the department's spreadsheet, whose headers are Chinese in practice and English
in exports; both are accepted. An import is all-or-nothing: every bad row is reported with its
line number and reason, and if there is one, nothing is written — a half-imported registry would
turn real official accounts into "suspects".

A registered account changes only through filings (变更备案) and closing (注销), both of which
keep history in ``filings``; the registry row always shows the current state.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import re
from collections.abc import Iterable
from datetime import date, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from spiders import catalog
from watcher import xlsx
from watcher.config import PLATFORM_LABELS, Config
from watcher.store import Store, reviews, utcnow
from watcher.store import registry as stored
from watcher.store.registry import Filing, RegistryAccount
from watcher.timefmt import local_today

# field name → accepted headers (first is the Chinese one used on export)
FIELDS: dict[str, tuple[str, ...]] = {
    "platform": ("平台", "平台名称", "platform"),
    "account_type": ("账号类型", "类型", "account_type", "type"),
    "account_name": ("账号名称", "名称", "账号名", "account_name", "name"),
    "account_id": ("账号ID", "账号id", "账号", "ID", "account_id", "id"),
    "purpose": ("用途", "开设用途", "主要用途", "purpose"),
    "opened_date": ("开设日期", "开设时间", "opened_date", "opened"),
    "unit": ("开设单位", "主办单位", "所属单位", "单位", "unit", "owning_unit"),
    "tier": ("级别", "等级", "层级", "tier"),
    "head_name": ("负责人姓名", "负责人", "head_name"),
    "head_title": ("负责人职务", "head_title"),
    "head_phone": ("负责人办公电话", "head_phone"),
    "head_mobile": ("负责人手机", "head_mobile"),
    "head_email": ("负责人邮箱", "head_email"),
    "operator_name": ("运营人姓名", "运营人", "运维人", "operator_name"),
    "operator_title": ("运营人职务", "operator_title"),
    "operator_phone": ("运营人办公电话", "operator_phone"),
    "operator_mobile": ("运营人手机", "operator_mobile"),
    "operator_email": ("运营人邮箱", "operator_email"),
    "followers": ("粉丝数", "关注数", "followers"),
    "status": ("状态", "账号状态", "status"),
    "registered_date": ("备案日期", "备案时间", "registered_date"),
    "last_review_date": ("最近年审日期", "年审日期", "last_review_date", "last_review"),
}
# The annual review (年审) of one year travels with the registry: a department fills these columns
# in the same spreadsheet; an export carries each account's most recent review.
REVIEW_FIELDS: dict[str, tuple[str, ...]] = {
    "review_year": ("年审年度", "年审年份", "review_year"),
    "review_status": ("年审状态", "年审结果", "review_status"),
    "review_date": ("年审状态日期", "年审结论日期", "review_date"),
    "review_note": ("年审备注", "年审说明", "review_note"),
}
_HEADER_INDEX = {h.strip().lower(): f for f, hs in (FIELDS | REVIEW_FIELDS).items() for h in hs}

_TIERS = {"1": 1, "2": 2, "3": 3, "一级": 1, "二级": 2, "三级": 3, "一": 1, "二": 2, "三": 3}
_STATUSES = {"active": "active", "正常": "active", "在用": "active", "运营中": "active", "": "active",
             "closed": "closed", "已注销": "closed", "注销": "closed", "关闭": "closed", "已关闭": "closed"}

# What people read for the registry's codes (pages, CLI, history); the codes stay in the database.
STATUS_LABELS = {"active": "在用", "closed": "已注销"}
FILING_KIND_LABELS = {"register": "备案", "change": "变更备案", "close": "注销", "review": "年审"}


def filing_label(kind: str, field: str | None = None) -> str:
    """What a filing was: a change of the status field is the undoing of a 注销."""
    return "撤销注销" if kind == "change" and field == "status" else FILING_KIND_LABELS.get(kind, kind)
TIER_LABELS = {1: "一级", 2: "二级", 3: "三级"}

CHANGEABLE = ("account_name", "account_id", "avatar", "bio", "verified", "unit", "tier", "purpose",
              "head_name", "head_title", "head_phone", "head_mobile", "head_email",
              "operator_name", "operator_title", "operator_phone", "operator_mobile", "operator_email",
              "account_type", "followers")
# Profile facts that live on the platform rather than in a registry column; a filing about
# them is kept in history only.
_PROFILE_ONLY = ("avatar", "bio", "verified")


def _date(value: Any) -> str | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    s = str(value).strip()
    m = re.fullmatch(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?", s)
    if not m:
        raise ValueError(f"日期 {s!r} 无法识别，应为 YYYY-MM-DD")
    return date(int(m[1]), int(m[2]), int(m[3])).isoformat()


def parse_date(value: Any) -> str | None:
    """A date as people write it (2026-12-01, 2026/12/1, 2026年12月1日) → ISO; raises ValueError."""
    return _date(value)


class RegistryRecord(BaseModel):
    """One registered account, as validated from a spreadsheet row, a form or the CLI."""

    model_config = ConfigDict(str_strip_whitespace=True)

    platform: str
    account_type: str | None = None
    account_name: str
    account_id: str
    purpose: str | None = None
    opened_date: str | None = None
    unit: str
    tier: int
    head_name: str | None = None
    head_title: str | None = None
    head_phone: str | None = None
    head_mobile: str | None = None
    head_email: str | None = None
    operator_name: str | None = None
    operator_title: str | None = None
    operator_phone: str | None = None
    operator_mobile: str | None = None
    operator_email: str | None = None
    followers: int | None = None
    status: str = "active"
    registered_date: str | None = None
    last_review_date: str | None = None
    # not registry columns: the annual review of ``review_year`` (excluded from model_dump)
    review_year: int | None = Field(None, exclude=True)
    review_status: str | None = Field(None, exclude=True)
    review_date: str | None = Field(None, exclude=True)
    review_note: str | None = Field(None, exclude=True)

    @field_validator("*", mode="before")
    @classmethod
    def _blank_is_none(cls, v: Any) -> Any:
        if isinstance(v, str) and not v.strip():
            return None
        if isinstance(v, float) and v.is_integer():  # spreadsheets store IDs as floats
            return str(int(v))
        return v

    @field_validator("account_id", "account_name", "unit", mode="before")
    @classmethod
    def _text(cls, v: Any) -> Any:
        return str(v) if isinstance(v, int) else v

    @field_validator("platform", mode="before")
    @classmethod
    def _platform(cls, v: Any) -> str:
        try:
            return catalog.resolve(str(v or ""))
        except catalog.UnknownPlatform as e:
            raise ValueError(str(e)) from None

    @field_validator("tier", mode="before")
    @classmethod
    def _tier(cls, v: Any) -> int:
        t = _TIERS.get(str(v).strip().removesuffix(".0")) if v is not None else None
        if t is None:
            raise ValueError(f"级别 {v!r} 无法识别，应为 1/2/3 或 一级/二级/三级")
        return t

    @field_validator("status", mode="before")
    @classmethod
    def _status(cls, v: Any) -> str:
        s = _STATUSES.get(str(v or "").strip().lower())
        if s is None:
            raise ValueError(f"状态 {v!r} 无法识别，应为 正常/已注销（active/closed）")
        return s

    @field_validator("followers", mode="before")
    @classmethod
    def _followers(cls, v: Any) -> Any:
        # Before-validators run last-defined first, so a blank cell arrives here as '' (an
        # exported account without a follower count must re-import).
        if v is None or (isinstance(v, str) and not v.strip()):
            return None
        s = str(v).replace(",", "").strip()
        m = re.fullmatch(r"(\d+(?:\.\d+)?)\s*(万|w|W)?", s)
        if not m:
            raise ValueError(f"粉丝数 {v!r} 应为整数（可写 1.2万）")
        return int(float(m[1]) * (10000 if m[2] else 1))

    @field_validator("review_year", mode="before")
    @classmethod
    def _review_year(cls, v: Any) -> int | None:
        return None if v is None or not str(v).strip() else reviews.parse_year(v)

    @field_validator("review_status", mode="before")
    @classmethod
    def _review_status(cls, v: Any) -> str | None:
        return None if v is None or not str(v).strip() else reviews.parse_status(str(v))

    @model_validator(mode="after")
    def _review_complete(self) -> RegistryRecord:
        if (self.review_date or self.review_note) and not self.review_status:
            raise ValueError("填写了年审日期或备注，但年审状态为空")
        if self.review_status and self.review_year is None:
            raise ValueError("填写了年审状态，但年审年度为空")
        return self

    @field_validator("opened_date", "registered_date", "last_review_date", "review_date", mode="before")
    @classmethod
    def _dates(cls, v: Any) -> str | None:
        return _date(v)

    @field_validator("head_email", "operator_email")
    @classmethod
    def _email(cls, v: str | None) -> str | None:
        if v and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", v):
            raise ValueError(f"邮箱 {v!r} 格式不正确")
        return v


class RegistryImportError(Exception):
    """Every problem of a rejected import, one line each, with file and line number."""

    def __init__(self, source: str, problems: list[str]):
        self.source = source
        self.problems = problems
        super().__init__(f"{source}: {len(problems)} 处错误")

    def render(self) -> str:
        head = f"{self.source}：发现 {len(self.problems)} 处错误，未导入任何记录（全部成功才会导入）："
        return "\n".join([head, *[f"  - {p}" for p in self.problems]])


_LABEL = {f: hs[0] for f, hs in (FIELDS | REVIEW_FIELDS).items()}


def explain_validation(e: ValidationError) -> str:
    parts = []
    for err in e.errors():
        field = str(err["loc"][0]) if err["loc"] else ""
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "missing":
            msg = "必填项为空"
        parts.append(f"{_LABEL.get(field, field)}：{msg}")
    return "；".join(parts)


# Bounds on one import, far above any school's registry (hundreds to a few thousand accounts)
# and far below what would take minutes and gigabytes: a file is refused at once, before parsing.
IMPORT_MAX_BYTES = 10 * 1024 * 1024
IMPORT_MAX_ROWS = 10_000
# An XLSX is a zip: 68 KB of it can unpack to hundreds of MB of XML (a zip bomb). A workbook of
# IMPORT_MAX_ROWS rows as Excel, WPS or openpyxl save it unpacks to under 16 MB.
XLSX_MAX_UNPACKED = 32 * 1024 * 1024
XLSX_MAX_MEMBERS = 200
_TOO_BIG = "请删去空行与无关工作表，或拆分为多个文件分批导入"
_XML_ROW = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?row[\s/>]")


def _too_many_rows(path: Path) -> RegistryImportError:
    return RegistryImportError(str(path), [f"台账超过 {IMPORT_MAX_ROWS} 行，未导入；{_TOO_BIG}"])


def _check_xlsx_size(path: Path) -> None:
    """Refuse a workbook that unpacks too large or holds too many rows, by reading its zip
    stream once (decompression only, no XML parsing): what openpyxl would otherwise spend
    minutes and gigabytes on is refused in well under a second. The bytes are counted as they
    come out, not taken from the zip's own (forgeable) size fields."""
    import zipfile

    with zipfile.ZipFile(path) as zf:
        members = zf.infolist()
        if len(members) > XLSX_MAX_MEMBERS:
            raise RegistryImportError(str(path), [f"XLSX 文件包含 {len(members)} 个部件，不像一份台账；{_TOO_BIG}"])
        unpacked = 0
        for info in members:
            sheet = info.filename.startswith("xl/worksheets/") and info.filename.endswith(".xml")
            rows, tail = 0, b""
            with zf.open(info) as member:
                while chunk := member.read(1024 * 1024):
                    unpacked += len(chunk)
                    if unpacked > XLSX_MAX_UNPACKED:
                        raise RegistryImportError(str(path), [
                            f"XLSX 文件解压后超过 {XLSX_MAX_UNPACKED // (1024 * 1024)} MB，未导入；{_TOO_BIG}"])
                    if sheet:  # a row tag starts at '<': count up to the last one, carry the rest
                        buf = tail + chunk
                        cut = buf.rfind(b"<")
                        cut = len(buf) if cut < 0 else cut
                        rows += len(_XML_ROW.findall(buf, 0, cut))
                        tail = buf[cut:]
                        if rows > IMPORT_MAX_ROWS + 1:  # + the header
                            raise _too_many_rows(path)
            if sheet and rows + len(_XML_ROW.findall(tail)) > IMPORT_MAX_ROWS + 1:
                raise _too_many_rows(path)


def _read_xlsx(path: Path) -> list[tuple[int, list[Any]]]:
    """The first sheet's rows; a file that is not a readable workbook (damaged, renamed from .xls
    or .csv, password-protected) is a RegistryImportError saying so."""
    import zipfile
    import zlib

    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        _check_xlsx_size(path)
        wb = load_workbook(path, read_only=True, data_only=True)
        try:
            ws = wb.worksheets[0]
            rows = []
            for i, r in enumerate(ws.iter_rows(values_only=True), start=1):
                if i > IMPORT_MAX_ROWS + 1:  # rows the count above missed (another sheet layout)
                    raise _too_many_rows(path)
                rows.append((i, list(r)))
            return rows
        finally:
            wb.close()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, NotImplementedError, RuntimeError, InvalidFileException,
            KeyError,
            ValueError, IndexError, EOFError) as e:
        raise RegistryImportError(str(path), [
            "无法读取该 XLSX 文件：文件可能已损坏、加密，或其实是 .xls/.csv 改了扩展名；"
            "请用 Excel/WPS 打开后另存为 .xlsx 或 UTF-8 CSV"]) from e


def _read_csv(path: Path) -> list[tuple[int, list[Any]]]:
    raw = path.read_bytes()
    for enc in ("utf-8-sig", "gb18030"):  # Excel on Chinese Windows saves CSV as GBK
        try:
            text = raw.decode(enc)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise RegistryImportError(str(path), ["文件编码无法识别，请另存为 UTF-8 CSV 或 XLSX"])
    rows = []
    try:
        for i, r in enumerate(csv.reader(io.StringIO(text)), start=1):
            if i > IMPORT_MAX_ROWS + 1:
                raise _too_many_rows(path)
            rows.append((i, [csv_unescape(c) for c in r]))
    except csv.Error as e:  # a NUL byte or a field past the csv module's limit
        raise RegistryImportError(str(path), [f"第 {len(rows) + 1} 行：CSV 格式有误，请用 Excel/WPS 另存为 UTF-8 CSV 或 XLSX"]) from e
    return rows


def _read_rows(path: Path) -> tuple[list[str], list[tuple[int, list[Any]]]]:
    """Header and (line number, cells) of a CSV or XLSX file."""
    suffix = path.suffix.lower()
    size = path.stat().st_size
    if size > IMPORT_MAX_BYTES:
        raise RegistryImportError(str(path), [
            f"文件大小 {size / 1024 / 1024:.1f} MB，超过上限 {IMPORT_MAX_BYTES // (1024 * 1024)} MB，未导入；{_TOO_BIG}"])
    if suffix in (".xlsx", ".xlsm"):
        rows = _read_xlsx(path)
    elif suffix in (".csv", ".txt", ""):
        rows = _read_csv(path)
    else:
        raise RegistryImportError(str(path), [f"不支持的文件类型 {suffix}，请使用 .csv 或 .xlsx"])
    rows = [(i, r) for i, r in rows if any(c not in (None, "") and str(c).strip() for c in r)]
    if not rows:
        raise RegistryImportError(str(path), ["文件为空"])
    header = ["" if h is None else str(h).strip() for h in rows[0][1]]
    return header, rows[1:]


def parse_file(path: Path | str) -> list[RegistryRecord]:
    """Validate a registry spreadsheet; raises RegistryImportError listing every bad row."""
    path = Path(path)
    if not path.is_file():
        raise RegistryImportError(str(path), ["文件不存在"])
    header, rows = _read_rows(path)
    mapping: dict[int, str] = {}
    problems: list[str] = []
    for col, h in enumerate(header):
        field = _HEADER_INDEX.get(h.lower())
        if field:
            if field in mapping.values():
                problems.append(f"第 1 行：列 {h!r} 与另一列重复表示 {_LABEL[field]}")
            mapping[col] = field
    missing = [f for f in ("platform", "account_name", "account_id", "unit", "tier") if f not in mapping.values()]
    if missing:
        problems.append(
            "第 1 行（表头）：缺少必需列 " + "、".join(_LABEL[f] for f in missing)
            + f"；现有列：{'、'.join(h for h in header if h)}"
        )
        raise RegistryImportError(str(path), problems)
    records: list[RegistryRecord] = []
    seen: dict[tuple[str, str], int] = {}
    for line, cells in rows:
        data = {field: cells[col] if col < len(cells) else None for col, field in mapping.items()}
        try:
            rec = RegistryRecord.model_validate(data)
        except ValidationError as e:
            problems.append(f"第 {line} 行：{explain_validation(e)}")
            continue
        key = (rec.platform, rec.account_id)
        if key in seen:
            problems.append(f"第 {line} 行：{PLATFORM_LABELS[rec.platform]} 账号ID {rec.account_id} 与第 {seen[key]} 行重复")
            continue
        seen[key] = line
        records.append(rec)
    if problems:
        raise RegistryImportError(str(path), problems)
    return records


def import_records(store: Store, records: Iterable[RegistryRecord], *, actor: str = "import") -> dict[str, int]:
    """Upsert validated records in one transaction. Existing rows are updated in place and the
    differences written as filings, so an import never erases history."""
    counts = {"added": 0, "updated": 0, "unchanged": 0, "reviews": 0}
    now = utcnow()
    today = local_today().isoformat()
    with store.transaction():
        for rec in records:
            data = rec.model_dump()
            row = stored.find(store, rec.platform, rec.account_id)
            if row is None:
                rid = stored.insert(store, data, now)
                stored.add_filing(store, rid, "register", None, None, None, rec.registered_date or today, "导入", actor)
                counts["added"] += 1
                counts["reviews"] += _import_review(store, rid, rec, actor)
                continue
            counts["reviews"] += _import_review(store, row.id, rec, actor)
            old = dataclasses.asdict(row)
            changed = {k: v for k, v in data.items() if old.get(k) != v and not (v is None and old.get(k) in (None, ""))}
            if not changed:
                counts["unchanged"] += 1
                continue
            stored.update(store, row.id, changed, now)
            for k, v in changed.items():
                stored.add_filing(store, row.id, "change", k, old.get(k), v, today, "导入更新", actor)
            counts["updated"] += 1
    return counts


def _import_review(store: Store, registry_id: int, rec: RegistryRecord, actor: str) -> int:
    """Record the row's annual review when it says something new; 1 if it did."""
    if not rec.review_status or rec.review_year is None:
        return 0
    old = reviews.get_review(store, registry_id, rec.review_year)
    if old and (old.status, old.reviewed_date, old.note) == (rec.review_status, rec.review_date or old.reviewed_date,
                                                            rec.review_note):
        return 0
    reviews.set_review(store, registry_id, rec.review_year, rec.review_status, reviewed_date=rec.review_date,
                       note=rec.review_note, actor=actor)
    return 1


def import_file(store: Store, path: Path | str, *, actor: str = "import") -> dict[str, int]:
    return import_records(store, parse_file(path), actor=actor)


# -- queries ----------------------------------------------------------------------------------


def list_accounts(store: Store, *, platform: str | None = None, unit: str | None = None,
                  status: str | None = None, search: str | None = None) -> list[RegistryAccount]:
    return stored.list_accounts(store, platform=platform, unit=unit, status=status, search=search)


def active_accounts(store: Store) -> list[RegistryAccount]:
    return list_accounts(store, status="active")


def find_account(store: Store, platform: str, account_id: str) -> RegistryAccount | None:
    return stored.find(store, platform, account_id)


def filings_for(store: Store, registry_id: int) -> list[Filing]:
    return stored.filings_for(store, registry_id)


def load_for_matching(cfg: Config, store: Store | None = None) -> list[dict[str, Any]]:
    """Registry rows for the matcher: the store's, or the config's registry file when the store
    has none yet (a fresh install, or ``watcher match`` run before any import). Plain mappings
    on purpose: the matcher takes registry rows from either source (and from tests) alike."""
    if store is not None:
        rows = stored.list_accounts(store)
        if rows:
            return [dataclasses.asdict(r) for r in rows]
    if cfg.registry_path and cfg.registry_path.is_file():
        return [r.model_dump() for r in parse_file(cfg.registry_path)]
    return []


# -- changes ----------------------------------------------------------------------------------


FIELD_LABELS = {f: labels[0] for f, labels in FIELDS.items()} | {
    "avatar": "头像", "bio": "简介", "verified": "认证信息", "status": "状态"}


def parse_field(text: str) -> str:
    """A field as people write it (账号名称, 负责人手机) or as the code (account_name)."""
    t = (text or "").strip()
    if t in FIELD_LABELS:
        return t
    return _HEADER_INDEX.get(t.lower()) or next((f for f, label in FIELD_LABELS.items() if label == t), t)


def parse_status(text: str) -> str | None:
    """在用/已注销 (or active/closed, 正常 …) → the code; None for a word that is no status."""
    return _STATUSES.get((text or "").strip().lower()) if (text or "").strip() else None


def value_label(field: str | None, value: Any) -> str:
    """A stored value as people read it: 在用 for active, 二级 for tier 2."""
    if value is None or value == "":
        return ""
    if field == "status":
        return STATUS_LABELS.get(str(value), str(value))
    if field == "tier":
        try:
            return TIER_LABELS.get(int(value), str(value))
        except ValueError:
            return str(value)
    return str(value)


class RegistryError(Exception):
    """A registry operation that cannot be done as asked (message is for the user)."""


def _require(store: Store, platform: str, account_id: str) -> RegistryAccount:
    row = find_account(store, platform, account_id)
    if row is None:
        raise RegistryError(f"台账中没有 {PLATFORM_LABELS.get(platform, platform)} 账号ID {account_id}")
    return row


def add_account(store: Store, record: RegistryRecord, *, actor: str = "cli") -> int:
    if find_account(store, record.platform, record.account_id):
        raise RegistryError(f"{PLATFORM_LABELS[record.platform]} 账号ID {record.account_id} 已在台账中；变更请用 file-change")
    import_records(store, [record], actor=actor)
    return _require(store, record.platform, record.account_id).id


def file_change(store: Store, platform: str, account_id: str, field: str, new_value: str,
                *, filed_date: str | None = None, note: str | None = None, actor: str = "cli") -> RegistryAccount:
    """Record a change filing (变更备案) and apply it to the registry row."""
    if field not in CHANGEABLE:
        raise RegistryError(f"字段「{FIELD_LABELS.get(field, field)}」不能变更；可选："
                            f"{'、'.join(FIELD_LABELS.get(f, f) for f in CHANGEABLE)}")
    when = _date(filed_date) or local_today().isoformat()
    with store.transaction():
        row = _require(store, platform, account_id)
        if row.status != "active":
            raise RegistryError("账号已注销，不能再做变更备案")
        old = getattr(row, field, None)
        if field not in _PROFILE_ONLY:
            value: Any = new_value
            if field in ("tier", "followers"):
                probe = RegistryRecord.model_validate({**dataclasses.asdict(row), field: new_value})
                value = getattr(probe, field)
            if field == "account_id" and find_account(store, platform, new_value):
                raise RegistryError(f"账号ID {new_value} 已被台账中另一账号使用")
            stored.update(store, row.id, {field: value}, utcnow())
        stored.add_filing(store, row.id, "change", field, old, new_value, when, note, actor)
    return _require(store, platform, new_value if field == "account_id" else account_id)


def close_account(store: Store, platform: str, account_id: str, *, closed_date: str | None = None,
                  note: str | None = None, actor: str = "cli") -> None:
    """注销: the row stays (history, and so matching still knows the name), marked closed."""
    when = _date(closed_date) or local_today().isoformat()
    with store.transaction():
        row = _require(store, platform, account_id)
        if row.status == "closed":
            raise RegistryError("账号已是注销状态")
        stored.update(store, row.id, {"status": "closed", "closed_date": when}, utcnow())
        stored.add_filing(store, row.id, "close", "status", "active", "closed", when, note, actor)


def reopen_account(store: Store, platform: str, account_id: str, *, note: str | None = None,
                   actor: str = "cli") -> RegistryAccount:
    """Undo a 注销 (a closing filed by mistake): the account is in use again, and the history
    keeps both the closing and its undoing."""
    when = date.today().isoformat()
    with store.transaction():
        row = _require(store, platform, account_id)
        if row.status != "closed":
            raise RegistryError("账号未注销，无需撤销")
        stored.update(store, row.id, {"status": "active", "closed_date": None}, utcnow())
        # a change of the status field (the filing kinds are fixed by the schema): shown as 撤销注销
        stored.add_filing(store, row.id, "change", "status", "closed", "active", when, note, actor)
    return _require(store, platform, account_id)


def export_rows(store: Store) -> tuple[list[str], list[list[Any]]]:
    """Header (Chinese) and rows, in the import format, so an export re-imports unchanged."""
    fields = list(FIELDS)
    header = [_LABEL[f] for f in fields] + [_LABEL[f] for f in REVIEW_FIELDS]
    latest = reviews.latest_reviews(store)
    rows = []
    for r in list_accounts(store):
        out = []
        for f in fields:
            v = getattr(r, f)
            if f == "platform":
                v = PLATFORM_LABELS.get(v, v)
            elif f == "tier":
                v = {1: "一级", 2: "二级", 3: "三级"}.get(v, v)
            elif f == "status":
                v = "正常" if v == "active" else "已注销"
            out.append("" if v is None else v)
        rv = latest.get(r.id)
        out += [rv.year, rv.label, rv.reviewed_date or "", rv.note or ""] if rv else ["", "", "", ""]
        rows.append(out)
    return header, rows


# A cell starting with one of these is a formula (or DDE) to Excel and WPS when they open a CSV:
# an impersonator's name "=HYPERLINK(…)" would become a live link in a reviewer's sheet.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_escape(value: Any) -> Any:
    """A text cell for a CSV people open in Excel: one starting like a formula gets a leading
    apostrophe (shown by Excel as text, OWASP's advice), and so does one that already starts
    with an apostrophe before such a character, so :func:`csv_unescape` returns every value
    exactly. Numbers stay numbers."""
    if isinstance(value, str) and value and (
            value[0] in _FORMULA_START or (value[0] == "'" and value[1:2] and value[1] in (*_FORMULA_START, "'"))):
        return "'" + value
    return value


def csv_unescape(value: str) -> str:
    """The inverse of :func:`csv_escape`, applied to every imported CSV cell, so an export
    re-imports unchanged."""
    if value[:1] == "'" and value[1:2] and value[1] in (*_FORMULA_START, "'"):
        return value[1:]
    return value


def export_file(store: Store, path: Path | str) -> int:
    path = Path(path)
    header, rows = export_rows(store)
    if path.suffix.lower() == ".xlsx":
        from openpyxl import Workbook

        wb = Workbook()
        ws = wb.active
        ws.title = "备案台账"
        ws.append(header)
        for r in rows:
            ws.append(xlsx.cells(r))  # a control character in any cell made openpyxl raise
        xlsx.save(wb, path)
    else:
        with path.open("w", encoding="utf-8-sig", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(header)
            w.writerows([csv_escape(v) for v in r] for r in rows)
    return len(rows)
