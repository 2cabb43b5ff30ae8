"""Polarity that explains itself: the model's cues, the risk-word layer, text preparation, and the
model's measured figures on the held-out public posts (benchmarks/sentiment_polarity.py)."""

from __future__ import annotations

import time

import pytest

from benchmarks.sentiment_polarity import load, measure
from watcher.opinion import model as polarity_model
from watcher.opinion.polarity import assess
from watcher.opinion.textprep import prepare


@pytest.mark.parametrize("text, negative, said", [
    ("北理工食堂吃出虫子，太恶心了", True, "风险词「吃出」、「虫子」、「恶心」"),
    ("北理工宿舍很不满意", True, "风险词「不满意」"),
    ("北理工图书馆环境优美，值得推荐", False, "正面线索"),
    ("北理工关于举办防范电信诈骗专题讲座的通知", False, "「诈骗」"),
    ("连招呼都不打，愤怒", True, "风险词「愤怒」"),     # a negation does not cross the comma
    ("北理工今天开运动会", False, "模型负面概率"),
    ("学校疫情防控，隔离期间食堂送餐很贴心", False, "弱风险词「疫情」（模型不倾向负面，不计）"),
    ("北理工的秋天真的绝了，随手一拍都是壁纸", False, "网络用语褒义「真的绝了」"),
    ("加班到十二点，好烦[抓狂]", True, "表情[抓狂]（抓狂崩溃）"),
    ("转发微博//@甲:北理工食堂太差了[怒]", True, "作者未加评论，按转发原文判断"),
])
def test_assess_explains_with_its_cues(text, negative, said):
    p = assess(text)
    assert p.negative is negative, p.reason()
    assert said in p.reason()
    assert "模型负面概率" in p.reason()


# Once known errors of the review-trained model (in reviews "太…了" and "书" were mostly complaints);
# the Weibo-trained model reads them right.
@pytest.mark.parametrize("text", ["今天去北理工看了机器人比赛，太精彩了", "在北理工图书馆自习了一整天"])
def test_neutral_and_praising_posts_are_not_negative(text):
    assert not assess(text).negative


def test_a_negation_switches_a_risk_word_off():
    assert "被否定不计：没有→造假" in assess("北理工回应：没有造假").reason()
    assert assess("网传北理工论文造假").risk_words == ["造假"]


def test_configured_negative_words_count_as_risk_words():
    assert "蟑螂" not in assess("北理工宿舍出现了蟑螂").risk_words
    assert assess("北理工宿舍出现了蟑螂", ("蟑螂",)).risk_words == ["蟑螂"]


def test_text_preparation_separates_whose_words_and_reads_emoticons():
    p = prepare("气死了[怒]//@张三:食堂吃出虫子 http://t.cn/abc")
    assert p.own == "气死了，愤怒生气" and p.quoted == "食堂吃出虫子"
    p = prepare("@希望小姐姐 好看[给你小心心] #北理工的秋天#")
    assert p.mentions == ["希望小姐姐"] and "希望" not in p.own and "小心" not in p.own
    assert [e.polarity for e in p.emoticons] == ["pos"] and p.hashtags == ["北理工的秋天"]
    assert prepare("转发微博//@李四:太差了").text == "太差了"


def test_the_model_is_light():
    polarity_model.load.cache_clear()
    started = time.perf_counter()
    m = polarity_model.load()
    assert time.perf_counter() - started < 2.0
    assert "微博" in m.meta["source"] and 0 < m.threshold < 1
    texts = [f"北理工食堂第{i}次吃出虫子，太恶心了，学校管不管" for i in range(1000)]
    started = time.perf_counter()
    for t in texts:
        assess(t)
    assert time.perf_counter() - started < 1.0   # ≥ 1,000 posts a second


def test_own_labelled_school_posts_are_measured():
    """Our hand-written school posts (not public, not held out): a reference, not the headline figure."""
    rows = load()
    assert len(rows) >= 300
    m = measure(rows)
    # Figures of the run quoted in README (recall first): a change that loses them shows here.
    assert m["recall"] >= 0.85 and m["precision"] >= 0.80, (m["precision"], m["recall"], m["errors"][:5])


def test_weibo_corpora_become_polarity_and_never_leak_test_posts(tmp_path, monkeypatch):
    """The training data's label mapping (surprise dropped), split and missing-corpus message, on a
    tiny local copy laid out as the two repositories are."""
    from benchmarks import sentiment_data as sd

    monkeypatch.setenv("CAMPUS_WATCHER_CORPORA", str(tmp_path))
    with pytest.raises(sd.CorpusMissing, match="git clone https://github.com/CLUEbenchmark/CLUEmotionAnalysis2020"):
        sd.weibo_split()
    clue = tmp_path / "CLUEmotionAnalysis2020" / "CLUEdataset" / "emotion"
    clue.mkdir(parents=True)
    (clue / "test.txt").write_text(
        '{"id": 0, "content": "食堂又涨价了，气死", "label": "anger"}\n'
        '{"id": 1, "content": "竟然下雪了", "label": "surprise"}\n', encoding="utf-8")
    (clue / "valid.txt").write_text(
        '{"id": 0, "content": "今天好开心", "label": "happiness"}\n'
        '{"id": 1, "content": "食堂又涨价了，气死", "label": "anger"}\n', encoding="utf-8")
    covid = tmp_path / "COVID-19-sentiment-analysis-dataset-Weibo"
    covid.mkdir()
    (covid / "labeledData.csv").write_text(
        "\ufeffreview,label\n好怕被感染,0\n谢谢医护人员,4\n谢谢医护人员,4\n又是这样,3\n", encoding="utf-8")
    parts = sd.weibo_split()
    assert parts["clue"]["test"] == [(1, "食堂又涨价了，气死")]          # surprise dropped
    learnt = [r for p in parts.values() for name in ("train", "validation") for r in p[name]]
    assert (1, "食堂又涨价了，气死") not in learnt                        # a test post is never learnt from
    everything = learnt + parts["covid"]["test"]
    assert sorted(everything) == [(0, "今天好开心"), (0, "谢谢医护人员"), (1, "好怕被感染")]  # once each
