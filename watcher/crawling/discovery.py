"""After a discovery crawl: judge every account the run saw, and record suspects as findings."""

from __future__ import annotations

from loguru import logger

from watcher import findings, registry
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
    matcher = matcher or matcher_for(cfg, store)
    counts = {"registered": 0, "suspect": 0, "clear": 0}
    candidates = []
    for a in accounts:
        avatar = cfg.data_path / a.avatar_path if a.avatar_path else None
        candidates.append(Candidate(a.platform, a.account_id, a.name or "", a.bio or "",
                                    str(avatar) if avatar and avatar.exists() else None))
    for a, r in zip(accounts, _judge_all(matcher, candidates), strict=True):
        if r is None:
            continue  # logged; the account keeps its previous verdict and is judged again next run
        counts[r.verdict] += 1
        with store.transaction():
            stored_accounts.set_verdict(store, a.platform, a.account_id, verdict=r.verdict, score=r.score,
                                        matched=r.matched, unit=r.unit, reasons=list(r.reasons), algo=r.algo)
            if r.verdict == "suspect":
                record(store, findings.impersonation(
                    a, verdict_unit=r.unit, reasons=list(r.reasons), score=r.score, matched=r.matched,
                    office=r.office, algo=r.algo, avatar=avatar_key(a.avatar_url), run_id=run_id))
    return counts


def _judge_all(matcher: Matcher, candidates: list[Candidate]) -> list[MatchResult | None]:
    try:
        return list(matcher.match_many(candidates))
    except Exception:  # noqa: BLE001 - one account must not cost the run's others: one by one
        results: list[MatchResult | None] = []
        for c in candidates:
            try:
                results.append(matcher.match(c))
            except Exception:  # noqa: BLE001
                logger.exception("判定账号 {}:{} 时出错，本次跳过", c.platform, c.account_id)
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
