"""Forward-only schema migrations, one ordered list per component.

Each component (core, watch, alerts, web) owns its tables and its own version number in
``schema_version``, so the parts of the system evolve without renumbering each other's steps.
A migration runs inside one transaction together with its version bump: an interrupted upgrade
leaves the previous, consistent schema. Never edit a released step; append a new one.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlite_utils

from watcher.store import mentions, reviews
from watcher.store.fingerprint import fingerprint_of

Migration = Callable[[sqlite_utils.Database], None]


def _sql(*statements: str) -> Migration:
    def run(db: sqlite_utils.Database) -> None:
        for s in statements:
            db.execute(s)

    return run


def _refingerprint(db: sqlite_utils.Database) -> None:
    import json

    rows = db.execute("SELECT id, kind, title, severity, account_name, unit, details FROM findings").fetchall()
    for fid, kind, title, severity, account_name, unit, details in rows:
        try:
            parsed = json.loads(details) if details else {}
        except ValueError:
            parsed = {}
        db.execute("UPDATE findings SET fingerprint = ? WHERE id = ?",
                   [fingerprint_of(kind, title, severity, account_name, unit, parsed if isinstance(parsed, dict) else {}),
                    fid])


# --- core -----------------------------------------------------------------------------------

RUN_STATUSES = ("queued", "running", "ok", "partial", "blocked", "failed", "unreachable", "gone", "interrupted")


def _rounds(db: sqlite_utils.Database) -> None:
    statuses = ", ".join(f"'{s}'" for s in RUN_STATUSES)
    # SQLite cannot change a CHECK constraint: rebuild crawl_runs. Findings reference it, so the
    # foreign-key check waits for the end of the transaction, when the new table is in place.
    db.execute("PRAGMA defer_foreign_keys = ON")
    db.execute(f"""CREATE TABLE crawl_runs_new (
            id INTEGER PRIMARY KEY,
            platform TEXT NOT NULL,
            mode TEXT NOT NULL,
            target TEXT,
            status TEXT NOT NULL DEFAULT 'queued' CHECK (status IN ({statuses})),
            reason TEXT,
            items INTEGER NOT NULL DEFAULT 0,
            pid INTEGER,
            scan_request_id INTEGER,
            started_at TEXT NOT NULL,
            finished_at TEXT,
            details TEXT,
            round_id INTEGER
        )""")
    db.execute("""INSERT INTO crawl_runs_new (id, platform, mode, target, status, reason, items, pid, scan_request_id,
                  started_at, finished_at, details)
                  SELECT id, platform, mode, target, status, reason, items, pid, scan_request_id, started_at,
                  finished_at, details FROM crawl_runs""")
    db.execute("DROP TABLE crawl_runs")
    db.execute("ALTER TABLE crawl_runs_new RENAME TO crawl_runs")
    db.execute("CREATE INDEX crawl_runs_platform ON crawl_runs(platform, started_at)")
    db.execute("CREATE INDEX crawl_runs_round ON crawl_runs(round_id)")
    db.execute("CREATE INDEX crawl_runs_target ON crawl_runs(platform, target, mode, status)")
    db.execute(f"""CREATE TABLE crawl_rounds (
            id INTEGER PRIMARY KEY,
            platform TEXT NOT NULL,
            mode TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'running' CHECK (status IN ({statuses})),
            reason TEXT,
            targets INTEGER NOT NULL DEFAULT 0,
            scan_request_id INTEGER,
            pid INTEGER,
            stop_reason TEXT,
            started_at TEXT NOT NULL,
            finished_at TEXT,
            details TEXT
        )""")
    db.execute("CREATE INDEX crawl_rounds_platform ON crawl_rounds(platform, mode, started_at)")
    db.execute("""CREATE TABLE platform_state (
            platform TEXT PRIMARY KEY,
            cooldown_until TEXT,
            cooldown_level INTEGER NOT NULL DEFAULT 0,
            blocked_since TEXT,
            blocked_rounds INTEGER NOT NULL DEFAULT 0,
            reason TEXT,
            finding_id INTEGER,
            last_ok_at TEXT,
            last_round_id INTEGER,
            updated_at TEXT
        )""")


CORE: list[Migration] = [
    # 1: registry, filings, discovered accounts, snapshots, posts, findings, evidence,
    #    review actions, alert deliveries, crawl runs.
    _sql(
        """CREATE TABLE registry_accounts (
            id INTEGER PRIMARY KEY,
            platform TEXT NOT NULL,
            account_type TEXT,
            account_name TEXT NOT NULL,
            account_id TEXT NOT NULL,
            purpose TEXT,
            opened_date TEXT,
            unit TEXT NOT NULL,
            tier INTEGER NOT NULL CHECK (tier IN (1, 2, 3)),
            head_name TEXT, head_title TEXT, head_phone TEXT, head_mobile TEXT, head_email TEXT,
            operator_name TEXT, operator_title TEXT, operator_phone TEXT, operator_mobile TEXT,
            operator_email TEXT,
            followers INTEGER,
            status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'closed')),
            registered_date TEXT,
            last_review_date TEXT,
            closed_date TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            UNIQUE (platform, account_id)
        )""",
        """CREATE TABLE filings (
            id INTEGER PRIMARY KEY,
            registry_id INTEGER NOT NULL REFERENCES registry_accounts(id),
            kind TEXT NOT NULL CHECK (kind IN ('register', 'change', 'close', 'review')),
            field TEXT,
            old_value TEXT,
            new_value TEXT,
            filed_date TEXT NOT NULL,
            note TEXT,
            actor TEXT,
            created_at TEXT NOT NULL
        )""",
        "CREATE INDEX filings_registry ON filings(registry_id, filed_date)",
        """CREATE TABLE accounts (
            platform TEXT NOT NULL,
            account_id TEXT NOT NULL,
            name TEXT,
            bio TEXT,
            avatar_url TEXT,
            avatar_path TEXT,
            verified INTEGER,
            verified_type TEXT,
            verified_reason TEXT,
            followers INTEGER,
            profile_url TEXT,
            keyword TEXT,
            first_seen TEXT NOT NULL,
            last_seen TEXT NOT NULL,
            verdict TEXT,
            score INTEGER,
            matched TEXT,
            unit TEXT,
            reasons TEXT,
            PRIMARY KEY (platform, account_id)
        )""",
        """CREATE TABLE profile_snapshots (
            id INTEGER PRIMARY KEY,
            platform TEXT NOT NULL,
            account_id TEXT NOT NULL,
            crawl_run_id INTEGER REFERENCES crawl_runs(id),
            taken_at TEXT NOT NULL,
            name TEXT,
            bio TEXT,
            avatar_url TEXT,
            avatar_sha256 TEXT,
            verified INTEGER,
            verified_reason TEXT,
            followers INTEGER,
            following INTEGER,
            posts_count INTEGER,
            status TEXT NOT NULL DEFAULT 'ok',
            raw_sha256 TEXT
        )""",
        "CREATE INDEX snapshots_account ON profile_snapshots(platform, account_id, taken_at)",
        """CREATE TABLE posts (
            platform TEXT NOT NULL,
            post_id TEXT NOT NULL,
            account_id TEXT NOT NULL,
            text TEXT,
            created_at TEXT,
            reposts INTEGER, comments INTEGER, likes INTEGER,
            url TEXT,
            text_sha256 TEXT,
            first_seen TEXT NOT NULL,
            last_seen TEXT NOT NULL,
            last_crawl_run_id INTEGER,
            status TEXT NOT NULL DEFAULT 'live',
            PRIMARY KEY (platform, post_id)
        )""",
        "CREATE INDEX posts_account ON posts(platform, account_id, created_at)",
        """CREATE TABLE post_versions (
            id INTEGER PRIMARY KEY,
            platform TEXT NOT NULL,
            post_id TEXT NOT NULL,
            seen_at TEXT NOT NULL,
            text TEXT,
            text_sha256 TEXT NOT NULL,
            UNIQUE (platform, post_id, text_sha256)
        )""",
        """CREATE TABLE crawl_runs (
            id INTEGER PRIMARY KEY,
            platform TEXT NOT NULL,
            mode TEXT NOT NULL,
            target TEXT,
            status TEXT NOT NULL DEFAULT 'running'
                CHECK (status IN ('running', 'ok', 'partial', 'blocked', 'failed')),
            reason TEXT,
            items INTEGER NOT NULL DEFAULT 0,
            pid INTEGER,
            scan_request_id INTEGER,
            started_at TEXT NOT NULL,
            finished_at TEXT
        )""",
        "CREATE INDEX crawl_runs_platform ON crawl_runs(platform, started_at)",
        """CREATE TABLE findings (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL,
            severity TEXT NOT NULL DEFAULT 'warning' CHECK (severity IN ('info', 'warning', 'critical')),
            platform TEXT,
            account_id TEXT,
            account_name TEXT,
            unit TEXT,
            title TEXT NOT NULL,
            details TEXT,
            dedupe_key TEXT NOT NULL UNIQUE,
            fingerprint TEXT NOT NULL,
            revision INTEGER NOT NULL DEFAULT 1,
            status TEXT NOT NULL DEFAULT 'open',
            crawl_run_id INTEGER,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )""",
        "CREATE INDEX findings_status ON findings(status, kind, unit)",
        """CREATE TABLE evidence (
            id INTEGER PRIMARY KEY,
            finding_id INTEGER REFERENCES findings(id),
            kind TEXT NOT NULL,
            url TEXT,
            path TEXT NOT NULL,
            sha256 TEXT NOT NULL,
            content_type TEXT,
            captured_at TEXT NOT NULL
        )""",
        "CREATE INDEX evidence_finding ON evidence(finding_id)",
        """CREATE TABLE review_actions (
            id INTEGER PRIMARY KEY,
            finding_id INTEGER NOT NULL REFERENCES findings(id),
            action TEXT NOT NULL,
            comment TEXT,
            reference TEXT,
            actor TEXT NOT NULL,
            created_at TEXT NOT NULL
        )""",
        """CREATE TABLE deliveries (
            id INTEGER PRIMARY KEY,
            finding_id INTEGER REFERENCES findings(id),
            revision INTEGER NOT NULL DEFAULT 1,
            unit TEXT NOT NULL,
            channel TEXT NOT NULL,
            dedupe_key TEXT NOT NULL UNIQUE,
            status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed', 'suppressed')),
            attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT,
            next_attempt_at TEXT,
            created_at TEXT NOT NULL,
            sent_at TEXT
        )""",
        "CREATE INDEX deliveries_status ON deliveries(status, next_attempt_at)",
        """CREATE TABLE scan_requests (
            id INTEGER PRIMARY KEY,
            params TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'done', 'failed')),
            requested_by TEXT,
            requested_at TEXT NOT NULL,
            started_at TEXT,
            finished_at TEXT,
            progress TEXT,
            summary TEXT
        )""",
    ),
    # 2: matching results carry the algorithm that produced them, so a later change of method
    #    never silently reinterprets old scores; name rules learnt from review decisions.
    _sql(
        "ALTER TABLE accounts ADD COLUMN match_algo TEXT",
        # which accounts a discovery run saw (the run's matching works on exactly these), and
        # the answers of direct post checks (deletion confirmation).
        """CREATE TABLE crawl_seen (
            crawl_run_id INTEGER,
            platform TEXT NOT NULL,
            account_id TEXT NOT NULL,
            PRIMARY KEY (crawl_run_id, platform, account_id)
        )""",
        """CREATE TABLE post_checks (
            id INTEGER PRIMARY KEY,
            platform TEXT NOT NULL,
            account_id TEXT NOT NULL,
            post_id TEXT NOT NULL,
            crawl_run_id INTEGER,
            checked_at TEXT NOT NULL,
            exists_flag INTEGER,
            reason TEXT
        )""",
        "ALTER TABLE crawl_runs ADD COLUMN details TEXT",
        """CREATE TABLE name_rules (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL CHECK (kind IN ('allow', 'other')),
            name TEXT NOT NULL,
            note TEXT,
            actor TEXT,
            created_at TEXT NOT NULL,
            UNIQUE (kind, name)
        )""",
    ),
    # 3: the platform's own record of each account, post and profile, kept as evidence.
    _sql(
        "ALTER TABLE accounts ADD COLUMN raw TEXT",
        "ALTER TABLE posts ADD COLUMN raw TEXT",
        "ALTER TABLE profile_snapshots ADD COLUMN raw TEXT",
    ),
    # 4: crawl rounds. A round crawls many targets of one platform in one process; each target
    #    keeps its own run with an honest status (a run cut short is 'interrupted', a network
    #    failure 'unreachable', never 'ok'); a platform that refused us cools down.
    _rounds,
]

# Components below append their own steps; keep each list in its owner's hands.
WATCH: list[Migration] = [
    # 1: sensitive periods started by hand (watcher period start/stop).
    _sql(
        """CREATE TABLE manual_periods (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            start_date TEXT NOT NULL,
            end_date TEXT NOT NULL,
            platforms TEXT,
            cadence INTEGER NOT NULL,
            alert_policy TEXT NOT NULL DEFAULT 'immediate',
            spike_factor REAL NOT NULL DEFAULT 3.0,
            created_by TEXT,
            created_at TEXT NOT NULL,
            stopped_at TEXT
        )""",
    ),
    # 2: nothing lost, nothing repeated.
    #    posts: a post missing from its timeline is 'pending' (待核实) from missing_since until the
    #    platform confirms it gone or it reappears; unanswered checks back off (next_check_at).
    #    A post that left the crawled window is asked about once (present_checked_at).
    #    seen_rank is the post's place in the run that last saw it (the window's end is the last
    #    place, not the oldest date: a pinned post is old and on top).
    #    post_versions.reported_at: the version an edit is compared with is the last one analysed,
    #    whichever run stored it. profile_snapshots: the avatar's perceptual hash and local copy,
    #    and whether the snapshot was analysed (the baseline of the next comparison).
    _sql(
        "ALTER TABLE posts ADD COLUMN seen_rank INTEGER",
        "ALTER TABLE posts ADD COLUMN missing_since TEXT",
        "ALTER TABLE posts ADD COLUMN next_check_at TEXT",
        "ALTER TABLE posts ADD COLUMN check_attempts INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE posts ADD COLUMN last_check_at TEXT",
        "ALTER TABLE posts ADD COLUMN last_check_reason TEXT",
        # when the platform last said "still there" (a post that left the window is asked once);
        # posts stored before this step count as asked.
        "ALTER TABLE posts ADD COLUMN present_checked_at TEXT",
        "UPDATE posts SET present_checked_at = last_seen",
        "CREATE INDEX posts_last_run ON posts(last_crawl_run_id, seen_rank)",
        "CREATE INDEX posts_pending ON posts(platform, account_id, status, next_check_at)",
        "ALTER TABLE post_versions ADD COLUMN reported_at TEXT",
        "UPDATE post_versions SET reported_at = seen_at",
        "ALTER TABLE profile_snapshots ADD COLUMN avatar_phash TEXT",
        "ALTER TABLE profile_snapshots ADD COLUMN avatar_path TEXT",
        "ALTER TABLE profile_snapshots ADD COLUMN analysed_at TEXT",
        "UPDATE profile_snapshots SET analysed_at = taken_at",
    ),
    # 3: findings' fingerprints leave out metrics and signed URLs (watcher.store.fingerprint.acted_on):
    #    recomputed once, so the upgrade itself re-sends nothing.
    lambda db: _refingerprint(db),
]
ALERTS: list[Migration] = [
    # 1: which finding revisions were planned (and the route chosen), and what each delivery is
    #    for (immediate, digest, escalation, fallback), whom it copies, what the receiver said.
    _sql(
        """CREATE TABLE alert_plans (
            finding_id INTEGER NOT NULL REFERENCES findings(id),
            revision INTEGER NOT NULL,
            planned_at TEXT NOT NULL,
            route TEXT,
            PRIMARY KEY (finding_id, revision)
        )""",
        "ALTER TABLE deliveries ADD COLUMN role TEXT",
        "ALTER TABLE deliveries ADD COLUMN purpose TEXT NOT NULL DEFAULT 'immediate'",
        "ALTER TABLE deliveries ADD COLUMN confirmation TEXT",
        "CREATE INDEX deliveries_channel_sent ON deliveries(channel, status, sent_at)",
    ),
    # 2: a delivery is claimed before it is sent ('sending', by whom, since when), so that any
    #    number of senders (the daemon, `watcher alerts send`) send each row once. SQLite cannot
    #    change a CHECK constraint in place: the table is rebuilt with its rows and indexes.
    _sql(
        """CREATE TABLE deliveries_new (
            id INTEGER PRIMARY KEY,
            finding_id INTEGER REFERENCES findings(id),
            revision INTEGER NOT NULL DEFAULT 1,
            unit TEXT NOT NULL,
            channel TEXT NOT NULL,
            dedupe_key TEXT NOT NULL UNIQUE,
            status TEXT NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'suppressed')),
            attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT,
            next_attempt_at TEXT,
            created_at TEXT NOT NULL,
            sent_at TEXT,
            role TEXT,
            purpose TEXT NOT NULL DEFAULT 'immediate',
            confirmation TEXT,
            claimed_by TEXT,
            claimed_at TEXT
        )""",
        """INSERT INTO deliveries_new (id, finding_id, revision, unit, channel, dedupe_key, status, attempts,
               last_error, next_attempt_at, created_at, sent_at, role, purpose, confirmation)
           SELECT id, finding_id, revision, unit, channel, dedupe_key, status, attempts, last_error,
               next_attempt_at, created_at, sent_at, role, purpose, confirmation FROM deliveries""",
        "DROP TABLE deliveries",
        "ALTER TABLE deliveries_new RENAME TO deliveries",
        "CREATE INDEX deliveries_status ON deliveries(status, next_attempt_at)",
        "CREATE INDEX deliveries_channel_sent ON deliveries(channel, status, sent_at)",
    ),
]
WEB: list[Migration] = [
    # 1: reviewers and what they did outside findings (registry edits, scans, users).
    _sql(
        """CREATE TABLE users (
            username TEXT PRIMARY KEY,
            password_hash TEXT NOT NULL,
            role TEXT NOT NULL CHECK (role IN ('admin', 'central', 'unit')),
            unit TEXT,
            disabled INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL
        )""",
        """CREATE TABLE audit_log (
            id INTEGER PRIMARY KEY,
            actor TEXT NOT NULL,
            action TEXT NOT NULL,
            target TEXT,
            details TEXT,
            created_at TEXT NOT NULL
        )""",
    ),
    # 2: security. A per-user session epoch (every session cookie carries the epoch it was
    #    issued under; bumping it ends every session of that user at once), failed-login
    #    counters per account and per client address (throttling survives a restart and is
    #    shared by every web process), and name-rule proposals from unit reviewers, which only
    #    the central department turns into school-wide rules.
    _sql(
        "ALTER TABLE users ADD COLUMN session_epoch INTEGER NOT NULL DEFAULT 0",
        """CREATE TABLE login_throttle (
            scope TEXT NOT NULL CHECK (scope IN ('account', 'address')),
            key TEXT NOT NULL,
            failures INTEGER NOT NULL DEFAULT 0,
            window_start TEXT NOT NULL,
            locked_until TEXT,
            PRIMARY KEY (scope, key)
        )""",
        """CREATE TABLE rule_proposals (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL CHECK (kind IN ('allow', 'other')),
            name TEXT NOT NULL,
            finding_id INTEGER REFERENCES findings(id),
            note TEXT,
            proposed_by TEXT NOT NULL,
            proposed_at TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'rejected')),
            decided_by TEXT,
            decided_at TEXT,
            decision_note TEXT
        )""",
        "CREATE INDEX rule_proposals_status ON rule_proposals(status, id)",
    ),
]

COMPONENTS: dict[str, list[Migration]] = {
    "core": CORE,
    "watch": WATCH,
    "alerts": ALERTS,
    "web": WEB,
    "reviews": reviews.MIGRATIONS,
    "sentiment": mentions.MIGRATIONS,
}


def migrate(db: sqlite_utils.Database, *, upto: dict[str, int] | None = None) -> dict[str, int]:
    """Bring every component forward; ``upto`` limits versions (tests build old schemas)."""
    db.execute(
        "CREATE TABLE IF NOT EXISTS schema_version (component TEXT PRIMARY KEY, version INTEGER NOT NULL)"
    )
    applied: dict[str, int] = {}
    for component, steps in COMPONENTS.items():
        target = len(steps) if upto is None else min(len(steps), upto.get(component, len(steps)))
        row = db.execute("SELECT version FROM schema_version WHERE component = ?", [component]).fetchone()
        current = row[0] if row else 0
        if current > len(steps):
            raise RuntimeError(
                f"数据库的 {component} 架构版本 {current} 比本程序支持的 {len(steps)} 新；请升级 campus-watcher"
            )
        for version in range(current + 1, target + 1):
            with db.conn:
                steps[version - 1](db)
                db.execute(
                    "INSERT INTO schema_version (component, version) VALUES (?, ?) "
                    "ON CONFLICT(component) DO UPDATE SET version = excluded.version",
                    [component, version],
                )
        applied[component] = max(current, target)
    return applied
