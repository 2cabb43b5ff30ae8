"""Redis's failures as an operator reads them: in Chinese, with what to check. redis-py's own
messages are English and sometimes misleading (a missing password reads "HELLO must be called
with the client already authenticated"), so none of them reaches a person as it is."""

from __future__ import annotations

from typing import Any

import redis


def explain(e: BaseException, crawl: Any) -> str:
    """What went wrong talking to the Redis of ``crawl`` (a config's crawl section), and the remedy."""
    where = f"crawl.redis_url = {crawl.redis_shown()}"
    text = str(e)
    upper = text.upper()
    password = (f"crawl.redis_password_env 指定的 {crawl.redis_password_env}（环境变量或 alerts.credentials_file 中）"
                if crawl.redis_password_env else "crawl.redis_password_env（口令所在变量名）")
    if "WRONGPASS" in upper or "INVALID PASSWORD" in upper or "INVALID USERNAME-PASSWORD" in upper:
        return f"Redis 拒绝了口令（{where}）：请核对 {password} 与 Redis 的 requirepass"
    if isinstance(e, redis.AuthenticationError) or "NOAUTH" in upper or "AUTHENTICATION REQUIRED" in upper:
        if crawl.redis_password_env and not crawl.redis_password():
            return f"Redis 需要口令，但 {password} 没有设置（{where}）：请在环境变量或凭据文件中填写"
        return f"Redis 需要口令（{where}）：请设置 {password}"
    if "SSL" in upper or "CERTIFICATE" in upper or "TLS" in upper:
        ca = f"crawl.redis_ca_file = {crawl.redis_ca()}" if crawl.redis_ca_file else "crawl.redis_ca_file 未设置（使用系统信任的 CA）"
        return (f"与 Redis 的 TLS 握手失败（{where}；{ca}）：请确认 Redis 开启了 TLS（rediss:// 只用于 TLS 端口）、"
                "证书由该 CA 签发且证书中的主机名与地址一致")
    if isinstance(e, redis.TimeoutError):
        return f"连接 Redis 超时（{where}）：请确认 Redis 已启动、地址正确、防火墙放行该端口"
    if isinstance(e, redis.BusyLoadingError) or "LOADING" in upper:
        return f"Redis 正在启动并载入数据（{where}）：稍后自动重试"
    if isinstance(e, redis.ReadOnlyError) or "READONLY" in upper:
        return f"连接到的 Redis 是只读副本（{where}）：请改为主节点的地址"
    if isinstance(e, redis.ConnectionError):
        return f"无法连接 Redis（{where}）：请确认 Redis 已启动、地址与端口正确、防火墙放行该端口"
    return f"Redis 返回错误（{where}）：{text[:120] or '无说明'}；请检查 Redis 的日志与版本（需要 6.2 以上）"
