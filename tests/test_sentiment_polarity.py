"""Polarity that explains itself, and its measured precision/recall on the labelled school posts."""

from __future__ import annotations

import pytest

from benchmarks.sentiment_polarity import load, measure
from watcher.opinion.polarity import assess


@pytest.mark.parametrize("text, negative, said", [
    ("北理工食堂吃出虫子，太恶心了", True, "风险词「吃出」、「虫子」"),
    ("北理工回应：没有造假", False, "被否定不计：没有→造假"),
    ("北理工宿舍很不满意", True, "风险词「不满意」"),
    ("北理工图书馆环境优美，值得推荐", False, "正面词"),
    ("北理工关于举办防范电信诈骗专题讲座的通知", False, "通知类文本"),
    ("连招呼都不打，愤怒", True, "风险词「愤怒」"),     # a negation does not cross the comma
    ("北理工今天开运动会", False, "未见情感词"),
])
def test_assess_explains_with_the_words(text, negative, said):
    p = assess(text)
    assert p.negative is negative, p.reason()
    assert said in p.reason()


def test_degree_words_scale_the_score():
    assert assess("北理工食堂非常差").score < assess("北理工食堂差").score < 0


def test_configured_negative_words_count_as_risk_words():
    assert not assess("北理工出现了蟑螂").negative
    assert assess("北理工出现了蟑螂", ("蟑螂",)).negative


def test_labelled_set_is_balanced_and_the_flag_is_measured():
    rows = load()
    assert len(rows) >= 300
    categories = {c for _, c, _ in rows}
    assert categories == {"complaint", "praise", "news", "notice"}
    assert min(sum(1 for _, c, _ in rows if c == k) for k in categories) >= 75
    m = measure(rows)
    # The README's figures; a change to the lexicon that loses either shows here.
    assert m["precision"] >= 0.95 and m["recall"] >= 0.95, (m["precision"], m["recall"], m["errors"])


def test_segmenting_prints_nothing_on_the_operators_terminal():
    """jieba's "Building prefix dict …" lines would land in the middle of CLI output."""
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", "from watcher.opinion import polarity; "
                          "print(polarity.assess('食堂太差了，很失望').negative)"],
                         capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "True" and out.stderr == ""
