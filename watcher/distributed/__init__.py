"""Crawl rounds spread over ``watcher worker`` processes on several hosts, through Redis.

With ``crawl.redis_url`` set, the daemon stays the only writer of the database and the only
judge; it records a round as before, then queues the round's targets in Redis
(:mod:`.dispatch`). Workers (:mod:`.worker`) — each with its own exit address, sessions
(``cookies_file``) and per-platform rate limits from its own config — take targets from the
shared queue, crawl each whole with the platform's ordinary spider, and push the target's items
with its verdict back in one step. The daemon feeds them to the same
:class:`~watcher.rounds.sink.RoundSink` the local crawl uses, so storing and analysis are one
code path.

The unit a worker takes is a **target**, not a single request: a target's pages depend on one
another and its verdict (ok, partial, blocked …) is the spider's bookkeeping over all of them,
which must live in one process. A taken target is *leased*: it moves atomically from the queue
to the worker's lease list, and leaves it only in the same Redis step that delivers its result.
A worker that stops heartbeating for ``crawl.lease_timeout`` has its leases moved back to the
head of the queue (:func:`.dispatch.Fleet.reap`); a result from a lease that was taken back is
refused, so each target is stored and analysed once. Redis keys: :mod:`.keys`.

Redis may go away: the daemon then waits for it with back-off while the round's deadline allows
and queues again whatever a restart lost (:mod:`.dispatch`); a round it ended meanwhile is closed
in Redis as soon as Redis answers, and workers take only targets of rounds whose daemon keeps an
expiring "open" key alive. Each worker host checks its own sessions (:mod:`.hostsession`), and
the platforms' pace and daily budget are counted per exit address in Redis (:mod:`.pace`).
Operators read the fleet through :mod:`.status`; Redis's errors reach them in Chinese
(:mod:`.errors`).
"""
