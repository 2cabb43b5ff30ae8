"""Who a spider is to a platform: one browser identity and one session per platform.

A platform sees the same visitor from us whatever the round: the descriptor's user agent (a
desktop Chrome, or the phone browser where the API is the mobile site's), the department's
session, and — for browser platforms — one persistent Chromium profile that keeps what the
platform set last time (visitor cookies, local storage, device ids), as a person's browser would.
MediaCrawler (NanmiCoder/MediaCrawler, ``browser_launcher`` / ``stealth.min.js``) does the same
for the same platforms: a persistent profile, automation hidden, the login checked before crawling.

Everything a session is lives under the data directory, per platform::

    <data_dir>/sessions/<platform>/state.json    the session (Playwright storage_state: cookies, origins)
    <data_dir>/sessions/<platform>/meta.json     when and how it was saved, the last check
    <data_dir>/sessions/<platform>/profile/      the browser profile (browser platforms)
    <data_dir>/sessions/<platform>/usage.json    requests made today (the daily budget)

This module only reads and writes those files; checking a session against the platform and
telling people about it is :mod:`watcher.sessions` (spiders never reach up into ``watcher``).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import tempfile
import urllib.parse
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

# Chromium announces automation through navigator.webdriver (and the "AutomationControlled" Blink
# feature behind it); the launch flag turns the feature off, the init script covers the property
# for pages that look before the flag applies, and for a reused profile. Sites such as Douyin
# compute their request signatures over navigator properties, so they must read like a browser's.
_STEALTH = """
(() => {
  const ua = %(ua)s, platform = %(platform)s;
  const define = (proto, name, value) => {
    try { Object.defineProperty(proto, name, {get: () => value, configurable: true}); } catch (e) {}
  };
  define(Navigator.prototype, 'webdriver', false);
  define(Navigator.prototype, 'userAgent', ua);
  define(Navigator.prototype, 'appVersion', ua.replace(/^Mozilla\\//, ''));
  define(Navigator.prototype, 'platform', platform);
  define(Navigator.prototype, 'languages', ['zh-CN', 'zh', 'en']);
  // Client hints must tell the same story as the user agent (headless Chromium says HeadlessChrome).
  if (%(brands)s && navigator.userAgentData) {
    const brands = %(brands)s;
    const data = {brands: brands, mobile: false, platform: 'Windows',
      getHighEntropyValues: () => Promise.resolve({brands: brands, mobile: false, platform: 'Windows',
        platformVersion: '10.0.0', architecture: 'x86', bitness: '64', model: '',
        uaFullVersion: brands[1].version + '.0.0.0', fullVersionList: brands}),
      toJSON: () => ({brands: brands, mobile: false, platform: 'Windows'})};
    define(Navigator.prototype, 'userAgentData', data);
  }
  if (!window.chrome) { window.chrome = {runtime: {}}; }
})();
"""


def stealth_script(user_agent: str) -> str:
    """The init script every page of the context runs first. Chromium applies the context's user
    agent to requests but a persistent profile's pages can still read the headless one from
    ``navigator``; the script makes the two agree, and reports no automation."""
    platform = "iPhone" if "iPhone" in user_agent else "Win32" if "Windows" in user_agent else "MacIntel"
    version = _chrome_version(user_agent)
    brands = ([{"brand": "Google Chrome", "version": version}, {"brand": "Chromium", "version": version},
               {"brand": "Not_A Brand", "version": "24"}] if version else None)
    return _STEALTH % {"ua": json.dumps(user_agent), "platform": json.dumps(platform), "brands": json.dumps(brands)}


def _chrome_version(user_agent: str) -> str | None:
    import re

    m = re.search(r"Chrome/(\d+)", user_agent)
    return m[1] if m else None


def client_hints(user_agent: str) -> dict[str, str]:
    """The ``sec-ch-ua*`` headers a Chrome with this user agent sends (none for other browsers)."""
    version = _chrome_version(user_agent)
    if not version:
        return {}
    return {"sec-ch-ua": f'"Google Chrome";v="{version}", "Chromium";v="{version}", "Not_A Brand";v="24"',
            "sec-ch-ua-mobile": "?0", "sec-ch-ua-platform": '"Windows"' if "Windows" in user_agent else '"macOS"'}


HIDE_AUTOMATION_ARG = "--disable-blink-features=AutomationControlled"


def session_dir(data_dir: Path, platform: str) -> Path:
    return Path(data_dir) / "sessions" / platform


def state_path(data_dir: Path, platform: str) -> Path:
    return session_dir(data_dir, platform) / "state.json"


def visitor_path(data_dir: Path, platform: str) -> Path:
    """Visitor cookies a platform hands any browser (not a login; see :func:`session_values`)."""
    return session_dir(data_dir, platform) / "visitor.json"


def meta_path(data_dir: Path, platform: str) -> Path:
    return session_dir(data_dir, platform) / "meta.json"


def profile_dir(data_dir: Path, platform: str) -> Path:
    return session_dir(data_dir, platform) / "profile"


def read_json(path: Path) -> dict[str, Any]:
    """A JSON object from ``path``; empty when missing or unreadable (a half-written file from a
    crash is treated as no session, never as a reason to stop crawling)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Write ``data`` atomically (temp file + rename): a reader sees the old or the new file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, ensure_ascii=False, indent=1)
        os.chmod(tmp, 0o600)  # a session is a credential: readable by the service user only
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def saved_cookies(data_dir: Path, platform: str) -> list[dict[str, Any]]:
    """The saved session's cookies, as Playwright stores them (name, value, domain, path …)."""
    cookies = read_json(state_path(data_dir, platform)).get("cookies") or []
    return [c for c in cookies if isinstance(c, dict) and c.get("name") and "value" in c]


def cookie_values(cookies: list[dict[str, Any]]) -> dict[str, str]:
    return {str(c["name"]): str(c["value"]) for c in cookies}


def visitor_cookies(data_dir: Path, platform: str) -> list[dict[str, Any]]:
    cookies = read_json(visitor_path(data_dir, platform)).get("cookies") or []
    return [c for c in cookies if isinstance(c, dict) and c.get("name") and "value" in c]


def keep_visitor_cookies(data_dir: Path, platform: str, cookies: dict[str, str], domain: str) -> None:
    """Keep device/visitor ids a platform handed us (Bilibili's buvid3/buvid4) for the next
    rounds, as a browser keeps them: a new device id every round is not how a reader looks."""
    path = visitor_path(data_dir, platform)
    held = read_json(path)
    kept = {c["name"]: c for c in visitor_cookies(data_dir, platform)}
    for name, value in cookies.items():
        kept[name] = {"name": name, "value": value, "domain": domain, "path": "/"}
    write_json(path, {**held, "cookies": list(kept.values())})


def session_values(data_dir: Path, platform: str, configured: dict[str, str]) -> dict[str, str]:
    """The cookies an HTTP request carries: visitor cookies first, ``cookies_file`` over them,
    the saved session over both (``watcher login`` is how a session is renewed, so it is the
    newest)."""
    return {**cookie_values(visitor_cookies(data_dir, platform)), **configured,
            **cookie_values(saved_cookies(data_dir, platform))}


def browser_cookies(data_dir: Path, platform: str, configured: dict[str, str], urls: list[str]) -> list[dict[str, Any]]:
    """Cookies for the browser context: the saved session as saved (with its domains), and the
    ``cookies_file`` values — which carry no domain — for every host the platform is crawled on."""
    saved = saved_cookies(data_dir, platform)
    names = {c["name"] for c in saved}
    saved = saved + [c for c in visitor_cookies(data_dir, platform) if c["name"] not in names and c["name"] not in configured]
    names = {c["name"] for c in saved}
    out = [{k: v for k, v in c.items() if k in ("name", "value", "domain", "path", "expires", "httpOnly", "secure",
                                                  "sameSite")} for c in saved]
    hosts = sorted({urllib.parse.urlsplit(u).scheme + "://" + urllib.parse.urlsplit(u).netloc for u in urls if "//" in u})
    for name, value in configured.items():
        if name in names:
            continue
        out.extend({"name": name, "value": value, "url": host + "/"} for host in hosts)
    return out


def context_options(*, user_agent: str, mobile: bool, profile: Path, launch: dict[str, Any]) -> dict[str, Any]:
    """Options of the platform's persistent browser context: the launch options (a persistent
    context is its own browser), the identity, and China's language and clock."""
    args = list(launch.get("args") or [])
    if HIDE_AUTOMATION_ARG not in args:
        args.append(HIDE_AUTOMATION_ARG)
    options: dict[str, Any] = {
        **launch, "args": args, "user_data_dir": str(profile), "user_agent": user_agent,
        "locale": "zh-CN", "timezone_id": "Asia/Shanghai",
        "extra_http_headers": {"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.6", **client_hints(user_agent)},
        # Playwright adds --enable-automation by default, which shows the "controlled by
        # automated software" state that pages can read.
        "ignore_default_args": ["--enable-automation"],
    }
    if mobile:
        options.update(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, device_scale_factor=3)
    else:
        options["viewport"] = {"width": 1366, "height": 768}
    return options


# -- the daily request budget ------------------------------------------------------------------

def _today() -> str:
    # The budget is a day of the platform's (China's) calendar.
    return datetime.now(UTC).astimezone(_china()).date().isoformat()


def _china() -> Any:
    from spiders.parsing import CHINA

    return CHINA


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def usage_path(data_dir: Path, platform: str) -> Path:
    return session_dir(data_dir, platform) / "usage.json"


def requests_today(data_dir: Path, platform: str) -> int:
    usage = read_json(usage_path(data_dir, platform))
    return int(usage.get("count") or 0) if usage.get("day") == _today() else 0


def spend(data_dir: Path, platform: str, n: int = 1) -> int:
    """Count ``n`` requests against today's budget; the day's count after them. Shared by every
    process crawling the platform (the daemon's rounds and the CLI's)."""
    path = usage_path(data_dir, platform)
    with _locked(path):
        usage = read_json(path)
        today = _today()
        used = (int(usage.get("count") or 0) if usage.get("day") == today else 0) + n
        write_json(path, {"day": today, "count": used})
    return used


def hold_profile(data_dir: Path, platform: str) -> Any:
    """Take the platform's browser profile for this process (released when it exits): one
    browser at a time may use a profile (Chromium refuses a second one on it), so a round of a
    browser platform started from the CLI waits for the daemon's, and the platform sees one
    browser from us. Returns the open lock file, which the caller keeps."""
    path = session_dir(data_dir, platform) / "profile.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = open(path, "a")  # noqa: SIM115 - held for the life of the crawl process
    fcntl.flock(lock, fcntl.LOCK_EX)
    return lock
