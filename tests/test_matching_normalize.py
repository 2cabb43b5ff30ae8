import pytest

from watcher.matching.confusables import skeleton
from watcher.matching.normalize import normalize


@pytest.mark.parametrize("raw, compact", [
    ("ＨＩＴ研究生", "hit研究生"),               # full-width + case
    ("哈\u200b工\u200d大", "哈工大"),            # zero-width characters
    ("哈 工 大", "哈工大"),                      # spaces
    ("哈·工·大", "哈工大"),                      # middle dots
    ("哈工大丶", "哈工大"),                      # decorative stroke
    ("哈工大🌟校园", "哈工大校园"),              # emoji
    ("【哈工大】", "哈工大"),                    # brackets
    ("哈_工-大|", "哈工大"),                     # separators
    ("哈爾濱工業大學", "哈尔滨工业大学"),        # traditional → simplified
    ("北京理工大學\ufe0f", "北京理工大学"),      # variation selector
])
def test_normalize_compact(raw, compact):
    assert normalize(raw).compact == compact


def test_english_words_stay_apart_in_spaced_view():
    assert normalize("Harbin Inst. of Technology").spaced == "harbin inst of technology"


@pytest.mark.parametrize("a, b", [
    ("哈尔滨エ业大学", "哈尔滨工业大学"),   # Katakana エ
    ("北京理工大ロ", "北京理工大口"),        # Katakana ロ
    ("哈尔滨工亚大学", "哈尔滨工业大学"),   # 形近字 亚/业
    ("哈尓滨", "哈尔滨"),                   # 尓/尔
    ("北京理丁大字", "北京理工大学"),       # 丁/工, 字/学
    ("hіt", "hit"),                          # Cyrillic і
])
def test_skeleton_folds_look_alikes(a, b):
    assert skeleton(normalize(a).compact) == skeleton(normalize(b).compact)
