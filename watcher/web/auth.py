"""Local users with roles, argon2 password hashes, sessions, login throttling, the audit log.

Roles: ``admin`` (everything, users), ``central`` (the central department: every unit's
findings, registry edits, scans, school-wide name rules), ``unit`` (a unit's reviewer: only that
unit's findings; a name rule from them is a proposal the central department decides).

Sessions: the cookie names the user and the ``session_epoch`` it was issued under. Logging out,
a new password, disabling and a role change bump the epoch, which ends every session of that
user on its next request, wherever the cookie was copied to.

Throttling: 5 failed logins for one account, or from one client address, within 15 minutes lock
that account or address for 15 minutes. The counters live in the database, so a restart does
not reset them and every web process shares them.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from watcher import registry, timefmt
from watcher.config import Config
from watcher.periods import local_tz
from watcher.store import Store, users
from watcher.store.findings import Finding

ROLES = {"admin": "管理员", "central": "宣传部复核员", "unit": "单位复核员"}
MAX_FAILURES = 5
LOCK_MINUTES = 15
_hasher = PasswordHasher()
# Each argon2 hash takes ~0.5 s of CPU and 64 MiB: the web app runs them in worker threads (never
# on the event loop), at most two at a time, so a burst of logins queues instead of taking every
# core and hundreds of MB.
_hashing = threading.BoundedSemaphore(2)
# Verifying against this keeps a wrong user name as slow as a wrong password.
_DUMMY = _hasher.hash("campus-watcher")

# Injectable for tests that need the lock to expire; production uses the wall clock.
clock: Callable[[], datetime] = lambda: datetime.now(UTC)  # noqa: E731


class UserError(ValueError):
    pass


class LockedOut(Exception):
    """Too many failed logins; ``until`` is when the lock ends."""

    def __init__(self, until: datetime) -> None:
        self.until = until
        local = until.astimezone(local_tz())
        super().__init__(f"登录失败次数过多，已暂时锁定；请于 {local:%H:%M}（{timefmt.zone_label()}）后再试，"
                         f"或联系管理员")


@dataclass(frozen=True)
class User:
    username: str
    role: str
    unit: str | None
    epoch: int = 0

    @property
    def central(self) -> bool:
        return self.role in ("admin", "central")

    def may_see(self, finding: Finding) -> bool:
        return self.central or (self.unit is not None and finding.unit == self.unit)


# -- units ------------------------------------------------------------------------------------


def known_units(cfg: Config, store: Store) -> dict[str, str]:
    """Every accepted spelling of a unit → its canonical name: the configured units (by id,
    name or alias) and the units the registry already holds."""
    names: dict[str, str] = {}
    for r in registry.list_accounts(store):
        names.setdefault(r.unit, r.unit)
    for u in cfg.units:
        for form in (u.id, u.name, *u.aliases):
            names[form] = u.name
    return names


def canonical_unit(cfg: Config, store: Store, unit: str) -> str:
    """The canonical name of ``unit``; raises UserError naming the known units otherwise."""
    names = known_units(cfg, store)
    key = unit.strip()
    if key not in names:
        listed = "、".join(sorted(set(names.values()))) or "（无）"
        raise UserError(f"没有单位「{unit}」。已知单位：{listed}。请先在配置文件 units 中添加该单位，或导入含该单位的台账")
    return names[key]


# -- users ------------------------------------------------------------------------------------


def _hash(password: str) -> str:
    with _hashing:
        return _hasher.hash(password)


def _check_password(password: str) -> None:
    if len(password) < 8:
        raise UserError("密码至少 8 位")


def has_users(store: Store) -> bool:
    """Whether anyone could log in at all (the first-run page says how to add the first user)."""
    return users.any_user(store)


def add_user(store: Store, username: str, password: str, role: str, unit: str | None = None,
             cfg: Config | None = None) -> None:
    """Add a user; with ``cfg`` the unit must be a known one (stored by its canonical name,
    which is what findings carry)."""
    if not re.fullmatch(r"[A-Za-z0-9_.@-]{2,64}", username):
        raise UserError("用户名只能包含字母、数字和 _ . @ -（2–64 位）")
    if role not in ROLES:
        raise UserError(f"角色应为 {', '.join(ROLES)}")
    if role == "unit" and not unit:
        raise UserError("单位复核员需要指定单位（--unit）")
    if role == "unit" and cfg is not None:
        unit = canonical_unit(cfg, store, unit or "")
    _check_password(password)
    if users.get(store, username):
        raise UserError(f"用户 {username} 已存在")
    users.insert(store, username, _hash(password), role, unit if role == "unit" else None)


def _update(store: Store, username: str, **values: Any) -> None:
    """Change a user, which also ends all their sessions."""
    if not users.update(store, username, **values):
        raise UserError(f"没有用户 {username}")


def set_password(store: Store, username: str, password: str) -> None:
    _check_password(password)
    _update(store, username, password_hash=_hash(password))


def set_disabled(store: Store, username: str, disabled: bool) -> None:
    _update(store, username, disabled=int(disabled))


def set_role(cfg: Config, store: Store, username: str, role: str, unit: str | None) -> None:
    if role not in ROLES:
        raise UserError(f"角色应为 {', '.join(ROLES)}")
    if role == "unit":
        if not unit:
            raise UserError("单位复核员需要指定单位（--unit）")
        unit = canonical_unit(cfg, store, unit)
    _update(store, username, role=role, unit=unit if role == "unit" else None)


def end_sessions(store: Store, username: str) -> None:
    """Log ``username`` out everywhere."""
    users.end_sessions(store, username)


def _user(row: users.UserRow) -> User:
    return User(row.username, row.role, row.unit, row.session_epoch)


def load_user(store: Store, username: str | None, epoch: Any) -> User | None:
    """The user a session names, if that session is still valid (user enabled, same epoch)."""
    if not username or not isinstance(epoch, int):
        return None
    row = users.enabled(store, username)
    if row is None or row.session_epoch != epoch:
        return None
    return _user(row)


# -- login and throttling ---------------------------------------------------------------------


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).replace(microsecond=0).isoformat()


def _locked_until(store: Store, scope: str, key: str, now: datetime) -> datetime | None:
    row = users.throttle(store, scope, key)
    if row and row.locked_until:
        until = datetime.fromisoformat(row.locked_until)
        if until > now:
            return until
    return None


def _count_failure(store: Store, scope: str, key: str, now: datetime) -> None:
    """One more failure in the current 15-minute window; the fifth locks for 15 minutes."""
    row = users.throttle(store, scope, key)
    window_open = row is not None and datetime.fromisoformat(row.window_start) > now - timedelta(minutes=LOCK_MINUTES)
    failures = (row.failures if window_open and row else 0) + 1
    start = row.window_start if window_open and row else _iso(now)
    locked = _iso(now + timedelta(minutes=LOCK_MINUTES)) if failures >= MAX_FAILURES else None
    users.set_throttle(store, scope, key, users.Throttle(0 if locked else failures, _iso(now) if locked else start, locked))


def login(store: Store, username: str, password: str, address: str) -> User | None:
    """Check a login attempt: the user, None for a wrong name or password, or LockedOut.

    A locked account or address is refused before the password is even looked at, so a
    guesser learns nothing during the lock. Every outcome goes to the audit log.
    """
    now = clock()
    username = username.strip()[:64]
    address = address[:64] or "unknown"
    until = max(filter(None, (_locked_until(store, "account", username, now),
                              _locked_until(store, "address", address, now))), default=None)
    if until is not None:
        audit(store, username or "（空）", "登录被拒（已锁定）", f"address:{address}", {"until": _iso(until)})
        raise LockedOut(until)
    row = users.enabled(store, username)
    try:
        with _hashing:
            _hasher.verify(row.password_hash if row else _DUMMY, password)
        ok = row is not None
    except (VerificationError, InvalidHashError):
        ok = False
    with store.transaction():
        if ok:
            users.clear_throttle(store, "account", username)
        else:
            _count_failure(store, "account", username, now)
            _count_failure(store, "address", address, now)
        audit(store, username or "（空）", "登录" if ok else "登录失败", f"address:{address}")
    return _user(row) if ok and row else None


def audit(store: Store, actor: str, action: str, target: str | None = None, details: Any = None) -> None:
    users.audit(store, actor, action, target, details)
