"""Polarity that explains itself: a model learnt from public labelled posts, plus the school's risk words.

Two layers, both named in every reason a person reads:

* the **polarity model** (:mod:`watcher.opinion.model`): logistic regression over character
  n-grams, learnt from public labelled posts (``benchmarks/sentiment_train.py``; source, licence
  and held-out figures in docs/sentiment.md). It reads the author's own words only, with emoticon codes
  turned into their meaning (:mod:`watcher.opinion.textprep`); its reason lists the n-grams and
  emoticons that weighed most;
* the **school risk lexicon** (``data/school_risk.txt``, ours) and the config's
  ``sentiment.negative_words``: words that, in posts about a university, usually mean a complaint
  or an incident (食物中毒, 维权, 欠薪 …). A risk word of weight 3 (or configured by staff)
  raises a post to 关注 on its own; a weaker one (weight 1–2: 疫情, 感染, 失望 …) only when the model leans negative too. A negation
  just before it switches it off ("没有造假"); a notice (通知、提醒 …) names risks to prevent them,
  so its risk words alone never flag it.

A post is negative when the model's probability reaches its threshold (chosen recall first on
validation posts, recorded in the model file) or a risk word raises it.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

from watcher.opinion import model as polarity_model
from watcher.opinion.textprep import Emoticon, prepare

RISK_LEXICON = "高校舆情风险词表"
STRONG_RISK = 3.0        # a risk word of this weight (or configured by staff) raises a post on its own
WEAK_RISK_SUPPORT = 0.8  # a weaker risk word counts when the model's probability reaches this share of its threshold
NEGATION_CHARS = 4       # characters before a risk word that a negation reaches (没有造假, 并未发生踩踏)
CUES = 4                 # n-grams shown each way in a reason
NEGATIONS = frozenset({"不", "没", "没有", "未", "无", "非", "并非", "并未", "未曾", "不是", "别", "辟谣", "不存在",
                       "谣言", "不实", "否认", "杜绝", "严禁", "防止", "预防", "谨防"})
NEGATIONS_LONGEST = tuple(sorted(NEGATIONS, key=len, reverse=True))
# A notice (通知、提醒、公告 …) names risks to prevent them: its risk words alone do not make it negative.
NOTICE_MARKERS = ("的通知", "温馨提示", "提醒", "公告", "通告", "讲座", "宣传周", "宣传月", "培训", "演练",
                  "防范")
_CLAUSE_END = frozenset("，。！？；：,.!?;:…、 \n")


def lexicon_name() -> str:
    """What judged a post: recorded with every sentiment finding (an old finding keeps its name)."""
    m = polarity_model.load()
    built = str(m.meta.get("built", ""))[:10]
    return f"{m.name}{f'，{built} 训练' if built else ''}，阈值 {m.threshold:.3f} + {RISK_LEXICON}"


@dataclass
class Polarity:
    score: float                                   # log-odds of "not negative": below 0 leans negative
    negative: bool
    probability: float = 0.0                       # the model's probability of "negative"
    threshold: float = 0.5
    negative_cues: list[str] = field(default_factory=list)   # n-grams that weighed towards negative
    positive_cues: list[str] = field(default_factory=list)
    emoticons: list[Emoticon] = field(default_factory=list)
    risk_words: list[str] = field(default_factory=list)
    weak_risk: list[str] = field(default_factory=list)  # weaker risk words the model did not back
    praise: list[str] = field(default_factory=list)     # praise slang (绝了) that raised the bar
    negated: list[str] = field(default_factory=list)  # "没有→造假": risk words a negation switched off
    notice: str | None = None  # the notice marker that kept risk words from counting alone
    quoted: bool = False       # judged on a repost's quoted words (the author added none)

    @property
    def label(self) -> str:
        if self.negative:
            return "负面"
        return "正面" if self.probability < self.threshold / 2 else "中性"

    # Older callers and pages name the lexicon's lists; the model's cues are their successors.
    @property
    def negative_words(self) -> list[str]:
        return self.negative_cues

    @property
    def positive_words(self) -> list[str]:
        return self.positive_cues

    def reason(self) -> str:
        parts = []
        if self.risk_words:
            parts.append("风险词" + "、".join(f"「{w}」" for w in self.risk_words))
        if self.negative_cues:
            parts.append("负面线索" + "、".join(f"「{w}」" for w in self.negative_cues))
        if self.positive_cues:
            parts.append("正面线索" + "、".join(f"「{w}」" for w in self.positive_cues))
        if self.emoticons:
            parts.append("表情" + "".join(dict.fromkeys(f"{e.code}（{e.meaning}）" for e in self.emoticons)))
        if self.weak_risk:
            parts.append("弱风险词" + "、".join(f"「{w}」" for w in self.weak_risk) + "（模型不倾向负面，不计）")
        if self.praise:
            parts.append("网络用语褒义" + "、".join(f"「{w}」" for w in self.praise) + "（模型需更确定才计负面）")
        if self.negated:
            parts.append("被否定不计：" + "、".join(self.negated))
        if self.notice:
            parts.append(f"通知类文本（「{self.notice}」），风险词不单独计为负面")
        if self.quoted:
            parts.append("作者未加评论，按转发原文判断")
        said = "；".join(parts) if parts else "未见情感线索"
        return f"{self.label}（模型负面概率 {self.probability:.2f}，阈值 {self.threshold:.2f}）：{said}"


def _risk_words() -> dict[str, float]:
    text = (resources.files("watcher.opinion") / "data" / "school_risk.txt").read_text(encoding="utf-8")
    out: dict[str, float] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        word, _, weight = line.partition("\t")
        out[word.strip().lower()] = float(weight) if weight.strip() else 2.0
    return out


@cache
def risk_lexicon() -> dict[str, float]:
    return _risk_words()


def _cues(contributions: dict[str, float], sign: float) -> list[str]:
    """The n-grams that weighed most one way, without repeating one inside another."""
    picked: list[str] = []
    for gram, weight in sorted(contributions.items(), key=lambda kv: -sign * kv[1]):
        if sign * weight <= 0.5 or len(picked) >= CUES:
            break
        shown = gram.strip("^$")
        # A single character explains little (理 of 北理工): shown only when it weighs a lot alone.
        if len(shown) < 2 and sign * weight < 2.0:
            continue
        if not shown.strip(" ，。！？,.!?:：") or any(shown in p or p in shown for p in picked):
            continue
        picked.append(shown)
    return picked


def _pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    # Longest first, so 食物中毒 counts once and not as 中毒 too.
    return re.compile("|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)))


_patterns: dict[tuple[str, ...], re.Pattern[str]] = {}


def _risk(text: str, weights: dict[str, float], result: Polarity) -> list[tuple[str, float]]:
    """Risk words in the text, minus those a negation just before them switches off. Found by one
    regular expression (no word segmentation: thousands of posts a second)."""
    key = tuple(weights)
    pattern = _patterns.get(key) or _patterns.setdefault(key, _pattern(key))
    folded = text.lower()
    found = []
    for m in pattern.finditer(folded):
        before = folded[max(0, m.start() - NEGATION_CHARS):m.start()]
        # A negation does not reach across a clause: "都不打，愤怒" is still angry.
        cut = max((i for i, ch in enumerate(before) if ch in _CLAUSE_END), default=-1)
        before = before[cut + 1:]
        negation = next((n for n in NEGATIONS_LONGEST if n in before), None)
        if negation is not None:
            result.negated.append(f"{negation}→{m.group(0)}")
        else:
            found.append((m.group(0), weights[m.group(0)]))
    return found


def assess(text: str, extra_risk: tuple[str, ...] = ()) -> Polarity:
    """``extra_risk``: more risk words from the config's ``sentiment.negative_words`` (staff's words
    count on their own, like the strong ones of the school list)."""
    m = polarity_model.load()
    prepared = prepare(text)
    own = prepared.text
    probability, contributions = m.judge(own)
    result = Polarity(score=0.0, negative=False, probability=probability, threshold=m.threshold,
                      negative_cues=_cues(contributions, 1.0), positive_cues=_cues(contributions, -1.0),
                      emoticons=prepared.emoticons, quoted=not prepared.own.strip() and bool(prepared.quoted))
    weights = risk_lexicon()
    if extra_risk:
        weights = {**weights, **{w.lower(): STRONG_RISK for w in extra_risk if w.strip()}}
    risks = _risk(own, weights, result)
    # Praise slang (真的绝了) is what a model learnt from reviews reads worst (绝 is "desperate"):
    # a post that carries it, and no risk word, is flagged only when the model is well past its cut.
    cut = (1 + m.threshold) / 2 if prepared.slang else m.threshold
    model_negative = probability >= cut
    backed = probability >= WEAK_RISK_SUPPORT * m.threshold
    counted = [w for w, weight in risks if weight >= STRONG_RISK or backed]
    result.risk_words = list(dict.fromkeys(counted))
    result.weak_risk = list(dict.fromkeys(w for w, _ in risks if w not in counted))
    raised = bool(counted)
    if prepared.slang and not model_negative:
        result.praise = list(dict.fromkeys(prepared.slang))
    notice = next((mk for mk in NOTICE_MARKERS if mk in own), None)
    if notice is not None and raised and not model_negative:
        result.notice = notice
        raised = False
    result.negative = model_negative or raised
    p = min(max(probability, 1e-6), 1 - 1e-6)
    result.score = round(math.log((1 - p) / p), 2)
    if raised and result.score >= 0:
        result.score = -0.01  # a risk word alone: negative, if only just
    return result
