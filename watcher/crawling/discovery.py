"""After a discovery crawl: judge every account the run saw, and record suspects as findings."""

from __future__ import annotations

from loguru import logger

from watcher import findings, registry
from watcher.cleaning import printable
from watcher.config import Config
from watcher.crawling.avatars import download_missing
from watcher.matching import Candidate, Matcher, MatchResult
from watcher.store import Store
from watcher.store import accounts as stored_accounts
from watcher.store.accounts import Account
from watcher.store.findings import record
from watcher.store.rules import name_rules
from watcher.watch.avatars import avatar_key


def matcher_for(cfg: Config, store: Store) -> Matcher:
    return Matcher.from_config(cfg, registry.load_for_matching(cfg, store),
                               name_rules(store))


def judge(cfg: Config, store: Store, accounts: list[Account], run_id: int | None = None,
          matcher: Matcher | None = None) -> dict[str, int]:
    """Verdicts for ``accounts``, stored, and a finding for each suspect. An account that cannot
    be judged (its data breaks the matcher or the finding) costs only itself: it is counted in
    ``failed``, logged in Chinese, keeps its previous verdict and is judged again next run."""
    counts = {"registered": 0, "suspect": 0, "clear": 0, "failed": 0}
    if not accounts:
        return counts  # a search with no result: building the matcher (seconds of tables) is wasted
    matcher = matcher or matcher_for(cfg, store)
    candidates = [_candidate(cfg, a) for a in accounts]
    for a, r in zip(accounts, _judge_all(matcher, candidates), strict=True):
        if r is None:
            counts["failed"] += 1
            continue  # logged; the account keeps its previous verdict and is judged again next run
        try:
            with store.transaction():
                stored_accounts.set_verdict(store, a.platform, a.account_id, verdict=r.verdict, score=r.score,
                                            matched=r.matched, unit=r.unit, reasons=list(r.reasons), algo=r.algo)
                if r.verdict == "suspect":
                    record(store, findings.impersonation(
                        a, verdict_unit=r.unit, reasons=list(r.reasons), score=r.score, matched=r.matched,
                        office=r.office, algo=r.algo, avatar=avatar_key(a.avatar_url), run_id=run_id))
        except (ValueError, TypeError, KeyError, AttributeError) as e:
            # Platform data the finding cannot be built from (a malformed URL stored before
            # the cleaning edge existed): this account's verdict is rolled back, the others go on.
            counts["failed"] += 1
            _log_failure(a, e)
            continue
        counts[r.verdict] += 1
    return counts


def _candidate(cfg: Config, a: Account) -> Candidate:
    avatar = None
    if isinstance(a.avatar_path, str) and a.avatar_path:
        path = cfg.data_path / a.avatar_path
        avatar = str(path) if path.is_file() else None
    return Candidate(str(a.platform), str(a.account_id), a.name if isinstance(a.name, str) else "",
                     a.bio if isinstance(a.bio, str) else "", avatar)


def _log_failure(a: Account, e: BaseException) -> None:
    logger.warning("判定账号 {}:{} 时出错，本次跳过，下一轮重新判定：{}", printable(str(a.platform)),
                   printable(str(a.account_id))[:100], printable(str(e))[:200] or "数据无法处理")
    logger.opt(exception=e).debug("判定出错的详情")


def _judge_all(matcher: Matcher, candidates: list[Candidate]) -> list[MatchResult | None]:
    try:
        return list(matcher.match_many(candidates))
    except Exception:  # noqa: BLE001 - one account must not cost the run's others: one by one
        results: list[MatchResult | None] = []
        for c in candidates:
            try:
                results.append(matcher.match(c))
            except Exception as e:  # noqa: BLE001
                logger.warning("判定账号 {}:{} 时出错，本次跳过，下一轮重新判定：{}", printable(c.platform),
                               printable(c.account_id)[:100], printable(str(e))[:200] or "数据无法处理")
                logger.opt(exception=e).debug("判定出错的详情")
                results.append(None)
        return results


def analyse_run(cfg: Config, store: Store, run_id: int) -> dict[str, int]:
    accounts = download_missing(cfg, store, stored_accounts.seen_by_run(store, run_id))
    return judge(cfg, store, accounts, run_id)


def judge_unjudged(cfg: Config, store: Store) -> dict[str, int]:
    """Accounts stored by a discovery run that never got to judge them (killed between storing
    and matching): judged now, at the next start. Their avatars are not downloaded here (start-up
    must not wait on the network); the next discovery run that sees them judges them again."""
    accounts = stored_accounts.unjudged(store)
    if not accounts:
        return {}
    return judge(cfg, store, accounts)
