"""Local users with roles, argon2 password hashes, and the audit log.

Roles: ``admin`` (everything, users), ``central`` (the central department: every unit's
findings, registry edits, scans), ``unit`` (a unit's reviewer: only that unit's findings).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from watcher.store import Store, dumps, utcnow

ROLES = {"admin": "管理员", "central": "宣传部复核员", "unit": "单位复核员"}
_hasher = PasswordHasher()
# Verifying against this keeps a wrong user name as slow as a wrong password.
_DUMMY = _hasher.hash("campus-watcher")


class UserError(ValueError):
    pass


@dataclass(frozen=True)
class User:
    username: str
    role: str
    unit: str | None

    @property
    def central(self) -> bool:
        return self.role in ("admin", "central")

    def may_see(self, finding: dict[str, Any]) -> bool:
        return self.central or (self.unit is not None and finding.get("unit") == self.unit)


def add_user(store: Store, username: str, password: str, role: str, unit: str | None = None) -> None:
    if not re.fullmatch(r"[A-Za-z0-9_.@-]{2,64}", username):
        raise UserError("用户名只能包含字母、数字和 _ . @ -（2–64 位）")
    if role not in ROLES:
        raise UserError(f"角色应为 {', '.join(ROLES)}")
    if role == "unit" and not unit:
        raise UserError("单位复核员需要指定单位")
    if len(password) < 8:
        raise UserError("密码至少 8 位")
    if store.one("SELECT 1 FROM users WHERE username = ?", [username]):
        raise UserError(f"用户 {username} 已存在")
    with store.transaction():
        store.conn.execute("INSERT INTO users (username, password_hash, role, unit, created_at) VALUES (?, ?, ?, ?, ?)",
                           [username, _hasher.hash(password), role, unit if role == "unit" else None, utcnow()])


def set_password(store: Store, username: str, password: str) -> None:
    if len(password) < 8:
        raise UserError("密码至少 8 位")
    with store.transaction():
        if not store.conn.execute("UPDATE users SET password_hash = ? WHERE username = ?",
                                  [_hasher.hash(password), username]).rowcount:
            raise UserError(f"没有用户 {username}")


def set_disabled(store: Store, username: str, disabled: bool) -> None:
    with store.transaction():
        if not store.conn.execute("UPDATE users SET disabled = ? WHERE username = ?", [int(disabled), username]).rowcount:
            raise UserError(f"没有用户 {username}")


def authenticate(store: Store, username: str, password: str) -> User | None:
    row = store.one("SELECT * FROM users WHERE username = ? AND disabled = 0", [username])
    try:
        _hasher.verify(row["password_hash"] if row else _DUMMY, password)
    except (VerificationError, InvalidHashError):
        return None
    return User(row["username"], row["role"], row["unit"]) if row else None


def load_user(store: Store, username: str | None) -> User | None:
    if not username:
        return None
    row = store.one("SELECT * FROM users WHERE username = ? AND disabled = 0", [username])
    return User(row["username"], row["role"], row["unit"]) if row else None


def audit(store: Store, actor: str, action: str, target: str | None = None, details: Any = None) -> None:
    with store.transaction():
        store.conn.execute("INSERT INTO audit_log (actor, action, target, details, created_at) VALUES (?, ?, ?, ?, ?)",
                           [actor, action, target, dumps(details) if details is not None else None, utcnow()])
