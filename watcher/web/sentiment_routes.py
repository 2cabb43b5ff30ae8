"""The 舆情 page: clusters with filters, the mentions-per-day chart, a cluster's posts and the
reviewers' decisions (已研判 / 已处置 / 误报), each written to the audit log. For the central
unit (宣传部) and administrators: sentiment is theirs to judge."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response

from spiders import catalog
from watcher.opinion import brief
from watcher.store import mentions as mentions_store
from watcher.timefmt import zone
from watcher.web import auth
from watcher.web.pages import Forbidden, back, checked_form, current_user, render, store_of

router = APIRouter()

PERIODS = {"1d": ("最近 1 天", 1), "7d": ("最近 7 天", 7), "30d": ("最近 30 天", 30), "90d": ("最近 90 天", 90)}
POLARITIES = {"negative": "仅负面", "all": "全部"}


def _central(user: auth.User) -> None:
    if not user.central:
        raise Forbidden("舆情页面仅宣传部复核员和管理员可以查看")


@router.get("/sentiment")
def sentiment_page(request: Request, group: str = "", platform: str = "", polarity: str = "negative",
                   period: str = "7d") -> Response:
    with store_of(request) as store:
        user = current_user(request, store)
        _central(user)
        if period not in PERIODS:
            period = "7d"
        if polarity not in POLARITIES:
            polarity = "negative"
        if platform and platform not in catalog.names():
            platform = ""
        days = PERIODS[period][1]
        today = datetime.now(UTC).astimezone(zone()).date()
        b = brief.build(store, today - timedelta(days=days - 1), today)
        since = (datetime.now(UTC) - timedelta(days=days)).isoformat()
        clusters = mentions_store.list_clusters(store, since=since, group=group or None, platform=platform or None,
                                                negative=True if polarity == "negative" else None)
        groups = sorted({c.group_name for c in mentions_store.list_clusters(store, since=since, limit=1000)})
        return render(request, "sentiment.html", user, chart=brief.chart_svg(b, width=900), total=b.total,
                      clusters=clusters, groups=groups, PERIODS=PERIODS, POLARITIES=POLARITIES,
                      PLATFORM_LABELS=catalog.labels(), filters={"group": group, "platform": platform,
                                                                 "polarity": polarity, "period": period})


def _cluster_or_404(store, cluster_id: int) -> mentions_store.Cluster:
    cluster = mentions_store.get_cluster(store, cluster_id)
    if cluster is None:
        raise HTTPException(status_code=404, detail="没有这个舆情簇")
    return cluster


@router.get("/sentiment/clusters/{cluster_id}")
def cluster_page(request: Request, cluster_id: int) -> Response:
    with store_of(request) as store:
        user = current_user(request, store)
        _central(user)
        cluster = _cluster_or_404(store, cluster_id)
        posts = mentions_store.cluster_posts(store, cluster_id)
        return render(request, "sentiment_cluster.html", user, c=cluster, posts=posts,
                      DECISIONS=mentions_store.DECISIONS, PLATFORM_LABELS=catalog.labels())


@router.post("/sentiment/clusters/{cluster_id}/decide")
async def decide_cluster(request: Request, cluster_id: int) -> Response:
    form = await checked_form(request)
    with store_of(request) as store:
        user = current_user(request, store)
        _central(user)
        _cluster_or_404(store, cluster_id)
        decision = form.get("decision", "")
        comment = form.get("comment", "").strip()[:2000] or None
        if decision not in mentions_store.DECISIONS:
            return back(request, f"/sentiment/clusters/{cluster_id}", error="请选择研判结论（已研判、已处置或误报）")
        words = mentions_store.DECISIONS[decision]
        with store.transaction():
            mentions_store.decide(store, cluster_id, decision, user.username,
                                  datetime.now(UTC).replace(microsecond=0).isoformat())
            auth.audit(store, user.username, f"舆情{words}", f"sentiment_cluster:{cluster_id}", {"comment": comment})
    return back(request, f"/sentiment/clusters/{cluster_id}", ok=f"已记录：{words}")
